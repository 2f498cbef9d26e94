"""What the corpus builders share: material indexes, audio reading, song-like effects, a worker pool.

Material is a folder of audio files at any depth (speech, singing, music), optionally with a
``LICENSE.txt`` / ``SOURCE.txt`` that the corpus manifest records (:func:`_licence`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.errors import CorpusError

SAMPLE_RATE = 16000
AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus", ".aif", ".aiff")


def _read(path: Path, *, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Mono float32 at 16 kHz, optionally a window ``[start, start + duration)`` in seconds."""
    try:
        info = sf.info(str(path))
    except Exception:  # not a libsndfile format: decode the whole file with the project loader
        from detector.audio import load

        y = np.asarray(load(path, sr=SAMPLE_RATE), dtype=np.float32)
        a = int(round(start * SAMPLE_RATE))
        b = None if duration is None else a + int(round(duration * SAMPLE_RATE))
        return y[a:b]
    sr = info.samplerate
    a = int(round(start * sr))
    frames = -1 if duration is None else int(round(duration * sr))
    y, _ = sf.read(str(path), start=a, frames=frames, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SAMPLE_RATE:
        import soxr

        y = soxr.resample(y, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return y


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0


def _licence(folder: Path) -> str:
    """A short licence string for a material folder (LICENSE.txt / SOURCE.txt), or 'unknown'."""
    for d in (folder, *folder.parents[:2]):
        lic = d / "LICENSE.txt"
        if lic.is_file():
            text = lic.read_text(encoding="utf-8", errors="replace")
            names = sorted(set(re.findall(r"^License:\s*(\S.*)$", text, flags=re.M)))
            src = (d / "SOURCE.txt").read_text().strip() if (d / "SOURCE.txt").is_file() else ""
            if not names:  # old-style debian/copyright: name the licence from its text
                for pattern, name in ((r"GNU General Public License[^.]*version 2", "GPL-2+"),
                                      (r"GNU General Public License", "GPL"), (r"Creative Commons", "CC"),
                                      (r"BSD", "BSD")):
                    if re.search(pattern, text, flags=re.S):
                        names = [name]
                        break
            short = ", ".join(names) if names else text.strip().splitlines()[0][:200]
            return f"{src}: {short}" if src else short
    return "unknown"


@dataclass(frozen=True)
class SpeechFile:
    path: str  # absolute
    rel: str  # relative to its source folder, for the manifest
    source: str  # source folder
    duration: float
    alignment: str | None  # path of a .lab next to the audio, if any


@dataclass(frozen=True)
class MusicFile:
    path: str
    rel: str
    source: str
    duration: float


def _audio_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CorpusError(f"material folder {str(folder)!r} does not exist")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTS and p.is_file())


def _duration(path: Path) -> float:
    try:
        return float(sf.info(str(path)).duration)
    except Exception:
        from detector.audio import probe

        return float(probe(path).duration)


def index_speech(folders: Sequence[str | Path], *, min_duration: float = 0.3) -> list[list[SpeechFile]]:
    """One list of :class:`SpeechFile` per folder (sorted, so the index is deterministic)."""
    out = []
    for folder in folders:
        folder = Path(folder).resolve()
        files = []
        for p in _audio_files(folder):
            d = _duration(p)
            if d < min_duration:
                continue
            lab = p.with_suffix(".lab")
            files.append(
                SpeechFile(str(p), str(p.relative_to(folder)), str(folder), d, str(lab) if lab.is_file() else None)
            )
        if not files:
            raise CorpusError(f"speech folder {str(folder)!r} has no audio files of at least {min_duration} s")
        out.append(files)
    return out


def index_music(folders: Sequence[str | Path], *, min_duration: float = 3.0) -> list[list[MusicFile]]:
    """One list of :class:`MusicFile` per folder."""
    out = []
    for folder in folders:
        folder = Path(folder).resolve()
        files = [
            MusicFile(str(p), str(p.relative_to(folder)), str(folder), d)
            for p in _audio_files(folder)
            if (d := _duration(p)) >= min_duration
        ]
        if not files:
            raise CorpusError(f"music folder {str(folder)!r} has no audio files of at least {min_duration} s")
        out.append(files)
    return out


def _is_heldout(rel: str, percent: float) -> bool:
    h = int(hashlib.sha1(rel.encode("utf-8")).hexdigest()[:8], 16) % 10000
    return h < percent * 100


def _uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(r[0]) if r[0] == r[1] else float(rng.uniform(r[0], r[1]))


def _resample_factor(y: np.ndarray, factor: float) -> np.ndarray:
    """Play ``y`` ``factor`` times faster (pitch up by 12*log2(factor) semitones)."""
    import soxr

    return soxr.resample(y, SAMPLE_RATE * factor, SAMPLE_RATE, quality="HQ").astype(np.float32)


def _vibrato(y: np.ndarray, *, cents: float, hz: float, phase: float) -> np.ndarray:
    """Pitch vibrato of +-``cents`` at ``hz`` through a sinusoidally modulated delay."""
    delta = 2.0 ** (cents / 1200.0) - 1.0
    amp = delta / (2 * math.pi * hz) * SAMPLE_RATE  # samples
    n = np.arange(len(y), dtype=np.float64)
    pos = n - amp * (1.0 + np.sin(2 * math.pi * hz * n / SAMPLE_RATE + phase))
    return np.interp(pos, n, y, left=0.0, right=0.0).astype(np.float32)


def _reverb(y: np.ndarray, *, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with exponentially decaying noise (a synthetic room); returns a longer signal."""
    from scipy.signal import fftconvolve

    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # -60 dB at rt60
    ir[: int(0.005 * SAMPLE_RATE)] *= np.linspace(0, 1, int(0.005 * SAMPLE_RATE))
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    tail = fftconvolve(y, ir)
    dry = np.pad(y, (0, len(tail) - len(y)))
    out = (1.0 - wet) * dry + wet * tail * (_rms(y) / (_rms(tail[: len(y)]) + 1e-12))
    return out.astype(np.float32)


def _normalise_loudness(y: np.ndarray, lufs: float) -> np.ndarray:
    import pyloudnorm

    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        return y.astype(np.float32)
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    loud = meter.integrated_loudness(y.astype(np.float64))
    gain = 10 ** ((lufs - loud) / 20) if np.isfinite(loud) else 0.1 / peak
    y = y * gain
    peak = float(np.max(np.abs(y)))
    limit = 10 ** (-1 / 20)
    if peak > limit:
        y = y * (limit / peak)
    return y.astype(np.float32)


def _map_jobs(fn, jobs: list, *, workers: int, progress: bool, desc: str, unit: str, chunksize: int = 1) -> list:
    """``[fn(job) for job in jobs]`` in order, in a fork pool of ``workers`` processes when more than
    one, with a tqdm bar when ``progress``."""
    from tqdm import tqdm

    results = []
    with tqdm(total=len(jobs), unit=unit, desc=desc, dynamic_ncols=True, disable=not progress) as bar:
        if workers > 1:
            with get_context("fork").Pool(workers) as pool:
                for result in pool.imap(fn, jobs, chunksize=chunksize):
                    results.append(result)
                    bar.update(1)
        else:
            for job in jobs:
                results.append(fn(job))
                bar.update(1)
    return results
