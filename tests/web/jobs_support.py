"""Helpers shared by the jobs tests: a tiny training recipe, polling, the test database's URL for
subprocesses, stopping servers. The rows
come from tests/factories.py (SungSongFactory, songs_by_split, TinyModelFactory)."""

from __future__ import annotations

import os
import subprocess
import time

from audio_fixtures import song, wav_bytes

TINY_TRAINING = {"mode": "finetune:L1", "epochs": 2, "steps_per_epoch": 3, "batch_size": 2, "crop_seconds": 1.5,
                 "lr": 0.003, "seed": 1}


def song_audio(seed: int, *, spans=((1.0, 2.4), (3.1, 4.3)), duration: float = 5.0) -> bytes:
    """The WAV bytes of a SungSongFactory song (kept for test_whole_loop, which builds its own files)."""
    return wav_bytes(song(duration, seed=seed, spans=spans))


def make_tiny_model(project, *, name: str = "tiny source", seed: int = 0):
    """TinyModelFactory (kept for test_whole_loop)."""
    from factories import TinyModelFactory

    return TinyModelFactory(project=project, name=name, weights_seed=seed)


def database_url() -> str:
    """The URL of the database the tests are using right now (the test database, not the real one), for a
    worker or server subprocess."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


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
