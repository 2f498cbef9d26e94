#!/usr/bin/env python3
"""Find soundtrack files that may have a voice in them, before they become instrumental negatives.

    .venv/bin/python scripts/check_instrumental_music.py var/material/music-real [--model PATH] [--plots DIR]

Runs a detector over every file under the folder and prints, worst first, the share of frames it
calls vocal and its longest vocal stretch; with ``--plots`` it draws the log-mel spectrogram of
that stretch for each of the ``--top`` files, to look at (sung notes show as stacked, wavering
harmonics with syllable-rate gaps). What a person then confirms as voiced goes into
scripts/instrumental_music_voiced.txt, which scripts/get_instrumental_music.sh applies.
A detector that calls instrumental passages vocal flags many clean files too: this only ranks them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--model", help="checkpoint (default: the shipped default model)")
    p.add_argument("--plots", help="folder for spectrogram PNGs of the most vocal-looking stretches")
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args()

    from detector.corpus.common import AUDIO_EXTS
    from detector.features import logmel
    from detector.inference import detect_file, load_model

    backend = load_model(args.model)
    files = sorted(f for f in Path(args.folder).rglob("*") if f.suffix.lower() in AUDIO_EXTS)
    rows = []
    for f in files:
        det = detect_file(f, bundle=backend)
        vocal = sum(s.end - s.start for s in det.segments if s.label == "vocal")
        longest = max(((s.end - s.start), s.start) for s in det.segments if s.label == "vocal") \
            if vocal else (0.0, 0.0)
        rows.append((vocal / max(det.duration, 1e-9), longest, f, det.duration))
    rows.sort(key=lambda r: (-r[0], -r[1][0]))
    print("vocal_share\tlongest_s\tat_s\tduration_s\tfile")
    for share, (length, at), f, dur in rows:
        print(f"{share:.3f}\t{length:.1f}\t{at:.1f}\t{dur:.1f}\t{f.relative_to(args.folder)}")
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from detector.audio import load

        out = Path(args.plots)
        out.mkdir(parents=True, exist_ok=True)
        for share, (length, at), f, _ in rows[: args.top]:
            y = load(f)
            a = int(max(0.0, at) * 16000)
            seg = y[a : a + int(min(max(length, 4.0), 12.0) * 16000)]
            fig, ax = plt.subplots(figsize=(12, 4))
            ax.imshow(logmel(seg).T, origin="lower", aspect="auto", cmap="magma",
                      extent=(at, at + len(seg) / 16000, 0, 80))
            ax.set_title(f"{f.relative_to(args.folder)}  vocal share {share:.2f}")
            ax.set_xlabel("s")
            ax.set_ylabel("mel band")
            fig.tight_layout()
            fig.savefig(out / (str(f.relative_to(args.folder)).replace("/", "__") + ".png"), dpi=80)
            plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
