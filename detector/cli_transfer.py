"""``python -m detector transfer``: transfer the source CRNN to real songs (or train the baseline).

    python -m detector transfer --source default-source --train SONGS [--val SONGS2] \\
        --mode finetune:L1 [--epochs N --lr X --seed S] -o model.pt

SONGS is a labelled collection (``<song>/audio.* + labels.lab``). Without ``--val``, a fifth of the
songs (at least one) is held out for early stopping and for tuning the threshold and median filter,
which are stored in the checkpoint. Modes: baseline, fixed:L1|L2|L3|all, finetune:L1|L2|L3|all.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    from detector.transfer import ALL_MODES, TARGET_TRAIN_CONFIG

    p = subparsers.add_parser("transfer", help="transfer the source model to real songs (Table 1 modes)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="default-source",
                   help="source checkpoint, or 'default-source' for the shipped detector/weights/source.pt")
    p.add_argument("--train", required=True, help="labelled song collection to train on")
    p.add_argument("--val", help="labelled song collection for validation (default: hold out 20%% of --train)")
    p.add_argument("--mode", required=True, choices=ALL_MODES)
    p.add_argument("--epochs", type=int, default=TARGET_TRAIN_CONFIG["epochs"])
    p.add_argument("--steps", type=int, default=TARGET_TRAIN_CONFIG["steps_per_epoch"], help="steps per epoch")
    p.add_argument("--lr", type=float, default=TARGET_TRAIN_CONFIG["lr"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, help="stop after this much wall time (best weights kept)")
    p.add_argument("--cache", help="feature cache folder (default: none)")
    p.add_argument("-o", "--out", required=True, help="checkpoint to write (.pt)")
    p.add_argument("--quiet", action="store_true")


def resolve_source(text: str):
    """Load the source checkpoint named on the command line ('default-source' = the shipped one)."""
    from detector.checkpoint import WEIGHTS_DIR, load_checkpoint
    from detector.errors import NoDefaultModelError

    if text == "default-source":
        path = WEIGHTS_DIR / "source.pt"
        if not path.is_file():
            raise NoDefaultModelError(f"no shipped source model at {path}; train one (see detector/weights/source.md) "
                                      "or pass --source PATH")
        return load_checkpoint(path)
    return load_checkpoint(text)


def run(args) -> int:
    from detector.data import FrameDataset
    from detector.transfer import TransferMode, default_target_config, split_validation, transfer

    mode = TransferMode.parse(args.mode)
    source = resolve_source(args.source) if mode.kind != "baseline" or args.source != "default-source" else None
    fcfg = source.feature_config if source is not None else None
    progress = not args.quiet
    songs = FrameDataset.from_collection(args.train, feature_config=fcfg, cache_dir=args.cache, progress=progress)
    if args.val:
        train_set = songs
        val_set = FrameDataset.from_collection(args.val, feature_config=songs.feature_config, cache_dir=args.cache,
                                               progress=progress)
    else:
        train_set, val_set = split_validation(songs, seed=args.seed)
    config = default_target_config(epochs=args.epochs, steps_per_epoch=args.steps, lr=args.lr)
    t0 = time.perf_counter()
    outcome = transfer(source=source, train_set=train_set, val_set=val_set, mode=mode, config=config, seed=args.seed,
                       progress=progress, max_seconds=args.max_minutes * 60 if args.max_minutes else None)
    wall = time.perf_counter() - t0
    manifest = {"train": str(args.train), "train_songs": train_set.names, "val_songs": val_set.names,
                "train_minutes": round(train_set.n_frames / 6000, 2), "wall_seconds": round(wall, 1)}
    outcome.save(args.out, feature_config=songs.feature_config, manifest=manifest)
    print(json.dumps({"out": str(Path(args.out)), "mode": str(mode), "validation": outcome.validation,
                      "postprocess": outcome.postprocess.to_dict(), "wall_seconds": round(wall, 1),
                      "trainable_parameters": outcome.result.parameter_counts["trainable"]}, indent=2))
    return 0
