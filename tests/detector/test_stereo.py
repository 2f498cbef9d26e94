"""The centre channel: side-panned instruments go, the centred voice stays, streaming changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from audio_fixtures import voice, write_audio

from detector import audio, stereo
from detector.config import FeatureConfig
from detector.features import logmel, logmel_blocks
from detector.inference import file_features

SR = 16000


def _tone(f0: float, seconds: float, *, vibrato: float = 0.0) -> np.ndarray:
    return voice(seconds, sr=SR, f0=f0, amplitude=0.2, harmonics=4, vibrato=vibrato)


def _band_db(y: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    return 10 * np.log10(spec[(f >= lo) & (f < hi)].sum() + 1e-20)


def _voice_and_guitar(seconds: float = 4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A voice-like tone in the middle (220 Hz and harmonics up to 880) and a 'guitar' on the left
    only (1500 Hz and harmonics)."""
    voice, guitar = _tone(220, seconds, vibrato=0.01), _tone(1500, seconds)
    return np.stack([voice + guitar, voice], axis=1), voice, guitar


def test_a_hard_panned_instrument_is_removed_and_the_centred_voice_kept():
    mix, voice, guitar = _voice_and_guitar()
    out = stereo.centre(mix)
    averaged = mix.mean(axis=1)
    assert out.shape == (len(mix),) and out.dtype == np.float32
    # the guitar's band loses more than 20 dB against the channel average; the voice's band stays
    assert _band_db(out, 1400, 7000) < _band_db(averaged, 1400, 7000) - 20
    assert abs(_band_db(out, 150, 1000) - _band_db(voice, 150, 1000)) < 1.0


def test_identical_channels_and_mono_input_come_back_unchanged():
    y = _tone(330, 1.3)
    assert np.array_equal(stereo.centre(np.stack([y, y], axis=1)), y)
    assert np.array_equal(stereo.centre(y), y)
    nearly = np.stack([y, y * np.float32(1.0001)], axis=1)  # takes the STFT path
    assert np.abs(stereo.centre(nearly) - nearly.mean(axis=1)).max() < 1e-5


@pytest.mark.parametrize("n", [0, 1, 255, 256, 1000, 3 * stereo._CHUNK + 77])
def test_streaming_in_any_blocks_equals_one_pass_over_the_whole_signal(n):
    rng = np.random.default_rng(n)
    y = (0.1 * rng.standard_normal((n, 2))).astype(np.float32)
    y[:, 1] += 0.5 * y[:, 0]
    # reference: the whole signal as one segment, no chunking at all
    pad = np.concatenate([np.zeros((stereo._CONTEXT, 2)), y,
                          np.zeros((stereo._CONTEXT + (-n) % stereo.HOP, 2))]).astype(np.float32)
    whole = stereo._centre_segment(pad, n) if n else np.zeros(0, np.float32)
    cuts = np.sort(rng.integers(0, n + 1, size=7))
    blocks = np.split(y, cuts)
    streamed = np.concatenate(list(stereo.centre_blocks(blocks)) or [np.zeros(0, np.float32)])
    assert streamed.shape == (n,)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        stereo.centre(np.zeros((10, 3), np.float32))
    with pytest.raises(ValueError, match="mix must be"):
        FeatureConfig(mix="left")


def test_decoding_keeps_both_channels_on_request(tmp_path):
    mix, _, _ = _voice_and_guitar(1.0)
    write_audio(tmp_path / "s.wav", mix, SR)
    write_audio(tmp_path / "m.flac", mix[:, 1], 44100)
    both = audio.load(tmp_path / "s.wav", stereo=True)
    assert both.shape == (SR, 2)
    np.testing.assert_allclose(both, mix, atol=1e-4)
    np.testing.assert_allclose(audio.load(tmp_path / "s.wav"), mix.mean(axis=1), atol=1e-4)
    mono = audio.load(tmp_path / "m.flac", stereo=True)  # resampled, one channel in both columns
    assert mono.ndim == 2 and abs(len(mono) - int(SR * SR / 44100)) <= 1
    assert np.array_equal(mono[:, 0], mono[:, 1])


def test_the_feature_config_chooses_what_the_model_hears(tmp_path):
    mix, _, _ = _voice_and_guitar(2.0)
    write_audio(tmp_path / "s.wav", mix, SR, subtype="FLOAT")
    centre_cfg, mono_cfg = FeatureConfig(), FeatureConfig(mix="mono")
    assert centre_cfg.mix == "centre"  # the default, and what checkpoints without the field read as
    centred, _, _ = file_features(tmp_path / "s.wav", config=centre_cfg)
    averaged, _, _ = file_features(tmp_path / "s.wav", config=mono_cfg)
    np.testing.assert_allclose(averaged, logmel(mix.mean(axis=1), config=mono_cfg), atol=1e-3)
    np.testing.assert_allclose(centred, logmel(stereo.centre(mix), config=centre_cfg), atol=1e-3)
    np.testing.assert_allclose(centred, np.concatenate(list(logmel_blocks(np.array_split(mix, 5), config=centre_cfg))),
                               atol=1e-3)
    # the high mel bands (the guitar's) are far quieter in what the model hears with "centre"
    assert (averaged[:, -30:] - centred[:, -30:]).mean() > 2.0
