"""What each corrected song buys: the learning loop of the platform, simulated, on two collections.

For a collection of labelled songs, a simulated annotator corrects songs one after another; after
k = 1, 2, 4, 6, 8 corrected songs the model is adapted exactly as the platform's training job does it
(detector.adapt.adapt: the default recipe, a fifth of the corrected songs held out as development
songs once there are three, promotion only when better there), starting from the model in use
(the start model, then the last promoted one), and scored on the songs not corrected yet. Below
three corrected songs none can be held out, so the platform never promotes a new model: the curve
records the model in use there without training one.
The order of correction is random (several seeds) or the platform's priority order
(detector.priority: uncertainty + disagreement with the previous model + novelty), recomputed after
each round from the model in use.

Collections:
- ``jamendo``: the ten songs of ../shared/data/jamendolyrics, starting from the shipped source model
  (which never heard a song), so no song is known to the start model;
- ``remix``: fifteen songs made from the dev and test vocal stems of ../shared/data/musdb-cc
  (detector.suite.build_remix_collection), starting from the shipped default model (which never
  heard those stems).

    python benchmarks/learning_curve.py [--orders 2 | --seeds 1,2] [--no-priority] [--ks 1,2,4,6,8] [--collections jamendo,remix]

Prints JSON (one record per collection: the start model's figures and, per order, the curve) and
writes a plot to var/learning_curve.png. Long: 3 adaptations per order and collection
(about an hour with --orders 1 on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def score(backend, songs, cache) -> tuple[dict, dict]:
    """Pooled accuracy / F1 of ``backend`` (its own post-processing) on ``songs``, and the
    probabilities per song (for the priority order)."""
    from detector.data import FrameDataset
    from detector.evaluation import predict
    from detector.metrics import counts, metrics_from_counts
    from detector.postprocess import binarize

    ds = FrameDataset.from_items([(s.name, s.audio, list(s.vocal)) for s in songs],
                                 feature_config=backend.feature_config, cache_dir=cache)
    probs = predict(backend, ds.features)
    total = dict.fromkeys(("tp", "fp", "tn", "fn"), 0)
    for p, y in zip(probs, ds.labels, strict=True):
        c = counts(y.astype(bool), binarize(p, config=backend.postprocess))
        for k in total:
            total[k] += c[k]
    m = metrics_from_counts(total)
    sigs = {n: f for n, f in zip(ds.names, ds.features, strict=True)}
    return ({"accuracy": round(m["accuracy"], 4), "f1": round(m["f1"], 4), "songs": len(songs)},
            {"probabilities": dict(zip(ds.names, probs, strict=True)), "features": sigs})


def run_order(start, songs, *, order: str, ks: list[int], cache: Path, log, recipe) -> list[dict]:
    """One simulated annotator: ``order`` is ``random-<seed>`` or ``priority``."""
    import numpy as np

    from detector.adapt import adapt, choose_development
    from detector.priority import signature, song_priorities

    by_name = {s.name: s for s in songs}
    if order.startswith("random"):
        seed = int(order.split("-")[1])
        sequence = [songs[i].name for i in np.random.default_rng(seed).permutation(len(songs))]
    sigs = {n: signature(f) for n, f in score(start, songs, cache)[1]["features"].items()}  # the sound: fixed
    corrected: list[str] = []
    model, previous = start, None
    curve = []
    for k in ks:
        if k >= len(songs):
            break
        while len(corrected) < k:
            if order == "priority":
                rest = [s for s in songs if s.name not in corrected]
                _, seen = score(model, rest, cache)
                pri = song_priorities(probabilities=seen["probabilities"], signatures=sigs, verified=corrected,
                                      previous=previous)
                corrected.append(max(pri, key=lambda n: pri[n]["priority"]))
            else:
                corrected.append(sequence[len(corrected)])
        t0 = time.perf_counter()
        rest = [s for s in songs if s.name not in corrected]
        # the start model on the same songs: the rest shrinks and changes with the order, so a gain is
        # read against this, not against the start model's figure on the whole collection
        baseline = {f"start_{m}": v for m, v in score(start, rest, cache)[0].items() if m != "songs"}
        if not choose_development(corrected, seed=0)[1]:
            # below three verified songs none is held out, so nothing can judge a new model and the
            # platform never promotes one: the model in use stays (training it would change nothing)
            figures, _ = score(model, rest, cache)
            curve.append({"k": k, **figures, **baseline, "corrected": list(corrected), "promoted": False,
                          "reason": "no development songs: nothing can judge a new model", "seconds": 0.0})
            log(f"{order} k={k}: accuracy {figures['accuracy']:.3f} F1 {figures['f1']:.3f} (too few songs to judge)")
            continue
        result = adapt(start=model, train=[by_name[n] for n in corrected], recipe=recipe, seed=0,
                       cache_dir=cache)
        if result.promote:
            _, before = score(model, rest, cache)
            previous = before["probabilities"]
            model = result.backend
        figures, _ = score(model, rest, cache)
        curve.append({"k": k, **figures, **baseline, "corrected": list(corrected), "promoted": result.promote,
                      "reason": result.reason, "seconds": round(time.perf_counter() - t0, 1)})
        log(f"{order} k={k}: accuracy {figures['accuracy']:.3f} F1 {figures['f1']:.3f} "
            f"({'promoted' if result.promote else 'kept the model in use'})")
    return curve


def collection(name: str, cache: Path):
    from detector.adapt import songs_from_collection
    from detector.inference import load_model

    if name == "jamendo":
        folder = SHARED / "jamendolyrics"
        start = load_model(ROOT / "detector" / "weights" / "source.pt", runtime="torch")
    else:
        from detector.corpus.stems import prepare_stems
        from detector.suite import build_remix_collection

        stems = ROOT / "var" / "material" / "stems"
        if not (stems / "stems.json").is_file():
            prepare_stems(src=SHARED / "musdb-cc", out=stems)
        folder = ROOT / "var" / "learning_curve" / "remix"
        build_remix_collection(stems=stems, out=folder)
        start = load_model(None, runtime="torch")
    return songs_from_collection(folder), start


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(6 * len(results), 7), squeeze=False)
    for col, (name, res) in enumerate(results.items()):
        top, bottom = axes[0][col], axes[1][col]
        randoms = iter(["#1c7ed6", "#37b24d", "#7048e8", "#868e96"])
        for order, curve in res["orders"].items():
            style = {"marker": "o", "label": order, "color": "#f08c00" if order == "priority" else next(randoms),
                     "linewidth": 2.5 if order == "priority" else 1}
            ks = [0] + [c["k"] for c in curve]
            acc = [res["start"]["accuracy"]] + [c["accuracy"] for c in curve]
            top.plot(ks, [100 * a for a in acc], **style)
            # the gain over the start model on the very songs scored (they change with k and order)
            gain = [0.0] + [100 * (c["accuracy"] - c["start_accuracy"]) for c in curve if "start_accuracy" in c]
            if len(gain) == len(ks):
                bottom.plot(ks, gain, **style)
        top.set_title(f"{name}: accuracy on the songs not corrected yet")
        top.set_ylabel("accuracy (%)")
        bottom.set_title("gain over the start model on the same songs")
        bottom.set_ylabel("accuracy points")
        bottom.axhline(0, color="#888", linewidth=0.8)
        for ax in (top, bottom):
            ax.set_xlabel("corrected songs")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=2, help="random orders per collection (plus the priority order)")
    ap.add_argument("--seeds", default=None, help="the random orders' seeds, e.g. 1,2 (default: 0 .. orders-1)")
    ap.add_argument("--ks", default="1,2,4,6,8")
    ap.add_argument("--collections", default="jamendo,remix")
    ap.add_argument("--recipe", default=None, help="a name of detector.adapt.RECIPES (default: DEFAULT_RECIPE)")
    ap.add_argument("--no-priority", action="store_true", help="random orders only")
    ap.add_argument("--out", default=str(ROOT / "var" / "learning_curve.png"), help="the plot")
    args = ap.parse_args()
    from detector.adapt import DEFAULT_RECIPE, RECIPES

    recipe = RECIPES[args.recipe] if args.recipe else DEFAULT_RECIPE
    ks = [int(k) for k in args.ks.split(",")]

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    out: dict = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="singscope-curve-") as tmp:
        cache = Path(tmp)
        for name in args.collections.split(","):
            if name == "jamendo" and not (SHARED / "jamendolyrics").is_dir() or \
                    name == "remix" and not (SHARED / "musdb-cc").is_dir():
                out[name] = {"skipped": "shared data not found"}
                continue
            songs, start = collection(name, cache)
            start_figures, _ = score(start, songs, cache)
            log(f"{name}: {len(songs)} songs; start model accuracy {start_figures['accuracy']:.3f}")
            seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else range(args.orders)
            orders = [f"random-{i}" for i in seeds] + ([] if args.no_priority else ["priority"])
            out[name] = {"songs": len(songs), "start": start_figures,
                         "orders": {o: run_order(start, songs, order=o, ks=ks, cache=cache, log=log, recipe=recipe)
                                    for o in orders}}
    plot({k: v for k, v in out.items() if "orders" in v}, Path(args.out))
    print(json.dumps({"benchmark": "learning_curve", "recipe": recipe.to_dict(),
                      "minutes": round((time.perf_counter() - t0) / 60, 1), "collections": out, "plot": args.out},
                     indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
