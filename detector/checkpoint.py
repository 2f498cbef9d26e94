"""Self-describing model files.

A checkpoint is a ``torch.save`` dict of plain values (loadable with ``weights_only=True``):
format version, kind, parent, model / feature / post-processing configs, normalisation, model
weights, training config, seed, data manifest, metrics and library versions. Writing is atomic.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from detector.config import FeatureConfig
from detector.errors import CheckpointError, NoDefaultModelError
from detector.features import Normalization
from detector.model import CRNN, CRNNConfig
from detector.postprocess import PostprocessConfig

FORMAT_VERSION = 1
KINDS = ("source", "target", "baseline")
REQUIRED = ("format_version", "kind", "model_config", "model_state", "feature_config", "normalization",
            "postprocess")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass
class Bundle:
    """Everything needed to run a model: the CRNN (eval mode) and how to feed it / read its output."""

    model: CRNN
    model_config: CRNNConfig
    feature_config: FeatureConfig
    normalization: Normalization
    postprocess: PostprocessConfig
    metadata: dict[str, Any] = field(default_factory=dict)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Normalised features ``(batch, frames, n_mels)`` float32 -> logits ``(batch, frames)``."""
        with torch.inference_mode():
            return self.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: CRNN,
    model_config: CRNNConfig | None = None,
    feature_config: FeatureConfig,
    normalization: Normalization,
    postprocess: PostprocessConfig | None = None,
    training: dict | None = None,
    seed: int | None = None,
    manifest: dict | None = None,
    metrics: dict | None = None,
    kind: str = "source",
    parent: str | None = None,
) -> Path:
    """Write a checkpoint to ``path`` atomically (temporary file + ``os.replace``); returns the path."""
    model_config = model_config or model.config
    postprocess = postprocess or PostprocessConfig()
    if kind not in KINDS:
        raise CheckpointError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if normalization.mean.size != feature_config.n_mels or model_config.n_mels != feature_config.n_mels:
        raise CheckpointError(f"normalisation ({normalization.mean.size}), model ({model_config.n_mels}) "
                              f"and features ({feature_config.n_mels}) disagree on the number of mel bands")
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "parent": parent,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model_config": model_config.to_dict(),
        "model_state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "feature_config": feature_config.to_dict(),
        "normalization": normalization.to_dict(),
        "postprocess": postprocess.to_dict(),
        "training": training,
        "seed": seed,
        "manifest": manifest,
        "metrics": metrics,
        "versions": library_versions(),
    }
    return atomic_torch_save(payload, path)


def atomic_torch_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file beside ``path``, fsync, then ``os.replace``: a reader (or a
    crash, or a full disk) never leaves half a file at ``path``, and no temporary file remains."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, expect_feature_config: FeatureConfig | None = None) -> Bundle:
    """Read a checkpoint; the model comes back in eval mode on the CPU.

    Raises :class:`CheckpointError` (naming the file and field) for an unreadable file, an unknown
    ``format_version``, a missing or malformed field, or a feature config that differs from
    ``expect_feature_config``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({' '.join(str(exc).split())[:200]})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a checkpoint (a {type(data).__name__}, not a dict)")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise CheckpointError(f"{path}: missing field(s) {', '.join(missing)}")
    if data["format_version"] != FORMAT_VERSION:
        raise CheckpointError(f"{path}: format_version {data['format_version']!r} is not supported "
                              f"(this detector reads version {FORMAT_VERSION})")
    try:
        model_config = CRNNConfig.from_dict(data["model_config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad model_config ({exc})") from None
    try:
        feature_config = FeatureConfig.from_dict(data["feature_config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad feature_config ({exc})") from None
    if expect_feature_config is not None and feature_config != expect_feature_config:
        diffs = [f"{k}={v!r} (expected {expect_feature_config.to_dict()[k]!r})"
                 for k, v in feature_config.to_dict().items() if v != expect_feature_config.to_dict()[k]]
        raise CheckpointError(f"{path}: feature_config differs from the expected one: {', '.join(diffs)}")
    try:
        normalization = Normalization.from_dict(data["normalization"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad normalization ({exc})") from None
    if normalization.mean.size != feature_config.n_mels:
        raise CheckpointError(f"{path}: normalization has {normalization.mean.size} bands, "
                              f"feature_config.n_mels is {feature_config.n_mels}")
    try:
        postprocess = PostprocessConfig.from_dict(data["postprocess"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad postprocess ({exc})") from None
    model = CRNN(model_config)
    try:
        model.load_state_dict(data["model_state"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: model_state does not fit model_config ({str(exc).splitlines()[0]})") from None
    model.eval()
    metadata = {k: v for k, v in data.items() if k not in ("model_state",)}
    metadata["path"] = str(path)
    return Bundle(model, model_config, feature_config, normalization, postprocess, metadata)


def library_versions() -> dict[str, str]:
    import librosa

    from detector import __version__

    return {"detector": __version__, "python": platform.python_version(), "torch": str(torch.__version__),
            "numpy": str(np.__version__), "librosa": str(librosa.__version__)}


def default_model_path() -> Path:
    """The shipped model: ``detector/weights/default.pt``, else ``detector/weights/source.pt``.

    Raises :class:`NoDefaultModelError` when neither exists.
    """
    for name in ("default.pt", "source.pt"):
        candidate = WEIGHTS_DIR / name
        if candidate.is_file():
            return candidate
    raise NoDefaultModelError(f"no default model is installed (looked for default.pt and source.pt in "
                              f"{WEIGHTS_DIR}); pass --model PATH to a checkpoint")
