"""Training throughput of the CRNN loop (frames per second, forward + backward + AdamW, with
augmentation) on random features of the real shape. Prints JSON.

    python benchmarks/train_speed.py [--steps 20] [--batch-size 32] [--crop-seconds 4] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.config import FeatureConfig  # noqa: E402
from detector.data import FrameDataset  # noqa: E402
from detector.model import build_model  # noqa: E402
from detector.train import TrainConfig, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--crop-seconds", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cfg = FeatureConfig()
    feats = [rng.standard_normal((1200, cfg.n_mels)).astype(np.float16) for _ in range(40)]
    labels = [(rng.random(1200) < 0.6).astype(np.uint8) for _ in range(40)]
    ds = FrameDataset([str(i) for i in range(40)], feats, labels, cfg)
    val = ds.subset(range(4))
    tc = TrainConfig(epochs=1, steps_per_epoch=args.steps, batch_size=args.batch_size,
                     crop_seconds=args.crop_seconds, num_threads=args.threads)
    t0 = time.perf_counter()
    r = train(build_model(seed=0), ds, val, config=tc, seed=0, progress=False)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "benchmark": "train_speed", "steps": args.steps, "batch_size": args.batch_size,
        "crop_frames": tc.crop_frames, "threads": args.threads,
        "frames_per_second": round(r.frames_per_second, 1),
        "audio_hours_per_minute": round(r.frames_per_second * 60 / 360000, 3),
        "train_seconds": round(r.train_seconds, 2), "wall_seconds": round(wall, 2),
        "parameters": r.parameter_counts["trainable"], "cpu_count": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
