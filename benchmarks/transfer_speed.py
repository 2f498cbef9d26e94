"""Fine-tuning time on real songs: the shipped default model adapted to songs with the default recipe
(detector.adapt.adapt, DEFAULT_RECIPE: the platform's training job and the `transfer` command do the
same), from audio files to a model with tuned post-processing, a fifth of the songs held out.
Target: 30 minutes of songs in at most 10 minutes on 2 cores. Prints JSON.

    python benchmarks/transfer_speed.py [--data ../shared/data/jamendolyrics] [--start PATH]
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

from detector.adapt import DEFAULT_RECIPE  # noqa: E402  (torch-free)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "jamendolyrics"))
    ap.add_argument("--start", help="model to start from (default: the shipped default model)")
    args = ap.parse_args()
    if not Path(args.data).is_dir():
        print(json.dumps({"benchmark": "transfer_speed", "skipped": f"no song collection at {args.data}"}))
        return 0
    from detector.adapt import adapt, songs_from_collection
    from detector.inference import load_model

    t0 = time.perf_counter()
    start = load_model(args.start, runtime="torch")
    songs = songs_from_collection(args.data)
    with tempfile.TemporaryDirectory(prefix="singscope-transfer-") as tmp:
        result = adapt(start=start, train=songs, recipe=DEFAULT_RECIPE, seed=0, cache_dir=Path(tmp) / "cache")
        result.save(Path(tmp) / "model.pt")
    wall = time.perf_counter() - t0
    import soundfile as sf

    minutes = sum(sf.info(str(s.audio)).duration for s in songs) / 60
    print(json.dumps({
        "benchmark": "transfer_speed", "recipe": DEFAULT_RECIPE.to_dict(), "songs": len(songs),
        "songs_minutes": round(minutes, 1), "train_songs": len(result.train_songs),
        "development_songs": len(result.development_songs), "epochs_run": result.training.get("epochs_run"),
        "frames_per_second": result.training.get("frames_per_second"), "wall_seconds": round(wall, 1),
        "seconds_per_30_min_of_songs": round(wall * 30 / minutes, 1),
        "target_seconds_per_30_min": TARGET_SECONDS_PER_30_MIN,
        "ok": wall * 30 / minutes <= TARGET_SECONDS_PER_30_MIN,
        "development": result.development, "start_development": result.start_development,
        "cpu_count": os.cpu_count(),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
