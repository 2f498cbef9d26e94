"""The robustness suite: held-out labelled clips under the conditions real uploads bring.

:func:`build_suite` writes labelled collections (``<condition>/<item>/audio.<ext> + labels.lab``, the
layout every reader here takes) under ``OUT/<part>/``, ``part`` being ``dev`` (choices are made on
it) or ``test`` (scored once), from material no model trains on:

- from vocal stems of the ``dev`` / ``test`` tracks (``corpus stems``): the vocal at 0, -6 and
  -12 dB against its own accompaniment (``stems-own-*``) and another track's (``stems-other-*``),
  switched off over 1.5-3 s of each excerpt so there is accompaniment alone too; labels from the
  stem (:func:`detector.corpus.stems.stem_activity`);
- from held-out instrumental recordings (``music-real`` files :func:`detector.material.is_heldout`
  keeps out of training, split between dev and test by name): 10 s excerpts, all non-vocal
  (``instrumental``: its accuracy is the specificity);
- from labelled songs (``songs``, the test part only; in the generalization experiment each song is
  scored by the model of the fold that held it out): 4-15 s excerpts as they are (``excerpts``),
  folded to mono, at -30 / -20 / -10 dBFS peak, as 32 kbit/s MP3, pitch-shifted by +-2 semitones,
  slowed to 0.85x and sped to 1.15x, and the whole songs folded to mono (``songs-mono``).

Everything is drawn from generators seeded by ``(seed, item)``, so the suite is the same on every
machine; ``suite.json`` lists the conditions, their items and where each came from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.config import SAMPLE_RATE
from detector.corpus.stems import read_stems, stem_activity
from detector.data import find_items
from detector.labels import join_intervals
from detector.material import is_heldout, music_files
from detector.vad import read_alignment, write_alignment

__all__ = ["build_suite", "STEM_LEVELS_DB", "EXCERPT_CONDITIONS", "conditions"]

STEM_LEVELS_DB = (0, -6, -12)
EXCERPT_CONDITIONS = ("excerpts", "excerpts-mono", "excerpts-level-30", "excerpts-level-20", "excerpts-level-10",
                      "excerpts-mp3-32k", "excerpts-pitch-2", "excerpts-pitch+2", "excerpts-tempo-0.85",
                      "excerpts-tempo-1.15")
EXCERPTS_PER_SONG = 6
EXCERPT_S = (4.0, 15.0)
INSTRUMENTAL_EXCERPTS = 3
INSTRUMENTAL_S = 10.0
GATE_S = (1.5, 3.0)


def conditions(part: str) -> list[str]:
    """The condition names of a part, in report order."""
    stems = [f"stems-{kind}{db}" for kind in ("own", "other") for db in STEM_LEVELS_DB]
    songs = [*EXCERPT_CONDITIONS, "songs-mono"] if part == "test" else []
    return [*stems, "instrumental", *songs]


def build_suite(
    *,
    out: str | Path,
    stems: str | Path | None = None,
    material: str | Path | None = None,
    songs: str | Path | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the suite under ``out`` (see the module docstring) and return ``suite.json``'s content.
    Built once: a suite whose ``suite.json`` already lists the same inputs is left as it is."""
    out = Path(out)
    inputs = {"stems": str(stems) if stems else None, "material": str(material) if material else None,
              "songs": str(songs) if songs else None, "seed": seed, "format": "singscope-suite/1"}
    index = out / "suite.json"
    if index.is_file():
        done = json.loads(index.read_text())
        if done.get("inputs") == inputs:
            return done
    if out.exists():
        shutil.rmtree(out)
    say = progress or (lambda _msg: None)
    summary: dict = {"inputs": inputs, "parts": {}}
    for part in ("dev", "test"):
        made: dict[str, list[dict]] = {}
        if stems is not None:
            tracks = [r["track"] for r in read_stems(stems) if r["split"] == part]
            for db in STEM_LEVELS_DB:
                say(f"{part}: stems at {db} dB")
                made[f"stems-own{db}"] = _write(out / part / f"stems-own{db}",
                                                _stem_clips(Path(stems), tracks, db, other=False, seed=seed))
                made[f"stems-other{db}"] = _write(out / part / f"stems-other{db}",
                                                  _stem_clips(Path(stems), tracks, db, other=True, seed=seed))
        if material is not None and (Path(material) / "music-real").is_dir():
            say(f"{part}: instrumental excerpts")
            made["instrumental"] = _write(out / part / "instrumental",
                                          _instrumental(Path(material) / "music-real", part, seed))
        if songs is not None and part == "test":
            for cond in (*EXCERPT_CONDITIONS, "songs-mono"):
                say(f"{part}: {cond}")
                made[cond] = _write(out / part / cond, _song_clips(Path(songs), cond, seed))
        summary["parts"][part] = {c: made[c] for c in conditions(part) if c in made}
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


