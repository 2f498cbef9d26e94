"""Random-weight CRNN bundles for the platform tests (pure detector + torch, no Django, so a
subprocess can build them too): the keyword arguments of ``detector.checkpoint.save_checkpoint``."""

from __future__ import annotations

import numpy as np


def tiny_bundle(seed: int = 0) -> dict:
    """A very small CRNN on a 16-band front end: a training job on it takes a few seconds."""
    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNNConfig, build_model

    fc = FeatureConfig(n_mels=16, n_fft=512, win_length=400)
    model = build_model(CRNNConfig(n_mels=16, channels=(4, 6, 6), kernel_sizes=(3, 3, 3), freq_pools=(2, 2, 2),
                                   rnn_hidden=6), seed=seed)
    return {"model": model, "feature_config": fc,
            "normalization": Normalization(np.full(16, -6.0, np.float32), np.full(16, 3.0, np.float32))}


def full_bundle(seed: int = 0) -> dict:
    """The default-size CRNN (80 mel bands, about 95 KB) with random weights and identity normalisation."""
    import torch

    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNN, CRNNConfig

    torch.manual_seed(seed)
    config = FeatureConfig()
    return {"model": CRNN(CRNNConfig(n_mels=config.n_mels)), "feature_config": config,
            "normalization": Normalization.identity(config.n_mels)}


BUNDLES = {"tiny": tiny_bundle, "full": full_bundle}
