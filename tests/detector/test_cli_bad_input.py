"""Bad input through the command line: every row is refused with exit status 2 and ONE line on stderr
that names the problem (no traceback, nothing written to the output path)."""

from __future__ import annotations

import numpy as np
import pytest
from audio_fixtures import sine, write_audio

from detector.cli import main


@pytest.fixture
def files(tmp_path, tiny_checkpoint):
    (tmp_path / "notes.wav").write_text("this is not audio\n" * 20)
    (tmp_path / "empty.wav").write_bytes(b"")
    write_audio(tmp_path / "song.wav", sine(2.0, freq=440.0, amplitude=0.3), 16000)
    write_audio(tmp_path / "silent-zero.wav", np.zeros(0, np.float32), 16000)
    (tmp_path / "ok.lab").write_text("0.000\t1.000\tsing\n")
    (tmp_path / "backwards.lab").write_text("2.0\t1.0\tsing\n")
    (tmp_path / "garbage.lab").write_text("once upon a time\n")
    (tmp_path / "broken.json").write_text('{"segments": [')
    (tmp_path / "labels.docx").write_text("PK not labels")
    (tmp_path / "fake.pt").write_bytes(b"not a checkpoint at all")
    (tmp_path / "refs").mkdir()
    (tmp_path / "ests").mkdir()
    (tmp_path / "refs" / "a.lab").write_text("0\t1\tsing\n")
    (tmp_path / "ests" / "b.lab").write_text("0\t1\tsing\n")
    return {"dir": tmp_path, "model": tiny_checkpoint}


CASES = [
    ("detect-missing-audio", ["detect", "{dir}/nope.wav", "--model", "{model}"], "nope.wav"),
    ("detect-text-named-wav", ["detect", "{dir}/notes.wav", "--model", "{model}"], "notes.wav"),
    ("detect-empty-file", ["detect", "{dir}/empty.wav", "--model", "{model}"], "empty.wav"),
    ("detect-missing-model", ["detect", "{dir}/song.wav", "--model", "{dir}/nope.pt"], "nope.pt"),
    ("detect-model-not-a-checkpoint", ["detect", "{dir}/song.wav", "--model", "{dir}/fake.pt"], "checkpoint"),
    ("detect-audio-as-model", ["detect", "{dir}/song.wav", "--model", "{dir}/song.wav"], "checkpoint"),
    ("detect-unknown-format", ["detect", "{dir}/song.wav", "--model", "{model}", "--format", "docx"], "invalid choice"),
    ("detect-negative-max-duration", ["detect", "{dir}/song.wav", "--model", "{model}", "--max-duration", "-1"], "limit"),
    ("detect-no-audio", ["detect", "--model", "{model}"], "AUDIO"),
    ("evaluate-missing-reference", ["evaluate", "--reference", "{dir}/nope.lab", "--estimate", "{dir}/ok.lab"], "nope.lab"),
    ("evaluate-backwards-segment", ["evaluate", "--reference", "{dir}/backwards.lab", "--estimate", "{dir}/ok.lab"],
     "before it starts"),
    ("evaluate-garbage-lab", ["evaluate", "--reference", "{dir}/garbage.lab", "--estimate", "{dir}/ok.lab"], "garbage.lab"),
    ("evaluate-broken-json", ["evaluate", "--reference", "{dir}/broken.json", "--estimate", "{dir}/ok.lab"], "broken.json"),
    ("evaluate-unknown-extension", ["evaluate", "--reference", "{dir}/labels.docx", "--estimate", "{dir}/ok.lab"],
     "extension"),
    ("evaluate-audio-as-labels", ["evaluate", "--reference", "{dir}/song.wav", "--estimate", "{dir}/ok.lab"], "extension"),
    ("evaluate-folders-share-no-song", ["evaluate", "--reference", "{dir}/refs", "--estimate", "{dir}/ests"], ""),
    ("unknown-subcommand", ["dance"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(files, capsys, argv, fragment):
    out = files["dir"] / "out.lab"
    argv = [a.format(**files) for a in argv] + (["-o", str(out)] if argv[0] == "detect" else [])
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip() and not line.startswith((" ", "usage:"))]
    assert len(lines) == 1, captured.err
    assert fragment.lower() in lines[0].lower(), lines[0]
    assert not out.exists()
