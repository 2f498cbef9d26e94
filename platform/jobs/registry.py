"""Writes of the model registry and the jobs pages' housekeeping."""

from __future__ import annotations

from accounts.models import Project
from accounts.services import activity_record
from common.errors import ApiError
from django.db import transaction
from songs.models import Song, SongStatus

from jobs.models import ModelVersion


@transaction.atomic
def model_activate(*, project: Project, model_version: ModelVersion | None, actor, reason: str = "") -> Project:
    """Make `model_version` (one of the project's or a shipped one; None = the shipped default)
    the model new detections of the project use, and queue one `detect` job that brings the
    project's songs up to date with it (`redetect_queue`). Returns the locked project, with
    `redetect_job` (the job, or None when nothing needs detecting)."""

    from jobs.detection import model_version_for_project

    if model_version is not None and model_version.project_id not in (None, project.pk):
        raise ApiError("That model belongs to another project.", code="wrong_project", status_code=400)
    locked = Project.objects.select_for_update().get(pk=project.pk)
    before = model_version_for_project(locked)
    locked.active_model = model_version
    locked.save(update_fields=["active_model"])
    now = model_version if model_version is not None else model_version_for_project(locked)
    job = None
    if now is not None and (before is None or before.pk != now.pk):
        job = redetect_queue(project=locked, model_version=now, previous=before, actor=actor)
    name = model_version.name if model_version else "the shipped default model"
    summary = f"activated {name}" + (f" {reason}" if reason else "")
    if job is not None:
        summary += f"; re-detection of the songs queued (job {job.pk})"
    activity_record(project=locked, actor=actor if getattr(actor, "is_authenticated", False) else None,
                    verb="model.activated", summary=summary[:500],
                    data={"model": model_version.pk if model_version else None,
                          "previous": before.pk if before else None, "job": job.pk if job else None})
    project.active_model = model_version
    project.redetect_job = locked.redetect_job = job
    return locked


def redetect_queue(*, project: Project, model_version: ModelVersion, previous: ModelVersion | None, actor):
    """Queue ONE `detect` job of `model_version` over every ready song of the project (trigger
    "activation"): songs only a model has annotated get its proposal as their new current revision,
    songs with a person's work get its prediction beside that work (jobs.detection). A queued,
    not yet started re-detection of an earlier activation is cancelled: this one supersedes it.
    Returns the job, or None when the project has no ready song."""

    from jobs.models import Job, JobKind, JobState
    from jobs.services import job_cancel, job_create

    ids = list(Song.objects.filter(project=project, status=SongStatus.READY).order_by("id").values_list("pk", flat=True))
    for stale in Job.objects.filter(project=project, kind=JobKind.DETECT, state=JobState.QUEUED,
                                    params__trigger="activation"):
        job_cancel(job=stale)
    if not ids:
        return None
    return job_create(project=project, kind=JobKind.DETECT, created_by=actor if getattr(actor, "is_authenticated", False)
                      else None, params={"song_ids": ids, "model_id": model_version.pk, "trigger": "activation",
                                         "previous_model_id": previous.pk if previous else None})
