"""Fixtures for the detector tests: audio in every format, tiny checkpoints (helpers: detector_support)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from detector_support import FORMATS, TINY, burst, ffmpeg, save_tiny_checkpoint

from detector import material as material_module
from detector.corpus import stems as stems_module

SR = 16000


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    """``{extension: path}``: the same 3.0 s 44.1 kHz stereo file (a 1 kHz burst in [1, 2) s) in
    every supported format."""
    folder = tmp_path_factory.mktemp("formats")
    y = burst(sr=44100, channels=2)
    source = folder / "tone.wav"
    sf.write(source, y, 44100, subtype="PCM_16")
    files = {"wav": source}
    sf.write(folder / "tone.flac", y, 44100)
    sf.write(folder / "tone.ogg", y, 44100, format="OGG", subtype="VORBIS")
    sf.write(folder / "tone.aiff", y, 44100, format="AIFF", subtype="PCM_16")
    files.update({ext: folder / f"tone.{ext}" for ext in ("flac", "ogg", "aiff")})
    for ext, codec in FORMATS.items():
        if codec is not None:
            ffmpeg("-i", str(source), *codec, str(folder / f"tone.{ext}"))
            files[ext] = folder / f"tone.{ext}"
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
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.05 * rng.standard_normal(len(t))
    for a, b in spans:
        on = (t >= a) & (t < b)
        y[on] += 0.3 * np.sin(2 * np.pi * (200 + 40 * seed) * t[on])
    sf.write(path, np.stack([y, 0.9 * y], axis=1).astype(np.float32), SR)


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
        sf.write(d / "audio.flac", (voc + acc).astype(np.float32), SR)
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
