"""Transfer learning from the source (speech + music) CRNN to real songs: the paper's Table 1 modes.

    >>> from detector.transfer import TransferMode, transfer
    >>> outcome = transfer(source=load_checkpoint("source.pt"), train_set=songs, val_set=held_out,
    ...                    mode=TransferMode.parse("finetune:L1"), seed=0)
    >>> outcome.save("model.pt", feature_config=songs.feature_config)

Modes (Hou et al. 2020, Table 1):
- ``baseline``: the same CRNN trained from scratch on the target songs only.
- ``fixed:Li``: block Li is copied from the source model and frozen (weights and BatchNorm
  statistics); everything else is trained.
- ``finetune:Li``: block Li is copied from the source model as initialisation; everything is trained.
- ``all`` stands for L1, L2 and L3 together.
- ``finetune:full`` (not in the paper's table): the whole source model, recurrent part and output
  layer included, is the starting point and everything is trained: plain fine-tuning.

Layers that are not transferred start from a fresh seeded initialisation, as in the paper's
definition (only Li carries source knowledge). Transferred modes feed the network with the source
model's feature normalisation, so copied filters see inputs on the scale they were trained on;
the baseline fits its normalisation on its own training songs.

The median-filter length, threshold and gap filling are tuned on the validation songs
(:func:`detector.evaluation.tune_postprocess`) and stored in the checkpoint's post-processing
config, so detection uses them without further flags. ``train_set`` is anything
:func:`detector.train.train` reads: songs as a :class:`~detector.data.FrameDataset`, or a
:class:`~detector.remix.RemixSet` / :class:`~detector.remix.Blend` of songs and other material.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detector.checkpoint import Bundle, save_checkpoint
from detector.config import ALL_TRANSFER_MODES, TARGET_TRAIN_CONFIG, TRANSFER_MODES, FeatureConfig
from detector.data import FrameDataset
from detector.errors import DetectorError
from detector.evaluation import model_backend, predict, tune_postprocess
from detector.model import BLOCKS, CRNN, build_model
from detector.postprocess import PostprocessConfig
from detector.train import TrainConfig, TrainResult, train

MODES = TRANSFER_MODES  # the paper's Table 1
ALL_MODES = ALL_TRANSFER_MODES  # with finetune:full


@dataclass(frozen=True)
class TransferMode:
    """``kind`` is baseline, fixed or finetune; ``blocks`` the transferred blocks (empty for baseline)."""

    kind: str
    blocks: tuple[str, ...] = ()
    whole: bool = False  # finetune:full: the recurrent part and output layer are copied too

    @classmethod
    def parse(cls, text: str) -> TransferMode:
        text = text.strip()
        if text not in ALL_MODES:
            raise DetectorError(f"transfer mode {text!r} is not one of: {', '.join(ALL_MODES)}")
        if text == "baseline":
            return cls("baseline")
        kind, block = text.split(":")
        if block == "full":
            return cls(kind, BLOCKS, whole=True)
        return cls(kind, BLOCKS if block == "all" else (block,))

    def __str__(self) -> str:
        if self.kind == "baseline":
            return "baseline"
        return f"{self.kind}:{'full' if self.whole else 'all' if self.blocks == BLOCKS else self.blocks[0]}"

    @property
    def frozen(self) -> tuple[str, ...]:
        return self.blocks if self.kind == "fixed" else ()


def prepare_model(mode: TransferMode, *, source: Bundle | None, seed: int) -> CRNN:
    """A fresh seeded CRNN of the source's shape with the mode's blocks copied from ``source``."""
    if mode.kind != "baseline" and source is None:
        raise DetectorError(f"mode {mode} transfers layers and needs a source model (--source)")
    model = build_model(source.model_config if source is not None else None, seed=seed)
    if mode.whole:
        model.load_state_dict(source.model.state_dict())
    else:
        for name in mode.blocks:
            getattr(model, name).load_state_dict(getattr(source.model, name).state_dict())
    return model


@dataclass
class TransferOutcome:
    mode: TransferMode
    result: TrainResult
    postprocess: PostprocessConfig
    validation: dict  # pooled metrics on the validation songs with the tuned post-processing
    source_path: str | None

    @property
    def model(self) -> CRNN:
        return self.result.model

    def save(self, path: str | os.PathLike, *, feature_config: FeatureConfig, manifest: dict | None = None) -> Path:
        counts = self.result.parameter_counts
        return save_checkpoint(
            path, model=self.model, feature_config=feature_config, normalization=self.result.normalization,
            postprocess=self.postprocess, seed=self.result.seed, manifest=manifest,
            training={**self.result.summary(), "transfer_mode": str(self.mode), "trainable_parameters": counts["trainable"]},
            metrics={"validation": self.validation, "trainable_parameters": counts["trainable"]},
            kind="baseline" if self.mode.kind == "baseline" else "target", parent=self.source_path,
        )


def transfer(
    *,
    source: Bundle | None,
    train_set: FrameDataset,
    val_set: FrameDataset,
    mode: TransferMode,
    config: TrainConfig | None = None,
    seed: int = 0,
    callback=None,
    progress: bool = True,
    max_seconds: float | None = None,
    state_path: str | os.PathLike | None = None,
) -> TransferOutcome:
    """Train a target model in ``mode`` and tune its post-processing on ``val_set``.

    callback / progress / max_seconds / state_path: as :func:`detector.train.train`.
    """
    if source is not None and source.feature_config != train_set.feature_config:
        raise DetectorError("the songs' feature config differs from the source model's; "
                            "build the datasets with the source checkpoint's feature_config")
    model = prepare_model(mode, source=source, seed=seed)
    normalization = source.normalization if (source is not None and mode.kind != "baseline") else None
    result = train(
        model, train_set, val_set, config=config, seed=seed, frozen=mode.frozen, normalization=normalization,
        callback=callback, progress=progress, max_seconds=max_seconds, state_path=state_path,
    )
    backend = model_backend(result.model, normalization=result.normalization, feature_config=val_set.feature_config)
    postprocess, scores = tune_postprocess(predict(backend, val_set.features), val_set.labels)
    validation = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()}
    source_path = source.metadata.get("path") if source is not None else None
    return TransferOutcome(mode, result, postprocess, validation, source_path)


def split_validation(dataset: FrameDataset, *, fraction: float = 0.2, seed: int = 0) -> tuple[FrameDataset, FrameDataset]:
    """Hold out whole songs (at least one) for validation: (train, validation)."""
    if len(dataset) < 2:
        raise DetectorError(f"need at least 2 songs to hold one out for validation, got {len(dataset)}; pass --val DIR")
    order = np.random.default_rng(seed).permutation(len(dataset))
    n_val = max(1, int(round(fraction * len(dataset))))
    return dataset.subset(sorted(order[n_val:].tolist())), dataset.subset(sorted(order[:n_val].tolist()))


def default_target_config(**overrides) -> TrainConfig:
    return TrainConfig(**{**TARGET_TRAIN_CONFIG, **overrides})
