"""detector.metrics agree with scikit-learn and mir_eval on random cases."""

import warnings

import mir_eval
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from detector.metrics import (
    boundaries,
    boundary_metrics,
    evaluate,
    frame_metrics,
    match_events,
    pr_auc,
    pr_curve,
    roc_auc,
    roc_curve,
    segment_metrics,
)


@st.composite
def pairs(draw, min_size=1, max_size=500):
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    ref = rng.random(n) < draw(st.floats(0, 1))
    est = rng.random(n) < draw(st.floats(0, 1))
    return ref, est


@settings(max_examples=200, deadline=None)
@given(pair=pairs())
def test_frame_metrics_agree_with_scikit_learn(pair):
    ref, est = pair
    m = frame_metrics(ref, est)
    tn, fp, fn, tp = sk.confusion_matrix(ref, est, labels=[False, True]).ravel()
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (tp, fp, tn, fn)
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(ref, est))
    assert m["precision"] == pytest.approx(sk.precision_score(ref, est, zero_division=0))
    assert m["recall"] == pytest.approx(sk.recall_score(ref, est, zero_division=0))
    assert m["f1"] == pytest.approx(sk.f1_score(ref, est, zero_division=0))
    assert m["specificity"] == pytest.approx(sk.recall_score(~ref, ~est, zero_division=0))
    assert m["fpr"] == pytest.approx(1 - m["specificity"] if (tn + fp) else 0.0)
    assert m["fnr"] == pytest.approx(1 - m["recall"] if (tp + fn) else 0.0)
    assert m["n_vocal"] == ref.sum() and m["n_non_vocal"] == (~ref).sum() and m["n_frames"] == ref.size


