"""What changed between two partitions of one song: frames, spans and boundaries.

Frames are the detector's 10 ms grid (detector.labels.segments_to_frames, centre rule), so the
count is the same one the evaluation reports use.
"""

from __future__ import annotations

import math

import numpy as np

from detector.config import FRAME_RATE
from detector.labels import Segment, runs, segments_to_frames

MOVE_WINDOW = 1.0  # seconds: a boundary that moved less than this (same direction) counts as "moved"


def _boundaries(segments: list[Segment]) -> list[tuple[float, str]]:
    """Interior boundaries where the label changes: (time, "up" = into vocal | "down" = out of vocal)."""
    out = []
    for prev, seg in zip(segments[:-1], segments[1:], strict=False):
        if prev.label != seg.label:
            out.append((seg.start, "up" if seg.is_vocal else "down"))
    return out


def partition_diff(*, old: list[Segment], new: list[Segment], duration: float) -> dict:
    """Frames changed (and in which direction), changed spans in seconds, boundaries added/removed/moved."""
    n = max(1, math.ceil(round(duration * FRAME_RATE, 6)))
    a = segments_to_frames(old, n_frames=n)
    b = segments_to_frames(new, n_frames=n)
    changed = a != b
    starts, ends, values = runs(changed)
    spans = [
        {"start": round(s / FRAME_RATE, 3), "end": round(min(e / FRAME_RATE, duration), 3),
         "to": "vocal" if bool(b[s]) else "non-vocal"}
        for s, e, v in zip(starts.tolist(), ends.tolist(), values.tolist(), strict=False) if v
    ]
    old_b, new_b = _boundaries(old), _boundaries(new)
    moved, removed = [], []
    unmatched_new = list(new_b)
    for t, kind in old_b:
        candidates = [(abs(t2 - t), i) for i, (t2, k2) in enumerate(unmatched_new) if k2 == kind and abs(t2 - t) <= MOVE_WINDOW]
        if not candidates:
            removed.append({"time": round(t, 3), "kind": kind})
            continue
        dist, i = min(candidates)
        t2, _ = unmatched_new.pop(i)
        if dist > 5e-4:
            moved.append({"from": round(t, 3), "to": round(t2, 3), "delta": round(t2 - t, 3), "kind": kind})
    added = [{"time": round(t, 3), "kind": k} for t, k in unmatched_new]
    return {
        "frames_total": int(n),
        "frames_changed": int(changed.sum()),
        "frames_to_vocal": int(np.count_nonzero(changed & b)),
        "frames_to_non_vocal": int(np.count_nonzero(changed & a)),
        "seconds_changed": round(float(changed.sum()) / FRAME_RATE, 2),
        "spans": spans,
        "boundaries_moved": moved,
        "boundaries_added": added,
        "boundaries_removed": removed,
    }
