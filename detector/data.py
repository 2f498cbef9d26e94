"""Training data: log-mel features + frame labels of a labelled collection, and random crops.

A labelled collection is a folder of ``<item>/audio.<ext>`` + ``<item>/labels.lab`` (vocal spans in
seconds; the layout of ``shared/data/jamendolyrics`` and of the source corpus, whose clips sit in
``<corpus>/train/`` and ``<corpus>/val/``).

    >>> ds = FrameDataset.from_collection("var/corpus/train", cache_dir="var/cache")
    >>> ds.features[0].shape, ds.labels[0].shape      # (n_frames, n_mels) float16, (n_frames,) uint8
    >>> x, y, mask = ds.sample_crops(rng, batch_size=32, crop_frames=300)

Features are unnormalised log-mel (:func:`detector.features.logmel`); normalisation is the
model's (fitted by the trainer, stored in the checkpoint). With ``cache_dir`` the features are
computed once and memory-mapped (a corpus of 20 h is ~0.6 GB of float16 on disk, not in RAM).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detector.config import FeatureConfig, n_frames
from detector.errors import DataError
from detector.features import logmel
from detector.labels import intervals_to_frames
from detector.vad import read_alignment

__all__ = ["FrameDataset", "find_items", "DataError", "Labels"]

#: an item's labels: a ``.lab`` file, vocal ``(start, end)`` spans in seconds, or None (no voice)
Labels = Path | str | Sequence[tuple[float, float]] | None

AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".aif", ".aiff", ".webm")


def find_items(folder: str | Path) -> list[tuple[str, Path, Path]]:
    """``(name, audio_path, labels_path)`` of every ``<name>/audio.* + labels.lab`` under ``folder``.

    Items are found at any depth (the source corpus nests them one level down), sorted by name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"collection folder {str(folder)!r} does not exist")
    items = []
    for lab in sorted(folder.rglob("labels.lab")):
        audios = sorted(p for p in lab.parent.iterdir() if p.stem == "audio" and p.suffix.lower() in AUDIO_EXTS)
        if not audios:
            raise DataError(f"{str(lab.parent)!r} has labels.lab but no audio.<ext>")
        name = str(lab.parent.relative_to(folder)) if lab.parent != folder else lab.parent.name
        items.append((name, audios[0], lab))
    if not items:
        raise DataError(f"collection folder {str(folder)!r} has no <item>/audio.* + labels.lab")
    return items


