"""Decode any audio file to 16 kHz mono float32, in bounded memory.

soundfile (libsndfile) reads wav, flac, ogg/vorbis, opus and aiff; PyAV (FFmpeg) reads the rest
(mp3, whose FFmpeg decoder is faster and quieter than libsndfile's, m4a/aac, webm, wma, video
containers ...), and anything libsndfile refuses. Both decode in blocks that are down-mixed and
resampled (soxr, streaming) one at a time, so a 60-minute 44.1 kHz stereo file never exists whole
at its original rate. Every failure raises :class:`~detector.errors.AudioError` naming the file and
the reason.
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from detector.config import SAMPLE_RATE
from detector.errors import AudioError, AudioTooLong

MAX_CHANNELS = 64
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 768_000
MAX_PLAUSIBLE_DURATION = 24 * 3600.0  # seconds; longer headers are absurd
BLOCK_SECONDS = 10.0  # decoding block, at the file's own rate

_SF_CONTAINERS = {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "W64": "wav", "FLAC": "flac", "OGG": "ogg",
                  "MP3": "mp3", "AIFF": "aiff", "CAF": "caf", "AU": "au"}
_SF_CODECS = {"PCM_16": "pcm_s16", "PCM_24": "pcm_s24", "PCM_32": "pcm_s32", "PCM_S8": "pcm_s8",
              "PCM_U8": "pcm_u8", "FLOAT": "pcm_f32", "DOUBLE": "pcm_f64", "ULAW": "pcm_mulaw",
              "ALAW": "pcm_alaw", "VORBIS": "vorbis", "OPUS": "opus", "MPEG_LAYER_III": "mp3",
              "MPEG_LAYER_II": "mp2", "MPEG_LAYER_I": "mp1"}
_AV_CODECS = {"mp3float": "mp3", "mp2float": "mp2", "mp1float": "mp1", "aac_fixed": "aac", "libopus": "opus",
              "libvorbis": "vorbis", "ac3_fixed": "ac3"}
_RAW_STREAMS = {"aac", "ac3", "eac3", "dts", "amr", "mp2", "truehd", "adts"}
_AV_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "matroska"}
# Extensions tried with libsndfile first; everything else goes to FFmpeg.
SOUNDFILE_SUFFIXES = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".aiff", ".aif", ".aifc", ".caf",
                      ".au", ".snd", ".w64", ".rf64"}
PADDING_SLACK_S = 0.1  # decoded audio this much longer than the header says is codec padding: trimmed


@dataclass
class AudioInfo:
    """What a file's header says. ``duration`` in seconds, ``sample_rate`` in Hz; ``codec`` and
    ``container`` are lower-case FFmpeg-style names (``"pcm_s16"``, ``"mp3"``, ``"aac"``, ``"wav"``,
    ``"mp4"`` ...)."""

    duration: float
    sample_rate: int
    channels: int
    codec: str
    container: str
    #: the header only estimates the length (an MP3 without a Xing/Info/VBRI frame: FFmpeg guesses from
    #: the bit rate and the file size, cover art included); decoding is the truth (:func:`scan`)
    estimated: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read the header of ``path`` without decoding it (a few milliseconds).

    Raises :class:`AudioError` when the file is missing, empty, not audio, has no audio stream, or
    declares zero channels, zero length, or an absurd sample rate, channel count or duration.
    """
    path = Path(path)
    _check_file(path)
    info = _probe_soundfile(path) if path.suffix.lower() in SOUNDFILE_SUFFIXES else None
    if info is None:
        try:
            info = _probe_av(path)
        except AudioError:
            _check_riff(path)  # a clearer reason for a broken WAV header, if that is the problem
            raise
    _check_info(path, info)
    return info


def stream(
    path: str | os.PathLike,
    *,
    sr: int = SAMPLE_RATE,
    max_duration: float | None = None,
    info: AudioInfo | None = None,
    stereo: bool = False,
) -> Iterator[np.ndarray]:
    """Decode ``path`` as consecutive blocks of mono float32 samples at ``sr`` Hz in ``[-1, 1]``;
    with ``stereo`` as ``(k, 2)`` blocks (a mono file in both columns; more than two channels are
    averaged into both, as their layout is unknown).

    The header is checked before this returns (see :func:`probe`); decoding errors, truncation and
    files longer than ``max_duration`` seconds raise :class:`AudioError` while iterating.
    """
    path = Path(path)
    info = info or probe(path)
    if not info.estimated:  # an estimate may be long or short: the decoder checks the limit as it goes
        _check_limit(path, info.duration, max_duration)
    return _decode(path, info, sr=sr, max_duration=max_duration, stereo=stereo)


