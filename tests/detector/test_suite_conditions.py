"""The robustness suite's pitch and tempo conditions keep a centred voice centred."""

import numpy as np
import pytest

from detector.suite import _condition

SR = 16000


@pytest.mark.parametrize("cond", ["excerpts-pitch+2", "excerpts-pitch-2", "excerpts-tempo-0.85", "excerpts-tempo-1.15"])
def test_a_centred_voice_is_shifted_the_same_whatever_the_sides_hold(cond):
    rng = np.random.default_rng(0)
    t = np.arange(2 * SR) / SR
    voice = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.01 * np.sin(2 * np.pi * 5 * t)))  # sung A3 with vibrato
    side = 0.2 * rng.standard_normal(len(t))  # a wide instrument: left and right disagree
    alone = np.stack([voice, voice], axis=1).astype(np.float32)
    with_sides = np.stack([voice + side, voice - side], axis=1).astype(np.float32)

    spans = [(0.5, 1.5)]
    shifted_alone, spans_alone = _condition(alone, spans, cond)
    shifted_mix, spans_mix = _condition(with_sides, spans, cond)
    # what both channels share (the voice) comes out exactly as it would without the wide instrument
    error = shifted_mix.mean(axis=1) - shifted_alone.mean(axis=1)
    assert np.sqrt(np.mean(error**2)) < 1e-3 * np.sqrt(np.mean(shifted_alone**2))  # -60 dB: rounding only
    np.testing.assert_allclose(shifted_alone[:, 0], shifted_alone[:, 1])
    assert spans_mix == spans_alone
    if "tempo" in cond:  # labels follow the new time axis
        rate = float(cond.rsplit("-", 1)[1])
        assert spans_mix == [(0.5 / rate, 1.5 / rate)]
        assert len(shifted_mix) == pytest.approx(len(t) / rate, rel=0.01)
