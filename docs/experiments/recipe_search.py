"""One-off: the finetune:full recipe search of docs/experiments/paper.md ("Trying to close the gap").

Same folds as ``python -m detector experiment paper --folds 5 --seed 0`` (and the same train /
validation split per fold), but each fold's validation and test probabilities and weights are kept,
so thresholds, seed ensembles and weight interpolation can be scored afterwards without retraining.

    python docs/experiments/recipe_search.py run lr2e-4 --lr 2e-4 [--seed 1] [--source PATH]  # ~5 min, 2 processes
    python docs/experiments/recipe_search.py score lr2e-4 [lr5e-4 ...]          # mean of the runs' probabilities
    python docs/experiments/recipe_search.py wise lr2e-4 --alphas 0.25,0.5,0.75 # source <-> fine-tuned weights

Runs are stored in var/recipe-search/<name>.pkl. Run from the repo root with PYTHONPATH=platform:.
Features follow ``FeatureConfig()``: the centre front end since it became the default (the lr /
seed / ensemble rows of paper.md's search were run before, on the channel average).
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from detector.checkpoint import load_checkpoint
from detector.data import FrameDataset
from detector.experiment import song_folds
from detector.metrics import counts, metrics_from_counts
from detector.postprocess import PostprocessConfig
from detector.train import _median, predict_probabilities
from detector.transfer import (
    TransferMode,
    default_target_config,
    split_validation,
    transfer,
    tune_postprocess,
)

SONGS = "../shared/data/jamendolyrics"
OUT = Path("var/recipe-search")
songs = FrameDataset.from_collection(SONGS, cache_dir="var/cache/jamendo")
source = None  # the source model (main() loads it before forking the fold workers)
labels = {n: np.asarray(y, bool) for n, y in zip(songs.names, songs.labels, strict=True)}
features = dict(zip(songs.names, songs.features, strict=True))


def run_fold(k: int, test_idx: list[int], lr: float, seed: int) -> dict:
    rest = [i for i in range(len(songs)) if i not in test_idx]
    train_set, val_set = split_validation(songs.subset(rest), seed=k)  # as experiment.py with --seed 0
    test_set = songs.subset(test_idx)
    out = transfer(source=source, train_set=train_set, val_set=val_set, mode=TransferMode.parse("finetune:full"),
                   config=default_target_config(lr=lr, num_threads=1), seed=seed, progress=False)
    norm = out.result.normalization
    return {"k": k, "test": test_set.names, "val": val_set.names, "norm": norm,
            "test_p": predict_probabilities(out.model, test_set.features, normalization=norm),
            "val_p": predict_probabilities(out.model, val_set.features, normalization=norm),
            "state": {n: v.clone() for n, v in out.model.state_dict().items()}}


def pooled(folds: list[dict], probs, fixed: PostprocessConfig | None = None) -> dict:
    """Post-processing tuned on each fold's validation songs (or ``fixed``), test counts pooled."""
    total = dict.fromkeys(("tp", "fp", "tn", "fn"), 0)
    for f in folds:
        post = fixed or tune_postprocess(probs(f, "val"), [labels[n] for n in f["val"]])[0]
        for name, p in zip(f["test"], probs(f, "test"), strict=True):
            c = counts(labels[name], _median(p, post.median_frames) >= post.threshold)
            total = {key: total[key] + c[key] for key in total}
    return metrics_from_counts(total)


def show(label: str, m: dict) -> None:
    print(f"{label}: P {100 * m['precision']:.1f} R {100 * m['recall']:.1f} F {100 * m['f1']:.1f} "
          f"accuracy {100 * m['accuracy']:.1f}")


def load(name: str) -> list[dict]:
    return sorted(pickle.loads((OUT / f"{name}.pkl").read_bytes()), key=lambda f: f["k"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("name")
    r.add_argument("--lr", type=float, required=True)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--source", default="detector/weights/source.pt")
    s = sub.add_parser("score")
    s.add_argument("names", nargs="+")
    w = sub.add_parser("wise")
    w.add_argument("name")
    w.add_argument("--alphas", default="0,0.25,0.5,0.75,1")
    w.add_argument("--source", default="detector/weights/source.pt")
    args = p.parse_args()
    global source
    source = load_checkpoint(getattr(args, "source", "detector/weights/source.pt"))

    if args.cmd == "run":
        folds = list(enumerate(song_folds(len(songs), folds=5, seed=0), start=1))
        t0 = time.time()
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            runs = list(pool.map(run_fold, *zip(*folds, strict=True), [args.lr] * 5, [args.seed] * 5))
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{args.name}.pkl").write_bytes(pickle.dumps(runs))
        print(f"{args.name}: {time.time() - t0:.0f} s")
    elif args.cmd == "score":
        runs = [load(n) for n in args.names]
        key = {"val": "val_p", "test": "test_p"}

        def mean_probs(f: dict, part: str) -> list[np.ndarray]:
            same = [next(g for g in run if g["k"] == f["k"]) for run in runs]
            return [np.mean([g[key[part]][i] for g in same], axis=0) for i in range(len(f[part]))]

        show("tuned on validation songs", pooled(runs[0], mean_probs))
        for t in (0.4, 0.5, 0.6, 0.7):
            show(f"fixed threshold {t}, 0.8 s median", pooled(runs[0], mean_probs, PostprocessConfig(median_s=0.8, threshold=t)))
    else:  # WiSE-FT (Wortsman et al. 2022): weights (1 - a) * source + a * fine-tuned
        torch.set_num_threads(1)
        folds = load(args.name)
        for a in (float(x) for x in args.alphas.split(",")):
            table = interpolated_probabilities(folds, a)
            show(f"alpha {a}", pooled(folds, lambda f, part, table=table: table[f["k"]][part]))


def interpolated_probabilities(folds: list[dict], a: float) -> dict:
    """{fold: {"val" | "test": probabilities}} of each fold's model interpolated with the source."""
    base = {n: v.clone() for n, v in source.model.state_dict().items()}
    table = {}
    for f in folds:
        model = source.model
        model.load_state_dict({n: base[n] * (1 - a) + f["state"][n] * a if base[n].is_floating_point()
                               else f["state"][n] for n in base})
        table[f["k"]] = {part: predict_probabilities(model, [features[n] for n in f[part]], normalization=f["norm"])
                         for part in ("val", "test")}
    model.load_state_dict(base)
    return table

if __name__ == "__main__":
    main()
