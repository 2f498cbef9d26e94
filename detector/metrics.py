"""Evaluation of vocal / non-vocal detection, frame-level and beyond.

Inputs are per-frame arrays on the 10 ms grid: boolean masks ``(n_frames,)`` (True = vocal) and
probabilities ``(n_frames,)`` in ``[0, 1]``. The vocal class is the positive class. Ratios whose
denominator is zero are 0.0 (scikit-learn's ``zero_division=0``).

- :func:`frame_metrics`: TP/FP/TN/FN, accuracy, precision, recall, F1, FPR, FNR, specificity.
- :func:`roc_auc`, :func:`pr_auc` (average precision), :func:`roc_curve`, :func:`pr_curve`.
- :func:`segment_metrics`: F1 on a 1 s grid (a grid cell is vocal if any of its frames is).
- :func:`boundary_metrics`: vocal on/offsets matched one-to-one within a tolerance
  (:func:`match_pairs` gives the matched pairs themselves).
- :func:`evaluate`: all of the above per song and pooled over songs (counts summed).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from detector.config import FRAME_RATE
from detector.labels import runs

COUNT_KEYS = ("tp", "fp", "tn", "fn")


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def _masks(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, est = np.asarray(reference, dtype=bool).ravel(), np.asarray(estimate, dtype=bool).ravel()
    if ref.shape != est.shape:
        raise ValueError(f"reference has {ref.size} frames, estimate {est.size}")
    return ref, est


def counts(reference: np.ndarray, estimate: np.ndarray) -> dict[str, int]:
    """``{"tp", "fp", "tn", "fn"}`` frame counts of two masks ``(n_frames,)``."""
    ref, est = _masks(reference, estimate)
    tp = int(np.count_nonzero(ref & est))
    fp = int(np.count_nonzero(est)) - tp
    fn = int(np.count_nonzero(ref)) - tp
    return {"tp": tp, "fp": fp, "tn": ref.size - tp - fp - fn, "fn": fn}


def metrics_from_counts(c: Mapping[str, int]) -> dict[str, float | int]:
    """Frame metrics from ``tp``, ``fp``, ``tn``, ``fn`` counts (see :func:`frame_metrics`)."""
    tp, fp, tn, fn = (int(c[k]) for k in COUNT_KEYS)
    n = tp + fp + tn + fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "n_frames": n, "n_vocal": tp + fn, "n_non_vocal": tn + fp,
        "accuracy": _ratio(tp + tn, n),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, fn + tp),
        "specificity": _ratio(tn, fp + tn),
    }


def frame_metrics(reference: np.ndarray, estimate: np.ndarray) -> dict[str, float | int]:
    """Frame-level metrics of an estimated vocal mask against the reference, both ``(n_frames,)``.

    Keys: ``tp fp tn fn n_frames n_vocal n_non_vocal accuracy precision recall f1 fpr fnr
    specificity`` (counts are ints, the rest floats in [0, 1]).
    """
    return metrics_from_counts(counts(reference, estimate))


def roc_curve(reference: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)`` at every distinct probability (descending), starting at (0, 0)."""
    fps, tps, thresholds = _cumulative(reference, probabilities)
    fpr = fps / fps[-1] if fps.size and fps[-1] else np.zeros_like(fps)
    tpr = tps / tps[-1] if tps.size and tps[-1] else np.zeros_like(tps)
    return np.r_[0.0, fpr], np.r_[0.0, tpr], np.r_[np.inf, thresholds]


