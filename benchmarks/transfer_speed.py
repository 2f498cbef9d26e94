"""Fine-tuning time on real songs: the shipped source model transferred with the recipe of
detector/weights/default.pt (detector.config.DEFAULT_RECIPE, the web's training default, and the
default target configuration), from audio files to a saved model with a tuned threshold, as the
`transfer` command does it. Target: 30 minutes of songs in at most 10 minutes on 2 cores. Prints JSON.

    python benchmarks/transfer_speed.py [--data ../shared/data/jamendolyrics] [--mode M --lr X]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS_PER_30_MIN = 600.0

from detector.config import DEFAULT_RECIPE  # noqa: E402  (torch-free)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "jamendolyrics"))
    ap.add_argument("--mode", default=DEFAULT_RECIPE["mode"])
    ap.add_argument("--lr", type=float, default=DEFAULT_RECIPE["lr"])
    args = ap.parse_args()
    if not Path(args.data).is_dir():
        print(json.dumps({"benchmark": "transfer_speed", "skipped": f"no song collection at {args.data}"}))
        return 0
    from detector.checkpoint import load_checkpoint
    from detector.data import FrameDataset
    from detector.transfer import (
        TARGET_TRAIN_CONFIG,
        TransferMode,
        default_target_config,
        split_validation,
        transfer,
    )

    t0 = time.perf_counter()
    source = load_checkpoint(ROOT / "detector" / "weights" / "source.pt")
    songs = FrameDataset.from_collection(args.data, feature_config=source.feature_config, progress=False)
    t_features = time.perf_counter() - t0
    train_set, val_set = split_validation(songs, seed=0)
    outcome = transfer(source=source, train_set=train_set, val_set=val_set, mode=TransferMode.parse(args.mode),
                       config=default_target_config(lr=args.lr), seed=0, progress=False)
    with tempfile.TemporaryDirectory(prefix="singscope-transfer-") as tmp:
        outcome.save(Path(tmp) / "model.pt", feature_config=songs.feature_config)
    wall = time.perf_counter() - t0
    minutes = songs.n_frames / 6000
    print(json.dumps({
        "benchmark": "transfer_speed", "mode": args.mode, "config": {**TARGET_TRAIN_CONFIG, "lr": args.lr},
        "songs": len(songs), "songs_minutes": round(minutes, 1), "train_songs": len(train_set),
        "validation_songs": len(val_set), "epochs_run": outcome.result.epochs_run,
        "frames_per_second": round(outcome.result.frames_per_second, 1),
        "features_seconds": round(t_features, 1), "wall_seconds": round(wall, 1),
        "seconds_per_30_min_of_songs": round(wall * 30 / minutes, 1),
        "target_seconds_per_30_min": TARGET_SECONDS_PER_30_MIN,
        "ok": wall * 30 / minutes <= TARGET_SECONDS_PER_30_MIN,
        "validation_f1": outcome.validation["f1"], "cpu_count": os.cpu_count(),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
