"""Fixtures for the detector tests: audio in every format, tiny checkpoints (helpers: detector_support)."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from detector_support import FORMATS, burst, ffmpeg, save_tiny_checkpoint


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
