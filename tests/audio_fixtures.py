"""Audio for every test folder: one synthesiser API (signals as float32 numpy arrays) and one writer
per format (bytes in memory or a file on disk). Pure numpy + soundfile + ffmpeg, no Django, so the
detector tests use it as well as the platform's.

Signals (mono ``(n,)`` float32 unless ``channels`` says otherwise; ``n = round(duration * sr)``):
    sine(duration, freq=..., amplitude=..., spans=...)      a pure tone, optionally only inside spans
    noise(duration, amplitude=..., seed=...)                white noise from ``default_rng(seed)``
    voice(duration, f0=..., spans=...)                      a voice-like harmonic tone with vibrato
    song(duration, seed=..., spans=...)                     soft noise + a low drone + a voice in spans
    stereo(y, channels=..., gains=...)                      copies of a mono signal as channels
    normalize(y, peak)                                      scaled so that max |y| == peak
Writers: ``audio_bytes(y, sr, fmt)`` and ``write_audio(path, y, sr)`` for wav flac ogg aiff (soundfile)
and mp3 m4a opus aac (ffmpeg from a 16-bit wav).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


def times(duration: float, sr: int = SR) -> np.ndarray:
    """Sample times in seconds: ``arange(round(duration * sr)) / sr``."""
    return np.arange(int(round(duration * sr))) / sr


def inside(t: np.ndarray, spans) -> np.ndarray:
    """A mask of the samples whose time lies in one of ``spans`` = [(start, end), ...] (end excluded)."""
    mask = np.zeros(t.size, dtype=bool)
    for a, b in spans:
        mask |= (t >= a) & (t < b)
    return mask


def sine(duration: float, *, sr: int = SR, freq: float = 440.0, amplitude: float = 0.5, spans=None,
         channels: int = 1) -> np.ndarray:
    """``amplitude * sin(2 pi freq t)``; with ``spans``, silence outside them."""
    t = times(duration, sr)
    y = amplitude * np.sin(2 * np.pi * freq * t)
    if spans is not None:
        y[~inside(t, spans)] = 0.0
    return stereo(y.astype(np.float32), channels=channels)


def noise(duration: float, *, sr: int = SR, amplitude: float = 0.05, seed: int = 0, channels: int = 1) -> np.ndarray:
    """White noise of standard deviation ``amplitude`` (``channels`` independent columns when > 1)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    shape = (n,) if channels == 1 else (n, channels)
    return (amplitude * rng.standard_normal(shape)).astype(np.float32)


def voice(duration: float, *, sr: int = SR, f0: float = 220.0, spans=((0.0, np.inf),), amplitude: float = 0.3,
          harmonics: int = 5, vibrato: float = 0.02, vibrato_hz: float = 5.5, tremolo: float = 0.0,
          tremolo_hz: float = 3.0) -> np.ndarray:
    """A voice-like tone inside ``spans``: partials k = 1..harmonics at ``amplitude / k`` over a pitch
    with ``vibrato`` (relative depth) and an optional ``tremolo`` (amplitude modulation depth)."""
    t = times(duration, sr)
    y = np.zeros(t.size)
    for a, b in spans:
        m = (t >= a) & (t < b)
        phase = 2 * np.pi * np.cumsum(f0 * (1 + vibrato * np.sin(2 * np.pi * vibrato_hz * t[m]))) / sr
        part = sum(amplitude / k * np.sin(k * phase) for k in range(1, harmonics + 1))
        if tremolo:
            part = part * (1 - tremolo + tremolo * np.sin(2 * np.pi * tremolo_hz * t[m]))
        y[m] += part
    return y.astype(np.float32)


def song(duration: float, *, sr: int = SR, seed: int = 0, spans=(), noise_level: float = 0.05,
         drone: float = 0.1, f0: float | None = None, peak: float | None = 0.8, **voice_kw) -> np.ndarray:
    """A synthetic song: soft noise + a 110 Hz drone everywhere, a voice (see :func:`voice`, f0 from
    the seed unless given) in ``spans``; scaled to ``peak`` (None: as mixed)."""
    y = noise(duration, sr=sr, amplitude=noise_level, seed=seed) + sine(duration, sr=sr, freq=110.0, amplitude=drone)
    if spans:
        y = y + voice(duration, sr=sr, f0=220 + 40 * seed % 120 if f0 is None else f0, spans=spans, **voice_kw)
    return normalize(y, peak) if peak is not None else y.astype(np.float32)


def stereo(y: np.ndarray, *, channels: int = 2, gains=None) -> np.ndarray:
    """``(n, channels)``: the mono ``y`` in every channel (times ``gains[c]`` when given); channels=1: y."""
    if channels == 1 and gains is None:
        return y
    gains = gains or [1.0] * channels
    return np.stack([g * y for g in gains], axis=1).astype(np.float32)


def normalize(y: np.ndarray, peak: float = 0.8) -> np.ndarray:
    return (y / np.abs(y).max() * peak).astype(np.float32)


# -- writers --------------------------------------------------------------------------------------

# soundfile formats: extension -> (format, default subtype)
SOUNDFILE = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "aiff": ("AIFF", "PCM_16")}
# ffmpeg encodings (from a 16-bit wav): extension -> codec arguments
FFMPEG_CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "opus": ["-c:a", "libopus", "-b:a", "96k"],
    "aac": ["-c:a", "aac", "-b:a", "128k", "-f", "adts"],
}
FORMATS = (*SOUNDFILE, *FFMPEG_CODECS)


def ffmpeg(*args: str, timeout: float | None = None) -> None:
    """Run ffmpeg quietly (overwriting outputs); a failure raises CalledProcessError."""
    subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=timeout)


def audio_bytes(y: np.ndarray, sr: int = SR, fmt: str = "wav", *, subtype: str | None = None,
                codec: list[str] | None = None) -> bytes:
    """The bytes of ``y`` encoded as ``fmt`` (one of FORMATS); ``subtype`` for soundfile formats
    (e.g. "FLOAT"); ``codec``: ffmpeg output arguments (codec, -metadata ...), which sends any format
    through ffmpeg."""
    fmt = fmt.lower().lstrip(".")
    if fmt in SOUNDFILE and codec is None:
        buf = io.BytesIO()
        sf.write(buf, y, sr, format=SOUNDFILE[fmt][0], subtype=subtype or SOUNDFILE[fmt][1])
        return buf.getvalue()
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.wav", Path(d) / f"out.{fmt}"
        src.write_bytes(audio_bytes(y, sr, "wav"))
        ffmpeg("-i", str(src), *(codec or FFMPEG_CODECS[fmt]), str(dst))
        return dst.read_bytes()


def wav_bytes(y: np.ndarray, sr: int = SR, *, subtype: str = "PCM_16") -> bytes:
    return audio_bytes(y, sr, "wav", subtype=subtype)


def write_audio(path, y: np.ndarray, sr: int = SR, *, subtype: str | None = None) -> Path:
    """Write ``y`` to ``path`` in the format its extension names; returns the path."""
    path = Path(path)
    path.write_bytes(audio_bytes(y, sr, path.suffix, subtype=subtype))
    return path
