"""How every model is scored, and how post-processing is chosen: one path for training, experiments,
the CLI and the web.

Probabilities always come from :func:`detector.inference.predict_features_batch`, the windows
detection itself uses, so a figure measured here is what a user of ``detect`` or of the platform
gets; segments always come from :func:`detector.postprocess.binarize`; metrics always from
:func:`detector.metrics.evaluate` (pooled counts over items, ROC AUC over all frames).

    >>> backend = model_backend(model, normalization=norm, feature_config=cfg)
    >>> probs = predict(backend, dataset.features)
    >>> post, scores = tune_postprocess(probs, dataset.labels)      # on development items only
    >>> report = score(probs, dataset.labels, postprocess=post, names=dataset.names)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from detector.config import FeatureConfig
from detector.features import Normalization
from detector.metrics import evaluate as metrics_evaluate
from detector.metrics import frame_metrics
from detector.postprocess import PostprocessConfig, binarize, smooth

__all__ = ["predict", "model_backend", "score", "tune_postprocess", "evaluate_backend",
           "MEDIAN_CHOICES_S", "THRESHOLD_CHOICES", "MIN_GAP_CHOICES_S"]

MEDIAN_CHOICES_S = (0.2, 0.4, 0.8)
THRESHOLD_CHOICES = tuple(float(t) for t in np.round(np.arange(0.2, 0.81, 0.05), 2))
#: filling non-vocal gaps shorter than 0.5 s is the references' own convention ("joined < 0.5 s")
MIN_GAP_CHOICES_S = (0.0, 0.5)


def model_backend(model, *, normalization: Normalization, feature_config: FeatureConfig,
                  postprocess: PostprocessConfig | None = None):
    """A torch CRNN as a detection backend (:class:`detector.checkpoint.Bundle`; :func:`predict` runs
    it in eval mode)."""
    from detector.checkpoint import Bundle

    return Bundle(model, model.config, feature_config, normalization, postprocess or PostprocessConfig())


def predict(backend, features: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Frame probabilities ``(n_frames,)`` float32 for each raw log-mel item ``(n_frames, n_mels)``,
    through the detection windows (:func:`detector.inference.predict_features_batch`)."""
    from detector.inference import predict_features_batch

    model = getattr(backend, "model", None)
    was_training = bool(model is not None and model.training)
    if was_training:
        model.eval()
    try:
        return predict_features_batch(backend, [np.asarray(f, np.float32) for f in features])
    finally:
        if was_training:
            model.train()


def score(
    probabilities: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    *,
    postprocess: PostprocessConfig,
    names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Per-item and pooled metrics (:func:`detector.metrics.evaluate`: frame, 1 s segment, boundary,
    ROC/PR AUC) of probabilities after ``postprocess``."""
    names = list(names) if names is not None else [str(i) for i in range(len(probabilities))]
    refs = {n: np.asarray(y, bool) for n, y in zip(names, labels, strict=True)}
    ests = {n: binarize(p, config=postprocess) for n, p in zip(names, probabilities, strict=True)}
    return metrics_evaluate(refs, ests, probabilities=dict(zip(names, probabilities, strict=True)))


def evaluate_backend(backend, dataset, *, postprocess: PostprocessConfig | None = None) -> dict[str, Any]:
    """:func:`score` of ``backend`` on a labelled :class:`~detector.data.FrameDataset`, with the
    backend's own post-processing unless ``postprocess`` is given."""
    probs = predict(backend, dataset.features)
    return score(probs, dataset.labels, postprocess=postprocess or backend.postprocess, names=dataset.names)


def objective(scores: dict) -> float:
    """What post-processing is chosen for: accuracy and vocal F1 together (their sum)."""
    return float(scores["accuracy"] + scores["f1"])


def tune_postprocess(
    probabilities: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    *,
    medians_s: Sequence[float] = MEDIAN_CHOICES_S,
    thresholds: Sequence[float] = THRESHOLD_CHOICES,
    min_gaps_s: Sequence[float] = MIN_GAP_CHOICES_S,
) -> tuple[PostprocessConfig, dict[str, float]]:
    """The median length, threshold and gap filling with the best pooled :func:`objective` on the
    given (development) items; returns ``(config, pooled frame scores)``."""
    if not probabilities:
        raise ValueError("tune_postprocess needs at least one item")
    ref = np.concatenate([np.asarray(y, bool) for y in labels])
    best: tuple[float, PostprocessConfig, dict] | None = None
    for median_s in medians_s:
        smoothed = [smooth(p, config=PostprocessConfig(median_s=median_s)) for p in probabilities]
        for t in thresholds:
            for gap in min_gaps_s:
                cfg = PostprocessConfig(median_s=median_s, threshold=float(t), min_gap_s=gap)
                flat = PostprocessConfig(median_s=0.0, threshold=float(t), min_gap_s=gap)  # already smoothed
                est = np.concatenate([binarize(p, config=flat) for p in smoothed])
                s = frame_metrics(ref, est)
                if best is None or objective(s) > best[0] + 1e-12:
                    best = (objective(s), cfg, s)
    return best[1], best[2]
