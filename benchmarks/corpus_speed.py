"""Corpus build speed: hours of speech+music mixture written per minute of wall time. Prints JSON.

    python benchmarks/corpus_speed.py [--material var/material] [--hours 0.25] [--workers 2]

Uses the material of ``scripts/get_source_material.sh`` + ``corpus synth-speech`` / ``render-music``
when it is there (the real pipeline: decode, VAD, pitch shift, vibrato, reverb, loudness, wav
writing), otherwise builds a small synthetic material set first (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.corpus import build_source_corpus  # noqa: E402


def synthetic_material(root: Path) -> tuple[list[Path], list[Path]]:
    rng = np.random.default_rng(0)
    speech, music = root / "speech", root / "music"
    speech.mkdir(parents=True)
    music.mkdir(parents=True)
    sr = 16000
    for k in range(40):
        n = int(rng.uniform(2, 6) * sr)
        t = np.arange(n) / sr
        y = 0.2 * np.sin(2 * np.pi * (120 + 5 * k) * t) * (np.sin(2 * np.pi * 3 * t) > 0)
        y[: sr // 2] = 0
        y[-sr // 2 :] = 0
        sf.write(speech / f"u{k}.wav", y.astype(np.float32), sr, subtype="PCM_16")
    for k in range(6):
        t = np.arange(60 * sr) / sr
        y = sum(np.sin(2 * np.pi * f * t) for f in (110 * (k + 1), 165, 220)) * 0.1 + 0.01 * rng.standard_normal(len(t))
        sf.write(music / f"m{k}.wav", y.astype(np.float32), sr, subtype="PCM_16")
    return [speech], [music]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--material", default="var/material")
    ap.add_argument("--hours", type=float, default=0.25)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args()
    m = Path(args.material)
    with tempfile.TemporaryDirectory() as tmp:
        speech = [p for p in [m / "synth/espeak-sing", m / "synth/festival-sing", m / "speech/fillets-nl",
                              m / "speech/klettres"] if p.is_dir()]
        music = [p for p in [m / "music/music21", m / "music/fillets"] if p.is_dir()]
        source = "material"
        if not speech or not music:
            speech, music = synthetic_material(Path(tmp) / "material")
            source = "synthetic"
        t0 = time.perf_counter()
        s = build_source_corpus(speech=speech, music=music, out=Path(tmp) / "corpus", hours=args.hours, seed=0,
                                workers=args.workers, progress=False)
        minutes = (time.perf_counter() - t0) / 60
    print(json.dumps({
        "benchmark": "corpus_speed", "material": source, "workers": args.workers,
        "hours": s["totals"]["hours"], "clips": s["totals"]["clips"], "minutes": round(minutes, 3),
        "hours_per_minute": round(s["totals"]["hours"] / minutes, 3), "cpu_count": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
