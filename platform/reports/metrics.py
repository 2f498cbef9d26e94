"""What reports need on top of `detector.metrics` (numpy only, no Django).

Counts, the 1 s segment grid, boundary matching and AUCs come from `detector.metrics`; this module
adds what a report shows: undefined ratios as ``None`` (a denominator of zero, e.g. precision of a
song where nothing was predicted vocal, or ROC-AUC of a song with only one class) instead of
detector's 0.0, curves thinned for storage, F1 / accuracy against threshold, and correction effort.
The vocal class is the positive class; counts are pooled over songs before ratios are taken.
Frames are the 10 ms grid of DESIGN.md (frame i = [i/100, (i+1)/100) s).
"""

from __future__ import annotations

import numpy as np

from detector import metrics as dm
from detector.config import FRAME_RATE

GRID_S = 1.0  # segment-based metrics: cells of one second
BOUNDARY_WINDOW_S = 0.5  # boundary F-measure: a hit is within +-0.5 s (mir_eval's default)
EFFORT_WINDOW_S = 1.0  # correction effort: a boundary moved by at most 1 s counts as "moved"
CURVE_POINTS = 240  # stored points per ROC / PR curve
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)  # F1 / accuracy against threshold


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def confusion(*, reference: np.ndarray, estimate: np.ndarray) -> dict[str, int]:
    """TP/FP/TN/FN of boolean masks, shape (n_frames,) each."""
    c = dm.counts(reference, estimate)
    return {k: int(c[k]) for k in ("tp", "fp", "tn", "fn")}


def scores(counts: dict[str, int]) -> dict[str, float | int | None]:
    """Accuracy, precision, recall, F1, specificity, FPR, FNR and the class sizes from counts."""
    tp, fp, tn, fn = counts["tp"], counts["fp"], counts["tn"], counts["fn"]
    n = tp + fp + tn + fn
    return {
        **counts,
        "frames": n,
        "vocal_frames": tp + fn,
        "nonvocal_frames": tn + fp,
        "accuracy": _ratio(tp + tn, n),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "specificity": _ratio(tn, tn + fp),
        "fpr": _ratio(fp, tn + fp),
        "fnr": _ratio(fn, tp + fn),
    }


def ranking(*, reference: np.ndarray, score: np.ndarray) -> dict:
    """ROC and precision-recall curves of frame scores, their AUCs (ROC trapezoid, PR = average
    precision), downsampled to at most CURVE_POINTS points each."""
    ref = np.asarray(reference, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    pos = int(ref.sum())
    neg = int(ref.size - pos)
    out: dict = {"roc_auc": None, "pr_auc": None, "roc": {"fpr": [], "tpr": [], "threshold": []},
                 "pr": {"recall": [], "precision": [], "threshold": []}}
    if ref.size == 0:
        return out
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], ref[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # last index of each distinct score
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1) - tps
    thr = s[last]
    if pos and neg:
        tpr = np.r_[0.0, tps / pos]
        fpr = np.r_[0.0, fps / neg]
        out["roc_auc"] = dm.roc_auc(ref, score)
        keep = _thin(tpr.size)
        out["roc"] = {"fpr": _r(fpr[keep]), "tpr": _r(tpr[keep]), "threshold": _r(np.r_[1.0, thr][keep])}
    if pos:
        precision = tps / (tps + fps)
        recall = tps / pos
        out["pr_auc"] = dm.pr_auc(ref, score)
        keep = _thin(recall.size)
        out["pr"] = {"recall": _r(recall[keep]), "precision": _r(precision[keep]), "threshold": _r(thr[keep])}
    return out


def threshold_sweep(*, reference: np.ndarray, score: np.ndarray, thresholds: np.ndarray = THRESHOLDS) -> dict:
    """F1, accuracy, precision and recall when frames with score >= t are called vocal, per t."""
    ref = np.asarray(reference, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    pos_sorted = np.sort(s[ref])
    neg_sorted = np.sort(s[~ref])
    tp = pos_sorted.size - np.searchsorted(pos_sorted, thresholds, side="left")
    fp = neg_sorted.size - np.searchsorted(neg_sorted, thresholds, side="left")
    fn = pos_sorted.size - tp
    tn = neg_sorted.size - fp
    n = max(ref.size, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), np.nan)
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), np.nan)
        recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), np.nan)
    return {
        "threshold": _r(thresholds),
        "f1": _r(f1), "accuracy": _r((tp + tn) / n), "precision": _r(precision), "recall": _r(recall),
    }


