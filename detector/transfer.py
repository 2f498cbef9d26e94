"""The paper's transfer settings (Table 1): which blocks of the source CRNN a target model starts
from, and which stay frozen. :func:`detector.adapt.adapt` trains them (the one training path).

    >>> model = prepare_model(TransferMode.parse("finetune:L1"), source=load_checkpoint("source.pt"), seed=0)

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
"""

from __future__ import annotations

from dataclasses import dataclass

from detector.checkpoint import Bundle
from detector.config import ALL_TRANSFER_MODES, TARGET_TRAIN_CONFIG, TRANSFER_MODES
from detector.errors import DetectorError
from detector.model import BLOCKS, CRNN, build_model
from detector.train import TrainConfig

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


def default_target_config(**overrides) -> TrainConfig:
    return TrainConfig(**{**TARGET_TRAIN_CONFIG, **overrides})