def pr_curve(reference: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(precision, recall, thresholds)`` at every distinct probability (descending)."""
    fps, tps, thresholds = _cumulative(reference, probabilities)
    precision = tps / np.maximum(tps + fps, 1)
    recall = tps / tps[-1] if tps.size and tps[-1] else np.zeros_like(tps)
    return precision, recall, thresholds


def roc_auc(reference: np.ndarray, probabilities: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); 0.0 when only one class is present."""
    from scipy.stats import rankdata

    ref = np.asarray(reference, dtype=bool).ravel()
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    n_pos, n_neg = int(ref.sum()), int((~ref).sum())
    if not n_pos or not n_neg:
        return 0.0
    ranks = rankdata(p)
    return float((ranks[ref].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(reference: np.ndarray, probabilities: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision: ``sum_n (R_n - R_{n-1}) P_n``."""
    precision, recall, _ = pr_curve(reference, probabilities)
    if not recall.size or not recall[-1]:
        return 0.0
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _cumulative(reference, probabilities) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative false / true positives when thresholding at each distinct score, descending."""
    ref = np.asarray(reference, dtype=bool).ravel()
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if ref.shape != p.shape:
        raise ValueError(f"reference has {ref.size} frames, probabilities {p.size}")
    order = np.argsort(-p, kind="mergesort")
    p, ref = p[order], ref[order]
    last = np.r_[np.flatnonzero(np.diff(p)), p.size - 1] if p.size else np.zeros(0, dtype=int)
    tps = np.cumsum(ref)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    return fps, tps, p[last]


def segment_metrics(reference: np.ndarray, estimate: np.ndarray, *, segment_s: float = 1.0) -> dict:
    """Segment-based precision, recall, F1 on a grid of ``segment_s`` seconds.

    A grid cell is vocal when any of its frames is (the sed_eval convention); the last cell may be
    shorter. Keys: ``tp fp fn tn precision recall f1``.
    """
    ref, est = _masks(reference, estimate)
    size = max(1, int(round(segment_s * FRAME_RATE)))
    cells = -(-ref.size // size)
    pad = cells * size - ref.size
    ref_cells = np.pad(ref, (0, pad)).reshape(cells, size).any(axis=1)
    est_cells = np.pad(est, (0, pad)).reshape(cells, size).any(axis=1)
    m = metrics_from_counts(counts(ref_cells, est_cells))
    return {k: m[k] for k in ("tp", "fp", "fn", "tn", "precision", "recall", "f1")}


def boundaries(mask: np.ndarray) -> np.ndarray:
    """Times in seconds where the vocal state changes (frame starts; not 0 nor the end)."""
    starts, _, _ = runs(np.asarray(mask, dtype=bool))
    return starts[1:] / FRAME_RATE


def match_pairs(reference: np.ndarray, estimate: np.ndarray, *, tolerance: float,
                reference_free: np.ndarray | None = None, estimate_free: np.ndarray | None = None) -> np.ndarray:
    """The pairs of a maximum one-to-one matching of two **sorted** arrays of times (seconds) where
    ``|r - e| <= tolerance``: an int array of shape (n_hits, 2) of (reference index, estimate index).

    Only the events whose ``*_free`` entry is True take part (boolean arrays of the inputs' lengths;
    default all), so a second, wider pass can match what a first pass left. A greedy sweep over both
    lists is optimal on a line. Distances equal to the tolerance count as hits even through rounding
    noise (boundaries sit on the 10 ms grid, so ties are common).
    """
    ref, est = np.asarray(reference, float), np.asarray(estimate, float)
    ri = np.flatnonzero(reference_free) if reference_free is not None else np.arange(ref.size)
    ei = np.flatnonzero(estimate_free) if estimate_free is not None else np.arange(est.size)
    tolerance = tolerance + 1e-9
    pairs = []
    i = j = 0
    while i < ri.size and j < ei.size:
        r, e = ref[ri[i]], est[ei[j]]
        if abs(r - e) <= tolerance:
            pairs.append((ri[i], ei[j]))
            i, j = i + 1, j + 1
        elif r < e:
            i += 1
        else:
            j += 1
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def match_events(reference: np.ndarray, estimate: np.ndarray, *, tolerance: float) -> int:
    """Size of a maximum one-to-one matching of two sets of times where ``|r - e| <= tolerance``
    (:func:`match_pairs` of the sorted times)."""
    ref, est = np.sort(np.asarray(reference, float)), np.sort(np.asarray(estimate, float))
    return len(match_pairs(ref, est, tolerance=tolerance))


def boundary_metrics(reference: np.ndarray, estimate: np.ndarray, *, tolerance: float = 0.5) -> dict:
    """Boundary detection precision / recall / F-measure of two masks within ``tolerance`` seconds.

    Keys: ``hits n_reference n_estimate precision recall f``.
    """
    ref, est = _masks(reference, estimate)
    rb, eb = boundaries(ref), boundaries(est)
    return _boundary_scores(match_events(rb, eb, tolerance=tolerance), rb.size, eb.size)


def _boundary_scores(hits: int, n_ref: int, n_est: int) -> dict:
    precision, recall = _ratio(hits, n_est), _ratio(hits, n_ref)
    return {"hits": hits, "n_reference": n_ref, "n_estimate": n_est, "precision": precision,
            "recall": recall, "f": _ratio(2 * precision * recall, precision + recall)}


def evaluate(
    references: Mapping[str, np.ndarray],
    estimates: Mapping[str, np.ndarray],
    *,
    probabilities: Mapping[str, np.ndarray] | None = None,
    segment_s: float = 1.0,
    tolerance: float = 0.5,
) -> dict:
    """Per-song and pooled metrics for songs present in both mappings (name -> mask ``(n_frames,)``).

    Returns ``{"pooled": {...}, "songs": {name: {...}}}``: frame metrics, ``segment`` (1 s grid) and
    ``boundary`` scores, plus ``roc_auc`` / ``pr_auc`` when ``probabilities`` are given. Pooled
    figures sum the counts over songs (the usual SVD protocol) and AUCs use all frames together.
    """
    names = [name for name in references if name in estimates]
    songs: dict[str, dict] = {}
    total = dict.fromkeys(COUNT_KEYS, 0)
    seg_total = dict.fromkeys(COUNT_KEYS, 0)
    hits = n_ref = n_est = 0
    for name in names:
        ref, est = _masks(references[name], estimates[name])
        song = frame_metrics(ref, est)
        song["segment"] = segment_metrics(ref, est, segment_s=segment_s)
        song["boundary"] = boundary_metrics(ref, est, tolerance=tolerance)
        if probabilities is not None and name in probabilities:
            song["roc_auc"] = roc_auc(ref, probabilities[name])
            song["pr_auc"] = pr_auc(ref, probabilities[name])
        songs[name] = song
        for k in COUNT_KEYS:
            total[k] += song[k]
            seg_total[k] += song["segment"][k]
        hits += song["boundary"]["hits"]
        n_ref += song["boundary"]["n_reference"]
        n_est += song["boundary"]["n_estimate"]
    pooled = metrics_from_counts(total)
    seg = metrics_from_counts(seg_total)
    pooled["segment"] = {k: seg[k] for k in ("tp", "fp", "fn", "tn", "precision", "recall", "f1")}
    pooled["boundary"] = _boundary_scores(hits, n_ref, n_est)
    pooled["n_songs"] = len(names)
    if probabilities is not None and names and all(n in probabilities for n in names):
        ref_all = np.concatenate([np.asarray(references[n], bool).ravel() for n in names])
        p_all = np.concatenate([np.asarray(probabilities[n], np.float64).ravel() for n in names])
        pooled["roc_auc"], pooled["pr_auc"] = roc_auc(ref_all, p_all), pr_auc(ref_all, p_all)
    return {"pooled": pooled, "songs": songs}
