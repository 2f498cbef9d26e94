"""Writes of the model registry and the jobs pages' housekeeping."""

from __future__ import annotations

import logging

from accounts.models import Project
from django.db import transaction

from jobs.models import ModelVersion

log = logging.getLogger(__name__)


@transaction.atomic
def model_activate(*, project: Project, model_version: ModelVersion | None, actor) -> Project:
    """Make `model_version` (one of the project's or a shipped one; None = the shipped default)
    the model new detections of the project use."""
    from accounts.services import activity_record
    from common.errors import ApiError

    if model_version is not None and model_version.project_id not in (None, project.pk):
        raise ApiError("That model belongs to another project.", code="wrong_project", status_code=400)
    locked = Project.objects.select_for_update().get(pk=project.pk)
    locked.active_model = model_version
    locked.save(update_fields=["active_model"])
    name = model_version.name if model_version else "the shipped default model"
    activity_record(project=locked, actor=actor, verb="model.activated", summary=f"activated {name}",
                    data={"model": model_version.pk if model_version else None})
    project.active_model = model_version
    return locked


def jobs_housekeep(*, project: Project | None = None) -> None:
    """Run by the jobs API and pages: fail jobs whose worker died (so a lone killed worker is
    noticed even with no other worker alive), clear their leftovers, and run the retraining check."""
    from jobs.retrain import retrain_maybe_trigger
    from jobs.services import jobs_fail_stale
    from jobs.training import training_leftovers_sweep

    try:
        jobs_fail_stale()
        training_leftovers_sweep()
        if project is not None and project.retrain_after_verified:
            retrain_maybe_trigger(project=project)
    except Exception:  # noqa: BLE001 - housekeeping must never break a page
        log.warning("jobs housekeeping failed", exc_info=True)