def scan(path: str | os.PathLike, *, max_duration: float | None = None, info: AudioInfo | None = None) -> AudioInfo:
    """Decode the whole file with the decoder :func:`stream` uses (at its own rate, nothing kept) and
    return its header info with the **decoded** duration (``estimated`` False).

    About 0.05 s per minute of audio. Raises :class:`AudioError` for anything :func:`stream` would
    refuse: a truncated file (when its header states the length exactly), corrupt data, invalid
    samples; :class:`AudioTooLong` past ``max_duration`` seconds.
    """
    path = Path(path)
    info = info or probe(path)
    if not info.estimated:
        _check_limit(path, info.duration, max_duration)
    n = 0
    for block in _decode(path, info, sr=info.sample_rate, max_duration=max_duration):
        n += len(block)
    return replace(info, duration=n / info.sample_rate, estimated=False)


def load(path: str | os.PathLike, *, sr: int = SAMPLE_RATE, max_duration: float | None = None,
         stereo: bool = False) -> np.ndarray:
    """Whole file as mono float32 samples at ``sr`` Hz in ``[-1, 1]``, shape ``(n_samples,)``
    (``(n_samples, 2)`` with ``stereo``, see :func:`stream`)."""
    path = Path(path)
    info = probe(path)
    expected = info.duration if max_duration is None else min(info.duration, max_duration)
    out = np.empty((int(math.ceil(expected * sr)) + sr, 2) if stereo else int(math.ceil(expected * sr)) + sr,
                   dtype=np.float32)
    n = 0
    for block in stream(path, sr=sr, max_duration=max_duration, info=info, stereo=stereo):
        if n + len(block) > len(out):
            out = np.resize(out, (max(n + len(block), int(len(out) * 1.5)), *out.shape[1:]))
        out[n : n + len(block)] = block
        n += len(block)
    return out[:n].copy() if len(out) - n > sr else out[:n]


# -- internals -------------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes)")


def _check_info(path: Path, info: AudioInfo) -> None:
    if info.channels < 1:
        raise AudioError(f"{path}: has no audio channels")
    if info.channels > MAX_CHANNELS:
        raise AudioError(f"{path}: absurd header: {info.channels} channels")
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"{path}: absurd header: sample rate {info.sample_rate} Hz")
    if not math.isfinite(info.duration) or info.duration > MAX_PLAUSIBLE_DURATION:
        raise AudioError(f"{path}: absurd header: duration {info.duration:.0f} s")
    if info.duration <= 0:
        raise AudioError(f"{path}: contains no audio (zero length)")


def _check_limit(path: Path, duration: float, max_duration: float | None) -> None:
    if max_duration is not None and duration > max_duration:
        raise AudioTooLong(f"{path}: is {duration:.1f} s long, over the {max_duration:.1f} s limit")


def _probe_soundfile(path: Path) -> AudioInfo | None:
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            info = AudioInfo(
                duration=f.frames / f.samplerate if f.samplerate > 0 else 0.0,
                sample_rate=int(f.samplerate),
                channels=int(f.channels),
                codec=_SF_CODECS.get(f.subtype, str(f.subtype).lower()),
                container=_SF_CONTAINERS.get(f.format, str(f.format).lower()),
            )
            log = f.extra_info
    except Exception:  # not something libsndfile reads: let FFmpeg try
        return None
    # libsndfile clamps a PCM data chunk that is longer than the file; its log says so.
    m = re.search(r"^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", log, re.MULTILINE)
    if m and info.duration > 0:
        declared, present = int(m.group(1)), int(m.group(2))
        if 0 < present < declared < 0xFFFFFFF0 and declared - present > 0.01 * declared:
            raise AudioError(f"{path}: truncated: header declares {info.duration * declared / present:.1f} s "
                             f"but only {info.duration:.1f} s are present")
    return info


