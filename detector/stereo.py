"""The centre of a stereo mix: what is panned to the middle, where lead vocals sit.

Pop mixes put the lead voice in the centre and spread guitars, keys and effects to the sides; a
plain channel average hands the model all of it at once. :func:`centre` keeps each time-frequency
bin in proportion to how alike the two channels are there (Avendano & Jot's inter-channel
similarity, 2002): ``mask = clip(Re(L R*) / ((|L|^2 + |R|^2) / 2), 0, 1) ** 2``, both terms
averaged over five consecutive frames (16 ms apart) so that the phase agreement means something,
applied to ``(L + R) / 2``.
A bin present in one channel only, or in both with opposite phase, is removed; a centred bin
passes unchanged, so a mono file (``L == R``) comes back as it went in.

Written here rather than taken from a library because it must stream: :class:`CentreStream`
gives the same samples block by block as :func:`centre` on the whole signal (detection never
holds a song whole). Hann windows of 1024 samples, hop 256, at 16 kHz.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

N_FFT = 1024
HOP = 256
SMOOTH = 5  # frames averaged (odd)
POWER = 2.0
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
_OLA_GAIN = float(np.sum(_WINDOW**2) / HOP)  # Hann^2 at 75 % overlap sums to this constant
# samples of context each side of a chunk: a frame (N_FFT) plus the smoothing reach, on the hop grid
_CONTEXT = N_FFT + (SMOOTH // 2 + 1) * HOP
_CHUNK = 256 * HOP  # 4 s: the context costs ~7 % more frames


def centre(y: np.ndarray) -> np.ndarray:
    """``(n, 2)`` stereo -> ``(n,)`` float32 centre channel; ``(n,)`` mono is returned as float32."""
    s = CentreStream()
    return np.concatenate([s.push(y), s.finish()])


def centre_blocks(blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """:func:`centre` over a stream of ``(k, 2)`` blocks (``(k,)`` mono blocks pass through)."""
    s = CentreStream()
    for block in blocks:
        out = s.push(block)
        if len(out):
            yield out
    out = s.finish()
    if len(out):
        yield out


class CentreStream:
    """Incremental :func:`centre`: ``push`` blocks, then ``finish``; the outputs concatenated equal
    ``centre`` of the blocks concatenated (up to float rounding)."""

    def __init__(self) -> None:
        # the signal zero-padded by _CONTEXT at the start; `_buffer[0]` is padded sample `_offset`
        self._buffer = np.zeros((_CONTEXT, 2), dtype=np.float32)
        self._offset = 0
        self._done = 0  # output samples emitted
        self.n_samples = 0
        self._mono = True  # every block so far had L == R: pass samples through unchanged

    def push(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 1:
            y = np.repeat(y[:, None], 2, axis=1)
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(f"centre expects (n, 2) stereo or (n,) mono samples, got {y.shape}")
        self._mono = self._mono and bool(np.array_equal(y[:, 0], y[:, 1]))
        self.n_samples += len(y)
        self._buffer = np.concatenate([self._buffer, y])
        return self._emit(final=False)

    def finish(self) -> np.ndarray:
        pad = _CONTEXT + (-self.n_samples) % HOP
        self._buffer = np.concatenate([self._buffer, np.zeros((pad, 2), np.float32)])
        return self._emit(final=True)

    def _emit(self, *, final: bool) -> np.ndarray:
        parts = []
        while True:
            available = self._offset + len(self._buffer) - _CONTEXT  # padded samples with right context
            todo = min(_CHUNK, available - (_CONTEXT + self._done))
            if final:
                todo = min(todo, self.n_samples - self._done)
            elif todo < _CHUNK:
                break
            if todo <= 0:
                break
            a = _CONTEXT + self._done - self._offset  # chunk start in the buffer
            seg = self._buffer[a - _CONTEXT : a + todo + _CONTEXT]
            parts.append(seg[_CONTEXT : _CONTEXT + todo].mean(axis=1) if self._mono else _centre_segment(seg, todo))
            self._done += todo
            drop = a + todo - _CONTEXT  # keep the next chunk's left context
            self._buffer, self._offset = self._buffer[drop:], self._offset + drop
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def _centre_segment(seg: np.ndarray, n_out: int) -> np.ndarray:
    """Centre of ``seg[_CONTEXT : _CONTEXT + n_out]``, using the context around it.

    ``_CONTEXT`` and chunk starts are multiples of ``HOP``, so frames sit on one global grid
    whatever the chunking, and every output sample sees all the frames (and smoothing) it would see
    in the whole signal.
    """
    import scipy.fft
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.ndimage import uniform_filter1d

    n_frames = (len(seg) - N_FFT) // HOP + 1
    frames = sliding_window_view(seg, N_FFT, axis=0)[::HOP][:n_frames]  # (frames, 2, N_FFT)
    spec = scipy.fft.rfft(frames * _WINDOW, axis=-1)  # complex64: float32 in, float32 math
    left, right = spec[:, 0], spec[:, 1]
    cross = uniform_filter1d(left.real * right.real + left.imag * right.imag, SMOOTH, axis=0)
    power = uniform_filter1d((left.real**2 + left.imag**2 + right.real**2 + right.imag**2) / 2, SMOOTH, axis=0)
    mask = np.clip(cross / (power + 1e-10), 0.0, 1.0) ** POWER
    out_frames = scipy.fft.irfft(mask * (left + right) / 2, n=N_FFT, axis=-1) * _WINDOW
    k = N_FFT // HOP  # overlap-add: each hop-long piece of output sums k frames' pieces
    pieces = out_frames.reshape(n_frames, k, HOP)
    out = np.zeros((n_frames + k - 1, HOP), np.float32)
    for i in range(k):
        out[i : i + n_frames] += pieces[:, i]
    return (out.reshape(-1)[_CONTEXT : _CONTEXT + n_out] / _OLA_GAIN).astype(np.float32)
