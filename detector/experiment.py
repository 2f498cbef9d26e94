"""The paper's experiment: song-level k-fold cross-validation of the nine settings of Table 1.

For each fold, the fold's songs are the test songs; of the remaining songs one in five (at least
one) is held out for early stopping and for tuning threshold and median filter, the rest train.
Every setting (baseline and the eight transfer modes) is trained on the same songs with the same
seed; each song is tested exactly once, so the pooled counts cover the whole collection.

Outputs (``write_report``): ``table1.md`` (pooled P/R/F and trainable parameters per setting),
``table2.md`` (per song: vocal/non-vocal frame counts, baseline vs transfer P/R/F, pooled row),
``results.json`` (everything, including per-fold details) and ``figure.svg``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from detector.adapt import Recipe, SongItem, adapt, choose_development
from detector.checkpoint import Bundle
from detector.data import FrameDataset
from detector.evaluation import predict
from detector.metrics import counts, metrics_from_counts
from detector.postprocess import binarize
from detector.train import TrainConfig
from detector.transfer import MODES

TABLE2_TRANSFER = "finetune:L1"  # the paper's Table 2 compares the baseline with fine-tuned L1


def song_folds(n_songs: int, *, folds: int, seed: int) -> list[list[int]]:
    """Song indices of each fold's test set: a seeded permutation cut into ``folds`` parts."""
    if not 2 <= folds <= n_songs:
        raise ValueError(f"folds must be between 2 and the number of songs ({n_songs}), got {folds}")
    order = np.random.default_rng(seed).permutation(n_songs)
    return [sorted(part.tolist()) for part in np.array_split(order, folds)]


@dataclass
class SettingResult:
    mode: str
    trainable: int
    per_song: dict[str, dict] = field(default_factory=dict)  # song -> counts
    folds: list[dict] = field(default_factory=list)

    def pooled(self) -> dict:
        total = {k: sum(c[k] for c in self.per_song.values()) for k in ("tp", "fp", "tn", "fn")}
        return metrics_from_counts(total)


def run_experiment(
    *,
    source: Bundle,
    songs: Sequence[SongItem],
    folds: int = 5,
    seed: int = 0,
    modes: Sequence[str] = MODES,
    config: TrainConfig | None = None,
    lr: float | None = None,
    jobs: int = 1,
    cache_dir: str | Path | None = None,
    on_progress: Callable[[str], None] | None = None,
    progress: bool = False,
) -> dict[str, SettingResult]:
    """Train and test every setting on every fold; returns ``{mode: SettingResult}``.

    ``jobs`` > 1 trains that many (fold, setting) runs at once in worker processes, one torch thread
    each: this small CRNN gains little from a second thread (20.6K -> 29.6K frames/s), so two
    processes on two cores (2 x 18.5K) do 1.25x the work of one process on two threads. Each run is
    seeded on its own (a test checks that a small experiment gives the same numbers with one and
    with two processes).
    """
    runs = [(k, test_idx, mode) for k, test_idx in enumerate(song_folds(len(songs), folds=folds, seed=seed), start=1)
            for mode in modes]
    if jobs > 1:
        import multiprocessing

        # train() sets torch's thread count from the config: one per process
        shared = (source, songs, replace(config or TrainConfig(), num_threads=1), lr, seed, cache_dir, progress)
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker, initargs=shared)
        with pool:
            futures = [pool.submit(_run_in_worker, *run) for run in runs]
            done = (f.result() for f in as_completed(futures))
            outcomes = _collect(done, on_progress, folds)
    else:
        shared = (source, songs, config, lr, seed, cache_dir, progress)
        outcomes = _collect((_run_one(*shared, *run) for run in runs), on_progress, folds)
    results = {m: SettingResult(m, 0) for m in modes}
    for out in sorted(outcomes, key=lambda o: o["fold"]["fold"]):
        res = results[out["mode"]]
        res.trainable = out["trainable"]
        res.per_song.update(out["per_song"])
        res.folds.append(out["fold"])
    return results


def _collect(outcomes, on_progress, folds: int) -> list[dict]:
    collected = []
    for out in outcomes:
        collected.append(out)
        if on_progress:
            on_progress(f"fold {out['fold']['fold']}/{folds} {out['mode']}: val F1 {out['fold']['validation']['f1']:.3f}")
    return collected


