"""Adapting a model to a set of songs: the one training path of the CLI, the experiments and the web.

    >>> songs = [SongItem("a", Path("a.mp3"), [(12.0, 30.5), ...]), ...]
    >>> result = adapt(start=load_model("default.pt", runtime="torch"), train=songs[:5],
    ...                development=songs[5:], recipe=Recipe(), callback=report)
    >>> result.promote, result.reason          # better than the start model on the development songs?
    >>> result.save("model.pt")

What it does, in order:

1. reads the songs' audio and references into features through both front ends (the centre filter
   for stereo, the mono fold-down) and frame labels (:func:`detector.material.pool_from_items`);
2. when no development songs are named, holds out a fifth of the songs (at least one, when there
   are three or more) by a seeded draw: development songs stop training early, choose the
   post-processing and judge the result; they are never trained on;
3. trains the recipe (:class:`Recipe`: transfer mode, learning rate, L2-SP anchoring to the start
   weights, share of mono crops) with :func:`detector.train.train`;
4. tunes median, threshold and gap filling on the development songs for the new model **and for
   the start model** (:func:`detector.evaluation.tune_postprocess`), so both are judged alike, and
   says whether the new model is better there (``promote``); without development songs nothing is
   judged and ``promote`` is False.

``callback(info) -> bool | None`` sees ``{"event": "features" | "step" | "epoch" | "evaluate", ...}``
and may return False to cancel (:class:`~detector.errors.TrainingCancelled`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from detector.errors import DetectorError

__all__ = ["Recipe", "SongItem", "Adaptation", "adapt", "RECIPES", "DEFAULT_RECIPE", "choose_development"]


@dataclass(frozen=True)
class Recipe:
    """How a start model becomes a model of the songs. ``mode`` None: the start model as it is (only
    the post-processing is tuned on the development songs)."""

    mode: str | None = "finetune:full"
    lr: float = 5e-4
    anchor: float = 0.0  # L2-SP pull toward the start weights (detector.train.TrainConfig.anchor)
    mono_prob: float = 0.35  # share of crops heard through the mono fold-down
    epochs: int | None = None  # None: detector.config.TARGET_TRAIN_CONFIG's
    steps: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Recipe:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


#: the candidates the generalization protocol and the learning curve compare; DEFAULT_RECIPE is the
#: one they chose (docs/experiments/generalization, benchmarks/learning_curve.py)
RECIPES = {
    "finetune": Recipe(),
    "finetune-anchor": Recipe(anchor=1e-2),
}
DEFAULT_RECIPE = RECIPES["finetune"]


@dataclass(frozen=True)
class SongItem:
    """A song and its reference: ``vocal`` spans in seconds (everything else non-vocal)."""

    name: str
    audio: Path
    vocal: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "audio", Path(self.audio))
        object.__setattr__(self, "vocal", tuple((float(a), float(b)) for a, b in self.vocal))


@dataclass
class Adaptation:
    """The outcome of :func:`adapt`. ``backend`` is the new model (PyTorch bundle) with its tuned
    post-processing; ``development`` and ``start_development`` are pooled frame scores of the new
    and of the start model on the development songs (both with post-processing tuned there)."""

    backend: Any
    recipe: Recipe
    train_songs: list[str]
    development_songs: list[str]
    development: dict | None
    start_development: dict | None
    promote: bool
    reason: str
    history: list[dict] = field(default_factory=list)
    training: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def postprocess(self):
        return self.backend.postprocess

    @property
    def model(self):
        return self.backend.model

    def save(self, path: str | os.PathLike, *, parent: str | None = None, extra_manifest: dict | None = None) -> Path:
        """A self-describing checkpoint: the data manifest names every song and its role."""
        from detector.checkpoint import save_checkpoint

        b = self.backend
        manifest = {"train_songs": self.train_songs, "development_songs": self.development_songs,
                    "recipe": self.recipe.to_dict(), **(extra_manifest or {})}
        metrics = {"development": self.development, "start_development": self.start_development,
                   "promote": self.promote, "reason": self.reason}
        return save_checkpoint(path, model=b.model, model_config=b.model_config, feature_config=b.feature_config,
                               normalization=b.normalization, postprocess=b.postprocess, manifest=manifest,
                               metrics=metrics, training={**self.training, "recipe": self.recipe.to_dict()},
                               seed=self.training.get("seed"), kind="target", parent=parent)


def choose_development(names: Sequence[str], *, seed: int = 0, fraction: float = 0.2,
                       min_songs: int = 3) -> tuple[list[str], list[str]]:
    """``(train, development)``: a seeded fifth of the songs held out (at least one when there are
    ``min_songs`` or more; none below, where every song is needed for training)."""
    names = list(names)
    if len(names) < max(2, min_songs):
        return names, []
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_dev = max(1, int(round(fraction * len(names))))
    return sorted(order[n_dev:]), sorted(order[:n_dev])


def adapt(
    *,
    start,
    train: Sequence[SongItem],
    development: Sequence[SongItem] | None = None,
    recipe: Recipe = DEFAULT_RECIPE,
    config=None,
    seed: int = 0,
    callback: Callable[[dict], bool | None] | None = None,
    state_path: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    max_seconds: float | None = None,
    progress: bool = False,
) -> Adaptation:
    """Adapt ``start`` (a :class:`~detector.checkpoint.Bundle`) to the songs (module docstring).

    ``config``: the :class:`~detector.train.TrainConfig` the recipe's values are laid over (default:
    :func:`detector.transfer.default_target_config`); ``max_seconds`` caps the training's wall time.
    """
    from detector.evaluation import model_backend, objective, predict, tune_postprocess
    from detector.material import pool_from_items
    from detector.remix import RemixConfig, RemixSet
    from detector.train import train as train_loop
    from detector.transfer import TransferMode, default_target_config, prepare_model

    t0 = time.perf_counter()
    if not train and recipe.mode is not None:
        raise DetectorError("adapting a model needs at least one song with a reference")
    if development is None and recipe.mode is None:
        development, train = list(train), []  # nothing to train: every song judges the start model
    elif development is None:
        train_names, dev_names = choose_development([s.name for s in train], seed=seed)
        by_name = {s.name: s for s in train}
        train, development = [by_name[n] for n in train_names], [by_name[n] for n in dev_names]
    development = list(development)
    ask = callback or (lambda _info: None)
    if ask({"event": "features", "songs": len(train) + len(development)}) is False:
        from detector.errors import TrainingCancelled

        raise TrainingCancelled("cancelled before training")

    def items(songs):
        return [(s.name, s.audio, list(s.vocal)) for s in songs]

    dev_set = None
    if development:
        from detector.data import FrameDataset

        dev_set = FrameDataset.from_items(items(development), feature_config=start.feature_config,
                                          cache_dir=cache_dir, source="development")

    start_scores = start_post = None
    if dev_set is not None:
        start_post, start_scores = tune_postprocess(predict(start, dev_set.features), dev_set.labels)

    history: list[dict] = []
    training: dict = {"seed": seed}
    if recipe.mode is None:
        backend = replace(start, postprocess=start_post or start.postprocess)
        new_scores = start_scores
    else:
        pool = pool_from_items("songs", items(train), stereo=True, cache_dir=cache_dir,
                               feature_config=start.feature_config)
        train_set = RemixSet(mixtures=[pool], config=RemixConfig(recipe={"mixture": 1.0}, mono_prob=recipe.mono_prob))
        overrides: dict[str, Any] = {"lr": recipe.lr, "anchor": recipe.anchor}
        if threads:
            overrides["num_threads"] = threads
        if recipe.epochs:
            overrides["epochs"] = recipe.epochs
        if recipe.steps:
            overrides["steps_per_epoch"] = recipe.steps
        config = replace(config, **overrides) if config is not None else default_target_config(**overrides)
        if dev_set is None:  # nothing to stop on: the fixed budget, the last weights
            config = replace(config, patience=config.epochs + 1)
        mode = TransferMode.parse(recipe.mode)
        model = prepare_model(mode, source=start, seed=seed)

        def relay(info: dict) -> bool | None:
            if info.get("event") == "epoch":
                history.append({k: info[k] for k in ("epoch", "train_loss", "val_f1", "val_accuracy") if k in info})
            return ask(info)

        result = train_loop(model, train_set, dev_set, config=config, seed=seed, frozen=mode.frozen,
                            normalization=start.normalization if mode.kind != "baseline" else None,
                            callback=relay, state_path=state_path, progress=progress, max_seconds=max_seconds)
        training = {**result.summary(), "seed": seed, "transfer_mode": str(mode)}
        backend = model_backend(result.model, normalization=result.normalization, feature_config=start.feature_config)
        new_scores = None
        if dev_set is not None:
            ask({"event": "evaluate", "songs": len(development)})
            post, new_scores = tune_postprocess(predict(backend, dev_set.features), dev_set.labels)
            backend = replace(backend, postprocess=post)
        else:
            backend = replace(backend, postprocess=start.postprocess)

    if new_scores is None or start_scores is None:
        promote, reason = False, "no development song held out: nothing to judge the new model on"
    else:
        new, old = objective(new_scores), objective(start_scores)
        promote = recipe.mode is not None and new >= old
        reason = (f"on {len(development)} development song(s) the new model scores accuracy "
                  f"{new_scores['accuracy']:.3f} / F1 {new_scores['f1']:.3f} against the start model's "
                  f"{start_scores['accuracy']:.3f} / {start_scores['f1']:.3f}: "
                  + ("better or equal, promote" if promote else "not better, keep the start model"))

    def rounded(d):
        return None if d is None else {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}

    return Adaptation(backend=backend, recipe=recipe, train_songs=[s.name for s in train],
                      development_songs=[s.name for s in development], development=rounded(new_scores),
                      start_development=rounded(start_scores), promote=promote, reason=reason, history=history,
                      training=training, seconds=round(time.perf_counter() - t0, 1))


def songs_from_collection(folder: str | os.PathLike, names: Sequence[str] | None = None) -> list[SongItem]:
    """The songs of a labelled collection (``<song>/audio.* + labels.lab``) as :class:`SongItem` s."""
    from detector.data import find_items
    from detector.vad import read_alignment

    keep = None if names is None else set(names)
    return [SongItem(n, audio, read_alignment(lab)) for n, audio, lab in find_items(Path(folder))
            if keep is None or n in keep]
