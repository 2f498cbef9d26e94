"""Read and write segment files: ``.lab``, Audacity labels, CSV, JSON, JAMS, Praat TextGrid, RTTM.

Every reader returns a full partition of ``[0, duration]`` (vocal where the file says so,
non-vocal in every gap); every writer takes one. Malformed input raises
:class:`~detector.errors.FormatError` naming the line (or field) and the reason.

================  ===========  ==================================================================
format            extension    content
================  ===========  ==================================================================
``lab``           .lab         ``start<TAB>end<TAB>sing``, vocal segments only, 3 decimals (Jamendo);
                               ``full=True`` writes every segment ``start end sing|nosing``
``audacity``      .txt         Audacity label track ``start<TAB>end<TAB>vocal``, vocal only
``csv``           .csv         ``start,end,label`` header + every segment
``json``          .json        ``{"duration", "title", "segments": [{"start", "end", "label"}]}``
``jams``          .jams        JAMS, namespace ``segment_open``, values vocal / non-vocal
``textgrid``      .TextGrid    Praat TextGrid, one interval tier ``vocal``
``rttm``          .rttm        ``SPEAKER <title> 1 <start> <duration> <NA> <NA> vocal <NA> <NA>``
================  ===========  ==================================================================
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from detector.errors import FormatError
from detector.labels import NON_VOCAL, VOCAL, Segment, intervals_to_segments

FORMATS = ("lab", "audacity", "csv", "json", "jams", "textgrid", "rttm")
EXTENSIONS = {"lab": ".lab", "audacity": ".txt", "csv": ".csv", "json": ".json", "jams": ".jams",
              "textgrid": ".TextGrid", "rttm": ".rttm"}
MEDIA_TYPES = {"lab": "text/plain", "audacity": "text/plain", "csv": "text/csv", "json": "application/json",
               "jams": "application/json", "textgrid": "text/plain", "rttm": "text/plain"}
_BY_EXTENSION = {ext.lower(): fmt for fmt, ext in EXTENSIONS.items()} | {".textgrid": "textgrid"}

VOCAL_WORDS = {"sing", "singing", "vocal", "vocals", "voice", "voiced", "v", "1", "true", "yes"}
NON_VOCAL_WORDS = {"nosing", "no-sing", "no_sing", "non-vocal", "nonvocal", "non_vocal", "no-vocal",
                   "novocal", "instrumental", "inst", "music", "silence", "sil", "nv", "0", "false", "no"}
SNAP_S = 1e-3  # boundaries this close to 0 or the duration are snapped onto them (3-decimal files)
OVERSHOOT_S = 1.0  # segments may end this far after the given duration (then clipped)


def format_from_path(path: str | os.PathLike) -> str:
    """The format name for a file name's extension (``.lab`` -> ``"lab"``); FormatError if unknown."""
    suffix = Path(path).suffix.lower()
    if suffix not in _BY_EXTENSION:
        raise FormatError(f"{path}: unknown segment file extension {suffix or '(none)'!r}; "
                          f"use one of {', '.join(sorted(_BY_EXTENSION))}")
    return _BY_EXTENSION[suffix]


def parse_label(text: str, *, where: str = "") -> str:
    """``"vocal"`` or ``"non-vocal"`` for a label word (``sing``, ``nosing``, ``vocal`` ...)."""
    word = text.strip().lower()
    if word in VOCAL_WORDS:
        return VOCAL
    if word in NON_VOCAL_WORDS:
        return NON_VOCAL
    raise FormatError(f"{where}unknown label {text!r} (expected sing/nosing or vocal/non-vocal)")


# -- writing ---------------------------------------------------------------------------------------


def write_segments(
    segments: Sequence[Segment],
    fmt: str,
    *,
    duration: float | None = None,
    title: str | None = None,
    full: bool = False,
) -> str:
    """Serialise a partition to ``fmt`` (one of :data:`FORMATS`); returns the file's text.

    ``duration`` defaults to the last segment's end; ``title`` names the song where the format has
    room for it (JSON, JAMS, RTTM); ``full`` makes ``lab`` write non-vocal segments too.
    """
    if fmt not in FORMATS:
        raise FormatError(f"unknown segment format {fmt!r}; choose from {', '.join(FORMATS)}")
    segments = list(segments)
    duration = float(duration if duration is not None else (segments[-1].end if segments else 0.0))
    if fmt == "lab":
        return _write_lab(segments, full)
    return _WRITERS[fmt](segments, duration, title)