def _run_one(source, songs, config, lr, seed, cache_dir, progress, k: int, test_idx: list[int], mode: str) -> dict:
    """One setting on one fold: adapt on the fold's training songs (:func:`detector.adapt.adapt`, the
    one training path), score its test songs."""
    rest = [songs[i] for i in range(len(songs)) if i not in test_idx]
    train_names, dev_names = choose_development([s.name for s in rest], seed=seed + k, min_songs=2)
    by_name = {s.name: s for s in rest}
    tests = [songs[i] for i in test_idx]
    t0 = time.perf_counter()
    recipe = Recipe(mode=mode, lr=lr if lr is not None else (config or TrainConfig()).lr, mono_prob=0.0)
    result = adapt(start=source, train=[by_name[n] for n in train_names], development=[by_name[n] for n in dev_names],
                   recipe=recipe, config=config, seed=seed, cache_dir=cache_dir, progress=progress)
    test_set = FrameDataset.from_items([(s.name, s.audio, list(s.vocal)) for s in tests],
                                       feature_config=source.feature_config, cache_dir=cache_dir)
    post = result.postprocess
    per_song = {name: counts(np.asarray(y, bool), binarize(p, config=post))
                for name, p, y in zip(test_set.names, predict(result.backend, test_set.features), test_set.labels,
                                      strict=True)}
    fold = {
        "fold": k, "test": test_set.names, "train": train_names, "val": dev_names,
        "postprocess": post.to_dict(), "validation": result.development,
        "epochs_run": result.training.get("epochs_run"), "seconds": round(time.perf_counter() - t0, 1),
    }
    return {"mode": mode, "fold": fold, "per_song": per_song,
            "trainable": result.training.get("parameter_counts", {}).get("trainable", 0)}


_WORKER_ARGS: tuple = ()


def _init_worker(*shared) -> None:
    global _WORKER_ARGS
    _WORKER_ARGS = shared


def _run_in_worker(k: int, test_idx: list[int], mode: str) -> dict:
    return _run_one(*_WORKER_ARGS, k, test_idx, mode)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def table1(results: dict[str, SettingResult]) -> tuple[str, list[dict]]:
    rows = []
    lines = ["| setting | P | R | F | accuracy | trainable |", "|---|---|---|---|---|---|"]
    for mode, res in results.items():
        m = res.pooled()
        rows.append({"setting": mode, "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                     "accuracy": m["accuracy"], "trainable": res.trainable})
        lines.append(f"| {mode} | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} | "
                     f"{_pct(m['accuracy'])} | {res.trainable / 1000:.2f}K |")
    return "\n".join(lines), rows


def table2(results: dict[str, SettingResult], *, transfer_mode: str = TABLE2_TRANSFER) -> tuple[str, list[dict]]:
    base, tl = results["baseline"], results[transfer_mode]
    lines = [f"| song | on | off | baseline P | R | F | {transfer_mode} P | R | F |", "|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for name in sorted(base.per_song):
        b, t = metrics_from_counts(base.per_song[name]), metrics_from_counts(tl.per_song[name])
        c = base.per_song[name]
        on, off = c["tp"] + c["fn"], c["tn"] + c["fp"]
        rows.append({"song": name, "on": on, "off": off, "baseline": b, "transfer": t})
        lines.append(f"| {name} | {on} | {off} | {_pct(b['precision'])} | {_pct(b['recall'])} | {_pct(b['f1'])} | "
                     f"{_pct(t['precision'])} | {_pct(t['recall'])} | {_pct(t['f1'])} |")
    b, t = base.pooled(), tl.pooled()
    on = sum(r["on"] for r in rows)
    off = sum(r["off"] for r in rows)
    lines.append(f"| **pooled** | {on} | {off} | {_pct(b['precision'])} | {_pct(b['recall'])} | {_pct(b['f1'])} | "
                 f"{_pct(t['precision'])} | {_pct(t['recall'])} | {_pct(t['f1'])} |")
    return "\n".join(lines), rows


def figure(results: dict[str, SettingResult], path: Path, *, transfer_mode: str = TABLE2_TRANSFER) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1, 1.4]})
    modes = list(results)
    f1 = [results[m].pooled()["f1"] for m in modes]
    colors = ["#868e96" if m == "baseline" else ("#5c7cfa" if m.startswith("fixed") else "#f08c00") for m in modes]
    ax1.barh(modes[::-1], [100 * v for v in f1[::-1]], color=colors[::-1])
    ax1.set_xlabel("pooled frame F1 (%)")
    ax1.set_xlim(max(0, 100 * min(f1) - 10), 100)
    ax1.set_title("Table 1: setting vs F1")
    songs = sorted(results["baseline"].per_song)
    x = np.arange(len(songs))
    base = [100 * metrics_from_counts(results["baseline"].per_song[s])["f1"] for s in songs]
    tl = [100 * metrics_from_counts(results[transfer_mode].per_song[s])["f1"] for s in songs]
    ax2.bar(x - 0.2, base, 0.4, label="baseline", color="#868e96")
    ax2.bar(x + 0.2, tl, 0.4, label=transfer_mode, color="#f08c00")
    ax2.set_xticks(x, [s[:14] for s in songs], rotation=45, ha="right", fontsize=8)
    ax2.set_ylabel("frame F1 (%)")
    ax2.set_title("Table 2: per song")
    ax2.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


def write_report(results: dict[str, SettingResult], out: str | Path, *, meta: dict) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t1, rows1 = table1(results)
    summary = {"meta": meta, "table1": rows1}
    (out / "table1.md").write_text(t1 + "\n")
    if "baseline" in results and TABLE2_TRANSFER in results:
        t2, rows2 = table2(results)
        (out / "table2.md").write_text(t2 + "\n")
        summary["table2"] = rows2
        figure(results, out / "figure.svg")
    summary["settings"] = {m: {"per_song": r.per_song, "folds": r.folds, "trainable": r.trainable}
                           for m, r in results.items()}
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return summary
