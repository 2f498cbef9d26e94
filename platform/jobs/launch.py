"""Starting jobs from the API and the pages: validate what the user asked for, then `job_create`.

Each function checks the role it needs (accounts.permissions) and raises ApiError (4xx with a
sentence) for anything that cannot run, so no half-made job is ever queued.

Job params (read by the handlers):
  detect   {"song_ids": [..], "model_id": id | None}      -> jobs.detection.detect_handler
  train    see jobs.training.training_params_clean          -> jobs.training.train_handler
  evaluate {"model": id, "song_ids": [..] (optional), "reference": "verified"|"current" (optional)}         -> reports.services.evaluate_handler
  process  {"song_id": id}, queued by jobs.processing.song_upload -> jobs.processing.song_process_handler
"""

from __future__ import annotations

from accounts.models import Project, Role
from accounts.permissions import require_role
from accounts.services import activity_record
from common.errors import ApiError
from common.validation import ID_MAX, ids_values
from songs.models import Song, SongStatus

from jobs.models import Job, JobKind, JobState


def _ids(raw, *, field: str) -> list[int]:
    if not isinstance(raw, list | tuple) or not raw:
        raise ApiError(f"{field} must be a non-empty list of song ids (or \"all\").", code="invalid_songs")
    ids = ids_values(raw)
    if ids is None:
        raise ApiError(f"{field} must contain song ids (whole numbers from 1 to {ID_MAX}), got {str(raw)[:100]}.",
                       code="invalid_songs")
    return sorted(ids)


def _songs(*, project: Project, raw, field: str = "song_ids") -> list[int]:
    ready = Song.objects.filter(project=project, status=SongStatus.READY)
    if raw == "all":
        ids = list(ready.order_by("id").values_list("pk", flat=True))
        if not ids:
            raise ApiError("This project has no ready song to run on.", code="no_songs")
        return ids
    ids = _ids(raw, field=field)
    found = set(Song.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ApiError(f"Song(s) {', '.join(map(str, missing))} are not in this project.", code="unknown_song")
    not_ready = [i for i in ids if i not in set(ready.filter(pk__in=ids).values_list("pk", flat=True))]
    if not_ready:
        raise ApiError(f"Song(s) {', '.join(map(str, not_ready))} are not ready yet (still processing or failed).",
                       code="song_not_ready")
    return ids


def model_choice(*, project: Project, raw, required: bool) -> int | None:
    """The id of the model a job of ``project`` asked for (its own or a shipped one); None = the active
    one. POST /api/jobs/, the detect form and /api/songs/bulk all validate it here."""
    from jobs.selectors import model_for_project

    if raw in (None, "", "active", "default"):
        if required:
            raise ApiError("Choose a model (model_id).", code="model_required")
        return None
    mv = model_for_project(project=project, model_id=raw)
    if mv is None:
        raise ApiError(f"Model {str(raw)[:30]!r} is not a model of this project or a shipped one.",
                       code="unknown_model")
    return mv.pk


def job_start(*, project: Project, user, kind: str, data: dict) -> Job:
    """Create a job of `kind` in `project` from request data (JSON body or form fields)."""
    from jobs.services import job_create

    if kind == JobKind.DETECT:
        require_role(user=user, project=project, role=Role.ANNOTATOR)
        raw_songs = data.get("song_ids", data.get("songs"))
        params = {"song_ids": _songs(project=project, raw=raw_songs if raw_songs is not None else []),
                  "model_id": model_choice(project=project, raw=data.get("model_id", data.get("model")), required=False)}
    elif kind == JobKind.TRAIN:
        require_role(user=user, project=project, role=Role.REVIEWER)
        from jobs.training import training_data_check, training_params_clean

        params = training_params_clean(project=project, raw={k: v for k, v in data.items() if k not in ("kind", "project")})
        training_data_check(project=project)
    elif kind == JobKind.EVALUATE:
        require_role(user=user, project=project, role=Role.REVIEWER)
        params = {"model": model_choice(project=project, raw=data.get("model_id", data.get("model")), required=True)}
        reference = data.get("reference") or "verified"
        if reference not in ("verified", "current"):
            raise ApiError(f"reference must be 'verified' or 'current', not {reference!r}.", code="invalid")
        params["reference"] = reference
        raw_songs = data.get("song_ids", data.get("songs"))
        if raw_songs not in (None, "", []):
            params["song_ids"] = _songs(project=project, raw=raw_songs)
    else:
        raise ApiError(f"kind must be one of detect, train, evaluate; got {kind!r}.", code="invalid_kind")
    return job_create(project=project, kind=kind, params=params, created_by=user)


def _stale_recorded(job: Job) -> None:
    """Before acting on a job, record what the API already shows (jobs.selectors.job_as_seen): a
    running job whose worker died is failed (what the beat task jobs.housekeep does for every job)."""
    from jobs.services import jobs_fail_stale

    if job.state == JobState.RUNNING and jobs_fail_stale():
        job.refresh_from_db()


def job_cancel_by(*, job: Job, user) -> Job:
    """Cancel for the job's creator or a reviewer/admin; a finished job answers 409."""
    from jobs.services import job_cancel

    _stale_recorded(job)
    if job.created_by_id != getattr(user, "pk", None):
        require_role(user=user, project=job.project, role=Role.REVIEWER)
    else:
        require_role(user=user, project=job.project)
    if job.state not in (JobState.QUEUED, JobState.RUNNING):
        raise ApiError(f"This job already {job.state}; there is nothing to cancel.", code="job_finished", status_code=409)
    return job_cancel(job=job)


def job_retry_by(*, job: Job, user) -> Job:
    """A new job with the same parameters, for a failed or cancelled one."""
    from jobs.services import job_retry

    _stale_recorded(job)
    needed = Role.ANNOTATOR if job.kind in (JobKind.DETECT, JobKind.PROCESS) else Role.REVIEWER
    require_role(user=user, project=job.project, role=needed)
    if job.state not in (JobState.FAILED, JobState.CANCELLED):
        raise ApiError(f"Only failed or cancelled jobs can be retried; this one is {job.state}.",
                       code="job_not_retryable", status_code=409)
    return job_retry(job=job, created_by=user)


def songs_detect(*, project: Project, songs, actor, model_id=None):
    """Queue one detect job over the ready songs among ``songs``, with the model POST /api/jobs/ would
    accept (jobs.launch.model_choice: the project's own or a shipped one; None = the active one)."""
    model_id = model_choice(project=project, raw=model_id, required=False)
    ready = [s.pk for s in songs if s.status == SongStatus.READY]
    if not ready:
        raise ApiError("None of the selected songs is ready yet; detection runs on ready songs.", code="not_ready")
    params = {"song_ids": ready}
    if model_id is not None:
        params["model_id"] = model_id
    from jobs.services import job_create

    job = job_create(project=project, kind=JobKind.DETECT, params=params, created_by=actor)
    activity_record(project=project, actor=actor, verb="job.created",
                    summary=f"queued detection on {len(ready)} songs", data={"job": job.pk, "songs": ready})
    return job
