"""Helpers for the fault tests: long synthetic songs with a verified human revision, polling, a
throwaway redis-server the test owns, API tokens."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

SR = 16000


def wav(seconds: float, *, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.05 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 110 * t)
    voiced = (t % 6) < 3
    y[voiced] += 0.3 * np.sin(2 * np.pi * (220 + 20 * seed) * t[voiced])
    buf = io.BytesIO()
    sf.write(buf, (y / np.abs(y).max() * 0.8).astype(np.float32), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def long_song(project, *, title: str, seconds: float, seed: int = 0, user=None):
    """A ready song of `seconds` with its WAV in storage and a verified human revision."""
    from annotations.services import revision_create
    from django.core.files.base import ContentFile
    from songs.models import Song, SongStatus

    from detector.labels import intervals_to_segments

    data = wav(seconds, seed=seed)
    song = Song(project=project, title=title, original_name=f"{title}.wav", extension=".wav", size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(), duration=seconds, sample_rate=SR, channels=1,
                codec="pcm_s16le", status=SongStatus.READY, created_by=user)
    song.original.save(f"{title}.wav", ContentFile(data), save=False)
    song.save()
    spans = [(a, min(a + 3, seconds)) for a in np.arange(0, seconds, 6.0)]
    revision_create(song=song, segments=intervals_to_segments(spans, duration=seconds), author=user, origin="human",
                    state="verified")
    return song


def snapshot(project) -> dict:
    """What must survive a fault: every song's file digest and its current revision's content."""
    from django.core.files.storage import default_storage
    from songs.models import Song

    out = {}
    for s in Song.objects.filter(project=project).select_related("current_revision"):
        with default_storage.open(s.original.name, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        rev = s.current_revision
        out[s.pk] = (s.title, s.status, digest, rev.pk if rev else None, rev.state if rev else None,
                     rev.segments if rev else None)
    return out


def wait_for(predicate, *, timeout: float, what: str, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f"\n{log()}" if log else ""))


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayRedis:
    """A redis-server on its own loopback port, owned by the test (never the shared one on 6379)."""

    def __init__(self, port: int):
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, timeout=10, what=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def throwaway_redis():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = int(os.environ.get("SINGSCOPE_FAULT_REDIS_PORT") or free_port())
    redis = ThrowawayRedis(port)
    redis.start()
    yield redis
    redis.stop()
