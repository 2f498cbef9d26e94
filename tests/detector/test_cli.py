"""python -m detector detect / evaluate, as DESIGN.md specifies."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import write_audio
from detector_support import burst

from detector import checkpoint
from detector.cli import SUBCOMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]
LAB_LINE = re.compile(r"^\d+\.\d{3}\t\d+\.\d{3}\tsing$")


@pytest.fixture
def song(tmp_path) -> Path:
    path = tmp_path / "song.wav"
    write_audio(path, burst(4.0), 16000)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detector", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_detect_with_a_checkpoint_writes_a_jamendo_style_lab(vocal_checkpoint, song, tmp_path):
    out = tmp_path / "song.lab"
    assert main(["detect", str(song), "--model", str(vocal_checkpoint), "-o", str(out)]) == 0
    assert out.read_text() == "0.000\t4.000\tsing\n"


def test_detect_writes_to_stdout_without_output(tiny_checkpoint, song, capsys):
    assert main(["detect", str(song), "--model", str(tiny_checkpoint), "--runtime", "torch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(LAB_LINE.match(line) for line in lines)
    starts_ends = [tuple(map(float, line.split("\t")[:2])) for line in lines]
    assert all(a < b <= 4.0 for a, b in starts_ends)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(starts_ends, starts_ends[1:], strict=False))


@pytest.mark.parametrize(("fmt", "check"), [("json", lambda t: json.loads(t)["segments"][0]["label"] == "vocal"),
                                            ("csv", lambda t: t.startswith("start,end,label\n")),
                                            ("textgrid", lambda t: "IntervalTier" in t)])
def test_detect_writes_the_requested_format(vocal_checkpoint, song, capsys, fmt, check):
    assert main(["detect", str(song), "--model", str(vocal_checkpoint), "--format", fmt]) == 0
    assert check(capsys.readouterr().out)


def test_detect_many_files_fills_a_folder_with_one_file_per_input_stem(vocal_checkpoint, tmp_path):
    inputs = []
    for name in ("a", "b", "c"):
        write_audio(tmp_path / f"{name}.flac", burst(2.0), 16000)
        inputs.append(str(tmp_path / f"{name}.flac"))
    out = tmp_path / "out"
    assert main(["detect", *inputs, "--model", str(vocal_checkpoint), "-o", str(out), "--jobs", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.lab", "b.lab", "c.lab"]
    assert (out / "b.lab").read_text() == "0.000\t2.000\tsing\n"


def test_corpus_style_inputs_with_equal_stems_are_named_by_their_folder(vocal_checkpoint, tmp_path):
    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        write_audio(tmp_path / name / "audio.wav", burst(1.0), 16000)
    out = tmp_path / "out"
    argv = ["detect", str(tmp_path / "x/audio.wav"), str(tmp_path / "y/audio.wav"), "-o", str(out)]
    assert main([*argv, "--model", str(vocal_checkpoint)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["x.lab", "y.lab"]


def test_several_inputs_without_an_output_folder_are_refused(vocal_checkpoint, song, capsys):
    assert main(["detect", str(song), str(song), "--model", str(vocal_checkpoint)]) == 2
    assert "need -o FOLDER" in capsys.readouterr().err


def test_a_bad_input_among_many_is_reported_and_the_rest_are_done(vocal_checkpoint, song, tmp_path, capsys):
    (tmp_path / "junk.mp3").write_text("not audio")
    out = tmp_path / "out"
    code = main(["detect", str(song), str(tmp_path / "junk.mp3"), "--model", str(vocal_checkpoint), "-o", str(out)])
    assert code == 2
    assert (out / "song.lab").exists() and not (out / "junk.lab").exists()
    assert "error: " in capsys.readouterr().err


def test_detect_a_bad_file_prints_one_line_and_exits_2(tiny_checkpoint, tmp_path):
    (tmp_path / "notes.mp3").write_text("hello")
    result = run_cli("detect", str(tmp_path / "notes.mp3"), "--model", str(tiny_checkpoint))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "notes.mp3" in result.stderr


def test_detect_without_a_model_or_default_says_none_is_installed(song, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(checkpoint, "WEIGHTS_DIR", tmp_path / "no-weights")
    assert main(["detect", str(song)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no default model is installed" in err and "--model" in err


def test_detect_with_a_broken_model_file_exits_2(song, tmp_path, capsys):
    (tmp_path / "m.pt").write_bytes(b"nope")
    assert main(["detect", str(song), "--model", str(tmp_path / "m.pt")]) == 2
    assert "m.pt: not a readable checkpoint" in capsys.readouterr().err


def test_evaluate_prints_pooled_and_per_song_metrics(tmp_path, capsys):
    ref, est = tmp_path / "ref", tmp_path / "est"
    ref.mkdir(), est.mkdir()
    (ref / "a.lab").write_text("1.0\t2.0\tsing\n")
    (est / "a.lab").write_text("1.0\t1.5\tsing\n")
    (ref / "b.lab").write_text("0.0\t1.0\tsing\n")
    (est / "b.lab").write_text("0.0\t1.0\tsing\n")
    assert main(["evaluate", "--reference", str(ref), "--estimate", str(est), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["songs"]["b"]["f1"] == 1.0
    assert result["songs"]["a"]["recall"] == 0.5 and result["songs"]["a"]["precision"] == 1.0
    pooled = result["pooled"]
    assert (pooled["tp"], pooled["fn"], pooled["fp"]) == (150, 50, 0)
    assert main(["evaluate", "--reference", str(ref), "--estimate", str(est)]) == 0
    table = capsys.readouterr().out
    assert "pooled (2 songs)" in table and re.search(r"^a\s+100\s+100\s", table, re.MULTILINE)


def test_evaluate_reads_the_corpus_layout_and_takes_durations_from_the_audio(tmp_path, capsys):
    song = tmp_path / "corpus" / "song1"
    song.mkdir(parents=True)
    write_audio(song / "audio.wav", np.zeros(16000 * 5, np.float32), 16000)
    (song / "labels.lab").write_text("1.0\t2.0\tsing\n")
    (tmp_path / "est").mkdir()
    (tmp_path / "est" / "song1.lab").write_text("")
    assert main(["evaluate", "--reference", str(tmp_path / "corpus"), "--estimate", str(tmp_path / "est"),
                 "--json"]) == 0
    song1 = json.loads(capsys.readouterr().out)["songs"]["song1"]
    assert (song1["n_vocal"], song1["n_non_vocal"]) == (100, 400)


def test_evaluate_with_a_model_detects_each_reference_songs_audio_and_scores_it(vocal_checkpoint, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    for name, lab in (("half", "0.0\t2.0\tsing\n"), ("all", "0.0\t4.0\tsing\n")):
        (corpus / name).mkdir(parents=True)
        write_audio(corpus / name / "audio.wav", burst(4.0), 16000)
        (corpus / name / "labels.lab").write_text(lab)
    assert main(["evaluate", "--reference", str(corpus), "--model", str(vocal_checkpoint), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)  # the model calls every frame vocal
    assert result["songs"]["half"]["accuracy"] == 0.5 and result["songs"]["all"]["accuracy"] == 1.0
    assert (result["pooled"]["tp"], result["pooled"]["fp"]) == (600, 200)
    (corpus / "nosound").mkdir()
    (corpus / "nosound" / "labels.lab").write_text("0 1 sing\n")
    assert main(["evaluate", "--reference", str(corpus), "--model", str(vocal_checkpoint)]) == 2
    assert "nosound: no audio file beside" in capsys.readouterr().err


def test_evaluate_two_files_compares_them_whatever_their_names(tmp_path, capsys):
    (tmp_path / "truth.lab").write_text("0 1 sing\n")
    (tmp_path / "guess.lab").write_text("0 1 sing\n")
    assert main(["evaluate", "--reference", str(tmp_path / "truth.lab"), "--estimate",
                 str(tmp_path / "guess.lab"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pooled"]["accuracy"] == 1.0


def test_evaluate_with_nothing_to_match_or_a_bad_file_exits_2(tmp_path, capsys):
    (tmp_path / "r").mkdir(), (tmp_path / "e").mkdir()
    (tmp_path / "r" / "a.lab").write_text("0 1 sing\n")
    (tmp_path / "e" / "b.lab").write_text("0 1 sing\n")
    assert main(["evaluate", "--reference", str(tmp_path / "r"), "--estimate", str(tmp_path / "e")]) == 2
    assert "no reference" in capsys.readouterr().err
    (tmp_path / "e" / "a.lab").write_text("0 one sing\n")
    assert main(["evaluate", "--reference", str(tmp_path / "r"), "--estimate", str(tmp_path / "e")]) == 2
    assert "a.lab: line 1" in capsys.readouterr().err


def test_every_command_has_help_and_unknown_modules_are_simply_absent():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"detect", "evaluate"} <= set(commands) <= set(SUBCOMMANDS)
    for name in commands:
        assert commands[name].format_help()


def test_help_runs_as_a_module():
    result = run_cli("detect", "--help")
    assert result.returncode == 0 and "--model" in result.stdout and "--jobs" in result.stdout
