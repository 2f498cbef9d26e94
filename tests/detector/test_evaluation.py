"""One way to score: detection's own windows, the references' gap convention among the choices."""

import numpy as np
from detector_support import TINY

from detector.config import FeatureConfig
from detector.evaluation import model_backend, predict, score, tune_postprocess
from detector.features import Normalization
from detector.inference import predict_features
from detector.model import build_model


def test_predict_gives_what_detection_gives():
    model = build_model(TINY, seed=0)
    norm = Normalization.identity(TINY.n_mels)
    backend = model_backend(model, normalization=norm, feature_config=FeatureConfig())
    feats = [np.random.default_rng(i).standard_normal((n, TINY.n_mels)).astype(np.float32) for i, n in
             enumerate([50, 4100])]
    got = predict(backend, feats)
    model.eval()
    assert all(np.allclose(g, predict_features(backend, f), atol=1e-6) for g, f in zip(got, feats, strict=True))
    model.train()  # predict runs in eval mode and gives the model back as it found it
    predict(backend, feats[:1])
    assert model.training


def test_tuning_fills_short_gaps_when_the_references_join_them():
    ref = np.zeros(1000, bool)
    ref[100:900] = True  # one joined span
    p = np.where(ref, 0.9, 0.1).astype(np.float32)
    p[300:330] = 0.1  # a 0.3 s breath the model hears as a pause
    p[600:630] = 0.1
    post, s = tune_postprocess([p], [ref], medians_s=(0.0,))
    assert post.min_gap_s == 0.5 and s["accuracy"] == 1.0


def test_score_reports_pooled_and_per_item_metrics_with_auc():
    ref = [np.r_[np.zeros(50, bool), np.ones(50, bool)], np.ones(80, bool)]
    probs = [np.r_[np.full(50, 0.2), np.full(50, 0.8)].astype(np.float32), np.full(80, 0.7, np.float32)]
    from detector.postprocess import PostprocessConfig

    r = score(probs, ref, postprocess=PostprocessConfig(median_s=0.0, threshold=0.5), names=["a", "b"])
    assert r["pooled"]["accuracy"] == 1.0 and r["pooled"]["roc_auc"] == 1.0
    assert set(r["songs"]) == {"a", "b"} and r["songs"]["b"]["recall"] == 1.0
