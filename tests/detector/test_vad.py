"""The energy VAD finds the endpoints of clean speech; alignment files are read as given."""

import numpy as np
import pytest

from detector.vad import VADConfig, endpoints, energy_vad, read_alignment, write_alignment

SR = 16000


def bursts(spans, *, duration, seed=0, level=0.3):
    """Voiced-like bursts (harmonic tone + noise) exactly inside ``spans`` (seconds), silence elsewhere."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(int(duration * SR)) * 1e-4  # -80 dB room noise
    for a, b in spans:
        i, j = int(a * SR), int(b * SR)
        t = np.arange(j - i) / SR
        y[i:j] += level * (np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)) + 0.02 * rng.standard_normal(j - i)
    return y.astype(np.float32)


@pytest.mark.parametrize("spans", [[(0.5, 2.0)], [(0.3, 1.1), (2.0, 3.4)], [(0.0, 1.0)], [(1.25, 3.999)]])
def test_energy_vad_finds_known_endpoints_within_30ms(spans):
    y = bursts(spans, duration=4.0)
    found = energy_vad(y, sr=SR, config=VADConfig(pad_s=0.0))
    assert len(found) == len(spans)
    for (a, b), (c, d) in zip(spans, found, strict=True):
        assert abs(a - c) <= 0.03 and abs(b - d) <= 0.03


def test_short_pauses_are_bridged_and_clicks_dropped():
    y = bursts([(0.5, 1.0), (1.1, 1.6)], duration=3.0)
    y[int(2.5 * SR) : int(2.5 * SR) + 160] = 0.5  # a 10 ms click
    found = energy_vad(y, sr=SR, config=VADConfig(pad_s=0.0, min_silence_s=0.25, min_speech_s=0.06))
    assert len(found) == 1
    assert found[0][0] == pytest.approx(0.5, abs=0.03) and found[0][1] == pytest.approx(1.6, abs=0.03)


def test_quiet_speech_is_found_relative_to_its_own_level():
    y = bursts([(1.0, 2.0)], duration=3.0, level=0.003)
    assert endpoints(energy_vad(y, sr=SR)) == pytest.approx((1.0, 2.0), abs=0.05)


def test_silence_and_empty_input_have_no_speech():
    assert energy_vad(np.zeros(SR, np.float32), sr=SR) == []
    assert energy_vad(np.zeros(0, np.float32), sr=SR) == []
    assert endpoints([]) is None


def test_stereo_input_is_refused_with_its_shape():
    with pytest.raises(ValueError, match=r"\(2, 100\)"):
        energy_vad(np.zeros((2, 100)), sr=SR)


def test_alignment_files_give_voiced_spans_and_skip_silence_labels(tmp_path):
    p = tmp_path / "utt.lab"
    p.write_text("0.0 0.4 sil\n0.4\t1.2\thello\n1.2 1.5 sp\n1.5 2.0 world\n1.9 2.5\n# comment\n2.5 3.0 nosing\n")
    assert read_alignment(p) == [(0.4, 1.2), (1.5, 2.5)]


def test_alignment_round_trip_and_bad_lines(tmp_path):
    p = tmp_path / "a.lab"
    write_alignment(p, [(0.1234, 1.5), (2.0, 3.25)])
    assert p.read_text() == "0.123\t1.500\tsing\n2.000\t3.250\tsing\n"
    assert read_alignment(p) == [(0.123, 1.5), (2.0, 3.25)]
    p.write_text("0.5 abc sing\n")
    with pytest.raises(ValueError, match="a.lab:1"):
        read_alignment(p)
    p.write_text("2.0 1.0 sing\n")
    with pytest.raises(ValueError, match="before start"):
        read_alignment(p)
