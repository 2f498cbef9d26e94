"""Background upkeep runs in the background: pages and the API only read (a dead worker's job is
shown failed, not recorded so); the beat tasks jobs.housekeep and jobs.retrain_check, and
`manage.py jobs_housekeep`, do the writing."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from factories import TinyModelFactory, songs_by_split

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_training(project, user, settings, tmp_path):
    """A training job whose worker was killed 30 s ago, with its scratch folder left behind."""
    from jobs.models import Job
    from jobs.services import job_create
    from jobs.training import workdir_for

    settings.VAR_DIR = tmp_path / "var"
    settings.JOB_STALE_SECONDS = 5
    job = job_create(project=project, kind="train", params={}, created_by=user)
    Job.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now() - timedelta(seconds=30))
    workdir_for(job.pk).mkdir(parents=True)
    (workdir_for(job.pk) / "cache.npy").write_bytes(b"x")
    return Job.objects.get(pk=job.pk)


def rows(project) -> dict:
    from accounts.models import ActivityEvent
    from jobs.models import Job

    return {"jobs": list(Job.objects.filter(project=project).order_by("id").values()),
            "activity": ActivityEvent.objects.filter(project=project).count()}


def test_a_get_of_the_jobs_pages_and_api_changes_no_row_and_no_file(logged_in_client, project, dead_training):
    from jobs.training import workdir_for

    project.retrain_after_verified = 1
    project.save(update_fields=["retrain_after_verified"])
    before = rows(project)
    for url in (f"/api/jobs/?project={project.pk}", "/api/jobs/", f"/api/jobs/{dead_training.pk}/",
                f"/projects/{project.pk}/jobs/", f"/projects/{project.pk}/jobs/{dead_training.pk}/",
                f"/projects/{project.pk}/models/"):
        assert logged_in_client.get(url).status_code == 200, url
    assert rows(project) == before
    assert workdir_for(dead_training.pk).exists()


def test_the_api_shows_a_dead_workers_job_failed_before_housekeeping_records_it(logged_in_client, dead_training):
    body = logged_in_client.get(f"/api/jobs/{dead_training.pk}/").json()
    assert body["state"] == "failed" and body["message"] == "Worker lost" and body["can_retry"]
    dead_training.refresh_from_db()
    assert dead_training.state == "running"


def test_the_housekeep_task_fails_the_dead_workers_job_and_removes_its_leftovers(dead_training):
    from jobs.tasks import housekeep
    from jobs.training import workdir_for

    housekeep.apply()
    dead_training.refresh_from_db()
    assert dead_training.state == "failed" and dead_training.message == "Worker lost"
    assert "stopped responding" in dead_training.error
    assert not workdir_for(dead_training.pk).exists()


def test_the_retrain_check_task_queues_the_training_the_policy_asks_for(project, user):
    from jobs.models import Job
    from jobs.tasks import retrain_check_task

    songs_by_split(project, user)
    TinyModelFactory(project=project)
    retrain_check_task.apply()
    assert not Job.objects.filter(kind="train").exists()  # no policy
    project.retrain_after_verified = 2
    project.save(update_fields=["retrain_after_verified"])
    retrain_check_task.apply()
    assert Job.objects.get(kind="train").params["trigger"] == "retrain"


def test_the_management_command_does_both(dead_training, capsys):
    call_command("jobs_housekeep")
    dead_training.refresh_from_db()
    assert dead_training.state == "failed"
    assert "1 stale jobs failed" in capsys.readouterr().out


def test_beat_runs_both_tasks_at_the_configured_intervals(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["jobs.housekeep"] == {"task": "jobs.housekeep", "schedule": float(settings.JOBS_HOUSEKEEP_SECONDS)}
    assert schedule["jobs.retrain_check"] == {"task": "jobs.retrain_check",
                                              "schedule": float(settings.RETRAIN_CHECK_SECONDS)}
