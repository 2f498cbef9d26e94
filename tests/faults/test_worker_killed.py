"""The worker's child process is SIGKILLed in the middle of a detection job and of a training job:
the job is failed with a reason a person understands within a bounded time, every song file and
every current revision is exactly as before, no model is registered, and a retry succeeds."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.core.management import call_command
from factories import SungSongFactory
from faults_support import half_sung, snapshot, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STALE = 4  # seconds without a heartbeat before a running job is shown (and housekept) as failed


def job_json(client, job_id: int) -> dict:
    r = client.get(f"/api/jobs/{job_id}/")
    assert r.status_code == 200, r.content
    return r.json()


def final(client, job_id: int) -> dict | None:
    body = job_json(client, job_id)
    return body if body["state"] in ("succeeded", "failed", "cancelled") else None


def kill_children(worker) -> None:
    children = worker.child_pids()
    assert children, worker.log()
    for pid in children:
        os.kill(pid, signal.SIGKILL)


def assert_failed_for_the_kill(body: dict, killed_at: float) -> None:
    assert body["state"] == "failed", body
    assert time.monotonic() - killed_at < STALE + 20
    assert "stopped responding" in body["error"] and "killed or crashed" in body["error"], body["error"]
    assert body["can_retry"]


def test_worker_killed_during_detection_then_retry(celery_worker_process, logged_in_client, project, user, settings):
    from factories import ActiveModelFactory
    from jobs.models import Prediction

    settings.JOB_STALE_SECONDS = STALE
    model = ActiveModelFactory(project=project, name="full-size-random")  # the default CRNN size: detection takes a while
    songs = [SungSongFactory(project=project, title=f"long {i}", duration=40, spans=half_sung(40), seed=i, created_by=user)
             for i in range(8)]
    before = snapshot(project)

    r = logged_in_client.post("/api/jobs/", {"project": project.pk, "kind": "detect", "song_ids": "all"}, content_type="application/json")
    assert r.status_code == 202, r.content
    job_id = r.json()["id"]
    wait_for(lambda: Prediction.objects.filter(model_version=model).exists(), timeout=180,
             what="the first song's prediction", log=celery_worker_process.log)
    assert job_json(logged_in_client, job_id)["state"] == "running", "detection ended before the kill"
    kill_children(celery_worker_process)
    killed_at = time.monotonic()
    body = wait_for(lambda: final(logged_in_client, job_id), timeout=STALE + 30, what="the job to fail",
                    log=celery_worker_process.log)
    assert_failed_for_the_kill(body, killed_at)
    assert Prediction.objects.filter(model_version=model).count() < len(songs)
    assert snapshot(project) == before  # files and the verified human revisions untouched

    r = logged_in_client.post(f"/api/jobs/{job_id}/retry")
    assert r.status_code == 202, r.content
    retry_id = r.json()["id"]
    body = wait_for(lambda: final(logged_in_client, retry_id), timeout=300, what="the retried job",
                    log=celery_worker_process.log)
    assert body["state"] == "succeeded", body
    assert Prediction.objects.filter(model_version=model).count() == len(songs)
    assert snapshot(project) == before
    assert job_json(logged_in_client, job_id)["state"] == "failed"  # the killed one stays failed


def test_worker_killed_during_training_then_retry(celery_worker_process, logged_in_client, project, user, settings):
    from django.core.files.storage import default_storage
    from factories import TinyModelFactory, songs_by_split
    from jobs.models import Job, ModelVersion
    from jobs.training import checkpoint_name, workdir_for
    from jobs_support import TINY_TRAINING

    settings.JOB_STALE_SECONDS = STALE
    songs_by_split(project, user)
    base = TinyModelFactory(project=project)
    before = snapshot(project)
    params = {**TINY_TRAINING, "epochs": 12, "steps_per_epoch": 4, "name": "after-the-kill"}
    r = logged_in_client.post("/api/jobs/", {"project": project.pk, "kind": "train", "base_model_id": base.pk,
                                             **params}, content_type="application/json")
    assert r.status_code == 202, r.content
    job_id = r.json()["id"]
    wait_for(lambda: len(job_json(logged_in_client, job_id)["result"].get("curve", [])) >= 1, timeout=180,
             what="the first epoch", log=celery_worker_process.log)
    assert job_json(logged_in_client, job_id)["state"] == "running", "training ended before the kill"
    kill_children(celery_worker_process)
    killed_at = time.monotonic()
    body = wait_for(lambda: final(logged_in_client, job_id), timeout=STALE + 30, what="the job to fail",
                    log=celery_worker_process.log)
    assert_failed_for_the_kill(body, killed_at)
    call_command("jobs_housekeep")  # what beat's jobs.housekeep does every JOBS_HOUSEKEEP_SECONDS
    assert not ModelVersion.objects.filter(parent=base).exists()
    assert not default_storage.exists(checkpoint_name(Job.objects.get(pk=job_id)))
    assert not workdir_for(job_id).exists()
    assert snapshot(project) == before

    r = logged_in_client.post(f"/api/jobs/{job_id}/retry")
    assert r.status_code == 202, r.content
    retry_id = r.json()["id"]
    body = wait_for(lambda: final(logged_in_client, retry_id), timeout=300, what="the retried training",
                    log=celery_worker_process.log)
    assert body["state"] == "succeeded", body
    mv = ModelVersion.objects.get(parent=base)
    assert mv.name == "after-the-kill" and default_storage.exists(mv.checkpoint.name)
    assert snapshot(project) == before
