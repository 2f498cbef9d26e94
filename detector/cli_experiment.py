"""``python -m detector experiment paper|generalization``: the paper's tables, and the honest protocol.

    python -m detector experiment paper --source paper-source --data ../shared/data/jamendolyrics \\
        --folds 5 -o docs/experiments/paper

trains the baseline and the eight transfer settings on every fold (same songs, same seed), tests
each song once, and writes table1.md, table2.md, results.json and figure.svg into the output folder.

    python -m detector experiment generalization --sources paper=detector/weights/paper-source.pt \\
        wide=var/models/source-wide.pt --data ../shared/data/jamendolyrics --stems var/material/stems \\
        --material var/material -o docs/experiments/generalization

chooses the source model on the robustness suite's dev part, the song recipe on development songs
inside leave-one-language-out folds, and scores test songs and the suite's test part once
(detector/generalization.py), writing README.md (the tables) and results.json.
The same seed gives the same numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import time


def add_parser(subparsers) -> None:
    from detector.transfer import MODES, TARGET_TRAIN_CONFIG

    p = subparsers.add_parser("experiment", help="reproduce the paper's tables by k-fold cross-validation",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=["paper", "generalization"],
                   help="paper: Tables 1 and 2; generalization: the leave-one-language-out protocol")
    p.add_argument("--source", default="paper-source",
                   help="paper: source checkpoint, 'paper-source' (the paper's CRNN, the default) or 'default-source'")
    p.add_argument("--sources", nargs="+", metavar="NAME=PATH",
                   help="candidate source checkpoints (generalization; default: the shipped source model)")
    p.add_argument("--recipes", help="comma-separated song recipes to compare (generalization; default: all of "
                                     "detector.generalization.DEFAULT_RECIPES)")
    p.add_argument("--data", required=True, help="labelled song collection (<song>/audio.* + labels.lab)")
    p.add_argument("--stems", help="folder from `corpus stems` (generalization: suite stem remixes)")
    p.add_argument("--material", help="material folder (generalization: held-out soundtracks)")
    p.add_argument("--suite", default="var/suite", help="robustness suite folder, built when missing")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated settings (default: the paper's nine; finetune:full may be added)")
    p.add_argument("--epochs", type=int, default=TARGET_TRAIN_CONFIG["epochs"])
    p.add_argument("--steps", type=int, default=TARGET_TRAIN_CONFIG["steps_per_epoch"], help="steps per epoch")
    p.add_argument("--lr", type=float, default=TARGET_TRAIN_CONFIG["lr"])
    p.add_argument("--cache", help="feature cache folder")
    p.add_argument("--jobs", type=int, default=1,
                   help="training runs at once, one process and one core each (default 1)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--quiet", action="store_true")


def run(args) -> int:
    if args.name == "generalization":
        return run_generalization(args)
    import sys

    from tqdm import tqdm

    from detector.adapt import songs_from_collection
    from detector.cli_transfer import resolve_source
    from detector.errors import DetectorError
    from detector.experiment import run_experiment, write_report
    from detector.transfer import ALL_MODES, default_target_config

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in ALL_MODES]
    if unknown:
        raise DetectorError(f"unknown setting(s) {', '.join(unknown)}; choose from {', '.join(ALL_MODES)}")
    source = resolve_source(args.source)
    songs = songs_from_collection(args.data)
    if args.jobs < 1:
        raise DetectorError(f"--jobs must be at least 1, got {args.jobs}")
    if not 2 <= args.folds <= len(songs):
        raise DetectorError(f"--folds must be between 2 and the number of songs ({len(songs)}), got {args.folds}")
    config = default_target_config(epochs=args.epochs, steps_per_epoch=args.steps, lr=args.lr)
    bar = tqdm(total=args.folds * len(modes), unit="run", desc="experiment", disable=args.quiet, file=sys.stderr)

    def step(message: str) -> None:
        bar.update(1)
        bar.set_postfix_str(message[-60:])

    t0 = time.perf_counter()
    results = run_experiment(source=source, songs=songs, folds=args.folds, seed=args.seed, modes=modes,
                             config=config, lr=args.lr, jobs=args.jobs, cache_dir=args.cache or "var/cache",
                             on_progress=step)
    bar.close()
    meta = {
        "command": "python -m detector " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("__main__.py") else None,
        "source": source.metadata.get("path"), "data": str(args.data), "songs": len(songs),
        "folds": args.folds, "seed": args.seed,
        "train_config": {**config.to_dict(), **({"num_threads": 1} if args.jobs > 1 else {})}, "jobs": args.jobs,
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }
    summary = write_report(results, args.out, meta=meta)
    print(json.dumps({"out": str(args.out), "table1": summary["table1"], "wall_seconds": meta["wall_seconds"]}, indent=2))
    return 0


def run_generalization(args) -> int:
    import os
    import sys

    from detector.checkpoint import default_model_path
    from detector.errors import DetectorError
    from detector.generalization import DEFAULT_RECIPES, run_protocol, write_report

    sources = {}
    for spec in args.sources or [f"source={default_model_path().with_name('source.pt')}"]:
        name, _, path = spec.partition("=")
        if not path:
            raise DetectorError(f"--sources takes NAME=PATH, got {spec!r}")
        sources[name] = path
    names = [r.strip() for r in (args.recipes or ",".join(DEFAULT_RECIPES)).split(",") if r.strip()]
    unknown = [r for r in names if r not in DEFAULT_RECIPES]
    if unknown:
        raise DetectorError(f"unknown recipe(s) {', '.join(unknown)}; choose from {', '.join(DEFAULT_RECIPES)}")

    def say(message: str) -> None:
        if not args.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    result = run_protocol(sources=sources, songs=args.data, suite=args.suite, stems=args.stems,
                          material=args.material,
                          recipes={r: DEFAULT_RECIPES[r] for r in names}, cache_dir=args.cache or "var/cache",
                          seed=args.seed, say=say)
    meta = {"command": "python -m detector " + " ".join(sys.argv[1:]),
            "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}", "seed": args.seed}
    write_report(result, args.out, meta=meta)
    print(json.dumps({"out": str(args.out), "test": result["test"]["pooled"],
                      "default_recipe": result["default_recipe"]["name"]}, indent=2, default=float))
    return 0
