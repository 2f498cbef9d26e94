"""Is an uploaded file audio we can use? Decided by decoding its content, never by its extension.

`audio_validate` reads the header (detector.audio.probe), checks what the header declares against
the bytes really present (a WAV/AIFF header claiming hours of audio in a short file), and decodes
a little at the start and at the end (a truncated MP3/FLAC/M4A fails there). The full decode
happens later in the process job; anything that slips through fails that job with its reason.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
from common.errors import ApiError

from detector.audio import AudioInfo, probe
from detector.errors import AudioError

CHECK_SECONDS = 2.0


def _reason(exc: Exception, path: Path) -> str:
    """The detector's message without the temporary file's path (the user never saw that name)."""
    text = str(exc)
    for prefix in (str(path), path.name):
        if text.startswith(prefix + ": "):
            return text[len(prefix) + 2 :]
    return text


def audio_validate(path: str | Path, *, display_name: str, max_duration: float) -> AudioInfo:
    """Header + head/tail decode of ``path``; raises ApiError (400) with a sentence a person understands."""
    path = Path(path)
    try:
        info = probe(path)
        _check_declared_size(path, info)
        if info.duration > max_duration:
            raise ApiError(
                f'"{display_name}" is {_minutes(info.duration)} long; songs may be at most '
                f"{_minutes(max_duration)}.", code="too_long",
            )
        _decode_edges(path, info)
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


def _decode_edges(path: Path, info: AudioInfo) -> None:
    """Decode the first and the last couple of seconds; a truncated or garbled file fails here."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            frames = f.frames
            sr = f.samplerate
    except Exception:  # noqa: BLE001 - not for libsndfile: FFmpeg checks it
        return _decode_edges_av(path, info)
    want = int(CHECK_SECONDS * sr)
    try:
        with sf.SoundFile(str(path)) as f:
            head = f.read(min(want, frames), dtype="float32", always_2d=True)
            start = max(0, frames - want)
            f.seek(start)
            tail = f.read(frames - start, dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001
        raise AudioError(f"{path}: cannot be decoded ({' '.join(str(exc).split())})") from None
    if len(head) == 0:
        raise AudioError(f"{path}: contains no decodable audio")
    if len(tail) < 0.5 * (frames - start):
        raise AudioError(f"{path}: truncated: the header declares {info.duration:.1f} s but the end of the "
                         "audio is missing")
    if not np.isfinite(head).all() or not np.isfinite(tail).all():
        raise AudioError(f"{path}: contains invalid (NaN or infinite) samples")
    return None


def _decode_edges_av(path: Path, info: AudioInfo) -> None:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            s = c.streams.audio[0]
            got = 0
            for frame in c.decode(s):
                got += frame.samples
                if got >= CHECK_SECONDS * (frame.sample_rate or 1):
                    break
            if got == 0:
                raise AudioError(f"{path}: contains no decodable audio")
            if info.duration > 2 * CHECK_SECONDS and s.time_base is not None:
                c.seek(int((info.duration - CHECK_SECONDS) / s.time_base), stream=s, backward=True)
                end = None
                for frame in c.decode(s):
                    if frame.pts is not None:
                        end = float(frame.pts * s.time_base) + frame.samples / (frame.sample_rate or 1)
                if end is None or end < info.duration - max(1.0, 0.05 * info.duration):
                    raise AudioError(f"{path}: truncated: the header declares {info.duration:.1f} s but the "
                                     f"audio ends at {end or 0:.1f} s")
    except AudioError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AudioError(f"{path}: cannot be decoded ({' '.join(str(exc).split())[:200]})") from None
