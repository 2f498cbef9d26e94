"""Annotation files in and out for the web (lab, csv, json, audacity, jams, textgrid, rttm).

A thin adapter over `detector.formats`, the one implementation shared with the CLI: every reader
returns a full partition of [0, duration] and raises detector.errors.FormatError naming the bad
line or value.
"""

from __future__ import annotations

from detector import formats as detector_formats
from detector.errors import FormatError
from detector.labels import Segment, merge_adjacent

FORMATS = detector_formats.FORMATS
EXTENSIONS = {fmt: ext.lstrip(".") for fmt, ext in detector_formats.EXTENSIONS.items()}  # for download names
CONTENT_TYPES = detector_formats.MEDIA_TYPES


def format_for(*, filename: str, fmt: str | None) -> str:
    """The format named explicitly, or the one the file name's extension implies; FormatError otherwise."""
    if fmt:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise FormatError(f"unknown annotation format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    try:
        return detector_formats.format_from_path(filename)
    except FormatError:
        raise FormatError(
            f"cannot tell the format of {filename!r} from its extension; name it .lab, .csv, .json, .txt (Audacity), "
            ".jams, .TextGrid or .rttm, or send a 'format' field"
        ) from None


def write(*, segments: list[Segment], fmt: str, duration: float, title: str = "") -> str:
    return detector_formats.write_segments(merge_adjacent(segments), fmt, duration=duration, title=title)


def read(*, text: str, fmt: str, duration: float) -> list[Segment]:
    # bytes, never str: detector.formats treats a one-line str naming an existing file as a path
    return detector_formats.read_segments(text.encode("utf-8"), fmt, duration=duration)


__all__ = ["FORMATS", "EXTENSIONS", "CONTENT_TYPES", "format_for", "read", "write"]
