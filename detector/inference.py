"""Run a model over whole songs: frame probabilities, then segments.

A song's log-mel frames are cut into a few long windows (``chunk_s`` seconds each plus
``context_s`` on both sides, the last one aligned to the song's end). Every frame takes its
probability from the window where it sits farthest from an edge, so each window is an ordinary
forward pass over ~30 s and never one pass per frame. Windows of equal length from many songs go
through the model together, in batches of at most ``max_batch_frames`` frames (bounded memory).

Two backends share the interface ``normalization``, ``feature_config``, ``postprocess`` and
``logits(x)``: :class:`~detector.checkpoint.Bundle` (PyTorch) and :class:`OnnxBundle`
(ONNX Runtime, see :func:`export_onnx`).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from detector.audio import AudioInfo, probe, stream
from detector.config import DEFAULT_FEATURES, FRAME_RATE, FeatureConfig
from detector.errors import CheckpointError
from detector.features import Normalization, logmel, logmel_blocks
from detector.labels import Segment
from detector.postprocess import PostprocessConfig, segments_from_probabilities

CHUNK_S = 30.0
CONTEXT_S = 2.0
MAX_BATCH_FRAMES = 4000  # frames per forward pass; on CPU bigger batches are no faster and cost memory


class Backend(Protocol):
    feature_config: FeatureConfig
    normalization: Normalization
    postprocess: PostprocessConfig

    def logits(self, x: np.ndarray) -> np.ndarray: ...


@dataclass
class Detection:
    """Result of :func:`detect_file`: ``probabilities`` ``(n_frames,)`` float32 on the 10 ms grid,
    ``segments`` a full partition of ``[0, duration]`` seconds, ``info`` the file's header;
    ``features`` the log-mel frames ``(n_frames, n_mels)`` the model saw (only with ``keep_features``)."""

    probabilities: np.ndarray
    segments: list[Segment]
    duration: float
    info: AudioInfo
    features: np.ndarray | None = None


class _Window(NamedTuple):
    song: int
    start: int  # first frame of the window
    length: int  # frames
    own_lo: int  # frames [own_lo, own_hi) take their value from this window
    own_hi: int


def windows(n: int, *, chunk: int, context: int) -> list[tuple[int, int, int, int]]:
    """``(start, length, own_lo, own_hi)`` frame windows covering ``n`` frames.

    Windows are ``chunk + 2 * context`` long (one shorter window when ``n`` is smaller), the last
    aligned to the end; the owned ranges partition ``[0, n)`` and every owned frame has at least
    ``context`` frames of context on each side (except at the song's ends).
    """
    if n <= 0:
        return []
    length = chunk + 2 * context
    if n <= length:
        return [(0, n, 0, n)]
    starts = list(range(0, n - length, chunk)) + [n - length]
    bounds = [0] + [(a + length + b) // 2 for a, b in zip(starts[:-1], starts[1:], strict=True)] + [n]
    return [(s, length, lo, hi) for s, lo, hi in zip(starts, bounds[:-1], bounds[1:], strict=True)]


def predict_features_batch(
    backend: Backend,
    features: Sequence[np.ndarray],
    *,
    chunk_s: float = CHUNK_S,
    context_s: float = CONTEXT_S,
    max_batch_frames: int = MAX_BATCH_FRAMES,
) -> list[np.ndarray]:
    """Frame probabilities for each log-mel array ``(n_frames, n_mels)`` (not yet normalised).

    Returns one float32 array ``(n_frames,)`` per input, each frame in ``[0, 1]``.
    """
    chunk, context = _frames(chunk_s, context_s)
    groups: dict[int, list[_Window]] = defaultdict(list)
    for k, f in enumerate(features):
        for w in windows(len(f), chunk=chunk, context=context):
            groups[w[1]].append(_Window(k, *w))
    outs = [np.zeros(len(f), dtype=np.float32) for f in features]
    norm = backend.normalization
    for length, group in groups.items():
        per_batch = max(1, max_batch_frames // length)
        for i in range(0, len(group), per_batch):
            batch = group[i : i + per_batch]
            x = np.empty((len(batch), length, norm.mean.size), dtype=np.float32)
            for row, w in zip(x, batch, strict=True):
                norm.apply(features[w.song][w.start : w.start + length], out=row)
            p = _sigmoid(backend.logits(x))
            for row, w in zip(p, batch, strict=True):
                outs[w.song][w.own_lo : w.own_hi] = row[w.own_lo - w.start : w.own_hi - w.start]
    return outs


def predict_features(backend: Backend, features: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Frame probabilities ``(n_frames,)`` float32 of one log-mel array ``(n_frames, n_mels)``."""
    return predict_features_batch(backend, [features], **kwargs)[0]


def predict(backend: Backend, y: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Frame probabilities ``(ceil(len(y) / 160),)`` float32 of 16 kHz mono audio ``y``."""
    return predict_features(backend, logmel(y, config=backend.feature_config), **kwargs)


def predict_batch(backend: Backend, ys: Sequence[np.ndarray], **kwargs: Any) -> list[np.ndarray]:
    """:func:`predict` for several songs, their windows batched together through the model."""
    feats = [logmel(y, config=backend.feature_config) for y in ys]
    return predict_features_batch(backend, feats, **kwargs)


def predict_stream(
    backend: Backend,
    feature_blocks: Iterable[np.ndarray],
    *,
    chunk_s: float = CHUNK_S,
    context_s: float = CONTEXT_S,
    max_batch_frames: int = MAX_BATCH_FRAMES,
) -> np.ndarray:
    """:func:`predict_features` for log-mel frames arriving in blocks ``(k, n_mels)``.

    Same windows, same numbers, but only the last window's worth of frames is ever held, so a song
    of any length costs a few megabytes. Returns ``(n_frames,)`` float32.
    """
    chunk, context = _frames(chunk_s, context_s)
    length = chunk + 2 * context
    per_batch = max(1, max_batch_frames // length)
    norm = backend.normalization
    buffer = np.zeros((0, norm.mean.size), np.float32)
    offset = 0  # absolute index of buffer[0]
    n = 0  # frames seen
    next_start = 0  # next regular window
    queue: list[tuple[int, np.ndarray]] = []  # (start, normalised window) waiting for a batch
    pieces: list[np.ndarray] = []  # finished probabilities, in order
    prev: tuple[int, np.ndarray] | None = None  # the latest window's (start, probabilities)
    owned_from = 0  # first frame the latest window owns

    def emit(start: int, row: np.ndarray) -> None:
        nonlocal prev, owned_from
        if prev is not None:  # the previous window owns up to the middle of the overlap
            boundary = (prev[0] + len(prev[1]) + start) // 2
            pieces.append(prev[1][owned_from - prev[0] : boundary - prev[0]])
            owned_from = boundary
        prev = (start, row)

    def run(force: bool = False) -> None:
        while queue and (force or len(queue) >= per_batch):
            batch, queue[:] = queue[:per_batch], queue[per_batch:]
            logits = backend.logits(np.stack([x for _, x in batch]))
            for (start, _), row in zip(batch, _sigmoid(logits), strict=True):
                emit(start, row)

    for block in feature_blocks:
        buffer = np.concatenate([buffer, np.asarray(block, np.float32)]) if len(buffer) else np.asarray(block, np.float32)
        n += len(block)
        while n > next_start + length:  # a regular window that is not the song's last
            lo = next_start - offset
            queue.append((next_start, norm.apply(buffer[lo : lo + length])))
            next_start += chunk
            run()
        keep = max(0, min(next_start, n - length)) - offset  # frames a future window may need
        if keep > 0:
            buffer, offset = buffer[keep:].copy(), offset + keep
    if n == 0:
        return np.zeros(0, np.float32)
    start = max(0, n - length)
    queue.append((start, norm.apply(buffer[start - offset :])))
    run(force=True)
    pieces.append(prev[1][owned_from - prev[0] :])
    return np.concatenate(pieces)


def _frames(chunk_s: float, context_s: float) -> tuple[int, int]:
    return max(1, int(round(chunk_s * FRAME_RATE))), max(0, int(round(context_s * FRAME_RATE)))


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(logits).astype(np.float32, copy=False)


class _CountedBlocks:
    """The decoded blocks of a file (:func:`detector.audio.stream`), counting samples as they pass,
    handing each block to ``on_block`` and calling ``progress(fraction decoded, at most cap)``."""

    def __init__(self, path, *, sr: int, max_duration: float | None, info: AudioInfo,
                 progress: Callable[[float], None] | None, cap: float = 1.0, stereo: bool = False,
                 on_block: Callable[[np.ndarray], None] | None = None) -> None:
        self.path, self.sr, self.max_duration, self.info, self.stereo = path, sr, max_duration, info, stereo
        self.progress, self.cap, self.on_block = progress, cap, on_block
        self.n_samples = 0

    def __iter__(self):
        for block in stream(self.path, sr=self.sr, max_duration=self.max_duration, info=self.info,
                            stereo=self.stereo):
            self.n_samples += len(block)
            if self.on_block is not None:
                self.on_block(block)
            if self.progress is not None:
                self.progress(min(self.cap, self.n_samples / self.sr / self.info.duration))
            yield block


def file_features(
    path: str | os.PathLike,
    *,
    config: FeatureConfig = DEFAULT_FEATURES,
    max_duration: float | None = None,
    progress: Callable[[float], None] | None = None,
    on_block: Callable[[np.ndarray], None] | None = None,
) -> tuple[np.ndarray, float, AudioInfo]:
    """Log-mel ``(n_frames, n_mels)`` of a file, decoded and analysed block by block.

    Returns ``(features, duration_s, info)``; the audio itself is never held whole, so memory is
    the features (~32 KB per second) plus one block. ``progress(fraction)`` follows the decoding.
    ``on_block(block)`` receives every decoded block, in order, as :func:`detector.audio.stream`
    yields it (``(n,)`` mono, or ``(n, 2)`` when ``config.stereo_input``), e.g. for waveform peaks.
    """
    info = probe(path)
    blocks = _CountedBlocks(path, sr=config.sample_rate, max_duration=max_duration, info=info, progress=progress,
                            stereo=config.stereo_input, on_block=on_block)
    out = np.empty((int(math.ceil(info.duration * FRAME_RATE)) + FRAME_RATE, config.n_mels), np.float32)
    n = 0
    for part in logmel_blocks(blocks, config=config):
        if n + len(part) > len(out):
            out = np.resize(out, (max(n + len(part), int(len(out) * 1.25)), config.n_mels))
        out[n : n + len(part)] = part
        n += len(part)
    return out[:n], blocks.n_samples / config.sample_rate, info


def detect_file(
    path: str | os.PathLike,
    *,
    bundle: Backend,
    progress: Callable[[float], None] | None = None,
    max_duration: float | None = None,
    postprocess: PostprocessConfig | None = None,
    on_block: Callable[[np.ndarray], None] | None = None,
    keep_features: bool = False,
) -> Detection:
    """Decode ``path``, run the model, post-process: probabilities and a full segment partition.

    Decoding, log-mel and the model run as one stream (:func:`predict_stream`), so memory does not
    grow with the song's length. ``progress(fraction)`` is called with 0..1 as decoding advances.
    ``postprocess`` overrides the bundle's own post-processing parameters. ``on_block(block)``
    receives every decoded block as :func:`file_features` describes (one decoding pass serves
    the caller too, e.g. waveform peaks); ``keep_features=True`` also returns the log-mel frames
    the model saw as ``Detection.features`` (memory then grows with the song, ~32 KB per second).
    """
    config = bundle.feature_config
    info = probe(path)
    # decoding reports up to 0.99: the last step (post-processing) reports 1.0 below
    blocks = _CountedBlocks(path, sr=config.sample_rate, max_duration=max_duration, info=info, progress=progress,
                            cap=0.99, stereo=config.stereo_input, on_block=on_block)
    kept: list[np.ndarray] | None = [] if keep_features else None
    p = predict_stream(bundle, _kept(logmel_blocks(blocks, config=config), kept))
    duration = blocks.n_samples / config.sample_rate
    segments = segments_from_probabilities(p, config=postprocess or bundle.postprocess, duration=duration)
    features = None
    if kept is not None:
        features = np.concatenate(kept) if kept else np.zeros((0, config.n_mels), np.float32)
    if progress is not None:
        progress(1.0)
    return Detection(p, segments, duration, info, features)


def _kept(parts: Iterable[np.ndarray], into: list[np.ndarray] | None) -> Iterable[np.ndarray]:
    """``parts`` unchanged, each also appended to ``into`` (when not None)."""
    for part in parts:
        if into is not None:
            into.append(part)
        yield part


# -- ONNX Runtime backend ----------------------------------------------------------------------------


@dataclass
class OnnxBundle:
    """An exported model run by ONNX Runtime, with the same interface as a checkpoint Bundle."""

    session: Any
    feature_config: FeatureConfig
    normalization: Normalization
    postprocess: PostprocessConfig
    metadata: dict[str, Any] = field(default_factory=dict)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Normalised features ``(batch, frames, n_mels)`` float32 -> logits ``(batch, frames)``."""
        return self.session.run(["logits"], {"features": np.ascontiguousarray(x, dtype=np.float32)})[0]


def _onnx_model(bundle):
    """The ONNX ``ModelProto`` of a checkpoint bundle, metadata included."""
    import io

    import onnx
    import torch

    model = bundle.model.eval()
    dummy = torch.zeros(1, 64, bundle.feature_config.n_mels)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (dummy,), buffer, dynamo=False, input_names=["features"],
                          output_names=["logits"], opset_version=17,
                          dynamic_axes={"features": {0: "batch", 1: "frames"}, "logits": {0: "batch", 1: "frames"}})
    proto = onnx.load_from_string(buffer.getvalue())
    meta = {k: v for k, v in getattr(bundle, "metadata", {}).items()
            if k in ("kind", "parent", "created", "seed", "format_version", "versions", "path")}
    for key, value in {
        "feature_config": bundle.feature_config.to_dict(),
        "normalization": bundle.normalization.to_dict(),
        "postprocess": bundle.postprocess.to_dict(),
        "model_config": bundle.model_config.to_dict(),
        "metadata": meta,
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value, default=str)
    return proto


def export_onnx(bundle, path: str | os.PathLike) -> Path:
    """Write ``bundle``'s model to ``path`` as ONNX (input ``features`` ``(batch, frames, n_mels)``,
    output ``logits`` ``(batch, frames)``), with feature config, normalisation and post-processing
    stored as metadata so :func:`load_onnx` needs nothing else. Written atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(_onnx_model(bundle).SerializeToString())
    os.replace(tmp, path)
    return path


def to_onnx(bundle, *, threads: int | None = None) -> OnnxBundle:
    """The same model as an in-memory :class:`OnnxBundle` (about 0.5 s; 3-4x faster inference)."""
    return _onnx_bundle(_onnx_model(bundle).SerializeToString(), threads=threads,
                        name=getattr(bundle, "metadata", {}).get("path", "<model>"))


def load_onnx(path: str | os.PathLike, *, expect_feature_config: FeatureConfig | None = None,
              threads: int | None = None) -> OnnxBundle:
    """An :class:`OnnxBundle` from a file written by :func:`export_onnx`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such ONNX model file")
    bundle = _onnx_bundle(str(path), threads=threads, name=str(path))
    if expect_feature_config is not None and bundle.feature_config != expect_feature_config:
        raise CheckpointError(f"{path}: feature_config differs from the expected one")
    return bundle


def _onnx_bundle(model: str | bytes, *, threads: int | None, name: str) -> OnnxBundle:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 1  # one thread: the GRU's tiny steps do not parallelise
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # activations are freed after each batch: memory stays flat
    options.enable_mem_pattern = False
    try:
        session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
        props = session.get_modelmeta().custom_metadata_map
        feature_config = FeatureConfig.from_dict(json.loads(props["feature_config"]))
        normalization = Normalization.from_dict(json.loads(props["normalization"]))
        postprocess = PostprocessConfig.from_dict(json.loads(props["postprocess"]))
        metadata = json.loads(props.get("metadata", "{}"))
    except KeyError as exc:
        raise CheckpointError(f"{name}: ONNX model lacks the {exc.args[0]!r} metadata") from None
    except Exception as exc:
        raise CheckpointError(f"{name}: not a usable ONNX model ({' '.join(str(exc).split())[:200]})") from None
    metadata.setdefault("path", name)
    return OnnxBundle(session, feature_config, normalization, postprocess, metadata)


def load_model(
    path: str | os.PathLike | None = None,
    *,
    runtime: str = "auto",
    threads: int | None = None,
    expect_feature_config: FeatureConfig | None = None,
):
    """A backend for :func:`predict` / :func:`detect_file` from a checkpoint or ``.onnx`` file.

    ``path=None`` loads the shipped default model (:func:`default_model_path`). ``runtime``:
    ``"onnx"`` runs a ``.pt`` checkpoint through ONNX Runtime (converted in memory, ~0.5 s; inference
    is 3-4x cheaper than eager PyTorch on CPU), ``"torch"`` keeps the PyTorch
    :class:`~detector.checkpoint.Bundle`, ``"auto"`` (default) tries ONNX and falls back to PyTorch.
    ``.onnx`` files always use ONNX Runtime.
    """
    from detector.checkpoint import load_checkpoint

    if runtime not in ("auto", "torch", "onnx"):
        raise ValueError(f"runtime must be 'auto', 'torch' or 'onnx', got {runtime!r}")
    path = Path(path) if path is not None else default_model_path()
    if path.suffix.lower() == ".onnx":
        return load_onnx(path, expect_feature_config=expect_feature_config, threads=threads)
    bundle = load_checkpoint(path, expect_feature_config=expect_feature_config)
    if runtime == "torch":
        return bundle
    try:
        return to_onnx(bundle, threads=threads)
    except Exception:
        if runtime == "onnx":
            raise
        return bundle


def default_model_path() -> Path:
    """The shipped model file (see :func:`detector.checkpoint.default_model_path`)."""
    from detector.checkpoint import default_model_path as find

    return find()
