"""Is an uploaded file audio we can use? Decided by decoding its content, never by its extension.

`audio_validate` reads the header (detector.audio.probe), checks what the header declares against
the bytes really present (a WAV/AIFF header claiming hours of audio in a short file), then decodes
the whole file with the decoder detection will use (detector.audio.scan, ~0.05 s per minute): a
truncated or corrupt file fails here, and the duration is the decoded one, not the header's guess
(an MP3 without a Xing frame and with cover art would otherwise look longer than it is).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from common.errors import ApiError

from detector.audio import AudioInfo, probe, scan
from detector.errors import AudioError, AudioTooLong


def _reason(exc: Exception, path: Path) -> str:
    """The detector's message without the temporary file's path (the user never saw that name)."""
    text = str(exc)
    for prefix in (str(path), path.name):
        if text.startswith(prefix + ": "):
            return text[len(prefix) + 2 :]
    return text


def audio_validate(path: str | Path, *, display_name: str, max_duration: float) -> AudioInfo:
    """Header + whole decode of ``path`` (its info, decoded duration); raises ApiError (400) with a sentence a person understands."""
    path = Path(path)
    try:
        info = probe(path)
        _check_declared_size(path, info)
        info = scan(path, info=info, max_duration=max_duration)
    except AudioTooLong:
        raise ApiError(
            f'"{display_name}" is too long: songs may be at most {_minutes(max_duration)}.',
            code="too_long",
        ) from None
    except AudioError as exc:
        raise ApiError(
            f'"{display_name}" is not audio Singscope can read: {_reason(exc, path)}. '
            "Upload a WAV, FLAC, Ogg, Opus, MP3, M4A or AIFF file.", code="not_audio",
        ) from None
    return info


def _minutes(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _check_declared_size(path: Path, info: AudioInfo) -> None:
    """RIFF/WAVE and AIFF headers say how much audio follows; libsndfile silently clamps a lie."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4096)
    declared = None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        declared = _wav_declared(head, size)
    elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        declared = _chunk_size(head, b"SSND", big_endian=True)
        if declared is not None:
            declared = (declared[0], declared[1] - 8)  # SSND has 8 bytes of offset/blocksize
    if declared is None:
        return
    start, nbytes = declared
    missing = start + nbytes - size
    if nbytes not in (0, 0xFFFFFFFF, 0xFFFFFFFF - 8) and missing > max(4096, 0.02 * nbytes):
        present = max(0, size - start)
        claimed_s = info.duration * nbytes / max(1, present) if present else float("inf")
        raise AudioError(
            f"{path}: truncated or corrupt: the header declares {nbytes:,} bytes of audio "
            f"(about {_minutes(claimed_s) if math.isfinite(claimed_s) else 'a lot'}) but the file holds "
            f"only {present:,}"
        )


def _wav_declared(head: bytes, size: int):
    return _chunk_size(head, b"data", big_endian=False)


def _chunk_size(head: bytes, chunk: bytes, *, big_endian: bool):
    """(offset of the chunk's data, declared size) of the first ``chunk`` found in the header bytes."""
    fmt = ">I" if big_endian else "<I"
    pos = 12
    while pos + 8 <= len(head):
        cid, n = head[pos : pos + 4], struct.unpack(fmt, head[pos + 4 : pos + 8])[0]
        if cid == chunk:
            return pos + 8, n
        pos += 8 + n + (n & 1)
    return None
