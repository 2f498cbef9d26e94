"""Log-mel features on the 10 ms frame grid, and their per-band normalisation.

Frame ``i`` of :func:`logmel` is the spectrum of a ``win_length`` window centred on sample
``i * hop + hop / 2``, the middle of the frame's ``[i / 100, (i + 1) / 100)`` seconds; the signal is
zero-padded at both ends, and a signal of ``n`` samples gives exactly ``ceil(n / hop)`` frames.
:class:`LogMelStream` computes the same numbers block by block, for audio that is never held whole.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.config import DEFAULT_FEATURES, FeatureConfig, n_frames

_FRAMES_PER_BLOCK = 2048


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``): linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    linear = f / (200.0 / 3)
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), linear)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), (200.0 / 3) * m)


def mel_filterbank(config: FeatureConfig = DEFAULT_FEATURES) -> np.ndarray:
    """Triangular, area-normalised (Slaney) mel filters ``(n_mels, n_fft // 2 + 1)`` float32; equal
    to ``librosa.filters.mel`` (computed here to avoid librosa's ~110 MB of lazy imports)."""
    fft_freqs = np.linspace(0.0, config.sample_rate / 2, 1 + config.n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(config.fmin), hz_to_mel(config.fmax), config.n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _filters(config: FeatureConfig):
    """(window (n_fft,) float32, mel basis (n_mels, n_fft // 2 + 1) as a float32 CSR matrix).

    The basis is ~2 % non-zero: a sparse product is 4x cheaper than a dense one and, unlike BLAS,
    starts no threads (OpenBLAS threads spinning between blocks doubled the cost of streaming).
    """
    import scipy.sparse

    window = np.zeros(config.n_fft, dtype=np.float32)
    lo = (config.n_fft - config.win_length) // 2
    window[lo : lo + config.win_length] = np.hanning(config.win_length + 1)[:-1]  # periodic Hann
    return window, scipy.sparse.csr_matrix(mel_filterbank(config))


def _left_pad(config: FeatureConfig) -> int:
    return config.n_fft // 2 - config.hop_length // 2


def _frames_logmel(padded: np.ndarray, count: int, config: FeatureConfig) -> np.ndarray:
    """Log-mel of the ``count`` frames starting at ``padded[0]``, each ``n_fft`` long, hop apart."""
    import scipy.fft

    window, mel = _filters(config)
    frames = np.lib.stride_tricks.sliding_window_view(padded[: (count - 1) * config.hop_length + config.n_fft],
                                                      config.n_fft)[:: config.hop_length]
    spec = scipy.fft.rfft(frames * window, axis=-1)
    power = np.square(spec.real, dtype=np.float32)
    power += np.square(spec.imag, dtype=np.float32)
    out = np.ascontiguousarray((mel @ power.T).T)  # (count, n_mels)
    return np.log(out + np.float32(config.log_offset), out=out)


class LogMelStream:
    """Incremental :func:`logmel`: ``push`` sample blocks, then ``finish``; the concatenated outputs
    equal ``logmel(np.concatenate(blocks))``.

    >>> s = LogMelStream(config=FeatureConfig())
    >>> feats = [s.push(block) for block in blocks] + [s.finish()]
    """

    def __init__(self, *, config: FeatureConfig = DEFAULT_FEATURES) -> None:
        self.config = config
        self._buffer = np.zeros(_left_pad(config), dtype=np.float32)
        self.n_samples = 0
        self.n_frames = 0  # frames emitted so far

    def push(self, y: np.ndarray) -> np.ndarray:
        """Add samples ``(n,)`` float; return the frames now complete, shape ``(k, n_mels)``."""
        y = np.asarray(y, dtype=np.float32)
        self.n_samples += y.size
        self._buffer = np.concatenate([self._buffer, y]) if y.size else self._buffer
        hop, n_fft = self.config.hop_length, self.config.n_fft
        ready = 1 + (self._buffer.size - n_fft) // hop if self._buffer.size >= n_fft else 0
        return self._emit(ready)

    def finish(self) -> np.ndarray:
        """Zero-pad the end and return the remaining frames, shape ``(k, n_mels)``."""
        remaining = n_frames(self.n_samples, hop_length=self.config.hop_length) - self.n_frames
        if remaining <= 0:
            return np.zeros((0, self.config.n_mels), dtype=np.float32)
        need = (remaining - 1) * self.config.hop_length + self.config.n_fft
        if self._buffer.size < need:
            self._buffer = np.concatenate([self._buffer, np.zeros(need - self._buffer.size, np.float32)])
        return self._emit(remaining)

    def _emit(self, count: int) -> np.ndarray:
        if count <= 0:
            return np.zeros((0, self.config.n_mels), dtype=np.float32)
        parts = []
        for lo in range(0, count, _FRAMES_PER_BLOCK):
            k = min(_FRAMES_PER_BLOCK, count - lo)
            parts.append(_frames_logmel(self._buffer[lo * self.config.hop_length :], k, self.config))
        self._buffer = self._buffer[count * self.config.hop_length :].copy()
        self.n_frames += count
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def logmel(y: np.ndarray, *, config: FeatureConfig = DEFAULT_FEATURES) -> np.ndarray:
    """Log-mel spectrogram of ``y`` at ``config.sample_rate``: mono ``(n_samples,)``, or stereo
    ``(n_samples, 2)`` made one channel as ``config.mix`` says.

    Returns ``(ceil(n_samples / hop), n_mels)`` float32, natural log of mel power + ``log_offset``.
    """
    y = np.asarray(y, dtype=np.float32)
    if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 2)):
        raise ValueError(f"logmel expects audio of shape (n_samples,) or (n_samples, 2), got {y.shape}")
    return np.concatenate(list(logmel_blocks([y], config=config)) or
                          [np.zeros((0, config.n_mels), np.float32)])


def logmel_blocks(blocks: Iterable[np.ndarray], *, config: FeatureConfig = DEFAULT_FEATURES):
    """Yield log-mel frames ``(k, n_mels)`` for a stream of sample blocks (see :class:`LogMelStream`):
    mono ``(k,)`` blocks, or stereo ``(k, 2)`` ones made one channel as ``config.mix`` says.

    Long blocks are cut so that no more than a few thousand frames are computed at once.
    """
    blocks = _one_channel(blocks, config.mix)
    stream = LogMelStream(config=config)
    step = _FRAMES_PER_BLOCK * config.hop_length
    for block in blocks:
        for lo in range(0, len(block), step):
            out = stream.push(block[lo : lo + step])
            if len(out):
                yield out
    out = stream.finish()
    if len(out):
        yield out


def _one_channel(blocks: Iterable[np.ndarray], mix: str) -> Iterator[np.ndarray]:
    """Mono blocks as they are; stereo ones through :func:`detector.stereo.centre_blocks` or averaged."""
    from detector.stereo import centre_blocks

    blocks = iter(blocks)
    first = next(blocks, None)
    if first is None:
        return
    blocks = itertools.chain([first], blocks)
    if mix == "centre" and np.ndim(first) == 2:
        yield from centre_blocks(blocks)
        return
    for block in blocks:
        yield block.mean(axis=1, dtype=np.float32) if np.ndim(block) == 2 else block


@dataclass
class Normalization:
    """Per-mel-band standardisation ``(feats - mean) / std``; ``mean``, ``std`` are ``(n_mels,)``."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        self.std = np.maximum(np.asarray(self.std, dtype=np.float32).reshape(-1), np.float32(1e-5))
        if self.mean.shape != self.std.shape:
            raise ValueError(f"mean {self.mean.shape} and std {self.std.shape} differ in shape")

    @classmethod
    def identity(cls, n_mels: int) -> Normalization:
        return cls(np.zeros(n_mels, np.float32), np.ones(n_mels, np.float32))

    def apply(self, feats: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """``(..., n_mels)`` -> same shape float32 (``out=feats`` works in place)."""
        if feats.shape[-1] != self.mean.size:
            raise ValueError(f"features have {feats.shape[-1]} bands, normalisation has {self.mean.size}")
        out = np.subtract(feats, self.mean, out=out, dtype=np.float32)
        return np.divide(out, self.std, out=out)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalization:
        return cls(np.asarray(data["mean"], np.float32), np.asarray(data["std"], np.float32))


def fit_normalization(features_list: Sequence[np.ndarray] | Iterable[np.ndarray]) -> Normalization:
    """Mean and standard deviation per band over all frames of all ``(n_frames, n_mels)`` arrays."""
    total = sum_x = sum_xx = None
    for feats in features_list:
        f = np.asarray(feats, dtype=np.float64)
        if f.size == 0:
            continue
        if total is None:
            total, sum_x, sum_xx = 0, np.zeros(f.shape[-1]), np.zeros(f.shape[-1])
        total += f.shape[0]
        sum_x += f.sum(axis=0)
        sum_xx += np.square(f).sum(axis=0)
    if not total:
        raise ValueError("fit_normalization needs at least one non-empty feature array")
    mean = sum_x / total
    std = np.sqrt(np.maximum(sum_xx / total - mean**2, 0.0))
    return Normalization(mean, std)
