"""Waveform peaks: min/max pairs of the 16 kHz mono signal, 80 samples (5 ms) per pair.

At 200 pairs per second a single 10 ms frame still spans two pairs, so the editor's deepest zoom
stays sharp; a 60-minute song is 720,000 pairs (~3 MB of gzipped JSON). The file is stored gzipped
and served as is to clients that accept gzip.
"""

from __future__ import annotations

import gzip
import json

import numpy as np

PEAKS_SAMPLE_RATE = 16_000
SAMPLES_PER_PEAK = 80  # 5 ms
FORMAT_VERSION = 1


class PeakAccumulator:
    """Feed mono blocks in order with :meth:`push`; :meth:`finish` returns ``(n_pairs, 2)`` float32."""

    def __init__(self, *, samples_per_peak: int = SAMPLES_PER_PEAK):
        self.samples_per_peak = samples_per_peak
        self._rest = np.zeros(0, dtype=np.float32)
        self._parts: list[np.ndarray] = []
        self.n_samples = 0

    def push(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32)
        self.n_samples += len(block)
        y = np.concatenate([self._rest, block]) if len(self._rest) else block
        n = len(y) // self.samples_per_peak * self.samples_per_peak
        if n:
            frames = y[:n].reshape(-1, self.samples_per_peak)
            self._parts.append(np.stack([frames.min(axis=1), frames.max(axis=1)], axis=1))
        self._rest = y[n:].copy()

    def finish(self) -> np.ndarray:
        if len(self._rest):
            self._parts.append(np.array([[self._rest.min(), self._rest.max()]], dtype=np.float32))
            self._rest = np.zeros(0, dtype=np.float32)
        if not self._parts:
            return np.zeros((0, 2), dtype=np.float32)
        return np.concatenate(self._parts)


def peaks_document(pairs: np.ndarray, *, duration: float, samples_per_peak: int = SAMPLES_PER_PEAK) -> dict:
    # float64 before rounding: a rounded float32 prints as 0.12300000339746475 and triples the JSON
    data = np.clip(np.round(pairs.reshape(-1).astype(np.float64), 3), -1.0, 1.0)
    return {
        "version": FORMAT_VERSION,
        "duration": round(float(duration), 6),
        "sample_rate": PEAKS_SAMPLE_RATE,
        "samples_per_peak": samples_per_peak,
        "peaks_per_second": PEAKS_SAMPLE_RATE / samples_per_peak,
        "channels": 1,
        "length": int(len(pairs)),
        "data": data.tolist(),  # [min0, max0, min1, max1, ...] in [-1, 1]
    }


def peaks_gzip(document: dict) -> bytes:
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), compresslevel=6)
