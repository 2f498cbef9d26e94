"""``python -m detector train ... -o model.pt``: train a CRNN from scratch.

Two kinds of training data:

- ``--corpus DIR`` alone: a source corpus (``DIR/train`` + ``DIR/val``, from ``corpus source``) or
  any labelled collection of ``<item>/audio.* + labels.lab`` (then ``--val DIR`` or a held-out
  share of items);
- ``--material`` / ``--stems`` (with or without ``--corpus`` and ``--songs``): crops drawn by
  :class:`detector.remix.RemixSet` from the material's pools (real vocal stems remixed over real
  and rendered accompaniment, accompaniment alone, the corpus's mixtures, songs), validated on the
  ``dev`` part of the robustness suite (``--suite``, built from the same folders when missing) and
  the corpus's ``val`` clips.

Writes a self-describing checkpoint (post-processing tuned on the validation items), and a
resumable state file ``<out>.state`` after every epoch (``--resume`` continues it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a CRNN on a labelled corpus (the source model)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", help="source corpus folder (train/ + val/) or a labelled collection")
    p.add_argument("--val", help="validation collection (default: CORPUS/val, else 10%% of the items)")
    p.add_argument("--material", help="material folder (scripts/get_source_material.sh, get_instrumental_music.sh, "
                                      "corpus render-music): accompaniment pools")
    p.add_argument("--stems", help="folder from `corpus stems`: real vocals to remix, their accompaniments and mixes")
    p.add_argument("--songs", help="a labelled song collection trained on as mixtures")
    p.add_argument("--suite", help="robustness suite folder whose dev part validates (built when missing; "
                                   "default var/suite)")
    p.add_argument("--model", default="paper", help="model shape: paper (20.7K parameters) or wide (73.6K)")
    p.add_argument("--mono-prob", type=float, help="share of crops heard through the mono fold-down (remix "
                                                   "training; default detector.remix.RemixConfig)")
    p.add_argument("-o", "--out", required=True, help="checkpoint to write (.pt)")
    p.add_argument("--kind", default="source", choices=["source", "target", "baseline"])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps", type=int, default=200, help="steps per epoch")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--crop-seconds", type=float, default=4.0)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--patience", type=int, default=6, help="epochs without validation-F1 gain before stopping")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-minutes", type=float, help="stop after this much wall time (best weights kept)")
    p.add_argument("--cache", help="feature cache folder (default: CORPUS/.cache when writable)")
    p.add_argument("--resume", action="store_true", help="continue from <out>.state")
    p.add_argument("--eval", metavar="DIR", help="also report frame metrics on this labelled collection "
                                                 "(e.g. real songs), stored in the checkpoint's metrics")
    p.add_argument("--quiet", action="store_true")


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)


def _r(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items() if not isinstance(v, dict)}


def evaluation_report(backend, folder, *, progress: bool = False) -> dict:
    """Frame metrics of a trained model (a backend with its tuned post-processing) on a labelled
    collection (e.g. real songs): pooled and per item, raw (threshold 0.5, no smoothing) and
    post-processed (:mod:`detector.evaluation`, the windows detection uses)."""
    from detector.data import FrameDataset
    from detector.evaluation import predict, score
    from detector.postprocess import PostprocessConfig

    ds = FrameDataset.from_collection(folder, feature_config=backend.feature_config, progress=progress)
    probs = predict(backend, ds.features)
    raw = score(probs, ds.labels, postprocess=PostprocessConfig(median_s=0.0, threshold=0.5), names=ds.names)
    post = score(probs, ds.labels, postprocess=backend.postprocess, names=ds.names)
    return {
        "collection": str(folder), "items": len(ds), "hours": round(ds.n_frames / 360000, 3),
        "vocal_fraction": round(ds.vocal_fraction, 4), "postprocess": backend.postprocess.to_dict(),
        "raw_0.5": _r(raw["pooled"]), "postprocessed": _r(post["pooled"]),
        "per_item": {name: {"f1": round(m["f1"], 4), "accuracy": round(m["accuracy"], 4),
                            "precision": round(m["precision"], 4), "recall": round(m["recall"], 4)}
                     for name, m in post["songs"].items()},
    }


def run(args) -> int:
    import dataclasses

    from detector.augment import AugmentConfig
    from detector.checkpoint import save_checkpoint
    from detector.config import FeatureConfig
    from detector.errors import DetectorError
    from detector.evaluation import model_backend, predict, tune_postprocess
    from detector.model import build_model, model_config
    from detector.train import TrainConfig, train

    fcfg = FeatureConfig()
    progress = not args.quiet
    remix = args.material is not None or args.stems is not None
    if args.corpus is None and not remix:
        raise DetectorError("give --corpus, or --material / --stems (remix training)")
    corpus = Path(args.corpus) if args.corpus else None
    if corpus is not None and not corpus.is_dir():
        raise DetectorError(f"corpus folder {str(corpus)!r} does not exist")
    default_cache = corpus / ".cache" if corpus is not None and _writable(corpus) else Path("var/cache")
    cache = Path(args.cache) if args.cache else default_cache
    if remix:
        train_set, val_set = _remix_sets(args, corpus, fcfg, cache, progress)
    else:
        train_set, val_set = _corpus_sets(args, corpus, fcfg, cache, progress)
    aug = AugmentConfig(enabled=not args.no_augment)
    cfg = TrainConfig(epochs=args.epochs, steps_per_epoch=args.steps, batch_size=args.batch_size,
                      crop_seconds=args.crop_seconds, lr=args.lr, weight_decay=args.weight_decay,
                      patience=args.patience, num_threads=args.threads, augment=aug)
    out = Path(args.out)
    state = out.with_name(out.name + ".state")
    model = build_model(model_config(args.model), seed=args.seed)
    t0 = time.perf_counter()
    result = train(model, train_set, val_set, config=cfg, seed=args.seed, state_path=state, resume=args.resume,
                   progress=progress, max_seconds=args.max_minutes * 60 if args.max_minutes else None)
    wall = time.perf_counter() - t0
    # post-processing tuned on the validation items
    backend = model_backend(result.model, normalization=result.normalization, feature_config=fcfg)
    post, tuned = tune_postprocess(predict(backend, val_set.features), val_set.labels)
    backend.postprocess = post
    threshold = post.threshold
    metrics: dict = {
        "val_raw": {k: round(v, 4) if isinstance(v, float) else v for k, v in result.best_metrics.items()},
        "val": {k: round(v, 4) if isinstance(v, float) else v for k, v in tuned.items()},
        "val_items": len(val_set), "val_hours": round(val_set.n_frames / 360000, 3),
        "train_items": len(train_set), "train_hours": round(train_set.n_frames / 360000, 3),
    }
    if args.eval:
        metrics["eval"] = evaluation_report(backend, args.eval, progress=progress)
    manifest = None
    if remix:
        manifest = {"remix": train_set.describe(), "validation_items": val_set.names,
                    "inputs": {k: getattr(args, k) for k in ("corpus", "material", "stems", "songs", "suite")}}
    elif (corpus / "corpus.json").is_file():
        summary = json.loads((corpus / "corpus.json").read_text())
        manifest = {k: summary[k] for k in ("format", "seed", "sources", "totals", "mix_config") if k in summary}
        manifest["corpus"] = str(corpus)
    else:
        manifest = {"corpus": str(corpus), "train_items": train_set.names, "val_items": val_set.names}
    training = result.summary()
    training["wall_seconds"] = round(wall, 1)
    save_checkpoint(out, model=result.model, model_config=result.model.config, feature_config=fcfg, normalization=result.normalization,
                    postprocess=post, training=training, seed=args.seed, manifest=manifest, metrics=metrics,
                    kind=args.kind)
    report = {"out": str(out), "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
              "stopped": result.stopped, "train_seconds": round(result.train_seconds, 1),
              "wall_seconds": round(wall, 1), "frames_per_second": round(result.frames_per_second, 1),
              "threshold": threshold, "metrics": metrics, "augment": dataclasses.asdict(aug)["enabled"]}
    print(json.dumps(report, indent=2))
    return 0


def _corpus_sets(args, corpus: Path, fcfg, cache: Path, progress: bool):
    from detector.data import FrameDataset
    from detector.errors import DetectorError

    if (corpus / "train").is_dir() and args.val is None and (corpus / "val").is_dir():
        train_set = FrameDataset.from_collection(corpus / "train", feature_config=fcfg, cache_dir=cache,
                                                 progress=progress)
        val_set = FrameDataset.from_collection(corpus / "val", feature_config=fcfg, cache_dir=cache, progress=progress)
    elif args.val:
        train_set = FrameDataset.from_collection(corpus, feature_config=fcfg, cache_dir=cache, progress=progress)
        val_set = FrameDataset.from_collection(args.val, feature_config=fcfg, cache_dir=cache, progress=progress)
    else:
        full = FrameDataset.from_collection(corpus, feature_config=fcfg, cache_dir=cache, progress=progress)
        if len(full) < 2:
            raise DetectorError(f"corpus {str(corpus)!r} has {len(full)} item(s); need at least 2 or --val")
        every = max(2, round(len(full) / max(1, round(0.1 * len(full)))))
        val_idx = [i for i in range(len(full)) if i % every == every - 1]
        train_set = full.subset([i for i in range(len(full)) if i not in set(val_idx)])
        val_set = full.subset(val_idx)
    return train_set, val_set


def _remix_sets(args, corpus: Path | None, fcfg, cache: Path, progress: bool):
    """A RemixSet of the material's pools, and the validation items: the suite's dev part (+ the
    corpus's val clips, + --val)."""
    from dataclasses import replace

    from detector.material import material_pools, validation_set
    from detector.remix import RemixConfig, RemixSet

    source = corpus if corpus is not None and (corpus / "train").is_dir() else None
    pools = material_pools(material=args.material, stems=args.stems, source_corpus=source, songs=args.songs,
                           cache_dir=cache, progress=progress)
    config = RemixConfig() if args.mono_prob is None else replace(RemixConfig(), mono_prob=args.mono_prob)
    train_set = RemixSet(**pools.train, config=config)
    extra = [c for c in ((source / "val") if source else None, args.val) if c]
    val_set = validation_set(suite=args.suite or "var/suite", stems=args.stems, material=args.material,
                             extra=extra, feature_config=fcfg, cache_dir=cache, progress=progress)
    return train_set, val_set
