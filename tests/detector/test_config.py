"""detector.config: the 10 ms frame grid and the feature configuration."""

import pytest

from detector.config import FRAME_RATE, HOP_LENGTH, SAMPLE_RATE, FeatureConfig, n_frames


def test_the_grid_is_16k_hop_160_100_frames_per_second():
    assert (SAMPLE_RATE, HOP_LENGTH, FRAME_RATE) == (16000, 160, 100)


@pytest.mark.parametrize(("samples", "frames"), [(0, 0), (1, 1), (159, 1), (160, 1), (161, 2), (16000, 100)])
def test_a_signal_has_ceil_of_samples_over_hop_frames(samples, frames):
    assert n_frames(samples) == frames


def test_negative_sample_counts_are_refused():
    with pytest.raises(ValueError):
        n_frames(-1)


def test_feature_config_round_trips_through_a_dict():
    config = FeatureConfig(n_mels=64, fmin=50.0)
    assert FeatureConfig.from_dict(config.to_dict()) == config


def test_feature_config_from_dict_refuses_unknown_fields():
    with pytest.raises(ValueError, match="bogus"):
        FeatureConfig.from_dict({**FeatureConfig().to_dict(), "bogus": 1})


@pytest.mark.parametrize("changes", [{"sample_rate": 22050}, {"hop_length": 256}, {"win_length": 2048},
                                     {"fmax": 9000.0}, {"n_mels": 0}])
def test_feature_config_refuses_values_off_the_grid_or_impossible(changes):
    with pytest.raises(ValueError):
        FeatureConfig(**changes)
