"""Real speech turned into singing: a human voice on a melody, with the speech's own endpoints.

Praat's PSOLA resynthesis (through praat-parselmouth) replaces each recorded utterance's pitch
with a stepwise melody in a major or minor key around the speaker's own pitch, holds every note
for 0.2-0.7 s with a 4.5-6.5 Hz vibrato of 20-60 cents, and slows the utterance by 1.2-2x, the way
sung vowels are longer than spoken ones. The labels are the utterance's voiced spans (its
alignment file, else :func:`detector.vad.energy_vad`) stretched by the same factor, so they stay
exact. Far closer to singing than a speech synthesiser, with the timbres of every recorded speaker.

Output (``python -m detector corpus sing-speech``): ``OUT/<id>.wav`` + ``<id>.lab`` (16 kHz mono),
``sung.jsonl`` (source file, key, tempo, stretch), ``LICENSE.txt`` (the speech's licences).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.corpus.common import SAMPLE_RATE, _licence, _map_jobs, _read, index_speech
from detector.corpus.speech import _melody
from detector.errors import CorpusError
from detector.vad import VADConfig, energy_vad, read_alignment, write_alignment

__all__ = ["sing_speech"]

NOTE_S = (0.2, 0.7)
STRETCH = (1.2, 2.0)
VIBRATO_HZ = (4.5, 6.5)
VIBRATO_CENTS = (20.0, 60.0)
MIN_SPEECH_S = 0.8


def _sing_one(job: tuple[int, int, str, str | None, str]) -> dict | None:
    """Utterance ``path`` sung as clip ``index`` into ``out`` (None when it has too little voice)."""
    import parselmouth
    from parselmouth.praat import call

    index, seed, path, alignment, out = job
    rng = np.random.default_rng([seed, index])
    y = _read(Path(path))
    spans = read_alignment(alignment) if alignment else energy_vad(y, sr=SAMPLE_RATE, config=VADConfig())
    if sum(b - a for a, b in spans) < MIN_SPEECH_S or not np.isfinite(y).all():
        return None
    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    try:
        manip = call(snd, "To Manipulation", 0.01, 75, 600)
        f0 = call(snd.to_pitch(), "Get quantile", 0, 0, 0.5, "Hertz")
    except parselmouth.PraatError:
        return None
    if not np.isfinite(f0) or f0 <= 0:
        return None
    duration = snd.duration
    stretch = float(rng.uniform(*STRETCH))
    rate, depth = float(rng.uniform(*VIBRATO_HZ)), float(rng.uniform(*VIBRATO_CENTS))
    tonic = f0 * 2 ** (float(rng.integers(-3, 1)) / 12)  # the key sits at or just under the speaker's pitch
    tier = call("Create PitchTier", "melody", 0, duration)
    t = 0.0
    notes = _melody(rng, 1 + int(duration / NOTE_S[0]))
    for semitones in notes:
        if t >= duration:
            break
        length = float(rng.uniform(*NOTE_S)) / stretch  # in the original's time; sung, it is stretched
        for k in range(max(1, int(length / 0.02))):
            at = t + k * 0.02
            cents = depth * np.sin(2 * np.pi * rate * at * stretch)
            call(tier, "Add point", at, float(tonic * 2 ** ((semitones + cents / 100) / 12)))
        t += length
    call([tier, manip], "Replace pitch tier")
    durations = call("Create DurationTier", "stretch", 0, duration)
    call(durations, "Add point", 0, stretch)
    call([durations, manip], "Replace duration tier")
    sung = call(manip, "Get resynthesis (overlap-add)").values[0].astype(np.float32)
    peak = float(np.max(np.abs(sung))) or 1.0
    name = f"sung-{index:06d}"
    sf.write(str(Path(out) / f"{name}.wav"), sung * (0.5 / peak), SAMPLE_RATE, subtype="PCM_16")
    write_alignment(Path(out) / f"{name}.lab", [(a * stretch, b * stretch) for a, b in spans], label="sing")
    return {"file": f"{name}.wav", "source": path, "f0_hz": round(f0, 1), "tonic_hz": round(tonic, 1),
            "stretch": round(stretch, 3), "vibrato": {"hz": round(rate, 2), "cents": round(depth, 1)},
            "duration_s": round(len(sung) / SAMPLE_RATE, 3)}


def sing_speech(*, speech: Sequence[str | Path], out: str | Path, n: int, seed: int = 0, workers: int = 1,
                progress: bool = True) -> dict:
    """Sing ``n`` utterances drawn (each folder equally often) from the ``speech`` folders into ``out``."""
    if n <= 0:
        raise CorpusError(f"n must be positive, got {n}")
    pools = index_speech(speech)
    rng = np.random.default_rng([seed, 4242])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i in range(n):
        pool = pools[int(rng.integers(len(pools)))]
        f = pool[int(rng.integers(len(pool)))]
        jobs.append((i, seed, f.path, f.alignment, str(out)))
    done = [m for m in _map_jobs(_sing_one, jobs, workers=workers, progress=progress, desc="sing", unit="utt") if m]
    with open(out / "sung.jsonl", "w", encoding="utf-8") as fh:
        for m in done:
            fh.write(json.dumps(m, sort_keys=True) + "\n")
    licences = sorted({_licence(Path(p[0].source)) for p in pools})
    (out / "LICENSE.txt").write_text(
        "Real speech sung by Praat's PSOLA resynthesis (praat-parselmouth, GPL-3.0-or-later) in Singscope's "
        "`python -m detector corpus sing-speech`.\nThe speech keeps its licence:\n"
        + "".join(f"License: {lic}\n" for lic in licences), encoding="utf-8")
    return {"requested": n, "written": len(done), "seconds": round(sum(m["duration_s"] for m in done), 1)}
