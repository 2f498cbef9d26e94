"""Redis (the broker) goes away while a song is being uploaded.

A throwaway redis-server on its own port (never the shared one on 6379) is the broker of a real
worker and of the live server for this test. The upload's body is half sent when Redis is killed;
then the rest arrives. The song must be stored byte-exact with its row, the processing job must say
clearly that the task queue could not be reached (the song shows as failed with that reason, not
"processing" forever), and once Redis is back, retrying the job processes the song to `ready`.

Runs only when the tests' broker is Redis (CI: CELERY_BROKER_URL=redis://...)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from urllib.parse import urlsplit

import pytest
from faults_support import multipart, token_for, wait_for, wav

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def redis_broker(settings, throwaway_redis):
    """Point this process's Celery app at the throwaway Redis (and back afterwards)."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        if os.environ.get("SINGSCOPE_REQUIRE_SERVICES") == "1":
            pytest.fail("SINGSCOPE_REQUIRE_SERVICES=1 but the broker is not Redis")
        pytest.skip(f"the broker is {settings.CELERY_BROKER_URL.split(':')[0]}, not Redis")
    from singscope.celery import app

    saved = app.conf.broker_url, app.conf.result_backend, os.environ.get("CELERY_BROKER_URL")

    def repoint(url: str | None) -> None:
        from kombu import pools

        os.environ["CELERY_BROKER_URL"] = url  # Celery reads this variable before its own setting
        pools.reset()  # kombu's process-wide pools are keyed by connection: start them afresh
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    repoint(throwaway_redis.url)
    app.conf.result_backend = throwaway_redis.url
    yield throwaway_redis
    repoint(saved[2] or saved[0])
    if saved[2] is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    app.conf.broker_url = saved[0]
    app.conf.result_backend = saved[1]


def raw_upload(base_url: str, *, token: str, project_id: int, data: bytes, midway) -> tuple[int, dict]:
    """POST /api/songs/ over a raw socket; call midway() after half of the body is sent."""
    body, content_type = multipart({"project": project_id}, filename="during-outage.wav", data=data)
    host = urlsplit(base_url)
    head = (f"POST /api/songs/ HTTP/1.1\r\nHost: {host.hostname}:{host.port}\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((host.hostname, host.port), timeout=60) as s:
        half = len(body) // 2
        s.sendall(head + body[:half])
        midway()
        s.sendall(body[half:])
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head_bytes, _, payload = raw.partition(b"\r\n\r\n")
    return int(head_bytes.split(b" ", 2)[1]), json.loads(payload)


def test_redis_killed_mid_upload_song_is_kept_error_is_clear_and_retry_processes_it(
        redis_broker, live_server, worker_factory, isolated_media, logged_in_client, project, user):
    from django.core.files.storage import default_storage
    from factories import ActiveModelFactory
    from jobs.models import Job
    from songs.models import Song

    ActiveModelFactory(project=project)
    worker = worker_factory(extra_env={"CELERY_BROKER_URL": redis_broker.url, "CELERY_RESULT_BACKEND": redis_broker.url,
                                       "MEDIA_ROOT": str(isolated_media)})
    token = token_for(user)
    audio = wav(20.0, seed=3)

    t0 = time.monotonic()
    status, body = raw_upload(live_server.url, token=token, project_id=project.pk, data=audio,
                              midway=redis_broker.stop)
    answered_in = time.monotonic() - t0
    assert not redis_broker.ping()
    assert status == 201, body
    assert answered_in < 30, f"the upload hung {answered_in:.0f} s on the dead broker"

    # the song is stored, byte-exact
    song = Song.objects.get(pk=body["id"])
    with default_storage.open(song.original.name, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(audio).hexdigest()
    # the job says what happened; the song is shown failed with that reason, not "processing" forever
    job = Job.objects.get(kind="process", params__song_id=song.pk)
    assert job.state == "failed" and "task queue" in job.error and "retry" in job.error, job.error
    shown = logged_in_client.get(f"/api/songs/{song.pk}/").json()
    assert shown["status"] == "failed" and "task queue" in (shown["error"] or ""), shown

    # Redis comes back (same port); the worker reconnects; a retry processes the song
    redis_broker.start()
    r = logged_in_client.post(f"/api/jobs/{job.pk}/retry")
    assert r.status_code == 202, r.content
    retry_id = r.json()["id"]
    wait_for(lambda: Job.objects.get(pk=retry_id).state in ("succeeded", "failed"), timeout=180,
             what="the retried process job", log=worker.log)
    assert Job.objects.get(pk=retry_id).state == "succeeded", Job.objects.get(pk=retry_id).error
    song.refresh_from_db()
    assert song.status == "ready" and song.peaks.name and song.current_revision is not None
    shown = logged_in_client.get(f"/api/songs/{song.pk}/").json()
    assert shown["status"] == "ready", shown
