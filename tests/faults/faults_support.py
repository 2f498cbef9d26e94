"""Helpers for the fault tests (a module of its own: `from conftest import` is ambiguous when several
test folders are collected together): long synthetic songs (rows: SungSongFactory(spans=half_sung(s))),
polling, a throwaway redis-server the test owns, API tokens."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from audio_fixtures import song, wav_bytes

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "web"))
from jobs_support import database_url, stop_process, wait_for  # noqa: E402, F401  (re-exported for the fault tests)


def half_sung(seconds: float) -> list[tuple[float, float]]:
    """Vocal spans of a long fault-test song: the first 3 s of every 6 s."""
    return [(float(a), min(a + 3.0, seconds)) for a in np.arange(0, seconds, 6.0)]


def wav(seconds: float, *, seed: int = 0) -> bytes:
    """A long synthetic song (audio_fixtures.song) sung half the time, as WAV bytes to upload."""
    return wav_bytes(song(seconds, seed=seed, spans=half_sung(seconds)))


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


BOUNDARY = "----singscopefaultboundary"


def multipart(fields: dict, *, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and one `file` part; returns (body, content type)."""
    parts = [f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
             for k, v in fields.items()]
    parts.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                 f"Content-Type: audio/wav\r\n\r\n".encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={BOUNDARY}"


class Gunicorn:
    """gunicorn (gthread) on a free loopback port, on the database the tests use right now."""

    def __init__(self, *, workers: int = 2, threads: int = 4, extra_env: dict | None = None):
        db_url = database_url()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"gunicorn-{self.port}.log"
        env = os.environ | {"DATABASE_URL": db_url, "DEBUG": "0", "SECRET_KEY": "fault-tests", "SECURE_SSL_REDIRECT": "0",
                            "ALLOWED_HOSTS": "127.0.0.1,localhost",
                            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])} | (extra_env or {})
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "singscope.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread", "--timeout", "60"],
            cwd=ROOT / "platform", env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._up, timeout=60, what="gunicorn to answer", log=self.log)

    def _up(self) -> bool:
        import requests

        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log()}")
        try:
            return requests.get(f"{self.url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        stop_process(self.proc, self.log_file)
