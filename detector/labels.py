"""Segments and frame masks: the one place where seconds and frames meet.

Frame ``i`` covers ``[i / FRAME_RATE, (i + 1) / FRAME_RATE)`` seconds. A time interval
``[start, end)`` marks frame ``i`` vocal when the frame's *centre* ``(i + 0.5) / FRAME_RATE`` lies
inside it, so an interval covers exactly the frames it overlaps by more than half (ties go to the
later interval). Segments are a full partition of ``[0, duration]`` into ``vocal`` / ``non-vocal``
pieces: no gaps, no overlaps, adjacent segments share a boundary, the last one ends at
``duration``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from detector.config import FRAME_RATE
from detector.errors import FormatError

VOCAL = "vocal"
NON_VOCAL = "non-vocal"
LABELS = (VOCAL, NON_VOCAL)
TOLERANCE = 1e-6  # seconds; boundaries closer than this are equal

Label = Literal["vocal", "non-vocal"]


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` seconds labelled ``"vocal"`` or ``"non-vocal"``."""

    start: float
    end: float
    label: Label

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise FormatError(f"segment label {self.label!r} is neither 'vocal' nor 'non-vocal'")
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise FormatError(f"segment [{self.start}, {self.end}] has a non-finite time")
        if self.end < self.start:
            raise FormatError(f"segment [{self.start}, {self.end}] ends before it starts")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def is_vocal(self) -> bool:
        return self.label == VOCAL

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        try:
            return cls(float(data["start"]), float(data["end"]), data["label"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"segment {data!r} needs numeric 'start', 'end' and a 'label'") from exc


def time_to_frame(t: float | np.ndarray) -> int | np.ndarray:
    """Index of the first frame whose centre is at or after ``t`` seconds.

    ``[start, end)`` seconds covers frames ``time_to_frame(start) .. time_to_frame(end) - 1``.
    """
    x = np.ceil(np.round(np.asarray(t, dtype=np.float64) * FRAME_RATE - 0.5, 6)).astype(np.int64)
    return int(x) if x.ndim == 0 else x


def frame_to_time(i: int | np.ndarray) -> float | np.ndarray:
    """Start time in seconds of frame ``i`` (``i / FRAME_RATE``)."""
    return np.asarray(i) / FRAME_RATE if np.ndim(i) else int(i) / FRAME_RATE


def intervals_to_frames(intervals: Iterable[tuple[float, float]], *, n_frames: int) -> np.ndarray:
    """Boolean mask, shape ``(n_frames,)``: frame ``i`` is True when its centre lies in an interval.

    ``intervals`` are ``(start, end)`` seconds; they may overlap or lie outside ``[0, n_frames /
    FRAME_RATE)`` (clipped).
    """
    mask = np.zeros(int(n_frames), dtype=bool)
    for start, end in intervals:
        lo, hi = max(time_to_frame(start), 0), min(time_to_frame(end), n_frames)
        if hi > lo:
            mask[lo:hi] = True
    return mask


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encoding of a 1-D array: ``(starts, ends, values)``, ends exclusive."""
    mask = np.asarray(mask)
    if mask.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, mask[:0]
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [mask.size]])
    return starts, ends, mask[starts]


def frames_to_segments(mask: np.ndarray, *, duration: float) -> list[Segment]:
    """Full partition of ``[0, duration]`` from a per-frame vocal mask, shape ``(n_frames,)``.

    Boundaries fall on frame starts ``i / FRAME_RATE``; the last segment ends at ``duration``
    (frames beyond ``duration`` are ignored; a mask shorter than ``duration`` extends its last
    value). Adjacent segments alternate labels. ``duration <= 0`` gives ``[]``.
    """
    mask = np.asarray(mask, dtype=bool)
    if duration <= 0:
        return []
    starts, _, values = runs(mask)
    bounds = [t for t in (starts[1:] / FRAME_RATE).tolist() if t < duration - TOLERANCE]
    labels = [VOCAL if v else NON_VOCAL for v in values[: len(bounds) + 1]] or [NON_VOCAL]
    edges = [0.0, *bounds, float(duration)]
    return [Segment(a, b, lab) for a, b, lab in zip(edges[:-1], edges[1:], labels, strict=True)]


def segments_to_frames(segments: Sequence[Segment], *, n_frames: int) -> np.ndarray:
    """Boolean vocal mask, shape ``(n_frames,)``, of a list of segments (centre rule)."""
    return intervals_to_frames(vocal_intervals(segments), n_frames=n_frames)


def vocal_intervals(segments: Iterable[Segment]) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of the vocal segments, adjacent ones merged, in order."""
    out: list[tuple[float, float]] = []
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.label != VOCAL or seg.end <= seg.start:
            continue
        if out and seg.start <= out[-1][1] + TOLERANCE:
            out[-1] = (out[-1][0], max(out[-1][1], seg.end))
        else:
            out.append((seg.start, seg.end))
    return out


def join_intervals(
    intervals: Iterable[tuple[float, float]], *, max_gap: float = 0.0, min_length: float = 0.0
) -> list[tuple[float, float]]:
    """Sorted, merged ``(start, end)`` seconds: spans less than ``max_gap`` apart become one (the
    shared references join sung words less than 0.5 s apart), then spans shorter than
    ``min_length`` are dropped."""
    out: list[tuple[float, float]] = []
    for s, e in sorted((float(a), float(b)) for a, b in intervals):
        if e <= s:
            continue
        if out and s - out[-1][1] < max_gap + 1e-9:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in out if e - s >= min_length - 1e-9]


