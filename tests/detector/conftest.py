"""Fixtures for the detector tests: audio built with numpy / soundfile / ffmpeg, tiny checkpoints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from detector.config import DEFAULT_FEATURES, FeatureConfig
from detector.features import Normalization
from detector.model import CRNN, CRNNConfig

torch.set_num_threads(1)

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
TINY = CRNNConfig(channels=(4, 4, 4), rnn_hidden=4, dropout=0.0)


def tone(duration: float, *, sr: int = 16000, freq: float = 440.0, amplitude: float = 0.5,
         channels: int = 1) -> np.ndarray:
    """A sine tone, shape ``(n,)`` or ``(n, channels)``, float32."""
    t = np.arange(int(round(duration * sr))) / sr
    y = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return y if channels == 1 else np.repeat(y[:, None], channels, axis=1)


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


# (extension, how to make it from a 44.1 kHz stereo wav) -> every format the detector must read
FORMATS = {
    "wav": None,
    "flac": None,
    "ogg": None,
    "aiff": None,
    "opus": ["-c:a", "libopus", "-b:a", "64k"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "aac": ["-c:a", "aac", "-b:a", "128k", "-f", "adts"],
}
FIXTURE_SECONDS = 3.0


BURST = (1.0, 2.0)  # seconds: where the fixture files' 1 kHz tone burst sounds


def burst(duration: float = FIXTURE_SECONDS, *, sr: int = 16000, start: float = BURST[0], end: float = BURST[1],
          channels: int = 1) -> np.ndarray:
    """Silence with a 1 kHz tone in ``[start, end)`` seconds, shape ``(n,)`` or ``(n, channels)``."""
    y = tone(duration, sr=sr, freq=1000.0, amplitude=0.5)
    t = np.arange(y.size) / sr
    y[(t < start) | (t >= end)] = 0.0
    return y if channels == 1 else np.repeat(y[:, None], channels, axis=1)


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    """``{extension: path}``: the same 3.0 s 44.1 kHz stereo file (a 1 kHz burst in [1, 2) s) in
    every supported format."""
    folder = tmp_path_factory.mktemp("formats")
    y = burst(sr=44100, channels=2)
    source = folder / "tone.wav"
    sf.write(source, y, 44100, subtype="PCM_16")
    files = {"wav": source}
    sf.write(folder / "tone.flac", y, 44100)
    sf.write(folder / "tone.ogg", y, 44100, format="OGG", subtype="VORBIS")
    sf.write(folder / "tone.aiff", y, 44100, format="AIFF", subtype="PCM_16")
    files.update({ext: folder / f"tone.{ext}" for ext in ("flac", "ogg", "aiff")})
    for ext, codec in FORMATS.items():
        if codec is not None:
            ffmpeg("-i", str(source), *codec, str(folder / f"tone.{ext}"))
            files[ext] = folder / f"tone.{ext}"
    return files


def save_tiny_checkpoint(path: Path, *, seed: int = 0, always_vocal: bool = False,
                         feature_config: FeatureConfig = DEFAULT_FEATURES, config: CRNNConfig = TINY) -> Path:
    """A randomly initialised CRNN (tiny unless ``config`` says otherwise) saved as a checkpoint."""
    from detector.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    model = CRNN(config).eval()
    if always_vocal:
        with torch.no_grad():
            model.head.weight.zero_()
            model.head.bias.fill_(8.0)
    return save_checkpoint(path, model=model, model_config=config, feature_config=feature_config,
                           normalization=Normalization.identity(feature_config.n_mels), seed=seed,
                           kind="source", training={"epochs": 0}, manifest={"songs": []}, metrics={})


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A randomly initialised tiny CRNN saved as a checkpoint."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("models") / "tiny.pt")


@pytest.fixture(scope="session")
def vocal_checkpoint(tmp_path_factory) -> Path:
    """A tiny checkpoint whose output is 'vocal' everywhere (head bias +8)."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("models") / "vocal.pt", always_vocal=True)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_checkpoint):
    from detector.checkpoint import load_checkpoint

    return load_checkpoint(tiny_checkpoint)
