"""Voice-activity endpoints of clean speech: an energy detector, and alignment files.

The source corpus needs, for every clean speech clip, where the voice is active. Clean speech
(synthetic, studio dialogue, read speech) has a high signal-to-noise ratio, so a short-time energy
detector relative to the clip's loudest frames finds the endpoints to about one hop (10 ms).

    >>> intervals = energy_vad(y, sr=16000)          # [(start_s, end_s), ...]
    >>> intervals = read_alignment("utt.lab")        # when an alignment is given

Intervals are seconds, sorted, non-overlapping, half-open ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["VADConfig", "energy_vad", "frame_energy_db", "read_alignment", "write_alignment", "endpoints"]


@dataclass(frozen=True)
class VADConfig:
    """Parameters of :func:`energy_vad`.

    threshold_db: a frame is active when its RMS is above ``max_db + threshold_db`` (relative to the
        95th-percentile frame level, so a single click does not set the reference) and above
        ``floor_db`` (absolute dBFS).
    frame_length_s / hop_s: analysis window and hop in seconds.
    min_speech_s: active runs shorter than this are dropped (clicks).
    min_silence_s: inactive gaps shorter than this are bridged (stops, short pauses).
    pad_s: each interval is widened by this much on both sides (onsets of weak consonants),
        clipped to the signal.
    """

    threshold_db: float = -35.0
    floor_db: float = -60.0
    frame_length_s: float = 0.025
    hop_s: float = 0.010
    min_speech_s: float = 0.06
    min_silence_s: float = 0.25
    pad_s: float = 0.02


def frame_energy_db(y: np.ndarray, *, sr: int, frame_length_s: float = 0.025, hop_s: float = 0.010) -> np.ndarray:
    """RMS level in dBFS of centred frames: shape (n_frames,), frame i centred at ``i * hop_s``."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"energy_vad expects mono audio of shape (n,), got shape {y.shape}")
    hop = max(1, int(round(hop_s * sr)))
    win = max(hop, int(round(frame_length_s * sr)))
    n_frames = int(np.ceil(len(y) / hop)) if len(y) else 0
    if n_frames == 0:
        return np.zeros(0)
    padded = np.pad(y, (win // 2, win // 2 + hop))
    c = np.concatenate([[0.0], np.cumsum(padded**2)])
    starts = np.arange(n_frames) * hop
    energy = (c[starts + win] - c[starts]) / win
    return 10.0 * np.log10(np.maximum(energy, 1e-12))


def energy_vad(y: np.ndarray, *, sr: int, config: VADConfig | None = None) -> list[tuple[float, float]]:
    """Voice-active intervals of a clean speech signal ``y`` (shape (n,), sample rate ``sr``).

    Returns a list of ``(start_s, end_s)`` in seconds; empty for silence.
    """
    cfg = config or VADConfig()
    db = frame_energy_db(y, sr=sr, frame_length_s=cfg.frame_length_s, hop_s=cfg.hop_s)
    if db.size == 0:
        return []
    ref = float(np.percentile(db, 95)) if db.size >= 20 else float(db.max())
    active = (db > ref + cfg.threshold_db) & (db > cfg.floor_db)
    runs = _runs(active)
    # bridge short gaps
    merged: list[list[int]] = []
    min_gap = int(round(cfg.min_silence_s / cfg.hop_s))
    for s, e in runs:
        if merged and s - merged[-1][1] < min_gap:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    min_len = int(round(cfg.min_speech_s / cfg.hop_s))
    duration = len(y) / sr
    out: list[tuple[float, float]] = []
    for s, e in merged:
        if e - s < min_len:
            continue
        # frame i is centred at i*hop: the active span is [(s - 1/2) hop, (e - 1/2) hop)
        start = max(0.0, (s - 0.5) * cfg.hop_s - cfg.pad_s)
        end = min(duration, (e - 0.5) * cfg.hop_s + cfg.pad_s)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((round(start, 4), round(end, 4)))
    return [(float(a), float(b)) for a, b in out]


def endpoints(intervals: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """First start and last end of ``intervals``, or None when there are none."""
    if not intervals:
        return None
    return float(intervals[0][0]), float(intervals[-1][1])


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index runs ``[s, e)`` where ``mask`` is True."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def read_alignment(path: str | Path) -> list[tuple[float, float]]:
    """Voiced intervals from an alignment file.

    Accepts ``.lab``-style lines ``start end [label]`` (tab or space separated, seconds). Lines whose
    label is ``nosing``, ``sil``, ``sp``, ``pau``, ``silence``, ``non-vocal`` or ``#`` comments are
    skipped; everything else (``sing``, ``speech``, a word, no label) counts as voiced. Overlapping
    or touching intervals are merged.
    """
    silent = {"nosing", "sil", "sp", "pau", "silence", "non-vocal", "nonvocal", "<sil>", "noise"}
    spans: list[tuple[float, float]] = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            start, end = float(parts[0]), float(parts[1])
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{path}:{lineno}: expected 'start end [label]', got {line!r}") from exc
        if end < start:
            raise ValueError(f"{path}:{lineno}: end {end} is before start {start}")
        label = parts[2].lower() if len(parts) > 2 else "speech"
        if label in silent or end == start:
            continue
        spans.append((start, end))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def write_alignment(path: str | Path, intervals: Sequence[tuple[float, float]], *, label: str = "sing") -> None:
    """Write ``start<TAB>end<TAB>label`` lines (seconds, 3 decimals)."""
    text = "".join(f"{s:.3f}\t{e:.3f}\t{label}\n" for s, e in intervals)
    Path(path).write_text(text, encoding="utf-8")
