"""detector.postprocess: probabilities -> always a gap-free, overlap-free partition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.labels import NON_VOCAL, VOCAL, Segment, validate_partition
from detector.postprocess import PostprocessConfig, binarize, segments_from_probabilities, smooth

configs = st.builds(
    PostprocessConfig,
    median_s=st.sampled_from([0.0, 0.05, 0.3, 0.8]),
    threshold=st.floats(0.0, 1.0),
    hysteresis=st.one_of(st.none(), st.tuples(st.floats(0, 0.5), st.floats(0.5, 1.0))),
    min_vocal_s=st.sampled_from([0.0, 0.05, 0.5]),
    min_gap_s=st.sampled_from([0.0, 0.05, 0.5]),
)


@settings(max_examples=300, deadline=None)
@given(p=st.lists(st.floats(0.0, 1.0), max_size=400), config=configs, extra=st.floats(0.0, 0.02))
def test_post_processing_always_returns_a_full_partition(p, config, extra):
    p = np.array(p, dtype=np.float32)
    duration = max(len(p) / 100 + extra - 0.01, 0.001)
    segments = segments_from_probabilities(p, config=config, duration=duration)
    validate_partition(segments, duration=duration, tolerance=1e-9)
    assert segments[-1].end == duration
    assert all(a.end == b.start and a.label != b.label for a, b in zip(segments, segments[1:], strict=False))


def test_median_filter_removes_blips_shorter_than_half_its_length():
    p = np.zeros(300, np.float32)
    p[100:120] = 1.0  # 0.2 s blip
    p[200:290] = 1.0  # 0.9 s vocal
    mask = binarize(p, config=PostprocessConfig(median_s=0.8))
    assert not mask[100:120].any() and mask[200:290].all()


def test_smooth_keeps_length_and_dtype():
    out = smooth(np.random.default_rng(0).random(77), config=PostprocessConfig(median_s=0.21))
    assert out.shape == (77,) and out.dtype == np.float32


def test_median_length_is_odd_in_frames():
    assert PostprocessConfig(median_s=0.8).median_frames == 81
    assert PostprocessConfig(median_s=0.0).median_frames == 1


def test_hysteresis_keeps_runs_above_low_that_reach_high():
    p = np.array([0.1, 0.5, 0.9, 0.5, 0.1, 0.5, 0.55, 0.1], np.float32)
    mask = binarize(p, config=PostprocessConfig(median_s=0, hysteresis=(0.4, 0.8)))
    assert mask.tolist() == [False, True, True, True, False, False, False, False]


def test_short_gaps_are_filled_before_short_vocals_are_dropped():
    p = np.zeros(200, np.float32)
    p[10:30] = p[35:50] = 1.0  # two runs, 0.05 s apart
    p[100:110] = 1.0  # lone 0.1 s run
    config = PostprocessConfig(median_s=0, min_gap_s=0.1, min_vocal_s=0.3)
    segments = segments_from_probabilities(p, config=config, duration=2.0)
    assert segments == [Segment(0, 0.1, NON_VOCAL), Segment(0.1, 0.5, VOCAL), Segment(0.5, 2.0, NON_VOCAL)]


def test_leading_and_trailing_silence_is_not_a_gap_to_fill():
    p = np.r_[np.zeros(3), np.ones(10), np.zeros(3)].astype(np.float32)
    mask = binarize(p, config=PostprocessConfig(median_s=0, min_gap_s=1.0))
    assert mask.tolist() == p.astype(bool).tolist()


def test_config_round_trips_through_a_dict():
    config = PostprocessConfig(median_s=0.5, hysteresis=(0.3, 0.7), min_vocal_s=0.2, min_gap_s=0.1)
    assert PostprocessConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("changes", [{"threshold": 1.5}, {"hysteresis": (0.8, 0.2)}, {"median_s": -1}])
def test_impossible_configs_are_refused(changes):
    with pytest.raises(ValueError):
        PostprocessConfig(**changes)
