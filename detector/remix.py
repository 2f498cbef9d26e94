"""Training crops that look like real songs: real mixtures, and vocals remixed over accompaniment.

A :class:`RemixSet` draws each training crop from one of three recipes:

- ``mixture``: a crop of a labelled mixture (a song, a source-corpus clip, a musdb mix);
- ``remix``: a crop of a vocal track (a real vocal stem, or synthetic singing) laid over a crop of
  an accompaniment at a drawn vocal-to-accompaniment ratio, the vocal optionally pitch-shifted and
  gated off for part of the crop (so onsets and offsets fall inside crops);
- ``accompaniment``: a crop of instrumental music alone (every frame non-vocal).

Remixing happens on log-mel features: mel power adds (``logaddexp``) when two independent sources
mix, which is exact up to the phase cross-terms that average out within a mel band. So a handful of
real vocal stems meets every accompaniment at every level without writing a single mixture to disk.

Each source is a :class:`Pool`: the same items as one :class:`~detector.data.FrameDataset` per
front end (``"centre"``, ``"mono"``; mono-only material has one). A crop takes every part from the
same front end, ``"mono"`` with probability ``mono_prob``, so the model hears stereo songs through
the centre filter and mono files (karaoke clips, phone recordings) as they are, and learns both.

``RemixSet`` has the interface :func:`detector.train.train` reads from a training set:
``sample_crops``, ``feature_config``, ``vocal_fraction``, ``iter_features`` and ``len``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from detector.config import FeatureConfig
from detector.data import FrameDataset
from detector.errors import DataError

__all__ = ["Pool", "RemixConfig", "RemixSet", "Blend", "FRONT_ENDS"]

FRONT_ENDS = ("centre", "mono")
_DB = math.log(10.0) / 10.0  # dB of power -> natural-log units
_SILENCE = math.log(1e-6)  # log-mel of digital silence (FeatureConfig.log_offset)


@dataclass
class Pool:
    """One source of material: ``datasets`` maps a front end to the items' features (all with the
    same names and labels); ``weight`` is its share among the pools of its role."""

    name: str
    datasets: dict[str, FrameDataset]
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.datasets or set(self.datasets) - set(FRONT_ENDS):
            raise DataError(f"pool {self.name!r}: datasets must be keyed by {FRONT_ENDS}, got {list(self.datasets)}")
        first = next(iter(self.datasets.values()))
        if len(first) == 0:
            raise DataError(f"pool {self.name!r} has no items")
        for ds in self.datasets.values():
            if ds.names != first.names or [len(y) for y in ds.labels] != [len(y) for y in first.labels]:
                raise DataError(f"pool {self.name!r}: its front ends do not hold the same items")
        lengths = np.asarray([len(y) for y in first.labels], np.float64)
        self._p = lengths / lengths.sum()

    def view(self, front_end: str) -> FrameDataset:
        """The items through ``front_end`` (a mono-only pool answers with its one version)."""
        return self.datasets.get(front_end) or next(iter(self.datasets.values()))

    @property
    def n_frames(self) -> int:
        return next(iter(self.datasets.values())).n_frames

    def crop(self, rng: np.random.Generator, frames: int, front_end: str) -> tuple[np.ndarray, np.ndarray, int]:
        """A random crop: features ``(k, n_mels)`` float32, labels ``(k,)`` float32, ``k <= frames``
        (shorter only when the item is); items are drawn in proportion to their length."""
        ds = self.view(front_end)
        i = int(rng.choice(len(self._p), p=self._p))
        n = len(ds.labels[i])
        start = int(rng.integers(0, n - frames + 1)) if n > frames else 0
        k = min(frames, n)
        return (np.asarray(ds.features[i][start : start + k], np.float32),
                np.asarray(ds.labels[i][start : start + k], np.float32), k)


@dataclass(frozen=True)
class RemixConfig:
    """How crops are drawn. Levels in dB, pitch in mel bands, probabilities per crop.

    recipe: weights of the ``mixture`` / ``remix`` / ``accompaniment`` recipes (a recipe with no
        pool gets no crops).
    vocal_ratio_db: vocal-to-accompaniment power ratio (vocal over its voiced frames, accompaniment
        over the crop), drawn uniformly; songs mix the lead voice at about -6..+6 dB.
    vocal_pitch_bins: the vocal alone is shifted by up to this many mel bands (both ways).
    gate_prob: share of remixed vocals switched off over a random part of the crop.
    mono_prob: share of crops heard through the mono fold-down instead of the centre filter.
    """

    recipe: Mapping[str, float] = field(default_factory=lambda: {"mixture": 0.4, "remix": 0.45,
                                                                  "accompaniment": 0.15})
    vocal_ratio_db: tuple[float, float] = (-9.0, 6.0)
    vocal_pitch_prob: float = 0.5
    vocal_pitch_bins: float = 3.0
    gate_prob: float = 0.5
    mono_prob: float = 0.35

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["recipe"] = dict(self.recipe)
        d["vocal_ratio_db"] = list(self.vocal_ratio_db)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemixConfig:
        data = dict(data)
        if "vocal_ratio_db" in data:
            data["vocal_ratio_db"] = tuple(data["vocal_ratio_db"])
        return cls(**data)


class RemixSet:
    """A training set of drawn crops (see the module docstring)."""

    def __init__(
        self,
        *,
        mixtures: Sequence[Pool] = (),
        vocals: Sequence[Pool] = (),
        accompaniments: Sequence[Pool] = (),
        config: RemixConfig | None = None,
    ) -> None:
        self.config = config or RemixConfig()
        self.roles = {"mixture": list(mixtures), "vocal": list(vocals), "accompaniment": list(accompaniments)}
        every = [p for pools in self.roles.values() for p in pools]
        if not every:
            raise DataError("a RemixSet needs at least one pool")
        n_mels = {p.view(fe).feature_config.n_mels for p in every for fe in p.datasets}
        if len(n_mels) != 1:
            raise DataError(f"pools disagree on the number of mel bands: {sorted(n_mels)}")
        # what the trained model is deployed with: the centre front end (mono files pass it unchanged)
        self.feature_config: FeatureConfig = replace(every[0].view("centre").feature_config, mix="centre")
        recipe = {k: float(v) for k, v in self.config.recipe.items() if v > 0}
        unknown = set(recipe) - {"mixture", "remix", "accompaniment"}
        if unknown:
            raise DataError(f"unknown recipe(s) {sorted(unknown)}; use mixture, remix, accompaniment")
        needs = {"mixture": ("mixture",), "remix": ("vocal", "accompaniment"), "accompaniment": ("accompaniment",)}
        self.recipe = {k: v for k, v in recipe.items() if all(self.roles[r] for r in needs[k])}
        if not self.recipe:
            raise DataError("no recipe has the pools it needs (mixtures; or vocals and accompaniments)")
        self._cached_fraction: float | None = None

    # -- the interface train() reads --------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(p.view("centre")) for pools in self.roles.values() for p in pools)

    @property
    def n_frames(self) -> int:
        return sum(p.n_frames for pools in self.roles.values() for p in pools)

    @property
    def vocal_fraction(self) -> float:
        """Share of vocal frames among drawn crops (estimated once from 64 batches, seed 0)."""
        if self._cached_fraction is None:
            rng = np.random.default_rng(0)
            ys = [self.sample_crops(rng, batch_size=32, crop_frames=400)[1:] for _ in range(64)]
            self._cached_fraction = float(sum((y * m).sum() for y, m in ys) / max(1.0, sum(m.sum() for _, m in ys)))
        return self._cached_fraction

    def iter_features(self, *, max_frames: int = 2_000_000) -> Iterator[np.ndarray]:
        """Drawn crops (seed 0), for fitting the feature normalisation on what training sees."""
        rng = np.random.default_rng(1)
        seen = 0
        while seen < max_frames:
            x, _, m = self.sample_crops(rng, batch_size=32, crop_frames=400)
            rows = x[m > 0]
            seen += len(rows)
            yield rows

    def describe(self) -> dict[str, Any]:
        """JSON-able record of the pools and the config (for checkpoints' data manifests)."""
        return {
            "config": self.config.to_dict(),
            "recipe_used": self.recipe,
            "pools": {role: [{"name": p.name, "weight": p.weight, "items": len(p.view("centre")),
                              "hours": round(p.n_frames / 360000, 3), "front_ends": sorted(p.datasets)}
                             for p in pools] for role, pools in self.roles.items()},
        }

    def sample_crops(
        self, rng: np.random.Generator, *, batch_size: int, crop_frames: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``batch_size`` crops: features ``(B, crop_frames, n_mels)`` float32 (raw log-mel), labels
        and validity mask ``(B, crop_frames)`` float32 (mask 0 past the end of a short item)."""
        n_mels = self.feature_config.n_mels
        x = np.full((batch_size, crop_frames, n_mels), _SILENCE, np.float32)
        y = np.zeros((batch_size, crop_frames), np.float32)
        m = np.zeros((batch_size, crop_frames), np.float32)
        kinds = list(self.recipe)
        p = np.asarray([self.recipe[k] for k in kinds])
        p = p / p.sum()
        for b in range(batch_size):
            kind = kinds[int(rng.choice(len(kinds), p=p))]
            fe = "mono" if rng.random() < self.config.mono_prob else "centre"
            if kind == "mixture":
                f, lab, k = _pick(self.roles["mixture"], rng).crop(rng, crop_frames, fe)
            else:
                f, lab, k = _pick(self.roles["accompaniment"], rng).crop(rng, crop_frames, fe)
                lab = np.zeros(k, np.float32)
                if kind == "remix":
                    f, lab = self._add_vocal(f, rng, fe)
            x[b, :k], y[b, :k], m[b, :k] = f, lab, 1.0
        return x, y, m

    # -- remixing ---------------------------------------------------------------------------------

    def _add_vocal(self, acc: np.ndarray, rng: np.random.Generator, fe: str) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        k = len(acc)
        v, lab, kv = _pick(self.roles["vocal"], rng).crop(rng, k, fe)
        if kv < k:  # a short vocal item sits at a random place in the crop
            at = int(rng.integers(0, k - kv + 1))
            v = np.concatenate([np.full((at, v.shape[1]), _SILENCE, np.float32), v,
                                np.full((k - kv - at, v.shape[1]), _SILENCE, np.float32)])
            lab = np.concatenate([np.zeros(at, np.float32), lab, np.zeros(k - kv - at, np.float32)])
        if rng.random() < cfg.vocal_pitch_prob:
            v = shift_bands(v, float(rng.uniform(-cfg.vocal_pitch_bins, cfg.vocal_pitch_bins)))
        if rng.random() < cfg.gate_prob:
            a, b = sorted(int(t) for t in rng.integers(0, k + 1, size=2))
            if rng.random() < 0.5:  # off over [a, b), or on only over [a, b)
                v[a:b], lab[a:b] = _SILENCE, 0.0
            else:
                v[:a], lab[:a], v[b:], lab[b:] = _SILENCE, 0.0, _SILENCE, 0.0
        voiced = lab > 0
        if not voiced.any():
            return acc, lab
        ratio_db = float(rng.uniform(*cfg.vocal_ratio_db))
        gain = ratio_db * _DB + _log_power(acc) - _log_power(v[voiced])
        return np.logaddexp(acc, v + np.float32(gain)), lab


def shift_bands(x: np.ndarray, bins: float) -> np.ndarray:
    """Shift log-mel frames ``(k, n_mels)`` up (positive) or down by a fractional number of bands,
    linear interpolation, the edge bands repeated: about a pitch shift of the whole source."""
    n = x.shape[1]
    pos = np.clip(np.arange(n, dtype=np.float32) - np.float32(bins), 0, n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = pos - lo
    return x[:, lo] * (1 - w) + x[:, hi] * w


def _log_power(f: np.ndarray) -> float:
    """Natural log of the mean mel power of log-mel frames ``(k, n_mels)``."""
    if len(f) == 0:
        return _SILENCE
    top = float(f.max())
    return top + math.log(float(np.mean(np.exp(f - top))))


def _pick(pools: Sequence[Pool], rng: np.random.Generator) -> Pool:
    w = np.asarray([p.weight for p in pools], np.float64)
    return pools[int(rng.choice(len(pools), p=w / w.sum()))]


class Blend:
    """Crops drawn from several training sets (anything with ``sample_crops``), each with its share
    of every batch: e.g. a user's songs with the start model's own material mixed in."""

    def __init__(self, parts: Sequence[tuple[Any, float]]) -> None:
        parts = [(s, float(w)) for s, w in parts if w > 0]
        if not parts:
            raise DataError("a Blend needs at least one part with a positive share")
        self.parts = parts
        self.feature_config = parts[0][0].feature_config
        total = sum(w for _, w in parts)
        self._p = np.asarray([w / total for _, w in parts])

    def __len__(self) -> int:
        return sum(len(s) for s, _ in self.parts)

    @property
    def n_frames(self) -> int:
        return sum(s.n_frames for s, _ in self.parts)

    @property
    def vocal_fraction(self) -> float:
        return float(sum(p * s.vocal_fraction for (s, _), p in zip(self.parts, self._p, strict=True)))

    def iter_features(self, *, max_frames: int = 2_000_000) -> Iterator[np.ndarray]:
        for (s, _), p in zip(self.parts, self._p, strict=True):
            yield from s.iter_features(max_frames=max(1, int(max_frames * p)))

    def describe(self) -> dict[str, Any]:
        return {"blend": [{"share": round(float(p), 4), **(s.describe() if hasattr(s, "describe") else
                                                             {"items": len(s)})}
                          for (s, _), p in zip(self.parts, self._p, strict=True)]}

    def sample_crops(self, rng: np.random.Generator, *, batch_size: int, crop_frames: int):
        counts = rng.multinomial(batch_size, self._p)
        got = [s.sample_crops(rng, batch_size=int(k), crop_frames=crop_frames)
               for (s, _), k in zip(self.parts, counts, strict=True) if k > 0]
        x, y, m = (np.concatenate([g[i] for g in got]) for i in range(3))
        order = rng.permutation(batch_size)
        return x[order], y[order], m[order]
