"""Helpers for the detector tests (a module of its own: ``from conftest import`` is ambiguous when
several test folders run together): the fixture files' tone burst (signals and writers: audio_fixtures),
tiny checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from audio_fixtures import sine

from detector.config import DEFAULT_FEATURES, FeatureConfig
from detector.features import Normalization
from detector.model import CRNN, CRNNConfig

torch.set_num_threads(1)

TINY = CRNNConfig(channels=(4, 4, 4), rnn_hidden=4, dropout=0.0)
FIXTURE_SECONDS = 3.0
BURST = (1.0, 2.0)  # seconds: where the fixture files' 1 kHz tone burst sounds


def burst(duration: float = FIXTURE_SECONDS, *, sr: int = 16000, start: float = BURST[0], end: float = BURST[1],
          channels: int = 1) -> np.ndarray:
    """Silence with a 1 kHz tone in ``[start, end)`` seconds, shape ``(n,)`` or ``(n, channels)``."""
    return sine(duration, sr=sr, freq=1000.0, amplitude=0.5, spans=[(start, end)], channels=channels)


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