# -- clips ----------------------------------------------------------------------------------------

Clip = tuple[str, np.ndarray, list[tuple[float, float]], dict]  # name, audio (n, 2), vocal spans, record


def _rng(seed: int, *key: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(hashlib.sha1("|".join(key).encode()).hexdigest()[:8], 16)])


def _read(path: Path) -> np.ndarray:
    from detector.audio import load

    return load(path, sr=SAMPLE_RATE, stereo=True)


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0


def _stem_clips(stems: Path, tracks: list[str], db: int, *, other: bool, seed: int) -> Iterator[Clip]:
    for k, track in enumerate(tracks):
        voc = _read(stems / track / "vocals.flac")
        acc_track = tracks[(k + 1) % len(tracks)] if other else track
        acc = _read(stems / acc_track / "accompaniment.flac")
        n = min(len(voc), len(acc))
        voc, acc = voc[:n].copy(), acc[:n]
        rng = _rng(seed, "stems", track, str(other))
        g = int(rng.uniform(*GATE_S) * SAMPLE_RATE)
        where = rng.integers(3)
        lo = 0 if where == 0 else n - g if where == 1 else int(rng.integers(0, n - g))
        voc[lo : lo + g] = 0.0
        spans = stem_activity(voc)
        voiced = np.concatenate([voc[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in spans] or [voc])
        gain = _rms(acc) * 10 ** (db / 20) / max(_rms(voiced), 1e-9)
        y = acc + gain * voc
        yield track, y, spans, {"vocals": track, "accompaniment": acc_track, "vocal_db": db,
                                "gated_s": [round(lo / SAMPLE_RATE, 2), round((lo + g) / SAMPLE_RATE, 2)]}


def _instrumental(real: Path, part: str, seed: int) -> Iterator[Clip]:
    files = [(f"{pkg.name}/{name}", path) for pkg in sorted(p for p in real.iterdir() if p.is_dir())
             for name, path, _ in music_files(pkg, heldout=True)]
    # held-out files are split between dev and test by a second hash
    files = [(n, p) for n, p in files if is_heldout(n, 50.0) == (part == "dev")]
    for name, path in files:
        from detector.audio import probe

        total = probe(path).duration
        rng = _rng(seed, "instrumental", name)
        for j in range(INSTRUMENTAL_EXCERPTS):
            start = float(rng.uniform(0, max(0.0, total - INSTRUMENTAL_S)))
            y = _read_window(path, start, INSTRUMENTAL_S)
            yield f"{name.replace('/', '__')}__{j}", y, [], {"file": name, "start_s": round(start, 2)}


def _read_window(path: Path, start: float, seconds: float) -> np.ndarray:
    y = _read(path)
    a = int(start * SAMPLE_RATE)
    return y[a : a + int(seconds * SAMPLE_RATE)]


def _song_clips(songs: Path, cond: str, seed: int) -> Iterator[Clip]:
    for name, audio, lab in find_items(songs):
        y = _read(audio)
        spans = read_alignment(lab)
        if cond == "songs-mono":
            yield name, np.repeat(y.mean(axis=1, keepdims=True), 2, axis=1), spans, {"song": name}
            continue
        rng = _rng(seed, "excerpts", name)  # the same excerpts under every condition
        total = len(y) / SAMPLE_RATE
        for j in range(EXCERPTS_PER_SONG):
            length = min(float(rng.uniform(*EXCERPT_S)), total)
            start = float(rng.uniform(0, total - length))
            a, b = int(start * SAMPLE_RATE), int((start + length) * SAMPLE_RATE)
            clip = y[a:b]
            clip_spans = [(max(s, start) - start, min(e, start + length) - start) for s, e in spans
                          if e > start and s < start + length]
            clip, clip_spans = _condition(clip, clip_spans, cond)
            yield f"{name}__{j}", clip, clip_spans, {"song": name, "start_s": round(start, 2), "excerpt_s": round(length, 2)}


def _condition(y: np.ndarray, spans: list[tuple[float, float]], cond: str):
    if cond == "excerpts" or cond == "excerpts-mp3-32k":  # the MP3 is made when the file is written
        return y, spans
    if cond == "excerpts-mono":
        return np.repeat(y.mean(axis=1, keepdims=True), 2, axis=1), spans
    if cond.startswith("excerpts-level"):
        peak = float(np.abs(y).max()) or 1.0
        return y * (10 ** (-int(cond.rsplit("-", 1)[1]) / 20) / peak), spans
    import librosa

    if cond.startswith("excerpts-pitch"):
        return _pitch_shift(y, float(cond.removeprefix("excerpts-pitch"))), spans
    rate = float(cond.rsplit("-", 1)[1])
    return _mid_side(y, lambda x: librosa.effects.time_stretch(x, rate=rate)), [(s / rate, e / rate) for s, e in spans]


def _mid_side(y: np.ndarray, change) -> np.ndarray:
    """``change`` (a phase vocoder) applied to the mid and side signals, not to each channel: run on
    each channel it gives a centred voice different phases left and right, a stereo image no real
    recording has (and one the centre front end rightly does not call centred)."""
    mid = change(np.ascontiguousarray(y.mean(axis=1)))
    side = change(np.ascontiguousarray((y[:, 0] - y[:, 1]) / 2))
    return np.stack([mid + side, mid - side], axis=1).astype(np.float32)


def _pitch_shift(y: np.ndarray, steps: float) -> np.ndarray:
    import librosa

    return _mid_side(y, lambda x: librosa.effects.pitch_shift(x, sr=SAMPLE_RATE, n_steps=steps))


def _write(folder: Path, clips: Iterator[Clip]) -> list[dict]:
    records = []
    for name, y, spans, rec in clips:
        d = folder / name
        d.mkdir(parents=True, exist_ok=True)
        y = np.clip(y, -1.0, 1.0)
        if folder.name == "excerpts-mp3-32k":
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "x.wav"
                sf.write(str(wav), y, SAMPLE_RATE, subtype="PCM_16")
                subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame",
                                "-b:a", "32k", str(d / "audio.mp3")], check=True)
        else:
            sf.write(str(d / "audio.flac"), y, SAMPLE_RATE, subtype="PCM_16")
        duration = len(y) / SAMPLE_RATE
        spans = join_intervals([(max(0.0, s), min(duration, e)) for s, e in spans if e > s])
        write_alignment(d / "labels.lab", spans)
        records.append({"item": name, "seconds": round(duration, 2),
                        "vocal_s": round(sum(e - s for s, e in spans), 2), **rec})
    return records