def write_file(path: str | os.PathLike, segments: Sequence[Segment], *, fmt: str | None = None,
               duration: float | None = None, title: str | None = None) -> Path:
    """Write ``segments`` to ``path`` (format from the extension unless ``fmt`` is given)."""
    path = Path(path)
    text = write_segments(segments, fmt or format_from_path(path), duration=duration, title=title)
    path.write_text(text, encoding="utf-8")
    return path


def _write_lab(segments: list[Segment], full: bool) -> str:
    lines = []
    for s in segments:
        start, end = f"{s.start:.3f}", f"{s.end:.3f}"
        if start == end or not (full or s.label == VOCAL):
            continue
        lines.append(f"{start}\t{end}\t{'sing' if s.label == VOCAL else 'nosing'}")
    return "".join(line + "\n" for line in lines)


def _write_audacity(segments, duration, title) -> str:
    return "".join(f"{s.start:.6f}\t{s.end:.6f}\tvocal\n" for s in segments if s.label == VOCAL)


def _write_csv(segments, duration, title) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start", "end", "label"])
    for s in segments:
        writer.writerow([_num(s.start), _num(s.end), s.label])
    return out.getvalue()


def _write_json(segments, duration, title) -> str:
    doc = {"title": title, "duration": _num(duration),
           "segments": [{"start": _num(s.start), "end": _num(s.end), "label": s.label} for s in segments]}
    return json.dumps(doc, indent=2) + "\n"


def _write_jams(segments, duration, title) -> str:
    import jams

    jam = jams.JAMS()
    jam.file_metadata.duration = duration
    jam.file_metadata.title = title or ""
    ann = jams.Annotation(namespace="segment_open", time=0, duration=duration)
    ann.annotation_metadata.annotation_tools = "singscope detector"
    for s in segments:
        ann.append(time=s.start, duration=s.end - s.start, value=s.label, confidence=1.0)
    jam.annotations.append(ann)
    return jam.dumps(indent=2)


def _write_textgrid(segments, duration, title) -> str:
    from praatio import textgrid

    tg = textgrid.Textgrid(minTimestamp=0.0, maxTimestamp=duration)
    entries = [(s.start, s.end, s.label) for s in segments if s.end > s.start]
    tg.addTier(textgrid.IntervalTier("vocal", entries, 0.0, duration))
    with tempfile.TemporaryDirectory() as tmp:
        fn = os.path.join(tmp, "segments.TextGrid")
        tg.save(fn, format="long_textgrid", includeBlankSpaces=True, reportingMode="silence")
        return Path(fn).read_text(encoding="utf-8")


def _write_rttm(segments, duration, title) -> str:
    name = "_".join((title or "song").split()) or "song"
    return "".join(f"SPEAKER {name} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> vocal <NA> <NA>\n"
                   for s in segments if s.label == VOCAL and f"{s.start:.3f}" != f"{s.end:.3f}")


_WRITERS = {"audacity": _write_audacity, "csv": _write_csv, "json": _write_json, "jams": _write_jams,
            "textgrid": _write_textgrid, "rttm": _write_rttm}


def _num(x: float) -> float:
    return round(float(x), 6)


# -- reading ---------------------------------------------------------------------------------------

# A reader returns (entries, file_duration); entries are (start, end, label, where) with label
# "vocal"/"non-vocal" and where a "line N: " prefix for messages.
Entry = tuple[float, float, str, str]


