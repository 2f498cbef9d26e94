"""Fixtures for the detector tests: audio in every format, tiny checkpoints (helpers: detector_support)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import FORMATS, noise, sine, stereo, write_audio
from detector_support import TINY, burst, save_tiny_checkpoint

from detector import material as material_module
from detector.corpus import stems as stems_module

SR = 16000


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    """``{extension: path}``: the same 3.0 s 44.1 kHz stereo file (a 1 kHz burst in [1, 2) s) in
    every supported format."""
    folder = tmp_path_factory.mktemp("formats")
    y = burst(sr=44100, channels=2)
    files = {ext: write_audio(folder / f"tone.{ext}", y, 44100) for ext in FORMATS}
    return files


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A randomly initialised tiny CRNN saved as a checkpoint."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("models") / "tiny.pt")


@pytest.fixture(scope="session")
def vocal_checkpoint(tmp_path_factory) -> Path:
    """A tiny checkpoint whose output is 'vocal' everywhere (head bias +8)."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("models") / "vocal.pt", always_vocal=True)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_checkpoint):
    from detector.checkpoint import load_checkpoint

    return load_checkpoint(tiny_checkpoint)


def _song(path, seconds, spans, seed):
    """A 16 kHz stereo file: noise, with a tone over ``spans`` seconds."""
    y = noise(seconds, amplitude=0.05, seed=seed) + sine(seconds, freq=200 + 40 * seed, amplitude=0.3, spans=spans)
    write_audio(path, stereo(y, gains=[1.0, 0.9]), SR)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Tiny training material: 4 stem tracks (split 2 train / 1 dev / 1 test), 8 soundtrack files (half
    held out), 4 labelled songs in languages A, A, B, C, and a tiny source checkpoint."""
    root = tmp_path_factory.mktemp("tiny")
    musdb = root / "musdb"
    for i in range(4):
        d = musdb / f"train__track{i}"
        d.mkdir(parents=True)
        _song(d / "vocals.flac", 5.0, [(0.5, 4.5)], seed=i)
        acc = 0.05 * np.random.default_rng(10 + i).standard_normal((5 * SR, 2))
        voc, _ = sf.read(d / "vocals.flac")
        write_audio(d / "audio.flac", (voc + acc).astype(np.float32), SR)
    stems_module.prepare_stems(src=musdb, out=root / "stems", split_sizes={"test": 1, "dev": 1})
    real = root / "material" / "music-real" / "pkg"
    real.mkdir(parents=True)
    # four files the material keeps for training and four it holds out (by the hash of their names)
    names = [f"track{i}.flac" for i in range(200)]
    kept = [n for n in names if not material_module.is_heldout(n)][:4]
    held = [n for n in names if material_module.is_heldout(n)]
    # ... half of them in the suite's dev part, half in its test part
    held = [n for n in held if material_module.is_heldout(f"pkg/{n}", 50.0)][:2] + \
        [n for n in held if not material_module.is_heldout(f"pkg/{n}", 50.0)][:2]
    for i, name in enumerate(kept + held):
        _song(real / name, 12.0, [], seed=20 + i)
    songs = root / "songs"
    rows = ["slug\tlanguage"]
    for i, lang in enumerate(["A", "A", "B", "C"]):
        d = songs / f"song{i}"
        d.mkdir(parents=True)
        _song(d / "audio.flac", 6.0, [(1.0, 2.5), (3.5, 5.0)], seed=30 + i)
        (d / "labels.lab").write_text("1.000\t2.500\tsing\n3.500\t5.000\tsing\n")
        rows.append(f"song{i}\t{lang}")
    (songs / "songs.tsv").write_text("\n".join(rows) + "\n")
    source = save_tiny_checkpoint(root / "source.pt", config=TINY)
    return {"root": root, "stems": root / "stems", "material": root / "material", "songs": songs, "source": source}