def _check_riff(path: Path) -> None:
    """Raise a precise AudioError when a RIFF/WAVE header declares an absurd format."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if chunk == b"fmt " and pos + 16 <= len(head):
            channels, rate = struct.unpack_from("<HI", head, pos + 10)
            if channels < 1:
                raise AudioError(f"{path}: has no audio channels")
            if channels > MAX_CHANNELS:
                raise AudioError(f"{path}: absurd header: {channels} channels")
            if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
                raise AudioError(f"{path}: absurd header: sample rate {rate} Hz")
            return
        pos += 8 + size + (size & 1)


def _probe_av(path: Path) -> AudioInfo:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: contains no audio stream")
            s = container.streams.audio[0]
            if container.format.name in _RAW_STREAMS:  # header-less: FFmpeg would guess from the bit rate
                duration = _demuxed_seconds(container, s)
            elif s.duration is not None and s.time_base is not None:
                duration = float(s.duration * s.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = _count_seconds(container, s)
            cc = s.codec_context
            codec = _AV_CODECS.get(cc.name, cc.name)
            if codec.startswith("pcm_") and codec[-2:] in ("le", "be"):
                codec = codec[:-2]
            name = container.format.name
            return AudioInfo(duration, int(cc.sample_rate or 0), int(cc.channels or 0), codec,
                             _AV_CONTAINERS.get(name, name.split(",")[0]),
                             estimated=name == "mp3" and not _mp3_states_length(path))
    except AudioError:
        raise
    except Exception as exc:
        with open(path, "rb") as f:
            head = f.read(12)
        if head[4:8] == b"ftyp":  # an MP4 / M4A whose index (moov box) is missing: usually cut short
            raise AudioError(f"{path}: truncated or corrupt MP4/M4A file ({_reason(exc)})") from None
        raise AudioError(f"{path}: not a decodable audio file ({_reason(exc)})") from None


def _mp3_states_length(path: Path) -> bool:
    """Whether an MP3 carries a Xing/Info/VBRI frame (its exact frame count): mutagen's bitrate mode is
    UNKNOWN exactly when none is there, and FFmpeg's duration is then a guess from the bit rate."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3, BitrateMode

    try:
        return MP3(str(path)).info.bitrate_mode != BitrateMode.UNKNOWN
    except (MutagenError, OSError, ValueError):
        return False


def _demuxed_seconds(container, s) -> float:
    """Duration from the packets' own durations (reads the file, decodes nothing)."""
    total = sum(packet.duration or 0 for packet in container.demux(s))
    return float(total * s.time_base) if s.time_base is not None else 0.0


def _count_seconds(container, s) -> float:
    n = sum(frame.samples for frame in container.decode(s))
    container.seek(0)
    return n / s.codec_context.sample_rate if s.codec_context.sample_rate else 0.0


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _blocks_soundfile(path: Path, info: AudioInfo, stereo: bool) -> Iterator[np.ndarray]:
    import soundfile as sf

    blocksize = max(1024, int(BLOCK_SECONDS * info.sample_rate))
    with sf.SoundFile(str(path)) as f:
        while True:
            block = f.read(blocksize, dtype="float32", always_2d=True)
            if not len(block):
                return
            yield _downmix(block, stereo)


def _blocks_av(path: Path, info: AudioInfo, stereo: bool) -> Iterator[np.ndarray]:
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        s = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp")  # only for decoders that do not output float planar
        pending: list[np.ndarray] = []
        n_pending = 0
        target = int(BLOCK_SECONDS * info.sample_rate)
        for frame in container.decode(s):
            for f in [frame] if frame.format.name == "fltp" else resampler.resample(frame):
                pending.append(_frame_samples(f, stereo))
                n_pending += len(pending[-1])
            if n_pending >= target:
                yield np.concatenate(pending)
                pending, n_pending = [], 0
        pending.extend(_frame_samples(f, stereo) for f in resampler.resample(None))
        if pending:
            yield np.concatenate(pending)


