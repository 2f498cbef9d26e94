"""Remixing in the log-mel domain: vocals laid over accompaniment at a chosen level, crops from
every recipe and front end, labels that follow the vocal."""

import math

import numpy as np
import pytest

from detector.config import FeatureConfig
from detector.data import FrameDataset
from detector.errors import DataError
from detector.features import logmel
from detector.remix import Pool, RemixConfig, RemixSet, shift_bands

SR = 16000
N_MELS = FeatureConfig().n_mels


def _dataset(name, feats, labels, mix="centre"):
    return FrameDataset([name], [np.asarray(feats, np.float16)], [np.asarray(labels, np.uint8)],
                        FeatureConfig(mix=mix))


def _pool(name, feats, labels, *, stereo=False, weight=1.0):
    ds = {"mono": _dataset(name, feats, labels, "mono")}
    if stereo:  # the centre view differs from the mono one by a constant, so a test can tell them apart
        ds["centre"] = _dataset(name, np.asarray(feats) - 5.0, labels)
    return Pool(name, ds, weight)


def test_mel_power_of_two_independent_sources_adds_as_logaddexp():
    rng = np.random.default_rng(0)
    a = (0.1 * rng.standard_normal(SR * 2)).astype(np.float32)
    t = np.arange(SR * 2) / SR
    v = (0.05 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    mixed = logmel(a + v)
    approx = np.logaddexp(logmel(a), logmel(v))
    # mel bands average many FFT bins, so the phase cross-terms nearly cancel
    assert np.median(np.abs(mixed - approx)) < 0.1


def test_a_remixed_vocal_sits_at_the_drawn_level_above_the_accompaniment():
    acc = _pool("acc", np.full((500, N_MELS), -4.0), np.zeros(500))
    voc = _pool("voc", np.full((500, N_MELS), -9.0), np.ones(500))
    cfg = RemixConfig(recipe={"remix": 1.0}, vocal_ratio_db=(3.0, 3.0), vocal_pitch_prob=0.0, gate_prob=0.0)
    x, y, m = RemixSet(vocals=[voc], accompaniments=[acc], config=cfg).sample_crops(
        np.random.default_rng(0), batch_size=2, crop_frames=300)
    assert y.all() and m.all()
    # mix = log(exp(-4) + exp(-4 + 3 dB)): the vocal is 3 dB over the accompaniment's power
    assert np.allclose(x, -4.0 + math.log(1 + 10 ** 0.3), atol=1e-4)


def test_gated_vocals_leave_non_vocal_frames_of_pure_accompaniment():
    acc = _pool("acc", np.full((2000, N_MELS), -4.0), np.zeros(2000))
    voc = _pool("voc", np.full((2000, N_MELS), -2.0), np.ones(2000))
    cfg = RemixConfig(recipe={"remix": 1.0}, gate_prob=1.0, vocal_pitch_prob=0.0)
    x, y, _ = RemixSet(vocals=[voc], accompaniments=[acc], config=cfg).sample_crops(
        np.random.default_rng(1), batch_size=16, crop_frames=400)
    off = y == 0
    assert off.any() and (~off).any()
    assert np.allclose(x[off], -4.0, atol=1e-3)  # where the label says non-vocal, only accompaniment
    assert (x[~off] > -4.0 + 1e-3).all()


def test_accompaniment_crops_are_all_non_vocal_and_front_ends_follow_mono_prob():
    acc = _pool("acc", np.zeros((1000, N_MELS)), np.zeros(1000), stereo=True)
    only_acc = {"accompaniment": 1.0}
    x, y, _ = RemixSet(accompaniments=[acc], config=RemixConfig(recipe=only_acc, mono_prob=0.0)).sample_crops(
        np.random.default_rng(0), batch_size=8, crop_frames=100)
    assert not y.any() and np.allclose(x, -5.0)  # the centre view
    x, _, _ = RemixSet(accompaniments=[acc], config=RemixConfig(recipe=only_acc, mono_prob=1.0)).sample_crops(
        np.random.default_rng(0), batch_size=8, crop_frames=100)
    assert np.allclose(x, 0.0)  # the mono view


def test_a_short_item_is_masked_past_its_end():
    mix = _pool("mix", np.zeros((50, N_MELS)), np.ones(50))
    x, y, m = RemixSet(mixtures=[mix], config=RemixConfig(recipe={"mixture": 1.0})).sample_crops(
        np.random.default_rng(0), batch_size=2, crop_frames=80)
    assert m[:, :50].all() and not m[:, 50:].any() and y[:, :50].all()


def test_band_shift_moves_a_peak_by_the_number_of_bands():
    x = np.zeros((3, N_MELS), np.float32)
    x[:, 20] = 1.0
    assert int(np.argmax(shift_bands(x, 3.0)[0])) == 23
    assert int(np.argmax(shift_bands(x, -2.0)[0])) == 18


def test_recipes_without_their_pools_are_dropped_and_no_usable_recipe_is_an_error():
    acc = _pool("acc", np.zeros((100, N_MELS)), np.zeros(100))
    s = RemixSet(accompaniments=[acc])  # default recipe: mixture and remix have no pools here
    assert s.recipe == {"accompaniment": 0.15}
    with pytest.raises(DataError, match="no recipe"):
        RemixSet(accompaniments=[acc], config=RemixConfig(recipe={"mixture": 1.0}))


def test_a_pool_whose_front_ends_hold_different_items_is_refused():
    a = _dataset("a", np.zeros((10, N_MELS)), np.zeros(10))
    b = _dataset("b", np.zeros((12, N_MELS)), np.zeros(12))
    with pytest.raises(DataError, match="same items"):
        Pool("p", {"centre": a, "mono": b})