def read_segments(
    data_or_path: str | bytes | os.PathLike,
    fmt: str | None = None,
    *,
    duration: float | None = None,
) -> list[Segment]:
    """Parse a segment file into a full partition of ``[0, duration]`` seconds.

    ``data_or_path``: a path (``os.PathLike``, or a one-line ``str`` naming an existing file) or the
    file's content (``str`` / ``bytes``). ``fmt`` defaults to the path's extension. ``duration``
    defaults to the one the file declares (JSON, JAMS, TextGrid) or else its last segment's end.
    """
    name = ""
    if isinstance(data_or_path, os.PathLike) or (
        isinstance(data_or_path, str) and "\n" not in data_or_path and len(data_or_path) < 4096
        and os.path.isfile(data_or_path)
    ):
        path = Path(data_or_path)
        name = f"{path}: "
        fmt = fmt or format_from_path(path)
        try:
            data: str | bytes = path.read_bytes()
        except OSError as exc:
            raise FormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    else:
        data = data_or_path
    if fmt not in FORMATS:
        raise FormatError(f"{name}unknown segment format {fmt!r}; choose from {', '.join(FORMATS)}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FormatError(f"{name}not a text file (not UTF-8)") from None
    data = data.lstrip("\ufeff")
    try:
        entries, file_duration = _READERS[fmt](data)
        return _partition(entries, duration if duration is not None else file_duration)
    except FormatError as exc:
        raise FormatError(f"{name}{exc}") from None


def _partition(entries: list[Entry], duration: float | None) -> list[Segment]:
    for start, end, _, where in entries:
        if not (math.isfinite(start) and math.isfinite(end)):
            raise FormatError(f"{where}time is not a finite number")
        if start < 0:
            raise FormatError(f"{where}negative start time {start}")
        if end < start:
            raise FormatError(f"{where}segment ends ({end}) before it starts ({start})")
    if duration is None:
        if not entries:
            return []  # nothing says how long the song is: the empty partition
        duration = max(e for _, e, _, _ in entries)
    if not (math.isfinite(duration) and duration > 0):
        raise FormatError(f"duration must be a positive number of seconds, got {duration}")
    vocal = []
    for start, end, label, where in entries:
        if start >= duration + OVERSHOOT_S - 1e-9 or end > duration + OVERSHOOT_S:
            raise FormatError(f"{where}segment [{start:.3f}, {end:.3f}] lies after the end of the song "
                              f"({duration:.3f} s)")
        if label == VOCAL:
            start = 0.0 if start <= SNAP_S else start
            end = duration if end >= duration - SNAP_S else end
            vocal.append((start, end))
    return intervals_to_segments(vocal, duration=duration)


def _float(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"{where}{text!r} is not a number") from None


def _decimals(text: str) -> int:
    """Digits after the decimal point of a number as written (at most 9)."""
    mantissa = text.lower().split("e")[0]
    return min(9, len(mantissa.split(".")[1])) if "." in mantissa else 0


def _lines(text: str):
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield n, line


def _read_lab(text: str) -> tuple[list[Entry], float | None]:
    entries: list[Entry] = []
    for n, line in _lines(text):
        where = f"line {n}: "
        fields = line.split()
        if len(fields) < 2:
            raise FormatError(f"{where}expected 'start end [sing|nosing]', got {line.strip()!r}")
        label = parse_label(fields[2], where=where) if len(fields) > 2 else VOCAL
        entries.append((_float(fields[0], where), _float(fields[1], where), label, where))
    full = any(label == NON_VOCAL for _, _, label, _ in entries)
    return entries, (max(e for _, e, _, _ in entries) if full and entries else None)


def _read_audacity(text: str) -> tuple[list[Entry], float | None]:
    entries: list[Entry] = []
    for n, line in _lines(text):
        where = f"line {n}: "
        if line.startswith("\\"):  # spectral selection of the previous label
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise FormatError(f"{where}expected 'start<TAB>end<TAB>label', got {line.strip()!r}")
        word = fields[2].strip().lower() if len(fields) > 2 else ""
        label = NON_VOCAL if word in NON_VOCAL_WORDS else VOCAL  # a label region is vocal unless it says not
        entries.append((_float(fields[0], where), _float(fields[1], where), label, where))
    return entries, None


def _read_csv(text: str) -> tuple[list[Entry], float | None]:
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), start=1) if any(c.strip() for c in row)]
    columns = {"start": 0, "end": 1, "label": 2}
    if rows and rows[0][1] and _is_header(rows[0][1]):
        header = [c.strip().lower() for c in rows[0][1]]
        missing = [c for c in ("start", "end") if c not in header]
        if missing:
            raise FormatError(f"line {rows[0][0]}: CSV header lacks column(s) {', '.join(missing)}")
        columns = {c: header.index(c) for c in ("start", "end", "label") if c in header}
        rows = rows[1:]
    entries: list[Entry] = []
    for n, row in rows:
        where = f"line {n}: "
        if len(row) <= max(columns["start"], columns["end"]):
            raise FormatError(f"{where}expected start,end,label, got {','.join(row)!r}")
        label = VOCAL
        if "label" in columns and columns["label"] < len(row):
            label = parse_label(row[columns["label"]], where=where)
        entries.append((_float(row[columns["start"]], where), _float(row[columns["end"]], where), label, where))
    full = any(label == NON_VOCAL for _, _, label, _ in entries)
    return entries, (max(e for _, e, _, _ in entries) if full and entries else None)