def build_remix_collection(*, stems: str | Path, out: str | Path, seed: int = 0) -> list[dict]:
    """A collection of held-out "songs" made from the ``dev`` and ``test`` stem tracks, for the
    learning curve: each song is four 6.8 s sections of one track, [accompaniment] [vocal over it]
    [another track's accompaniment] [the vocal, pitch-shifted by -2..+2 semitones, over that], the
    vocal 6 dB under its accompaniment in one voiced section and at 0 dB in the other; labels from
    the stems. Built once (``collection.json``)."""

    out = Path(out)
    index = out / "collection.json"
    if index.is_file():
        return json.loads(index.read_text())
    stems = Path(stems)
    tracks = [r["track"] for r in read_stems(stems) if r["split"] in ("dev", "test")]
    records = []
    for k, track in enumerate(tracks):
        rng = _rng(seed, "collection", track)
        other = tracks[(k + 1 + int(rng.integers(len(tracks) - 1))) % len(tracks)]
        voc, acc = _read(stems / track / "vocals.flac"), _read(stems / track / "accompaniment.flac")
        acc2 = _read(stems / other / "accompaniment.flac")
        n = min(len(voc), len(acc), len(acc2))
        voc, acc, acc2 = voc[:n], acc[:n], acc2[:n]
        steps = float(rng.uniform(-2, 2))
        voc2 = _pitch_shift(voc, steps)[:n]
        sections, spans, t = [], [], 0.0
        for v, a, db in ((None, acc, 0), (voc, acc, -6), (None, acc2, 0), (voc2, acc2, 0)):
            if v is None:
                sections.append(a)
            else:
                sp = stem_activity(v)
                voiced = np.concatenate([v[int(x * SAMPLE_RATE) : int(y * SAMPLE_RATE)] for x, y in sp] or [v])
                sections.append(a + v * (_rms(a) * 10 ** (db / 20) / max(_rms(voiced), 1e-9)))
                spans += [(t + x, t + y) for x, y in sp]
            t += n / SAMPLE_RATE
        name = track.split("__", 1)[-1]
        records += _write(out, iter([(name, np.concatenate(sections), spans,
                                      {"track": track, "other": other, "pitch_shift": round(steps, 2)})]))
    index.write_text(json.dumps(records, indent=1) + "\n")
    return records
