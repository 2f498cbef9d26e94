"""Which song (and which region of a song) to correct first: where a correction teaches the model most.

A song's priority adds three things a person correcting it would fix, each in [0, 1]:

- **uncertainty**: how close the model's frame probabilities sit to 0.5 (``1 - |2p - 1|``, averaged):
  the model does not know, so the reference will teach it;
- **disagreement**: how far the current model's probabilities are from the previous model's (mean
  absolute difference): the two models disagree, so at least one of them is wrong there;
- **novelty**: how unlike the song is to every song already verified, from a signature of its sound
  (mean and spread of each log-mel band), in units of the collection's typical distance between
  songs: a song of a kind nobody verified yet covers what the training songs lack.

``priority = uncertainty + disagreement + NOVELTY_WEIGHT * novelty``. The learning-curve benchmark
(``benchmarks/learning_curve.py``) measures what this order buys against a random one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["signature", "song_priorities", "region_priorities", "NOVELTY_WEIGHT"]

NOVELTY_WEIGHT = 0.5


def signature(features: np.ndarray) -> np.ndarray:
    """A song's sound in a vector ``(2 * n_mels,)``: mean and standard deviation of each log-mel band
    of its frames ``(n_frames, n_mels)``."""
    f = np.asarray(features, np.float32)
    if len(f) == 0:
        return np.zeros(2 * f.shape[1], np.float32)
    return np.concatenate([f.mean(axis=0), f.std(axis=0)]).astype(np.float32)


def uncertainty(p: np.ndarray) -> float:
    p = np.asarray(p, np.float32)
    return float(np.mean(1.0 - np.abs(2.0 * p - 1.0))) if p.size else 0.0


def song_priorities(
    *,
    probabilities: Mapping[str, np.ndarray],
    signatures: Mapping[str, np.ndarray],
    verified: Sequence[str] = (),
    previous: Mapping[str, np.ndarray] | None = None,
) -> dict[str, dict[str, float]]:
    """``{song: {"priority", "uncertainty", "disagreement", "novelty"}}`` for every song in
    ``probabilities`` (frame probabilities of the current model); ``signatures`` covers those songs
    and the ``verified`` ones; ``previous`` holds the previous model's probabilities where known."""
    names = list(probabilities)
    sigs = {n: np.asarray(s, np.float32) for n, s in signatures.items()}
    known = [n for n in verified if n in sigs]
    everyone = [sigs[n] for n in dict.fromkeys([*names, *known]) if n in sigs]
    scale = _typical_distance(everyone)
    out = {}
    for n in names:
        p = np.asarray(probabilities[n], np.float32)
        q = None if previous is None else previous.get(n)
        dis = float(np.mean(np.abs(p[: len(q)] - np.asarray(q, np.float32)[: len(p)]))) if q is not None and len(q) else 0.0
        if known and n in sigs:
            nearest = min(float(np.linalg.norm(sigs[n] - sigs[v])) for v in known if v != n) if \
                any(v != n for v in known) else scale
            nov = min(1.0, nearest / scale) if scale > 0 else 0.0
        else:
            nov = 1.0  # nothing verified yet: every song is new
        unc = uncertainty(p)
        out[n] = {"priority": round(unc + dis + NOVELTY_WEIGHT * nov, 4), "uncertainty": round(unc, 4),
                  "disagreement": round(dis, 4), "novelty": round(nov, 4)}
    return out


def region_priorities(probabilities: np.ndarray, bounds: Sequence[tuple[int, int]]) -> list[float]:
    """The uncertainty of each region ``[start, end)`` (frames) of a song: the editor's order of
    regions to check, most uncertain first."""
    p = np.asarray(probabilities, np.float32)
    return [uncertainty(p[a:b]) for a, b in bounds]


def _typical_distance(sigs: Sequence[np.ndarray]) -> float:
    """The median distance between two songs' signatures (1.0 when there are fewer than two)."""
    if len(sigs) < 2:
        return 1.0
    m = np.stack(sigs)
    d = np.sqrt(np.maximum(0.0, (m**2).sum(1)[:, None] + (m**2).sum(1)[None, :] - 2 * m @ m.T))
    upper = d[np.triu_indices(len(m), k=1)]
    return float(np.median(upper)) or 1.0
