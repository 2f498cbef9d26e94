"""Builders shared by the jobs tests: synthetic songs with verified revisions in each split, and a
tiny random-weight CRNN registered as a model version, so a training job takes a few seconds."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import time
import uuid

import numpy as np
import soundfile as sf

SR = 16000
DURATION = 5.0
VOCAL_SPANS = [(1.0, 2.4), (3.1, 4.3)]

TINY_TRAINING = {"mode": "finetune:L1", "epochs": 2, "steps_per_epoch": 3, "batch_size": 2, "crop_seconds": 1.5,
                 "lr": 0.003, "seed": 1}


def song_audio(seed: int, *, spans=VOCAL_SPANS, duration: float = DURATION) -> bytes:
    """WAV bytes: soft noise + a low drone everywhere, a voice-like harmonic tone with vibrato in `spans`."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration * SR)) / SR
    y = 0.05 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 110 * t)
    f0 = 220 + 40 * seed % 120
    for a, b in spans:
        m = (t >= a) & (t < b)
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5.5 * t[m]))) / SR
        y[m] += sum(0.3 / k * np.sin(k * phase) for k in range(1, 6))
    buf = io.BytesIO()
    sf.write(buf, (y / np.abs(y).max() * 0.8).astype(np.float32), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def segments_for(spans=VOCAL_SPANS, duration: float = DURATION):
    from detector.labels import intervals_to_segments

    return intervals_to_segments(spans, duration=duration)


def make_song(project, *, title: str, split: str = "unassigned", verified: bool = True, user=None, seed: int = 0):
    """A ready Song with its WAV in storage and (optionally) a verified human revision."""
    from annotations.services import revision_create
    from django.core.files.base import ContentFile
    from songs.models import Song, SongStatus

    data = song_audio(seed)
    sha = hashlib.sha256(data + title.encode()).hexdigest()
    song = Song(project=project, title=title, original_name=f"{title}.wav", extension=".wav", size_bytes=len(data),
                sha256=sha, duration=DURATION, sample_rate=SR, channels=1, codec="pcm_s16le",
                status=SongStatus.READY, split=split, created_by=user)
    song.original.save(f"{title}.wav", ContentFile(data), save=False)
    song.save()
    if verified:
        revision_create(song=song, segments=segments_for(), author=user, origin="human", state="verified")
    return song


def make_songs(project, user, *, train: int = 2, validation: int = 1, test: int = 1) -> dict:
    out = {"train": [], "validation": [], "test": []}
    seed = 0
    for split, n in (("train", train), ("validation", validation), ("test", test)):
        for i in range(n):
            seed += 1
            out[split].append(make_song(project, title=f"{split} song {i + 1}", split=split, user=user, seed=seed))
    return out


def tiny_bundle_kwargs(seed: int = 0) -> dict:
    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNNConfig, build_model

    fc = FeatureConfig(n_mels=16, n_fft=512, win_length=400)
    model = build_model(CRNNConfig(n_mels=16, channels=(4, 6, 6), kernel_sizes=(3, 3, 3), freq_pools=(2, 2, 2),
                                   rnn_hidden=6), seed=seed)
    return {"model": model, "feature_config": fc,
            "normalization": Normalization(np.full(16, -6.0, np.float32), np.full(16, 3.0, np.float32))}


def make_tiny_model(project, *, name: str = "tiny source", seed: int = 0, shipped: bool = False):
    """A tiny random-weight CRNN checkpoint in storage, registered as a ModelVersion."""
    from django.core.files.storage import default_storage
    from jobs.models import ModelKind, ModelVersion

    from detector.checkpoint import save_checkpoint

    name_in_storage = f"models/test/{uuid.uuid4().hex}.pt"
    path = default_storage.path(name_in_storage)
    save_checkpoint(path, kind="source", seed=seed, **tiny_bundle_kwargs(seed))
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return ModelVersion.objects.create(project=None if shipped else project, name=name, kind=ModelKind.SOURCE,
                                       checkpoint=name_in_storage, checkpoint_sha256=digest,
                                       trainable_parameters=tiny_bundle_kwargs(seed)["model"].parameter_counts()["trainable"])


def wait_for(predicate, *, timeout: float, what: str, log=None):
    """Poll ``predicate`` every 0.3 s until it returns something truthy (returned); on timeout fail
    with ``what`` and, when given, the text of ``log()`` (a worker's or server's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f"\nlog:\n{log()}" if log else ""))


def stop_process(proc: subprocess.Popen, log_file=None) -> None:
    """Stop a server started with ``start_new_session=True``: SIGTERM, and after 20 s SIGKILL to its
    whole process group (a worker's pool children included); then close its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    if log_file is not None:
        log_file.close()
