"""From frame probabilities to vocal / non-vocal segments.

``median filter -> threshold (or hysteresis) -> fill short gaps -> drop short vocal runs``, then
:func:`detector.labels.frames_to_segments`, so the result is always a full partition of
``[0, duration]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.config import FRAME_RATE
from detector.labels import Segment, frames_to_segments, runs


@dataclass(frozen=True)
class PostprocessConfig:
    """Times in seconds, probabilities in [0, 1].

    ``hysteresis=(low, high)`` replaces the single threshold: a run above ``low`` is vocal when it
    reaches ``high`` somewhere. Gaps shorter than ``min_gap_s`` between vocal runs are filled first,
    then vocal runs shorter than ``min_vocal_s`` are dropped.
    """

    median_s: float = 0.8
    threshold: float = 0.5
    hysteresis: tuple[float, float] | None = None
    min_vocal_s: float = 0.0
    min_gap_s: float = 0.0

    def __post_init__(self) -> None:
        if self.hysteresis is not None:
            low, high = (float(v) for v in self.hysteresis)
            object.__setattr__(self, "hysteresis", (low, high))
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"hysteresis needs 0 <= low <= high <= 1, got {self.hysteresis}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        if min(self.median_s, self.min_vocal_s, self.min_gap_s) < 0:
            raise ValueError("median_s, min_vocal_s and min_gap_s must be >= 0")

    @property
    def median_frames(self) -> int:
        """Odd median-filter length in frames (1 = no filtering)."""
        n = int(round(self.median_s * FRAME_RATE))
        return max(1, n + 1 - n % 2)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hysteresis"] = list(self.hysteresis) if self.hysteresis is not None else None
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PostprocessConfig:
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown postprocess field(s): {', '.join(sorted(unknown))}")
        data = dict(data)
        if data.get("hysteresis") is not None:
            data["hysteresis"] = tuple(data["hysteresis"])
        return cls(**data)


def smooth(p: np.ndarray, *, config: PostprocessConfig = PostprocessConfig()) -> np.ndarray:
    """Median-filtered probabilities, ``(n_frames,)`` -> ``(n_frames,)`` float32 (edges repeat)."""
    from scipy.ndimage import median_filter

    p = np.asarray(p, dtype=np.float32)
    if config.median_frames <= 1 or p.size == 0:
        return p.copy()
    return median_filter(p, size=config.median_frames, mode="nearest")


def binarize(p: np.ndarray, *, config: PostprocessConfig = PostprocessConfig()) -> np.ndarray:
    """Vocal mask ``(n_frames,)`` bool from probabilities: smooth, threshold, fill gaps, drop short runs."""
    p = smooth(p, config=config)
    if config.hysteresis is None:
        mask = p >= config.threshold
    else:
        low, high = config.hysteresis
        mask = p >= low
        starts, ends, values = runs(mask)
        for s, e, v in zip(starts, ends, values, strict=True):
            if v and not (p[s:e] >= high).any():
                mask[s:e] = False
    _set_short_runs(mask, value=False, max_frames=config.min_gap_s * FRAME_RATE, interior_only=True)
    _set_short_runs(mask, value=True, max_frames=config.min_vocal_s * FRAME_RATE, interior_only=False)
    return mask


def segments_from_probabilities(
    p: np.ndarray, *, config: PostprocessConfig = PostprocessConfig(), duration: float
) -> list[Segment]:
    """Full partition of ``[0, duration]`` seconds from frame probabilities ``(n_frames,)``."""
    return frames_to_segments(binarize(p, config=config), duration=duration)


def _set_short_runs(mask: np.ndarray, *, value: bool, max_frames: float, interior_only: bool) -> None:
    """Flip runs equal to ``value`` shorter than ``max_frames`` (in place)."""
    if max_frames <= 0:
        return
    starts, ends, values = runs(mask)
    for k, (s, e, v) in enumerate(zip(starts, ends, values, strict=True)):
        if v == value and e - s < max_frames - 1e-9:
            if interior_only and (k == 0 or k == len(starts) - 1):
                continue
            mask[s:e] = not value