def grid_counts(*, reference: np.ndarray, estimate: np.ndarray, cell_s: float = GRID_S) -> dict[str, int]:
    """Segment-based counts (sed_eval style): time cut into cells of `cell_s` seconds; a cell is
    vocal when any of its frames is. Returns seg_tp / seg_fp / seg_fn / seg_tn."""
    c = dm.segment_metrics(reference, estimate, segment_s=cell_s)
    return {f"seg_{k}": int(c[k]) for k in ("tp", "fp", "tn", "fn")}


def boundaries(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Change points of a mask: (times in seconds, direction +1 onset / -1 offset)."""
    m = np.asarray(mask, dtype=np.int8)
    idx = np.flatnonzero(np.diff(m)) + 1
    return idx / FRAME_RATE, np.where(m[idx] == 1, 1, -1) if idx.size else np.zeros(0, dtype=int)


def boundary_counts(*, reference: np.ndarray, estimate: np.ndarray, window_s: float = BOUNDARY_WINDOW_S) -> dict[str, int]:
    """Boundary hits within +-window_s: bnd_hits, bnd_ref (reference boundaries), bnd_est."""
    b = dm.boundary_metrics(reference, estimate, tolerance=window_s)
    return {"bnd_hits": int(b["hits"]), "bnd_ref": int(b["n_reference"]), "bnd_est": int(b["n_estimate"])}


def derived(counts: dict) -> dict[str, float | None]:
    """Segment-based F1 and boundary F-measure (with its P / R) from summed counts."""
    tp, fp, fn = counts["seg_tp"], counts["seg_fp"], counts["seg_fn"]
    hits, n_ref, n_est = counts["bnd_hits"], counts["bnd_ref"], counts["bnd_est"]
    return {
        "segment_f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "boundary_precision": _ratio(hits, n_est),
        "boundary_recall": _ratio(hits, n_ref),
        "boundary_f": _ratio(2 * hits, n_ref + n_est),
    }


def effort(*, reference: np.ndarray, proposal: np.ndarray, window_s: float = EFFORT_WINDOW_S) -> dict:
    """How far a corrected mask is from the model's proposal.

    frames_changed: frames whose label differs; boundaries kept (same direction, within one frame),
    moved (same direction, within window_s), added (only in the reference) and removed (only in the
    proposal); mean_shift_s: mean |shift| of the moved ones.
    """
    ref = np.asarray(reference, dtype=bool)
    prop = np.asarray(proposal, dtype=bool)
    changed = int(np.count_nonzero(ref != prop))
    rt, rd = boundaries(ref)
    pt, pd = boundaries(prop)
    kept = moved = 0
    shifts: list[float] = []
    matched_r = np.zeros(rt.size, bool)
    matched_p = np.zeros(pt.size, bool)
    for direction in (1, -1):
        ri, pi = np.flatnonzero(rd == direction), np.flatnonzero(pd == direction)
        r, p = rt[ri], pt[pi]  # sorted: boundaries come in time order
        exact = dm.match_pairs(r, p, tolerance=1.0 / FRAME_RATE)
        free_r, free_p = np.ones(r.size, bool), np.ones(p.size, bool)
        free_r[exact[:, 0]] = free_p[exact[:, 1]] = False
        near = dm.match_pairs(r, p, tolerance=window_s, reference_free=free_r, estimate_free=free_p)
        kept += len(exact)
        moved += len(near)
        shifts += [abs(r[a] - p[b]) for a, b in near]
        for pairs in (exact, near):
            matched_r[ri[pairs[:, 0]]] = True
            matched_p[pi[pairs[:, 1]]] = True
    return {
        "frames": int(ref.size),
        "frames_changed": changed,
        "changed_fraction": _ratio(changed, ref.size),
        "boundaries_reference": int(rt.size),
        "boundaries_proposal": int(pt.size),
        "boundaries_kept": kept,
        "boundaries_moved": moved,
        "boundaries_added": int((~matched_r).sum()),
        "boundaries_removed": int((~matched_p).sum()),
        "mean_shift_s": round(float(np.mean(shifts)), 3) if shifts else None,
    }


def _thin(n: int) -> np.ndarray:
    if n <= CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, CURVE_POINTS)).astype(int))


def _r(x: np.ndarray) -> list:
    return [None if not np.isfinite(v) else round(float(v), 5) for v in np.asarray(x, dtype=np.float64)]
