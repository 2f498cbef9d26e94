"""The source corpus: speech over music with labels from the endpoints, reproducible and streamed."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import write_audio
from hypothesis import given, settings
from hypothesis import strategies as st

from detector import corpus
from detector.corpus import (
    FORBIDDEN_PROGRAMS,
    MixConfig,
    build_source_corpus,
    music,
    read_manifest,
    speech,
)
from detector.errors import CorpusError
from detector.vad import read_alignment

SR = 16000


def _voice(duration, spans, seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(int(duration * SR)) * 1e-4
    for a, b in spans:
        i, j = int(a * SR), int(b * SR)
        t = np.arange(j - i) / SR
        y[i:j] += 0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))
    return y.astype(np.float32)


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    root = tmp_path_factory.mktemp("material")
    speech, music = root / "speech", root / "music"
    speech.mkdir()
    music.mkdir()
    for k in range(6):
        spans = [(0.5, 1.5 + 0.2 * k)] if k % 2 else [(0.4, 1.0), (1.4, 2.2)]
        write_audio(speech / f"utt{k}.wav", _voice(2.8, spans, k), SR, subtype="PCM_16")
        if k < 2:  # these come with an alignment file, used instead of the VAD
            (speech / f"utt{k}.lab").write_text("".join(f"{a}\t{b}\tspeech\n" for a, b in spans))
    (speech / "LICENSE.txt").write_text("License: CC0-1.0\n")
    t = np.arange(6 * SR) / SR
    for k in range(3):
        chord = sum(np.sin(2 * np.pi * f * (1 + 0.1 * k) * t) for f in (110, 220, 277, 330)) * 0.1
        write_audio(music / f"track{k}.wav", chord.astype(np.float32), SR, subtype="PCM_16")
    return speech, music


def _build(material, out, **kw):
    speech, music = material
    kw.setdefault("clips", 8)
    kw.setdefault("seed", 1)
    return build_source_corpus(speech=[speech], music=[music], out=out, progress=False, **kw)


def test_corpus_layout_labels_and_manifest(material, tmp_path):
    out = tmp_path / "c"
    summary = _build(material, out, config=MixConfig(val_percent=25.0, music_only_share=0.2))
    recs = read_manifest(out)
    assert [r["index"] for r in recs] == list(range(8))
    assert summary["totals"]["clips"] == 8 and summary["totals"]["val_clips"] == 2
    assert json.loads((out / "corpus.json").read_text())["sources"][0]["licence"] == "CC0-1.0"
    for r in recs:
        clip = out / r["clip"]
        y, sr = sf.read(clip / "audio.wav")
        assert sr == SR and y.ndim == 1 and len(y) == round(r["duration_s"] * SR)
        assert np.max(np.abs(y)) <= 10 ** (-1 / 20) + 1e-4
        spans = read_alignment(clip / "labels.lab")
        assert all(0 <= a < b <= r["duration_s"] + 1e-6 for a, b in spans)
        assert sum(b - a for a, b in spans) == pytest.approx(r["vocal_s"], abs=0.01)
        if not r["speech"]:
            assert spans == [] and r["smr_db"] is None
        else:
            assert -6 <= r["smr_db"] <= 6
            for u in r["speech"]:
                assert u["file"].startswith("utt")


def test_labels_follow_the_speech_energy(material, tmp_path):
    """Without augmentation the vocal frames are where the added voice is loud."""
    cfg = MixConfig(pitch_shift_prob=0, vibrato_prob=0, reverb_prob=0, music_only_share=0, smr_db=(20, 20),
                    second_music_prob=0, val_percent=0)
    out = tmp_path / "c"
    _build(material, out, config=cfg, clips=4)
    for r in read_manifest(out):
        clip = out / r["clip"]
        y, _ = sf.read(clip / "audio.wav")
        spans = read_alignment(clip / "labels.lab")
        inside = np.zeros(len(y), bool)
        for a, b in spans:
            inside[int(a * SR) : int(b * SR)] = True
        # speech is 20 dB above the music: inside the labels the signal is much louder
        assert np.sqrt(np.mean(y[inside] ** 2)) > 3 * np.sqrt(np.mean(y[~inside] ** 2))


def test_same_seed_gives_byte_identical_output_for_any_worker_count(material, tmp_path):
    _build(material, tmp_path / "a")
    _build(material, tmp_path / "b", workers=2)
    _build(material, tmp_path / "c", seed=2)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a/manifest.jsonl").read_bytes() != (tmp_path / "c/manifest.jsonl").read_bytes()


def test_hours_sets_the_total_duration_and_progress_reaches_the_end(material, tmp_path):
    seen = []
    s = _build(material, tmp_path / "c", clips=None, hours=0.02, callback=lambda d, t: seen.append((d, t)))
    assert s["totals"]["hours"] == pytest.approx(0.02, rel=0.35)
    assert seen[-1][0] == seen[-1][1] == s["totals"]["clips"]


def test_weights_choose_folders(material, tmp_path):
    speech, music = material
    other = tmp_path / "other"
    shutil.copytree(speech, other)
    build_source_corpus(speech=[speech, other], music=[music], out=tmp_path / "c", clips=6, seed=0,
                        speech_weights=[0, 1], progress=False, config=MixConfig(music_only_share=0))
    sources = {u["source"] for r in read_manifest(tmp_path / "c") for u in r["speech"]}
    assert sources == {str(other.resolve())}


@pytest.mark.parametrize("kw, message", [
    ({"clips": 0}, "clips must be positive"),
    ({"clips": 2, "config": MixConfig(smr_db=(6, -6))}, "smr_db range"),
    ({"clips": 2, "config": MixConfig(music_only_share=1.5)}, "music_only_share"),
    ({"clips": 2, "speech_weights": [1, 2]}, "speech weights"),
])
def test_bad_settings_are_refused_with_the_value(material, tmp_path, kw, message):
    with pytest.raises(CorpusError, match=message):
        _build(material, tmp_path / "c", **kw)


def test_missing_or_empty_folders_and_non_empty_output_are_refused(material, tmp_path):
    speech, music = material
    with pytest.raises(CorpusError, match="does not exist"):
        build_source_corpus(speech=[tmp_path / "nope"], music=[music], out=tmp_path / "c", clips=1, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no audio files"):
        build_source_corpus(speech=[speech], music=[tmp_path / "empty"], out=tmp_path / "c", clips=1, progress=False)
    _build(material, tmp_path / "d", clips=1)
    with pytest.raises(CorpusError, match="not empty"):
        _build(material, tmp_path / "d", clips=1)
    _build(material, tmp_path / "d", clips=1, overwrite=True)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_arrangements_never_use_voice_or_choir_programs(seed, lead):
    score = {"parts": [[(float(i), 1.0, 60 + (i % 7) + 5 * p) for i in range(16)] for p in range(4)],
             "bar_ql": 4.0, "length_ql": 16.0}
    lead_rng = np.random.default_rng(seed + 1) if lead else None
    midi, lead_midi, info = music._arrange(score, np.random.default_rng(seed), 10.0, lead_rng)
    assert not FORBIDDEN_PROGRAMS & set(info["programs"])
    for m in [midi] + ([lead_midi] if lead else []):
        for track in m.tracks:
            for _, msg in track:
                if msg[0] & 0xF0 == 0xC0:
                    assert msg[1] not in FORBIDDEN_PROGRAMS
    if lead:  # the highest part, taken out of the backing, sits in a singer's range
        assert len(midi.tracks) == 3 + info["drums"] and info["lead_program"] not in FORBIDDEN_PROGRAMS
        pitches = [msg[1] for _, msg in lead_midi.tracks[0] if msg[0] & 0xF0 == 0x90]
        assert 49 <= np.mean(pitches) <= 80
    else:
        assert len(midi.tracks) == 4 + info["drums"] and lead_midi is None


def test_midi_writer_refuses_voice_programs_and_writes_a_valid_header(tmp_path):
    m = music._Midi(120)
    with pytest.raises(CorpusError, match="52"):
        m.track(0, 52, [(0.0, 1.0, 60, 100)])
    m.track(0, 0, [(0.0, 1.0, 60, 100)])
    m.track(9, None, music._drums(np.random.default_rng(0), 8.0, 4.0))
    m.write(tmp_path / "x.mid")
    data = (tmp_path / "x.mid").read_bytes()
    assert data[:4] == b"MThd" and data.count(b"MTrk") == 3


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_synthesis_writes_audio_with_exact_endpoints(tmp_path):
    info = corpus.synthesize_speech(out=tmp_path, n=4, seed=0, kinds=["espeak-sing", "espeak-speech", "espeak-vocables"],
                                    progress=False)
    assert info["written"] == 4
    vocables = [json.loads(line) for line in (tmp_path / "synth.jsonl").read_text().splitlines()
                if '"espeak-vocables"' in line]
    assert vocables and all(set(m["text"].split()) <= set(speech._VOCABLES) for m in vocables)
    for wav in Path(tmp_path).rglob("*.wav"):
        y, sr = sf.read(wav)
        spans = read_alignment(wav.with_suffix(".lab"))
        assert sr == SR and spans
        inside = np.zeros(len(y), bool)
        for a, b in spans:
            inside[int(a * SR) : int(b * SR)] = True
        assert np.max(np.abs(y[~inside]), initial=0) < 0.05  # outside the endpoints it is silent


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("fluidsynth") is None or not Path(corpus.SOUNDFONT).is_file(),
                    reason="fluidsynth / FluidR3_GM not installed")
def test_music21_scores_render_to_instrumental_audio(tmp_path):
    info = corpus.render_music(out=tmp_path, n=2, seconds=6.0, seed=0, max_scores=3, progress=False)
    assert info["written"] >= 1
    for line in (tmp_path / "music.jsonl").read_text().splitlines():
        rec = json.loads(line)
        assert not FORBIDDEN_PROGRAMS & set(rec["programs"])
        y, sr = sf.read(tmp_path / rec["file"])
        assert sr == SR and len(y) >= 3 * SR and np.sqrt(np.mean(y**2)) > 1e-3


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("fluidsynth") is None or not Path(corpus.SOUNDFONT).is_file(),
                    reason="fluidsynth / FluidR3_GM not installed")
def test_lead_clips_put_an_instrument_in_front_of_the_backing(tmp_path):
    info = corpus.render_music(out=tmp_path, n=3, seconds=6.0, seed=0, max_scores=3, progress=False, lead=True)
    assert info["written"] >= 1
    for line in (tmp_path / "music.jsonl").read_text().splitlines():
        rec = json.loads(line)
        assert rec["file"].startswith("lead-") and 0 <= rec["lead_db"] <= 9
        assert rec["lead_program"] in music._PROGRAMS_LEAD
        y, sr = sf.read(tmp_path / rec["file"])
        assert sr == SR and len(y) >= 3 * SR and np.max(np.abs(y)) <= 0.71


def test_overdrive_adds_harmonics_to_a_sine():
    t = np.arange(SR) / SR
    sine = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    spec = np.abs(np.fft.rfft(music._overdrive(sine, 20.0)))
    assert spec[660] > 0.1 * spec[220]  # a strong 3rd harmonic where the sine had none
    assert spec[6600] < 0.05 * spec[660]  # the cabinet low-pass keeps the top dull


def test_cli_builds_a_corpus_and_reports_speed(material, tmp_path, capsys):
    from detector.cli import main

    speech, music = material
    code = main(["corpus", "source", "--speech", str(speech), "--music", str(music), "--clips", "3",
                 "--out", str(tmp_path / "c"), "--seed", "4", "--smr=-3:3", "--quiet"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clips"] == 3 and report["hours_per_minute"] > 0
    assert all(-3 <= r["smr_db"] <= 3 for r in read_manifest(tmp_path / "c") if r["smr_db"] is not None)
    assert main(["corpus", "source", "--speech", str(tmp_path / "nope"), "--music", str(music), "--clips", "1",
                 "--out", str(tmp_path / "d"), "--quiet"]) == 2


def test_speech_is_sung_on_a_melody_with_its_endpoints_stretched(tmp_path):
    import json as _json

    import parselmouth

    from detector.corpus.singing import sing_speech
    from detector.vad import read_alignment

    sr = 16000
    t = np.arange(int(2.5 * sr)) / sr
    voice = sum(np.sin(2 * np.pi * k * 140 * t) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    y = np.zeros(int(3.5 * sr))
    y[int(0.5 * sr) : int(0.5 * sr) + len(t)] = 0.2 * voice  # spoken from 0.5 to 3.0 s, at a flat 140 Hz
    (tmp_path / "speech").mkdir()
    write_audio(tmp_path / "speech" / "a.wav", y.astype(np.float32), sr)
    (tmp_path / "speech" / "a.lab").write_text("0.500\t3.000\tspeech\n")
    info = sing_speech(speech=[tmp_path / "speech"], out=tmp_path / "sung", n=2, seed=0, progress=False)
    assert info["written"] == 2
    meta = [_json.loads(line) for line in (tmp_path / "sung" / "sung.jsonl").read_text().splitlines()]
    for m in meta:
        out, sr_out = sf.read(tmp_path / "sung" / m["file"])
        assert sr_out == sr and abs(len(out) / sr - 3.5 * m["stretch"]) < 0.1
        (a, b), = read_alignment((tmp_path / "sung" / m["file"]).with_suffix(".lab"))
        assert abs(a - 0.5 * m["stretch"]) < 0.01 and abs(b - 3.0 * m["stretch"]) < 0.01
        pitch = parselmouth.Sound(out, sampling_frequency=sr).to_pitch().selected_array["frequency"]
        voiced = pitch[pitch > 0]
        assert np.ptp(np.log2(voiced)) * 12 > 2  # no longer one flat pitch: a melody of several notes
    assert "License:" in (tmp_path / "sung" / "LICENSE.txt").read_text()
