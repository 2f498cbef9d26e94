"""The order of correction: unsure songs, songs two models disagree on, and songs unlike anything
verified come first; inside a song, unsure regions come first."""

import numpy as np

from detector.priority import region_priorities, signature, song_priorities


def _feats(level: float, seed: int = 0) -> np.ndarray:
    return level + 0.1 * np.random.default_rng(seed).standard_normal((300, 80)).astype(np.float32)


def test_an_unsure_song_comes_before_a_confident_one():
    probs = {"sure": np.full(300, 0.98, np.float32), "unsure": np.full(300, 0.55, np.float32)}
    sigs = {"sure": signature(_feats(0)), "unsure": signature(_feats(0, 1))}
    pri = song_priorities(probabilities=probs, signatures=sigs)
    assert pri["unsure"]["priority"] > pri["sure"]["priority"]
    assert pri["sure"]["uncertainty"] < 0.05 < 0.85 < pri["unsure"]["uncertainty"]


def test_disagreeing_with_the_previous_model_raises_a_song():
    probs = {"a": np.full(300, 0.9, np.float32), "b": np.full(300, 0.9, np.float32)}
    previous = {"a": np.full(300, 0.9, np.float32), "b": np.full(300, 0.2, np.float32)}
    sigs = {"a": signature(_feats(0)), "b": signature(_feats(0, 1))}
    pri = song_priorities(probabilities=probs, signatures=sigs, previous=previous)
    assert pri["b"]["disagreement"] == 0.7 and pri["a"]["disagreement"] == 0.0
    assert pri["b"]["priority"] > pri["a"]["priority"]


def test_a_song_unlike_every_verified_one_is_novel():
    sigs = {"verified": signature(_feats(0)), "twin": signature(_feats(0, 1)), "other": signature(_feats(3))}
    probs = {"twin": np.full(300, 0.9, np.float32), "other": np.full(300, 0.9, np.float32)}
    pri = song_priorities(probabilities=probs, signatures=sigs, verified=["verified"])
    assert pri["twin"]["novelty"] < 0.2 and pri["other"]["novelty"] == 1.0
    assert pri["other"]["priority"] > pri["twin"]["priority"]
    # nothing verified yet: every song is new
    assert song_priorities(probabilities=probs, signatures=sigs)["twin"]["novelty"] == 1.0


def test_regions_are_ranked_by_their_uncertainty():
    p = np.r_[np.full(100, 0.95), np.full(100, 0.5), np.full(100, 0.1)].astype(np.float32)
    scores = region_priorities(p, [(0, 100), (100, 200), (200, 300)])
    assert scores.index(max(scores)) == 1 and scores[0] < 0.15
