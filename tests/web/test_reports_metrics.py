"""The frame metrics behind reports, checked against counts and definitions computed by hand."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "platform"))

from reports import metrics  # noqa: E402


def test_confusion_and_scores_match_hand_counts():
    ref = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    est = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0], bool)
    s = metrics.scores(metrics.confusion(reference=ref, estimate=est))
    assert (s["tp"], s["fp"], s["tn"], s["fn"]) == (3, 2, 4, 1)
    assert s["vocal_frames"] == 4 and s["nonvocal_frames"] == 6
    assert s["accuracy"] == pytest.approx(0.7)
    assert s["precision"] == pytest.approx(3 / 5)
    assert s["recall"] == pytest.approx(3 / 4)
    assert s["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert s["fpr"] == pytest.approx(2 / 6) and s["specificity"] == pytest.approx(4 / 6)
    assert s["fnr"] == pytest.approx(1 / 4)


def test_undefined_ratios_are_none_not_zero():
    ref = np.zeros(5, bool)
    s = metrics.scores(metrics.confusion(reference=ref, estimate=ref))
    assert s["precision"] is None and s["recall"] is None and s["f1"] is None and s["fnr"] is None
    assert s["accuracy"] == 1.0 and s["specificity"] == 1.0
    assert metrics.ranking(reference=ref, score=np.zeros(5))["roc_auc"] is None


def test_roc_auc_equals_the_pairwise_probability_with_ties():
    rng = np.random.default_rng(3)
    ref = rng.random(400) < 0.4
    score = np.round(rng.random(400) * 0.6 + ref * 0.3, 1)  # many ties
    pos, neg = score[ref], score[~ref]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (pos.size * neg.size)
    got = metrics.ranking(reference=ref, score=score)
    assert got["roc_auc"] == pytest.approx(pairwise)
    # average precision by its definition: mean precision at each positive's rank (ties grouped)
    thresholds = np.unique(score)[::-1]
    ap, prev_recall = 0.0, 0.0
    for t in thresholds:
        called = score >= t
        recall = (called & ref).sum() / ref.sum()
        ap += (recall - prev_recall) * (called & ref).sum() / called.sum()
        prev_recall = recall
    assert got["pr_auc"] == pytest.approx(ap)


def test_threshold_sweep_counts_frames_at_or_above_each_threshold():
    ref = np.array([1, 1, 0, 0], bool)
    score = np.array([0.9, 0.4, 0.6, 0.1])
    sweep = metrics.threshold_sweep(reference=ref, score=score, thresholds=np.array([0.0, 0.5, 0.95]))
    assert sweep["f1"] == pytest.approx([2 * 2 / (2 * 2 + 2), 0.5, 0.0], abs=1e-5)
    assert sweep["accuracy"] == [0.5, 0.5, 0.5]


def test_segment_grid_and_boundary_matching():
    ref = np.zeros(1000, bool)
    ref[200:600] = True
    est = np.zeros(1000, bool)
    est[220:700] = True
    assert metrics.grid_counts(reference=ref, estimate=est) == {"seg_tp": 4, "seg_fp": 1, "seg_tn": 5, "seg_fn": 0}
    # boundaries: ref 2.0, 6.0; est 2.2, 7.0 -> one hit within 0.5 s
    assert metrics.boundary_counts(reference=ref, estimate=est) == {"bnd_hits": 1, "bnd_ref": 2, "bnd_est": 2}


def test_boundary_matching_is_one_to_one():
    ref = np.zeros(300, bool)
    ref[100:] = True  # one boundary at 1.0 s
    est = np.zeros(300, bool)
    est[90:95] = True
    est[110:] = True  # boundaries at 0.9, 0.95, 1.1
    assert metrics.boundary_counts(reference=ref, estimate=est)["bnd_hits"] == 1


def test_effort_counts_changed_frames_and_moved_added_removed_boundaries():
    proposal = np.zeros(1000, bool)
    proposal[150:400] = True  # onset 1.5 (ref 1.0: moved 0.5 s), offset 4.0 (kept)
    proposal[800:850] = True  # a spurious vocal run the annotator removed: two boundaries removed
    ref = np.zeros(1000, bool)
    ref[100:400] = True
    ref[600:700] = True  # a vocal run the model missed: two boundaries added
    e = metrics.effort(reference=ref, proposal=proposal)
    assert e["frames_changed"] == 50 + 100 + 50
    assert (e["boundaries_kept"], e["boundaries_moved"], e["boundaries_added"], e["boundaries_removed"]) == (1, 1, 2, 2)
    assert e["mean_shift_s"] == 0.5