@dataclass
class FrameDataset:
    """Per-item features ``(n_frames, n_mels)`` (float16) and labels ``(n_frames,)`` (uint8 0/1)."""

    names: list[str]
    features: list[np.ndarray]
    labels: list[np.ndarray]
    feature_config: FeatureConfig
    source: str = ""

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.features) == len(self.labels)):
            raise DataError("names, features and labels must have the same length")
        for name, f, y in zip(self.names, self.features, self.labels, strict=True):
            if f.ndim != 2 or f.shape[1] != self.feature_config.n_mels or len(y) != len(f):
                raise DataError(f"item {name!r}: features {f.shape} and labels {y.shape} do not match")

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_collection(
        cls,
        folder: str | Path,
        *,
        feature_config: FeatureConfig | None = None,
        cache_dir: str | Path | None = None,
        names: Sequence[str] | None = None,
        progress: bool = False,
    ) -> FrameDataset:
        """Read a labelled collection; ``names`` keeps only those items (in that order)."""
        items = find_items(folder)
        if names is not None:
            by_name = {n: (n, a, lab) for n, a, lab in items}
            missing = [n for n in names if n not in by_name]
            if missing:
                raise DataError(f"collection {str(folder)!r} has no item(s) {', '.join(missing)}")
            items = [by_name[n] for n in names]
        return cls.from_items(items, feature_config=feature_config, cache_dir=cache_dir, source=str(folder),
                              progress=progress)

    @classmethod
    def from_items(
        cls,
        items: Sequence[tuple[str, Path, Labels]],
        *,
        feature_config: FeatureConfig | None = None,
        cache_dir: str | Path | None = None,
        source: str = "",
        progress: bool = False,
    ) -> FrameDataset:
        """``(name, audio path, labels)`` items; labels are a ``.lab`` path, a list of vocal
        ``(start, end)`` seconds, or None (nothing vocal: instrumental music)."""
        cfg = feature_config or FeatureConfig()
        items = [(name, Path(audio), lab) for name, audio, lab in items]
        if cache_dir is not None:
            return cls._cached(items, cfg, Path(cache_dir), source, progress)
        feats, labs = [], []
        for _, audio, lab in _progress(items, progress, "features"):
            f, y = _item(audio, lab, cfg)
            feats.append(f)
            labs.append(y)
        return cls([i[0] for i in items], feats, labs, cfg, source)

    @classmethod
    def _cached(cls, items, cfg: FeatureConfig, cache_dir: Path, source: str, progress: bool) -> FrameDataset:
        """Features memory-mapped from one float16 ``.npy`` per audio file, keyed by the file (path, size,
        modification time) and the feature config, so any set of items reuses what was computed for
        another; labels are read afresh (cheap, and they change more often than audio)."""
        folder = cache_dir / hashlib.sha1(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
        folder.mkdir(parents=True, exist_ok=True)
        feats, labs = [], []
        for _, audio, lab in _progress(items, progress, "features"):
            st = audio.stat()
            key = hashlib.sha1(f"{audio.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:20]
            path = folder / f"{key}.npy"
            if path.is_file():
                f = np.load(path, mmap_mode="r")
                labs.append(_labels(lab, len(f)))
            else:
                f, y = _item(audio, lab, cfg)
                tmp = path.with_suffix(f".{os.getpid()}.part.npy")
                np.save(tmp, f)
                os.replace(tmp, path)
                f = np.load(path, mmap_mode="r")
                labs.append(y)
            feats.append(f)
        return cls([i[0] for i in items], feats, labs, cfg, source)

    # -- views ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_frames(self) -> int:
        return int(sum(len(y) for y in self.labels))

    @property
    def vocal_fraction(self) -> float:
        total = self.n_frames
        return float(sum(int(y.sum()) for y in self.labels)) / total if total else 0.0

    @classmethod
    def concat(cls, parts: Sequence[tuple[str, FrameDataset]]) -> FrameDataset:
        """One dataset of several ``(prefix, dataset)``; item names become ``prefix/name``."""
        if not parts:
            raise DataError("concat needs at least one dataset")
        cfg = parts[0][1].feature_config
        if any(ds.feature_config != cfg for _, ds in parts):
            raise DataError("datasets with different feature configs cannot be joined")
        return cls([f"{p}/{n}" for p, ds in parts for n in ds.names], [f for _, ds in parts for f in ds.features],
                   [y for _, ds in parts for y in ds.labels], cfg, "+".join(p for p, _ in parts))

    def subset(self, indices: Sequence[int]) -> FrameDataset:
        return FrameDataset([self.names[i] for i in indices], [self.features[i] for i in indices],
                            [self.labels[i] for i in indices], self.feature_config, self.source)

    def iter_features(self, *, max_frames: int = 2_000_000):
        """Feature arrays (float32) for fitting a normalisation, at most ``max_frames`` in total."""
        seen = 0
        for f in self.features:
            if seen >= max_frames:
                break
            take = f[: max_frames - seen]
            seen += len(take)
            yield np.asarray(take, dtype=np.float32)

    def sample_crops(
        self, rng: np.random.Generator, *, batch_size: int, crop_frames: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``batch_size`` random crops: features ``(B, crop_frames, n_mels)`` float32, labels and a
        validity mask ``(B, crop_frames)`` float32. Items are drawn in proportion to their length;
        items shorter than the crop are zero-padded (mask 0 there: leave those frames out of the loss)."""
        lengths = np.asarray([len(y) for y in self.labels], dtype=np.float64)
        if lengths.sum() == 0:
            raise DataError("dataset has no frames")
        p = lengths / lengths.sum()
        picks = rng.choice(len(lengths), size=batch_size, p=p)
        x = np.zeros((batch_size, crop_frames, self.feature_config.n_mels), np.float32)
        y = np.zeros((batch_size, crop_frames), np.float32)
        m = np.zeros((batch_size, crop_frames), np.float32)
        for b, i in enumerate(picks):
            n = int(lengths[i])
            start = int(rng.integers(0, n - crop_frames + 1)) if n > crop_frames else 0
            k = min(crop_frames, n)
            x[b, :k] = self.features[i][start : start + k]
            y[b, :k] = self.labels[i][start : start + k]
            m[b, :k] = 1.0
        return x, y, m


def _item(audio: Path, lab: Labels, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    from detector.audio import load

    y = load(audio, sr=cfg.sample_rate, stereo=cfg.stereo_input)
    feats = logmel(y, config=cfg)
    n = n_frames(len(y), hop_length=cfg.hop_length)
    if len(feats) != n:  # keep the grid contract even if the front end pads differently
        feats = feats[:n] if len(feats) > n else np.pad(feats, ((0, n - len(feats)), (0, 0)), mode="edge")
    return feats.astype(np.float16), _labels(lab, n)


def _labels(lab: Labels, n: int) -> np.ndarray:
    """Frame labels ``(n,)`` uint8 of an item's labels (see :data:`Labels`)."""
    if lab is None:
        spans: list[tuple[float, float]] = []
    elif isinstance(lab, (str, Path)):
        try:
            spans = read_alignment(lab)
        except ValueError as exc:
            raise DataError(str(exc)) from exc
    else:
        spans = list(lab)
    return intervals_to_frames(spans, n_frames=n).astype(np.uint8)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="item", dynamic_ncols=True)