def intervals_to_segments(intervals: Iterable[tuple[float, float]], *, duration: float) -> list[Segment]:
    """Full partition of ``[0, duration]``: the union of the vocal ``intervals`` (clipped), non-vocal
    elsewhere. Intervals may overlap and come in any order."""
    if duration <= 0:
        return []
    clipped = sorted((max(0.0, float(s)), min(float(duration), float(e))) for s, e in intervals)
    merged: list[tuple[float, float]] = []
    for s, e in clipped:
        if e - s <= TOLERANCE:
            continue
        if merged and s <= merged[-1][1] + TOLERANCE:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    segments: list[Segment] = []
    t = 0.0
    for s, e in merged:
        if s - t > TOLERANCE:
            segments.append(Segment(t, s, NON_VOCAL))
        else:
            s = t
        if duration - e <= TOLERANCE:
            e = float(duration)
        segments.append(Segment(s, e, VOCAL))
        t = e
    if duration - t > TOLERANCE:
        segments.append(Segment(t, float(duration), NON_VOCAL))
    return segments


def merge_adjacent(segments: Sequence[Segment]) -> list[Segment]:
    """The same partition with adjacent equal-label segments merged (labels then alternate)."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].label == seg.label:
            out[-1] = Segment(out[-1].start, seg.end, seg.label)
        else:
            out.append(seg)
    return out


def validate_partition(segments: Sequence[Segment], *, duration: float, tolerance: float = 1e-3) -> None:
    """Raise :class:`FormatError` unless ``segments`` partition ``[0, duration]`` exactly.

    Checks: labels, order, no zero-length or reversed segment, first start 0, no gap or overlap
    between neighbours (within ``tolerance`` seconds), last end ``duration``.
    """
    if duration <= 0:
        raise FormatError(f"duration must be positive, got {duration}")
    if not segments:
        raise FormatError(f"no segments: a partition of [0, {duration:.3f}] needs at least one")
    for k, seg in enumerate(segments):
        if not isinstance(seg, Segment):
            raise FormatError(f"segment {k} is a {type(seg).__name__}, not a Segment")
        if seg.label not in LABELS:
            raise FormatError(f"segment {k} has label {seg.label!r}, not 'vocal' or 'non-vocal'")
        if seg.end - seg.start <= 0:
            raise FormatError(f"segment {k} [{seg.start:.3f}, {seg.end:.3f}] is empty or reversed")
    if abs(segments[0].start) > tolerance:
        raise FormatError(f"first segment starts at {segments[0].start:.3f} s, not 0")
    for k in range(1, len(segments)):
        prev, seg = segments[k - 1], segments[k]
        if seg.start < prev.start:
            raise FormatError(f"segment {k} starts at {seg.start:.3f} s, before segment {k - 1} ({prev.start:.3f} s)")
        if seg.start - prev.end > tolerance:
            raise FormatError(f"gap between {prev.end:.3f} s and {seg.start:.3f} s (segments {k - 1} and {k})")
        if prev.end - seg.start > tolerance:
            raise FormatError(f"segments {k - 1} and {k} overlap between {seg.start:.3f} s and {prev.end:.3f} s")
    if abs(segments[-1].end - duration) > tolerance:
        raise FormatError(f"last segment ends at {segments[-1].end:.3f} s, not at the duration {duration:.3f} s")


def duration_to_n_frames(duration: float) -> int:
    """Number of frames that start before ``duration`` seconds: ``ceil(duration * FRAME_RATE)``."""
    return max(0, int(math.ceil(round(float(duration) * FRAME_RATE, 6))))
