"""The song's spectrogram as the model hears it: the detector's log-mel features (detector.features,
80 mel bands from 27.5 Hz to 8 kHz of the 16 kHz signal, one row per 10 ms frame), made once by the
`process` job and stored per song.

Stored format (one file, ``spectrogram.bin``)::

    MAGIC  b"SGSPEC1\\n"
    uint32 little-endian: length of the JSON header
    JSON header (see :func:`spectrogram_header`)
    gzip members, one per tile: uint8 ``(frames, n_mels)`` row-major, band 0 = lowest frequency

Values are the natural-log mel power quantised to 0..255 over the song's top ``DB_RANGE`` dB
(255 = the song's loudest band-frame). Level 0 has one row per 10 ms frame; level k averages 2**k
frames (frame rate 100 / 2**k), so a client draws the level whose frame rate matches its zoom and
never fetches more rows than it has pixels. Each level is cut into tiles of ``TILE_FRAMES`` rows;
a tile is sent exactly as stored, with ``Content-Encoding: gzip`` (like the waveform peaks).
A 10-minute song is about 4.8 MB of uint8 at level 0 (about 1.5 MB gzipped), and the whole
pyramid about twice that.
"""

from __future__ import annotations

import gzip
import io
import json
import struct

import numpy as np

from detector.config import FeatureConfig
from detector.features import hz_to_mel, mel_to_hz

MAGIC = b"SGSPEC1\n"
FORMAT_VERSION = 1
TILE_FRAMES = 4096
TOP_MAX_FRAMES = 2048  # the coarsest level has at most this many rows: a whole song in one tile
DB_RANGE = 80.0
_LN_PER_DB = np.log(10.0) / 10.0  # natural-log power per dB


def spectrogram_quantise(features: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(n_frames, n_mels)`` natural-log mel power -> (uint8 of the same shape, lo, hi) where
    ``hi`` is the loudest value and ``lo = hi - DB_RANGE`` dB; 0 means "lo or quieter"."""
    x = np.asarray(features, dtype=np.float32)
    finite = x[np.isfinite(x)]
    hi = float(finite.max()) if finite.size else 0.0
    lo = hi - DB_RANGE * _LN_PER_DB
    q = np.nan_to_num((x - lo) * (255.0 / (hi - lo)), nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(q), 0, 255).astype(np.uint8), lo, hi


def spectrogram_levels(q: np.ndarray) -> list[np.ndarray]:
    """The zoom pyramid: level 0 is ``q``, level k averages pairs of rows of level k - 1 (an odd last
    row stands alone), down to at most ``TOP_MAX_FRAMES`` rows."""
    levels = [np.ascontiguousarray(q)]
    while len(levels[-1]) > TOP_MAX_FRAMES:
        a = levels[-1].astype(np.uint16)
        n = len(a) // 2 * 2
        pooled = (a[0:n:2] + a[1:n:2] + 1) // 2
        if len(a) > n:
            pooled = np.concatenate([pooled, a[n:]])
        levels.append(pooled.astype(np.uint8))
    return levels


def spectrogram_bytes(features: np.ndarray, *, config: FeatureConfig, duration: float) -> bytes:
    """The stored file for log-mel ``features`` ``(n_frames, n_mels)`` computed with ``config``."""
    q, lo, hi = spectrogram_quantise(features)
    n_mels = int(config.n_mels)
    if q.ndim != 2 or q.shape[1] != n_mels:
        raise ValueError(f"features must be (n_frames, {n_mels}), got {q.shape}")
    frame_rate = config.sample_rate / config.hop_length
    edges_mel = np.linspace(hz_to_mel(config.fmin), hz_to_mel(config.fmax), n_mels + 2)
    body = io.BytesIO()
    levels = []
    for k, rows in enumerate(spectrogram_levels(q)):
        tiles = []
        for start in range(0, max(1, len(rows)), TILE_FRAMES):
            chunk = rows[start : start + TILE_FRAMES]
            member = gzip.compress(np.ascontiguousarray(chunk).tobytes(), compresslevel=6, mtime=0)
            tiles.append({"offset": body.tell(), "length": len(member), "first_frame": start, "frames": len(chunk)})
            body.write(member)
        levels.append({"level": k, "frames_per_row": 2**k, "frame_rate": frame_rate / 2**k,
                       "n_frames": int(len(rows)), "tiles": tiles})
    header = {
        "version": FORMAT_VERSION,
        "duration": round(float(duration), 6),
        "frame_rate": frame_rate,
        "hop_seconds": config.hop_length / config.sample_rate,
        "n_frames": int(len(q)),
        "n_mels": n_mels,
        "sample_rate": config.sample_rate,
        "fmin": config.fmin,
        "fmax": config.fmax,
        "mel_scale": "slaney",
        # band b is centred on band_hz[b]; bands are equally spaced in mel between mel(fmin) and mel(fmax)
        "band_hz": [round(float(f), 2) for f in mel_to_hz(edges_mel[1:-1])],
        "mel_min": float(edges_mel[1]),
        "mel_step": float(edges_mel[1] - edges_mel[0]),
        "db_range": DB_RANGE,
        "log_lo": lo,
        "log_hi": hi,
        "tile_frames": TILE_FRAMES,
        "dtype": "uint8",
        "layout": "frames x bands, row-major, band 0 lowest",
        "levels": levels,
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + struct.pack("<I", len(head)) + head + body.getvalue()


def spectrogram_header(f) -> tuple[dict, int]:
    """(header, offset of the first tile) of an open stored file (positioned anywhere)."""
    f.seek(0)
    start = f.read(len(MAGIC) + 4)
    if start[: len(MAGIC)] != MAGIC:
        raise ValueError("not a Singscope spectrogram file")
    (n,) = struct.unpack("<I", start[len(MAGIC) :])
    return json.loads(f.read(n)), len(MAGIC) + 4 + n


def spectrogram_tile(f, *, header: dict, base: int, level: int, tile: int) -> bytes:
    """The stored gzip member of ``tile`` of ``level`` (IndexError when there is no such tile)."""
    if not 0 <= level < len(header["levels"]):
        raise IndexError(f"level {level}")
    tiles = header["levels"][level]["tiles"]
    if not 0 <= tile < len(tiles):
        raise IndexError(f"tile {tile}")
    entry = tiles[tile]
    f.seek(base + entry["offset"])
    return f.read(entry["length"])


def spectrogram_features(f) -> np.ndarray:
    """The log-mel features ``(n_frames, n_mels)`` float32 of an open stored file, read back from
    level 0 (quantised: values more than ``DB_RANGE`` dB below the loudest read as that floor)."""
    header, base = spectrogram_header(f)
    rows = [np.frombuffer(gzip.decompress(spectrogram_tile(f, header=header, base=base, level=0, tile=t)), np.uint8)
            for t in range(len(header["levels"][0]["tiles"]))]
    q = np.concatenate(rows).reshape(-1, int(header["n_mels"])) if rows else np.zeros((0, int(header["n_mels"])), np.uint8)
    lo, hi = float(header["log_lo"]), float(header["log_hi"])
    return (lo + q.astype(np.float32) * ((hi - lo) / 255.0)).astype(np.float32)