def _is_header(row: list[str]) -> bool:
    try:
        float(row[0])
        return False
    except ValueError:
        return True


def _read_json(text: str) -> tuple[list[Entry], float | None]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
    items = doc.get("segments") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise FormatError("JSON needs a list of segments or an object with a 'segments' list")
    entries: list[Entry] = []
    for k, item in enumerate(items):
        where = f"segment {k}: "
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            raise FormatError(f"{where}expected an object with 'start', 'end' and 'label'")
        label = parse_label(str(item.get("label", VOCAL)), where=where)
        entries.append((_float(str(item["start"]), where), _float(str(item["end"]), where), label, where))
    duration = doc.get("duration") if isinstance(doc, dict) else None
    if duration is not None:
        duration = _float(str(duration), "duration: ")
    elif any(label == NON_VOCAL for _, _, label, _ in entries):
        duration = max(e for _, e, _, _ in entries)
    return entries, duration


def _read_jams(text: str) -> tuple[list[Entry], float | None]:
    import jams

    try:
        jam = jams.load(io.StringIO(text), validate=False, fmt="jams")
    except json.JSONDecodeError as exc:
        raise FormatError(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except Exception as exc:
        raise FormatError(f"not a JAMS file ({' '.join(str(exc).split())[:200]})") from None
    anns = [a for a in jam.annotations if a.namespace in ("segment_open", "tag_open")] or list(jam.annotations)
    if not anns:
        raise FormatError("JAMS file has no annotation")
    entries: list[Entry] = []
    for k, obs in enumerate(anns[0].data):
        where = f"observation {k}: "
        start = float(obs.time)
        entries.append((start, round(start + float(obs.duration), 9), parse_label(str(obs.value), where=where), where))
    return entries, jam.file_metadata.duration


def _read_textgrid(text: str) -> tuple[list[Entry], float | None]:
    from praatio import textgrid

    with tempfile.TemporaryDirectory() as tmp:
        fn = os.path.join(tmp, "segments.TextGrid")
        Path(fn).write_text(text, encoding="utf-8")
        try:
            tg = textgrid.openTextgrid(fn, includeEmptyIntervals=False, reportingMode="silence",
                                       duplicateNamesMode="rename")
        except Exception as exc:
            raise FormatError(f"not a Praat TextGrid ({' '.join(str(exc).split())[:200]})") from None
    tiers = [tg.getTier(name) for name in tg.tierNames]
    tiers = [t for t in tiers if isinstance(t, textgrid.IntervalTier)]
    if not tiers:
        raise FormatError("TextGrid has no interval tier")
    tier = next((t for t in tiers if t.name.lower() in ("vocal", "vocals", "singing", "voice")), tiers[0])
    entries: list[Entry] = []
    for k, (start, end, label) in enumerate(tier.entries):
        where = f"tier {tier.name!r} interval {k}: "
        entries.append((float(start), float(end), parse_label(label, where=where), where))
    return entries, float(tg.maxTimestamp)


def _read_rttm(text: str) -> tuple[list[Entry], float | None]:
    entries: list[Entry] = []
    for n, line in _lines(text):
        where = f"line {n}: "
        fields = line.split()
        if fields[0] != "SPEAKER":
            continue
        if len(fields) < 5:
            raise FormatError(f"{where}expected 'SPEAKER file channel start duration ...', got {line.strip()!r}")
        start, length = _float(fields[3], where), _float(fields[4], where)
        if length < 0:
            raise FormatError(f"{where}negative duration {length}")
        decimals = max(_decimals(fields[3]), _decimals(fields[4]))
        entries.append((start, round(start + length, decimals), VOCAL, where))
    return entries, None


_READERS = {"lab": _read_lab, "audacity": _read_audacity, "csv": _read_csv, "json": _read_json,
            "jams": _read_jams, "textgrid": _read_textgrid, "rttm": _read_rttm}
