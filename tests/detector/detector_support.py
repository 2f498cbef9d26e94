"""Helpers for the detector tests (a module of its own: ``from conftest import`` is ambiguous when
several test folders run together): audio built with numpy / soundfile / ffmpeg, tiny checkpoints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
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
