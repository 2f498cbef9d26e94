"""Real vocal stems: labels from the stem's loudness (joined like the shared references), the fixed
train/dev/test split, and the files `corpus stems` writes."""

import json

import numpy as np
import soundfile as sf
from audio_fixtures import sine, write_audio

from detector.corpus.stems import SPLIT_SIZES, prepare_stems, read_stems, stem_activity, stem_split
from detector.vad import read_alignment

SR = 16000


def _voice(spans, duration=4.0, sr=SR):
    return sine(duration, sr=sr, freq=220.0, amplitude=0.3, spans=spans)


def test_pauses_under_half_a_second_are_joined_longer_ones_are_not():
    spans = stem_activity(_voice([(0.5, 1.0), (1.3, 2.0), (3.0, 3.5)]))
    assert spans == [(0.5, 2.0), (3.0, 3.5)]


def test_frames_40_db_under_the_loudest_are_not_voiced():
    y = _voice([(0.5, 1.5)]) + 0.001 * _voice([(2.5, 3.5)])  # 50 dB quieter: reverb tail level
    assert stem_activity(y) == [(0.5, 1.5)]


def test_the_split_is_fixed_and_keeps_musdbs_own_test_tracks_in_test():
    names = [f"train__t{i:02d}" for i in range(40)] + ["test__a", "test__b"]
    split = stem_split(names)
    assert split == stem_split(list(reversed(names)))
    assert split["test__a"] == split["test__b"] == "test"
    assert sum(v == "test" for v in split.values()) == SPLIT_SIZES["test"]
    assert sum(v == "dev" for v in split.values()) == SPLIT_SIZES["dev"]


def test_prepare_stems_writes_mix_vocals_accompaniment_and_labels(tmp_path):
    src = tmp_path / "musdb"
    for i in range(3):
        d = src / f"train__song{i}"
        d.mkdir(parents=True)
        voc = np.stack([_voice([(1.0, 3.0)], sr=44100)] * 2, axis=1)
        acc = np.stack([0.05 * np.sin(2 * np.pi * 110 * np.arange(len(voc)) / 44100)] * 2, axis=1)
        write_audio(d / "vocals.flac", voc, 44100)
        write_audio(d / "audio.flac", voc + acc, 44100)
    summary = prepare_stems(src=src, out=tmp_path / "out")
    assert len(summary["tracks"]) == 3 and json.loads((tmp_path / "out" / "stems.json").read_text()) == summary
    assert {r["split"] for r in read_stems(tmp_path / "out")} <= {"train", "dev", "test"}
    d = tmp_path / "out" / "train__song0"
    mix, sr = sf.read(d / "mix.flac")
    voc, _ = sf.read(d / "vocals.flac")
    acc, _ = sf.read(d / "accompaniment.flac")
    assert sr == SR and mix.shape[1] == 2
    assert np.abs(mix - voc - acc).max() < 2e-4  # accompaniment = mix - vocals (PCM16 rounding)
    assert read_alignment(d / "labels.lab") == [(1.0, 3.0)]