def _frame_samples(frame, stereo: bool) -> np.ndarray:
    """Channel average of a float-planar PyAV frame, shape (samples,) float32; with ``stereo``
    shape (samples, 2) (see :func:`stream`)."""
    planes = [np.frombuffer(p, dtype=np.float32, count=frame.samples) for p in frame.planes]
    if stereo and len(planes) == 2:
        return np.stack(planes, axis=1)
    if len(planes) == 1:
        out = planes[0].copy()
        return np.stack([out, out], axis=1) if stereo else out
    out = planes[0] + planes[1]
    for plane in planes[2:]:
        out += plane
    out *= np.float32(1.0 / len(planes))
    return np.stack([out, out], axis=1) if stereo else out


def _decode(path: Path, info: AudioInfo, *, sr: int, max_duration: float | None,
            stereo: bool = False) -> Iterator[np.ndarray]:
    use_sf = path.suffix.lower() in SOUNDFILE_SUFFIXES and info.container in set(_SF_CONTAINERS.values())
    blocks = _blocks_soundfile(path, info, stereo) if use_sf else _blocks_av(path, info, stereo)
    decoded = _resampled(path, info, blocks, sr=sr, max_duration=max_duration, channels=1 + stereo)
    if info.estimated:  # no exact length to trim codec padding to
        yield from decoded
        return
    yield from _trim_padding(decoded, expected=int(round(info.duration * sr)), slack=int(PADDING_SLACK_S * sr))


def _trim_padding(blocks: Iterator[np.ndarray], *, expected: int, slack: int) -> Iterator[np.ndarray]:
    """Drop samples beyond ``expected`` when there are at most ``slack`` of them (codec padding,
    e.g. AAC's last frame); a longer excess means the header was an estimate: keep everything."""
    n = 0  # samples passed on so far (up to `expected`)
    tail: list[np.ndarray] = []  # samples beyond `expected`, held back
    n_tail = 0
    for block in blocks:
        if n_tail > slack:
            yield block
            continue
        head = max(0, min(len(block), expected - n))
        if head:
            yield block[:head]
            n += head
        if head < len(block):
            tail.append(block[head:])
            n_tail += len(block) - head
            if n_tail > slack:
                yield from tail
                tail = []


def _resampled(path: Path, info: AudioInfo, blocks: Iterator[np.ndarray], *, sr: int,
               max_duration: float | None, channels: int = 1) -> Iterator[np.ndarray]:
    resampler = None
    if info.sample_rate != sr:
        import soxr

        resampler = soxr.ResampleStream(info.sample_rate, sr, channels, dtype="float32", quality="HQ")
    n_in = 0
    limit = None if max_duration is None else max_duration + 1.0
    try:
        for block in blocks:
            n_in += len(block)
            if limit is not None and n_in / info.sample_rate > limit:
                _check_limit(path, n_in / info.sample_rate, max_duration)
            out = resampler.resample_chunk(block) if resampler is not None else block
            if len(out):
                yield _clean(out)
        if resampler is not None:
            out = resampler.resample_chunk(np.zeros((0, channels) if channels > 1 else 0, dtype=np.float32),
                                           last=True)
            if len(out):
                yield _clean(out)
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(f"{path}: cannot be decoded, the file is truncated or corrupt ({_reason(exc)})") from None
    decoded = n_in / info.sample_rate
    if decoded <= 0:
        raise AudioError(f"{path}: contains no audio (zero length)")
    if not info.estimated and info.duration - decoded > max(1.0, 0.05 * info.duration):
        raise AudioError(f"{path}: truncated: header declares {info.duration:.1f} s but only "
                         f"{decoded:.1f} s could be decoded")


def _downmix(x: np.ndarray, stereo: bool = False) -> np.ndarray:
    """(samples, channels) -> (samples,) float32 channel average (column by column: fast); with
    ``stereo`` -> (samples, 2) (see :func:`stream`)."""
    if stereo and x.shape[1] == 2:
        return np.ascontiguousarray(x, dtype=np.float32)
    out = np.array(x[:, 0], dtype=np.float32)
    for c in range(1, x.shape[1]):
        out += x[:, c]
    if x.shape[1] > 1:
        out *= np.float32(1.0 / x.shape[1])
    return np.stack([out, out], axis=1) if stereo else out


def _clean(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(x, -1.0, 1.0, out=x if x.flags.writeable else None)
