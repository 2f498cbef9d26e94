"""Training loop shared by the source model and transfer learning.

    >>> from detector.model import build_model
    >>> from detector.train import TrainConfig, train
    >>> result = train(build_model(seed=0), train_set, val_set, config=TrainConfig(epochs=20), seed=0)
    >>> result.model, result.normalization, result.best_metrics, result.history

``train`` takes any CRNN (fresh, or with blocks copied from a source model), two
:class:`detector.data.FrameDataset` s, optional ``frozen`` blocks (``"L1"``, ``"L2"``, ``"L3"``,
``"all"``) and hyper-parameters. It draws batches of random crops, augments them in the feature
domain (:mod:`detector.augment`), minimises BCE with logits (``pos_weight`` balancing vocal and
non-vocal frames) with AdamW, validates on whole items after every epoch, keeps the weights with
the best validation F1 and stops early when it has not improved for ``patience`` epochs.

Determinism: every epoch reseeds its crop sampler, augmentation generator and torch's global RNG
(dropout) from ``(seed, epoch)``, so a run resumed from its state file continues exactly as an
uninterrupted run would. Threads are fixed by ``TrainConfig.num_threads``.

Resuming: with ``state_path`` the loop writes its whole state (weights, optimiser, scheduler,
history, best weights) atomically after every epoch; ``resume=True`` picks it up.

Progress / cancel: ``callback(info: dict) -> bool | None`` is called every ``callback_every``
steps (``info["event"] == "step"``) and after every epoch (``"epoch"``); returning ``False`` (or
raising) stops training: :class:`TrainingCancelled` is raised after the state file is written.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from detector.augment import AugmentConfig, augment_batch, spec_mask
from detector.checkpoint import atomic_torch_save
from detector.config import FRAME_RATE
from detector.data import FrameDataset
from detector.errors import DetectorError, TrainingCancelled
from detector.features import Normalization, fit_normalization
from detector.model import CRNN

__all__ = [
    "TrainConfig",
    "TrainResult",
    "TrainingCancelled",
    "train",
    "evaluate",
]


@dataclass
class TrainConfig:
    """Hyper-parameters. Lengths in seconds are converted on the 10 ms frame grid.

    pos_weight: ``"auto"`` (non-vocal / vocal frame ratio of the training set, clipped to
        [0.2, 5]), a number, or None (plain BCE).
    lr_patience / lr_factor: halve (factor) the learning rate when validation F1 has not improved
        for lr_patience epochs; ``patience`` epochs without improvement stop training.
    anchor: weight of an L2 pull of every trained weight toward its value when training started
        (L2-SP, Li et al. 2018): fine-tuning on a few songs keeps what the start model knew. 0 = off.
    """

    epochs: int = 30
    steps_per_epoch: int = 200
    batch_size: int = 32
    crop_seconds: float = 4.0
    lr: float = 3e-3
    weight_decay: float = 1e-2
    pos_weight: float | str | None = "auto"
    patience: int = 6
    lr_patience: int = 2
    lr_factor: float = 0.5
    min_lr: float = 1e-5
    grad_clip: float = 5.0
    anchor: float = 0.0
    threshold: float = 0.5
    num_threads: int = 2
    val_max_items: int | None = None
    callback_every: int = 20
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if isinstance(self.augment, dict):
            self.augment = AugmentConfig.from_dict(self.augment)
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.crop_seconds <= 0 or self.lr <= 0:
            raise ValueError(f"crop_seconds and lr must be positive, got {self.crop_seconds}, {self.lr}")
        if isinstance(self.pos_weight, str) and self.pos_weight != "auto":
            raise ValueError(f"pos_weight must be 'auto', a number or None, got {self.pos_weight!r}")

    @property
    def crop_frames(self) -> int:
        return max(1, int(round(self.crop_seconds * FRAME_RATE)))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["augment"] = self.augment.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(**data)


@dataclass
class TrainResult:
    """What :func:`train` returns. ``model`` holds the best weights (eval mode)."""

    model: CRNN
    normalization: Normalization
    config: TrainConfig
    seed: int
    frozen: tuple[str, ...]
    history: list[dict]
    best_epoch: int
    best_metrics: dict
    epochs_run: int
    stopped: str  # "early-stopping" | "epochs" | "max-time"
    train_seconds: float
    frames_per_second: float
    pos_weight: float | None
    parameter_counts: dict[str, int]

    def summary(self) -> dict[str, Any]:
        """JSON-able training record (for checkpoints and model cards)."""
        return {
            "config": self.config.to_dict(),
            "seed": self.seed,
            "frozen": list(self.frozen),
            "best_epoch": self.best_epoch,
            "best_metrics": self.best_metrics,
            "epochs_run": self.epochs_run,
            "stopped": self.stopped,
            "train_seconds": round(self.train_seconds, 1),
            "frames_per_second": round(self.frames_per_second, 1),
            "pos_weight": self.pos_weight,
            "parameter_counts": self.parameter_counts,
            "history": self.history,
        }


def evaluate(
    model: CRNN, dataset: FrameDataset, *, normalization: Normalization, threshold: float = 0.5,
    max_items: int | None = None,
) -> dict[str, float]:
    """Pooled frame metrics of ``model`` on ``dataset`` at ``threshold``, no smoothing: the validation
    score that picks the best epoch (probabilities through :func:`detector.evaluation.predict`)."""
    from detector.evaluation import model_backend, predict
    from detector.metrics import frame_metrics

    n = len(dataset) if max_items is None else min(len(dataset), max_items)
    backend = model_backend(model, normalization=normalization, feature_config=dataset.feature_config)
    probs = predict(backend, dataset.features[:n])
    pred = np.concatenate([p >= threshold for p in probs]) if n else np.zeros(0, bool)
    ref = np.concatenate([np.asarray(y, bool) for y in dataset.labels[:n]]) if n else np.zeros(0, bool)
    return frame_metrics(ref, pred)


# ----------------------------------------------------------------------------------------------
# the loop
# ----------------------------------------------------------------------------------------------


def _epoch_seed(seed: int, epoch: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


def _pos_weight(config: TrainConfig, train_set: FrameDataset) -> float | None:
    if config.pos_weight is None:
        return None
    if config.pos_weight == "auto":
        v = train_set.vocal_fraction
        if v <= 0 or v >= 1:
            return 1.0
        return float(np.clip((1 - v) / v, 0.2, 5.0))
    return float(config.pos_weight)


def train(
    model: CRNN,
    train_set: FrameDataset,
    val_set: FrameDataset | None,
    *,
    config: TrainConfig | None = None,
    seed: int = 0,
    frozen: Sequence[str] = (),
    normalization: Normalization | None = None,
    callback: Callable[[dict], bool | None] | None = None,
    state_path: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    max_seconds: float | None = None,
) -> TrainResult:
    """Train ``model`` in place and return it with the best validation-F1 weights loaded.

    model: a :class:`detector.model.CRNN` (fresh or initialised from a source model).
    train_set / val_set: :class:`detector.data.FrameDataset` (raw log-mel + frame labels).
    frozen: blocks to keep fixed (``model.freeze``); their BatchNorm statistics stay fixed too.
    normalization: feature standardisation; default: fitted on ``train_set`` (pass the source
        model's to keep transferred layers seeing the inputs they were trained on).
    callback: see the module docstring. state_path / resume: see the module docstring.
    max_seconds: stop once this much wall time has been spent (checked after every step; the
        partial epoch is validated first, and the best weights are kept).
    """
    cfg = config or TrainConfig()
    if len(train_set) == 0 or (val_set is not None and len(val_set) == 0):
        raise DetectorError(f"the training set and a given validation set must not be empty (got {len(train_set)} "
                            f"and {len(val_set) if val_set is not None else 'no'} items)")
    if train_set.feature_config.n_mels != model.config.n_mels:
        raise DetectorError(f"features have {train_set.feature_config.n_mels} mel bands, the model expects "
                            f"{model.config.n_mels}")
    torch.set_num_threads(int(cfg.num_threads))
    model.unfreeze()
    frozen = tuple(frozen)
    if frozen:
        model.freeze(frozen)
    frozen = model.frozen
    norm = normalization or fit_normalization(train_set.iter_features())
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise DetectorError(f"nothing to train: freezing {', '.join(frozen)} leaves no trainable parameter")
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    start_weights = [p.detach().clone() for p in params] if cfg.anchor > 0 else []
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=cfg.lr_factor, patience=cfg.lr_patience, min_lr=cfg.min_lr)
    pw = _pos_weight(cfg, train_set)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none",
                                   pos_weight=torch.tensor(pw) if pw is not None else None)
    mean = torch.from_numpy(norm.mean).view(1, 1, -1)
    std = torch.from_numpy(norm.std).view(1, 1, -1)

    history: list[dict] = []
    best_f1, best_epoch, bad_epochs = -1.0, 0, 0
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best_metrics: dict = {}
    start_epoch = 1
    train_seconds, frames_seen = 0.0, 0
    state_file = Path(state_path) if state_path is not None else None
    if resume and state_file is not None and state_file.is_file():
        st = torch.load(state_file, map_location="cpu", weights_only=False)
        if st.get("seed") != seed or st.get("config") != cfg.to_dict() or tuple(st.get("frozen", ())) != frozen:
            raise DetectorError(f"{state_file}: the saved run used another seed, config or frozen blocks; "
                                "remove the state file or pass the same settings")
        model.load_state_dict(st["model"])
        optimizer.load_state_dict(st["optimizer"])
        scheduler.load_state_dict(st["scheduler"])
        norm = Normalization.from_dict(st["normalization"])
        mean = torch.from_numpy(norm.mean).view(1, 1, -1)
        std = torch.from_numpy(norm.std).view(1, 1, -1)
        history, best_f1, best_epoch, bad_epochs = st["history"], st["best_f1"], st["best_epoch"], st["bad_epochs"]
        best_state, best_metrics = st["best_state"], st["best_metrics"]
        train_seconds, frames_seen = st["train_seconds"], st["frames_seen"]
        start_weights = st.get("start_weights", [])  # the anchor is where the first run started
        start_epoch = st["epoch"] + 1

    def save_state(epoch: int) -> None:
        if state_file is None:
            return
        atomic_torch_save({
            "epoch": epoch, "seed": seed, "config": cfg.to_dict(), "frozen": list(frozen),
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "normalization": norm.to_dict(), "history": history, "best_f1": best_f1, "best_epoch": best_epoch,
            "bad_epochs": bad_epochs, "best_state": best_state, "best_metrics": best_metrics,
            "train_seconds": train_seconds, "frames_seen": frames_seen, "start_weights": start_weights,
        }, state_file)

    def ask(info: dict, epoch_done: int) -> None:
        if callback is None:
            return
        try:
            go = callback(info)
        except Exception:
            save_state(epoch_done)
            raise
        if go is False:
            save_state(epoch_done)
            raise TrainingCancelled(f"training cancelled by the callback at epoch {info['epoch']}",
                                    state_path=str(state_file) if state_file else None, epoch=epoch_done)

    stopped = "epochs"
    total_steps = cfg.epochs * cfg.steps_per_epoch
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total_steps, initial=(start_epoch - 1) * cfg.steps_per_epoch, unit="step",
                   desc="train", dynamic_ncols=True)
    wall0 = time.perf_counter()
    epoch = start_epoch - 1
    try:
        for epoch in range(start_epoch, cfg.epochs + 1):
            if bad_epochs >= cfg.patience:
                stopped = "early-stopping"
                epoch -= 1
                break
            rng = np.random.default_rng(_epoch_seed(seed, epoch, 0))
            gen = torch.Generator().manual_seed(_epoch_seed(seed, epoch, 1))
            torch.manual_seed(_epoch_seed(seed, epoch, 2))
            model.train()
            t0 = time.perf_counter()
            losses = []
            for step in range(1, cfg.steps_per_epoch + 1):
                x, y, m = train_set.sample_crops(rng, batch_size=cfg.batch_size, crop_frames=cfg.crop_frames)
                xt, yt, mt = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)
                xt, yt, mt = augment_batch(xt, yt, mt, config=cfg.augment, generator=gen)
                xt = (xt - mean) / std
                xt = spec_mask(xt, config=cfg.augment, generator=gen) * mt.unsqueeze(-1)
                logits = model(xt)
                loss = (loss_fn(logits, yt) * mt).sum() / mt.sum().clamp(min=1.0)
                if start_weights:
                    loss = loss + cfg.anchor * sum(((p - p0) ** 2).sum() for p, p0 in zip(params, start_weights,
                                                                                          strict=True))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip:
                    nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                optimizer.step()
                losses.append(float(loss.detach()))
                frames_seen += int(mt.sum())
                if bar is not None:
                    bar.update(1)
                    if step % 10 == 0:
                        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", best_f1=f"{max(best_f1, 0):.3f}")
                if callback is not None and cfg.callback_every and step % cfg.callback_every == 0:
                    done = (epoch - 1) * cfg.steps_per_epoch + step
                    ask({"event": "step", "epoch": epoch, "epochs": cfg.epochs, "step": step,
                         "steps": cfg.steps_per_epoch, "progress": done / total_steps,
                         "loss": float(np.mean(losses[-cfg.callback_every:]))}, epoch - 1)
                if max_seconds is not None and time.perf_counter() - wall0 > max_seconds:
                    break  # out of time: validate this (partial) epoch, then stop
            train_seconds += time.perf_counter() - t0
            record = {"epoch": epoch, "train_loss": round(float(np.mean(losses)), 5)}
            if val_set is None:  # nothing to choose an epoch by: the last weights are the result
                improved, best_epoch = True, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                val = evaluate(model, val_set, normalization=norm, threshold=cfg.threshold, max_items=cfg.val_max_items)
                improved = val["f1"] > best_f1 + 1e-4
                if improved:
                    best_f1, best_epoch, bad_epochs = val["f1"], epoch, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    best_metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in val.items()}
                else:
                    bad_epochs += 1
                scheduler.step(val["f1"])
                record.update(val_f1=round(val["f1"], 4), val_accuracy=round(val["accuracy"], 4))
            record.update(lr=optimizer.param_groups[0]["lr"], seconds=round(time.perf_counter() - t0, 1))
            history.append(record)
            if bar is not None:
                scores = f"  val F1 {record['val_f1']:.4f}  acc {record['val_accuracy']:.4f}" if val_set else ""
                bar.write(f"epoch {epoch}: loss {record['train_loss']:.4f}{scores}{'  *' if improved else ''}")
            save_state(epoch)
            ask({"event": "epoch", "epoch": epoch, "epochs": cfg.epochs, "step": cfg.steps_per_epoch,
                 "steps": cfg.steps_per_epoch, "progress": epoch / cfg.epochs, **record,
                 "best_f1": round(best_f1, 4), "best_epoch": best_epoch}, epoch)
            if bad_epochs >= cfg.patience:
                stopped = "early-stopping"
                break
            if max_seconds is not None and time.perf_counter() - wall0 > max_seconds:
                stopped = "max-time"
                break
    finally:
        if bar is not None:
            bar.close()
    model.load_state_dict(best_state)
    model.eval()
    counts = model.parameter_counts()
    return TrainResult(
        model=model, normalization=norm, config=cfg, seed=seed, frozen=frozen, history=history,
        best_epoch=best_epoch, best_metrics=best_metrics, epochs_run=len(history), stopped=stopped,
        train_seconds=train_seconds, frames_per_second=frames_seen / train_seconds if train_seconds else math.nan,
        pos_weight=pw, parameter_counts=counts,
    )