@st.composite
def scored(draw):
    n = draw(st.integers(2, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ref = rng.random(n) < 0.5
    ref[0], ref[1] = True, False  # both classes present
    decimals = draw(st.sampled_from([1, 2, 6]))  # few decimals = many ties
    p = np.round(np.clip(ref * draw(st.floats(0, 0.5)) + rng.random(n), 0, 1), decimals)
    return ref, p


@settings(max_examples=150, deadline=None)
@given(case=scored())
def test_roc_auc_and_pr_auc_agree_with_scikit_learn(case):
    ref, p = case
    assert roc_auc(ref, p) == pytest.approx(sk.roc_auc_score(ref, p))
    assert pr_auc(ref, p) == pytest.approx(sk.average_precision_score(ref, p))


@settings(max_examples=50, deadline=None)
@given(case=scored())
def test_roc_and_pr_curves_agree_with_scikit_learn(case):
    ref, p = case
    fpr, tpr, _ = roc_curve(ref, p)
    sk_fpr, sk_tpr, _ = sk.roc_curve(ref, p, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    precision, recall, thresholds = pr_curve(ref, p)
    sk_p, sk_r, sk_t = sk.precision_recall_curve(ref, p, drop_intermediate=False)
    order = np.argsort(sk_t)[::-1]
    np.testing.assert_allclose(precision, sk_p[:-1][order])
    np.testing.assert_allclose(recall, sk_r[:-1][order])


def test_aucs_of_a_single_class_are_zero():
    assert roc_auc(np.ones(5, bool), np.linspace(0, 1, 5)) == 0.0
    assert pr_auc(np.zeros(5, bool), np.linspace(0, 1, 5)) == 0.0


@settings(max_examples=200, deadline=None)
@given(ref=st.lists(st.floats(0, 60), max_size=30, unique=True), est=st.lists(st.floats(0, 60), max_size=30, unique=True),
       window=st.sampled_from([0.05, 0.2, 0.5, 1.0]))
def test_boundary_matching_agrees_with_mir_eval(ref, est, window):
    ref, est = np.sort(ref), np.sort(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = len(mir_eval.util.match_events(ref, est, window))
    assert match_events(ref, est, tolerance=window) == expected


@settings(max_examples=100, deadline=None)
@given(pair=pairs(min_size=2, max_size=3000), window=st.sampled_from([0.105, 0.505]))
def test_boundary_f_measure_agrees_with_mir_eval_onset_f_measure(pair, window):
    ref, est = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, precision, recall = mir_eval.onset.f_measure(boundaries(ref), boundaries(est), window=window)
    m = boundary_metrics(ref, est, tolerance=window)
    assert (m["f"], m["precision"], m["recall"]) == pytest.approx((f, precision, recall))


def test_a_boundary_exactly_one_tolerance_away_is_a_hit():
    ref, est = np.zeros(300, bool), np.zeros(300, bool)
    ref[70:] = True  # boundary 0.70 s
    est[80:] = True  # boundary 0.80 s: 0.1 s away (0.8 - 0.7 > 0.1 in floating point)
    assert boundary_metrics(ref, est, tolerance=0.1)["f"] == 1.0


def test_boundaries_are_the_frame_starts_where_the_state_changes():
    assert boundaries(np.array([0, 0, 1, 1, 0], bool)).tolist() == [0.02, 0.04]


@settings(max_examples=100, deadline=None)
@given(pair=pairs(max_size=1000))
def test_segment_f1_scores_one_second_cells_that_hold_any_vocal_frame(pair):
    ref, est = pair
    cells = range(0, ref.size, 100)
    ref_cells = [ref[i : i + 100].any() for i in cells]
    est_cells = [est[i : i + 100].any() for i in cells]
    m = segment_metrics(ref, est)
    assert m["f1"] == pytest.approx(sk.f1_score(ref_cells, est_cells, zero_division=0))
    assert m["tp"] + m["fp"] + m["fn"] + m["tn"] == len(ref_cells)


def test_evaluate_pools_counts_over_songs_and_reports_each_song():
    rng = np.random.default_rng(0)
    refs = {name: rng.random(n) < 0.6 for name, n in (("a", 1000), ("b", 250))}
    ests = {name: rng.random(len(r)) < 0.5 for name, r in refs.items()}
    probs = {name: rng.random(len(r)) for name, r in refs.items()}
    result = evaluate(refs, {**ests, "extra": np.ones(3, bool)}, probabilities=probs)
    assert set(result["songs"]) == {"a", "b"} and result["pooled"]["n_songs"] == 2
    all_ref = np.concatenate(list(refs.values()))
    all_est = np.concatenate(list(ests.values()))
    pooled = result["pooled"]
    assert pooled["f1"] == pytest.approx(sk.f1_score(all_ref, all_est))
    assert pooled["tp"] == sum(result["songs"][n]["tp"] for n in refs)
    assert pooled["roc_auc"] == pytest.approx(sk.roc_auc_score(all_ref, np.concatenate(list(probs.values()))))
    assert result["songs"]["b"]["segment"]["f1"] == segment_metrics(refs["b"], ests["b"])["f1"]
    assert pooled["boundary"]["hits"] == sum(result["songs"][n]["boundary"]["hits"] for n in refs)


def test_masks_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="frames"):
        frame_metrics(np.zeros(3, bool), np.zeros(4, bool))


@settings(max_examples=100, deadline=None)
@given(ref=st.lists(st.floats(0, 60), max_size=30, unique=True), est=st.lists(st.floats(0, 60), max_size=30, unique=True),
       window=st.sampled_from([0.05, 0.2, 0.5, 1.0]))
def test_boundary_matching_gives_its_pairs_one_to_one_within_the_tolerance(ref, est, window):
    from detector.metrics import match_pairs

    ref, est = np.sort(ref), np.sort(est)
    pairs = match_pairs(ref, est, tolerance=window)
    assert pairs.shape == (match_events(ref, est, tolerance=window), 2)
    assert len(set(pairs[:, 0])) == len(pairs) == len(set(pairs[:, 1]))
    assert all(abs(ref[i] - est[j]) <= window + 1e-9 for i, j in pairs)
    free_r, free_e = np.ones(ref.size, bool), np.ones(est.size, bool)
    free_r[pairs[:, 0]] = free_e[pairs[:, 1]] = False
    wider = match_pairs(ref, est, tolerance=2 * window, reference_free=free_r, estimate_free=free_e)
    assert not set(wider[:, 0]) & set(pairs[:, 0]) and not set(wider[:, 1]) & set(pairs[:, 1])
