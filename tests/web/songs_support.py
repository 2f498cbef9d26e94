"""Builders for the songs tests: audio in every upload format (soundfile + ffmpeg), bad files of
many kinds (signals and writers from audio_fixtures)."""

from __future__ import annotations

import io
import struct
import tempfile
from pathlib import Path

import numpy as np
from audio_fixtures import audio_bytes, ffmpeg, noise, sine, stereo

SR = 44100


def tone(duration: float = 3.0, *, sr: int = SR, channels: int = 2, seed: int = 0) -> np.ndarray:
    """An upload's signal: a (220 + 30 seed) Hz sine with a little noise, stereo at 44.1 kHz by default."""
    y = sine(duration, sr=sr, freq=220 + 30 * seed, amplitude=0.3) + noise(duration, sr=sr, amplitude=0.02, seed=seed)
    return stereo(y, channels=channels)


def wav_bytes(duration: float = 3.0, *, sr: int = SR, channels: int = 2, seed: int = 0, subtype="PCM_16") -> bytes:
    return audio_bytes(tone(duration, sr=sr, channels=channels, seed=seed), sr, "wav", subtype=subtype)


def encode(fmt: str, duration: float = 3.0, *, seed: int = 0) -> bytes:
    """Bytes of a `duration`-second song in `fmt`: wav flac ogg opus mp3 m4a aiff."""
    return audio_bytes(tone(duration, seed=seed), SR, fmt)


def video_without_audio() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        dst = Path(d) / "v.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=10", "-pix_fmt", "yuv420p", str(dst))
        return dst.read_bytes()


def wav_header_claiming_hours() -> bytes:
    data = bytearray(wav_bytes(2.0))
    i = data.find(b"data")
    data[i + 4 : i + 8] = struct.pack("<I", 44100 * 4 * 3600 * 3)  # 3 hours of 44.1 kHz stereo 16-bit
    data[4:8] = struct.pack("<I", len(data) - 8 + 44100 * 4 * 3600 * 3)
    return bytes(data)


def wav_zero_channels() -> bytes:
    data = bytearray(wav_bytes(1.0))
    data[22:24] = struct.pack("<H", 0)
    return bytes(data)


def wav_zero_sample_rate() -> bytes:
    data = bytearray(wav_bytes(1.0))
    data[24:28] = struct.pack("<I", 0)
    return bytes(data)


def png_bytes() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(0.5, 0.5))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def media_files(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
