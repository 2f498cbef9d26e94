"""detector.features: log-mel frames on the 10 ms grid, streaming equal to batch, normalisation."""

import numpy as np
import pytest
from audio_fixtures import sine
from detector_support import burst
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.config import FeatureConfig
from detector.features import (
    LogMelStream,
    Normalization,
    fit_normalization,
    logmel,
    logmel_blocks,
    mel_filterbank,
)
from detector.labels import intervals_to_frames


@pytest.mark.parametrize("n", [0, 1, 159, 160, 161, 1000, 16000, 16001])
def test_logmel_has_exactly_ceil_n_over_hop_frames(n):
    feats = logmel(np.zeros(n, np.float32))
    assert feats.shape == (-(-n // 160), 80) and feats.dtype == np.float32


def test_logmel_follows_the_number_of_bands_in_the_config():
    assert logmel(sine(0.5), config=FeatureConfig(n_mels=64)).shape == (50, 64)


def test_logmel_refuses_more_than_two_channels():
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        logmel(np.zeros((100, 3)))


@pytest.mark.parametrize(("start", "end"), [(1.0, 2.0), (0.503, 1.257), (0.0, 0.3)])
def test_a_tone_burst_lands_on_the_frames_whose_centres_it_covers(start, end):
    y = burst(3.0, start=start, end=end)
    power = np.exp(logmel(y)).sum(axis=1)
    loud = power > 0.5 * power.max()
    expected = intervals_to_frames([(start, end)], n_frames=300)
    np.testing.assert_array_equal(loud, expected)


@pytest.mark.parametrize("config", [FeatureConfig(), FeatureConfig(n_mels=64, fmin=0.0),
                                    FeatureConfig(n_fft=512, win_length=400, fmin=300.0, fmax=5000.0)])
def test_the_mel_filterbank_equals_librosas(config):
    import librosa

    expected = librosa.filters.mel(sr=16000, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.fmin,
                                   fmax=config.fmax)
    np.testing.assert_allclose(mel_filterbank(config), expected, atol=1e-7)


def test_logmel_agrees_with_librosa_on_the_same_frames():
    import librosa

    y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    padded = np.pad(y, (432, 1024))  # frame i centred on sample 160 i + 80
    mel = librosa.feature.melspectrogram(y=padded, sr=16000, n_fft=1024, hop_length=160, win_length=800,
                                         center=False, n_mels=80, fmin=27.5, fmax=8000.0, power=2.0)
    np.testing.assert_allclose(logmel(y), np.log(mel.T[:100] + 1e-6), rtol=1e-4, atol=1e-4)


def test_the_loudest_band_of_a_tone_contains_its_frequency():
    import librosa

    feats = logmel(sine(1.0, freq=1000.0))
    centres = librosa.mel_frequencies(n_mels=82, fmin=27.5, fmax=8000.0)[1:-1]
    band = int(np.median(feats.argmax(axis=1)))
    assert centres[band - 1] <= 1000.0 <= centres[band + 1]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 5000), cuts=st.lists(st.integers(0, 5000), max_size=6))
def test_streaming_blocks_give_the_same_frames_as_one_call(n, cuts):
    y = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 0.1
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    stream = LogMelStream()
    parts = [stream.push(y[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)] + [stream.finish()]
    np.testing.assert_allclose(np.concatenate(parts), logmel(y), rtol=1e-5, atol=1e-5)


def test_logmel_blocks_splits_long_inputs_but_not_the_result():
    y = np.random.default_rng(0).standard_normal(16000 * 50).astype(np.float32) * 0.1
    parts = list(logmel_blocks([y[:123457], y[123457:]]))
    assert len(parts) > 2 and max(len(p) for p in parts) <= 2100
    np.testing.assert_array_equal(np.concatenate(parts), logmel(y))


def test_normalization_standardises_each_band():
    rng = np.random.default_rng(0)
    feats = [rng.normal(3.0, 2.0, (500, 80)).astype(np.float32) for _ in range(3)]
    norm = fit_normalization(feats)
    out = norm.apply(np.concatenate(feats))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)


def test_normalization_round_trips_through_a_dict_and_applies_in_place():
    norm = Normalization(np.arange(4.0), np.full(4, 2.0))
    again = Normalization.from_dict(norm.to_dict())
    x = np.ones((3, 4), np.float32)
    assert again.apply(x, out=x) is x
    np.testing.assert_allclose(x[0], (1 - np.arange(4.0)) / 2)


def test_normalization_never_divides_by_zero_for_constant_bands():
    norm = fit_normalization([np.ones((10, 3), np.float32)])
    assert np.isfinite(norm.apply(np.ones((2, 3), np.float32))).all()


def test_normalization_refuses_the_wrong_number_of_bands():
    with pytest.raises(ValueError, match="bands"):
        Normalization.identity(80).apply(np.zeros((2, 64), np.float32))


def test_fit_normalization_needs_frames():
    with pytest.raises(ValueError):
        fit_normalization([np.zeros((0, 80))])
