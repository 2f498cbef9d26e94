"""The retraining trigger of the project's training policy (written by
accounts.services.project_training_policy_set).

`retrain_maybe_trigger(*, project)` queues a training job with the project's defaults when
`project.retrain_after_verified` (N > 0) songs have a verified revision that the project's latest
model did not use (test-split songs never count: they are never trained on). It runs when a revision
becomes verified (the `revision_verified` hook) and for every project from the beat task
`jobs.retrain_check` (`retrain_check_all`), so it is never missed.
"""

from __future__ import annotations

import logging

from accounts.models import Project
from accounts.services import activity_record
from django.db import transaction

from jobs.models import Job, JobKind, ModelVersion

log = logging.getLogger(__name__)


def verified_since_last_model(*, project: Project) -> int:
    """Verified songs a training job would learn from (every split but test) whose latest verified
    revision the project's newest model has not used, for training or as a development song."""
    from jobs.selectors import training_songs

    latest = ModelVersion.objects.filter(project=project).order_by("-created_at", "-id").first()
    used = {(r.get("song"), r.get("revision"))
            for r in ((latest.training_revisions or []) + (latest.validation_revisions or []) if latest else [])}
    songs = training_songs(project=project)
    return sum(1 for song, rev in songs["train"] + songs["development"] if (song.pk, rev.pk) not in used)


def retrain_maybe_trigger(*, project: Project) -> Job | None:
    """Queue a training job when the policy says so; returns it, or None. Safe to call often and
    concurrently: the project row is locked and no job is queued while another training job of the
    project is queued or running."""
    if not project.retrain_after_verified:
        return None
    from jobs.selectors import training_job_active
    from jobs.services import job_create
    from jobs.training import training_params_clean

    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if not locked.retrain_after_verified or training_job_active(project=locked) is not None:
            return None
        new = verified_since_last_model(project=locked)
        if new < locked.retrain_after_verified:
            return None
        try:
            params = training_params_clean(project=locked, raw={"trigger": "retrain"})
        except Exception as exc:  # noqa: BLE001 - a broken default must not break the caller
            log.warning("retraining of project %s not queued: %s", locked.pk, exc)
            return None
        job = job_create(project=locked, kind=JobKind.TRAIN, params=params, created_by=None)

        activity_record(project=locked, actor=None, verb="job.retrain",
                        summary=f"{new} newly verified songs: queued retraining (job {job.pk})",
                        data={"job": job.pk, "new_verified": new})
        return job


def retrain_check_all() -> int:
    """Run the trigger for every project with a retraining policy (for a periodic task)."""
    count = 0
    for project in Project.objects.filter(retrain_after_verified__gt=0):
        count += retrain_maybe_trigger(project=project) is not None
    return count
