"""Builders for the songs tests: audio in every upload format (soundfile + ffmpeg), bad files of
many kinds, and a tiny random-weight CRNN registered as the project's active model."""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 44100


def tone(duration: float = 3.0, *, sr: int = SR, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * (220 + 30 * seed) * t) + 0.02 * rng.standard_normal(t.size)
    y = y.astype(np.float32)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


def wav_bytes(duration: float = 3.0, *, sr: int = SR, channels: int = 2, seed: int = 0, subtype="PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone(duration, sr=sr, channels=channels, seed=seed), sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def encode(fmt: str, duration: float = 3.0, *, seed: int = 0) -> bytes:
    """Bytes of a `duration`-second song in `fmt`: wav flac ogg opus mp3 m4a aiff."""
    if fmt in ("wav", "flac", "ogg", "aiff"):
        buf = io.BytesIO()
        kw = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "aiff": ("AIFF", "PCM_16")}
        sf.write(buf, tone(duration, seed=seed), SR, format=kw[fmt][0], subtype=kw[fmt][1])
        return buf.getvalue()
    codec = {"mp3": ["-c:a", "libmp3lame", "-b:a", "128k"], "m4a": ["-c:a", "aac", "-b:a", "128k"],
             "opus": ["-c:a", "libopus", "-b:a", "96k"]}[fmt]
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.wav", Path(d) / f"out.{fmt}"
        src.write_bytes(wav_bytes(duration, seed=seed))
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *codec, str(dst)], check=True)
        return dst.read_bytes()


def video_without_audio() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        dst = Path(d) / "v.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=duration=1:size=64x64:rate=10", "-pix_fmt", "yuv420p", str(dst)], check=True)
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


def tiny_model(project, *, name: str = "tiny-target"):
    """A random-weight CRNN checkpoint in storage, registered and made the project's active model."""
    import torch
    from django.core.files.base import ContentFile
    from jobs.models import ModelVersion

    from detector.checkpoint import save_checkpoint
    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNN, CRNNConfig

    torch.manual_seed(0)
    config = FeatureConfig()
    with tempfile.TemporaryDirectory() as d:
        path = save_checkpoint(Path(d) / "tiny.pt", model=CRNN(CRNNConfig(n_mels=config.n_mels)), feature_config=config,
                               normalization=Normalization.identity(config.n_mels), kind="target")
        mv = ModelVersion(project=project, name=name, kind="target")
        mv.checkpoint.save(f"models/test/{project.pk}-{name}.pt", ContentFile(path.read_bytes()), save=False)
    mv.save()
    project.active_model = mv
    project.save(update_fields=["active_model"])
    return mv


def media_files(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
