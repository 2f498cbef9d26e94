"""``python -m detector transfer``: transfer the source CRNN to real songs (or train the baseline).

    python -m detector transfer --source default-source --train SONGS [--val SONGS2] \\
        --mode finetune:L1 [--epochs N --lr X --seed S] -o model.pt
    python -m detector transfer --source default-source --train SONGS --mode none -o model.pt

SONGS is a labelled collection (``<song>/audio.* + labels.lab``). Without ``--val``, a fifth of the
songs (at least one) is held out for early stopping and for tuning the threshold, median filter and
gap filling, which are stored in the checkpoint. Modes: baseline, fixed:L1|L2|L3|all,
finetune:L1|L2|L3|all, finetune:full, and ``none``: no training, the source weights as they are
with the post-processing tuned on every song of SONGS (and ``--val``), the recipe the
generalization protocol chose for the shipped default model (docs/experiments/generalization). It runs :func:`detector.adapt.adapt`, the platform's training
path too.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    from detector.adapt import DEFAULT_RECIPE
    from detector.transfer import ALL_MODES, TARGET_TRAIN_CONFIG

    p = subparsers.add_parser("transfer", help="transfer the source model to real songs (Table 1 modes)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="default-source",
                   help="source checkpoint, 'default-source' (the shipped detector/weights/source.pt) or "
                        "'paper-source' (the paper's CRNN)")
    p.add_argument("--train", required=True, help="labelled song collection to train on")
    p.add_argument("--val", action="append", default=[], metavar="DIR",
                   help="labelled collection(s) for development: early stopping, post-processing, the verdict "
                        "against the source (repeatable; e.g. var/suite/dev); default: hold out a fifth of --train")
    p.add_argument("--hold-out", type=int, help="songs of --train held out for development too (default: a "
                                                "fifth without --val, none with it)")
    p.add_argument("--mode", default=DEFAULT_RECIPE.mode or "finetune:full", choices=[*ALL_MODES, "none"],
                   help="default: the default recipe's; 'none': keep the source weights, tune only the "
                        "post-processing on every song")
    p.add_argument("--epochs", type=int, help=f"default: the recipe's ({TARGET_TRAIN_CONFIG['epochs']})")
    p.add_argument("--steps", type=int, help=f"steps per epoch (default: {TARGET_TRAIN_CONFIG['steps_per_epoch']})")
    p.add_argument("--lr", type=float, default=DEFAULT_RECIPE.lr, help="default: the default recipe's")
    p.add_argument("--anchor", type=float, default=DEFAULT_RECIPE.anchor,
                   help="L2-SP: pull every weight toward the source's (default 0: plain fine-tuning)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, help="stop after this much wall time (best weights kept)")
    p.add_argument("--cache", help="feature cache folder (default: none)")
    p.add_argument("-o", "--out", required=True, help="checkpoint to write (.pt)")
    p.add_argument("--quiet", action="store_true")


def resolve_source(text: str):
    """Load the source checkpoint named on the command line: 'default-source' is the shipped
    detector/weights/source.pt, 'paper-source' the paper's 20.7K-parameter CRNN (paper-source.pt)."""
    from detector.checkpoint import WEIGHTS_DIR, load_checkpoint
    from detector.errors import NoDefaultModelError

    shipped = {"default-source": "source", "paper-source": "paper-source"}
    if text in shipped:
        path = WEIGHTS_DIR / f"{shipped[text]}.pt"
        if not path.is_file():
            raise NoDefaultModelError(f"no shipped model at {path}; train one (see {path.with_suffix('.md')}) "
                                      "or pass --source PATH")
        return load_checkpoint(path)
    return load_checkpoint(text)


def run(args) -> int:
    from detector.adapt import Recipe, adapt, choose_development, songs_from_collection
    from detector.errors import DetectorError
    from detector.transfer import TransferMode, default_target_config

    mode = None if args.mode == "none" else TransferMode.parse(args.mode)
    source = resolve_source(args.source)
    songs = songs_from_collection(args.train)
    hold_out = args.hold_out if args.hold_out is not None else (0 if args.val else max(1, round(len(songs) / 5)))
    if mode is None:  # nothing is trained, so every song can judge the post-processing
        names, dev = [], [s.name for s in songs]
    elif hold_out:
        names, dev = choose_development([s.name for s in songs], seed=args.seed,
                                        fraction=hold_out / max(1, len(songs)), min_songs=2)
    else:
        names, dev = [s.name for s in songs], []
    train = [s for s in songs if s.name in names]
    development = [s for s in songs if s.name in dev] + [s for folder in args.val for s in songs_from_collection(folder)]
    if not development:
        raise DetectorError(f"need at least 2 songs to hold one out for validation, got {len(songs)}; pass --val DIR")
    recipe = Recipe(mode=None if mode is None else str(mode), lr=args.lr, anchor=args.anchor, epochs=args.epochs,
                    steps=args.steps)
    t0 = time.perf_counter()
    result = adapt(start=source, train=train, development=development, recipe=recipe,
                   config=default_target_config(), seed=args.seed, cache_dir=args.cache, progress=not args.quiet,
                   max_seconds=args.max_minutes * 60 if args.max_minutes else None)
    wall = time.perf_counter() - t0
    result.save(args.out, parent=source.metadata.get("path"),
                extra_manifest={"train": str(args.train), "development_collections": list(args.val),
                                "wall_seconds": round(wall, 1)})
    print(json.dumps({"out": str(Path(args.out)), "mode": str(mode) if mode else "none",
                      "validation": result.development,
                      "start_model_validation": result.start_development, "better_than_start": result.promote,
                      "postprocess": result.postprocess.to_dict(), "wall_seconds": round(wall, 1),
                      "trainable_parameters": result.training.get("parameter_counts", {}).get("trainable", 0)}, indent=2))
    return 0
