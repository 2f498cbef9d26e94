"""Reads of the jobs app: jobs and model versions a user may see, and the data a training job uses."""

from accounts.models import Project
from accounts.permissions import require_role
from common.validation import id_or_404, id_value
from django.db.models import Q, QuerySet
from django.http import Http404

from jobs.models import FINISHED_STATES, Job, JobKind, JobState, ModelVersion


def jobs_for_project(*, project: Project, kind: str | None = None, state: str | None = None) -> QuerySet[Job]:
    qs = Job.objects.filter(project=project).select_related("created_by")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs


def jobs_for_user(*, user, kind: str | None = None, state: str | None = None) -> QuerySet[Job]:
    """Jobs of every project the user belongs to."""
    from accounts.selectors import projects_for_user

    qs = Job.objects.filter(project__in=projects_for_user(user=user)).select_related("created_by")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs


def job_get(*, user, job_id) -> Job:
    """The job if the user is a member of its project; Http404 for missing and for outsiders alike."""
    try:
        job = Job.objects.select_related("project", "created_by").get(pk=id_or_404(job_id))
    except Job.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None
    require_role(user=user, project=job.project)
    return job


def models_for_project(*, project: Project) -> QuerySet[ModelVersion]:
    """The project's own model versions plus the ones shipped with Singscope (project=None)."""
    return (ModelVersion.objects.filter(Q(project=project) | Q(project__isnull=True))
            .select_related("parent", "created_by", "project"))


def models_for_user(*, user) -> QuerySet[ModelVersion]:
    """Model versions of every project the user belongs to, and the shipped ones."""
    from accounts.selectors import projects_for_user

    return (ModelVersion.objects.filter(Q(project__in=projects_for_user(user=user)) | Q(project__isnull=True))
            .select_related("parent", "created_by", "project"))


def model_get(*, user, model_id, project: Project | None = None) -> ModelVersion:
    """A model version the user may see: one of a project they belong to, or a shipped one.

    Shipped models (project=None) are visible to every signed-in user.
    """
    try:
        mv = ModelVersion.objects.select_related("parent", "project", "created_by").get(pk=id_or_404(model_id))
    except ModelVersion.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None
    if mv.project_id is not None:
        require_role(user=user, project=mv.project)
        if project is not None and mv.project_id != project.pk:
            raise Http404("Not found, or you do not have access to it.")
    elif not user.is_authenticated:
        raise Http404("Not found, or you do not have access to it.")
    return mv


def model_for_project(*, project: Project, model_id) -> ModelVersion | None:
    """A model version usable by the project (its own or a shipped one), or None."""
    pk = id_value(model_id)
    return models_for_project(project=project).filter(pk=pk).first() if pk is not None else None


def verified_revisions(*, project: Project, split: str) -> list[tuple]:
    """``(song, revision)`` for every ready song of ``split`` with a verified revision: the latest
    verified one (a later draft on top of it does not count until it is verified)."""
    from annotations.models import AnnotationRevision, RevisionState
    from songs.models import Song, SongStatus

    songs = list(Song.objects.filter(project=project, split=split, status=SongStatus.READY).order_by("id"))
    latest: dict[int, AnnotationRevision] = {}
    for rev in (AnnotationRevision.objects.filter(song__in=songs, state=RevisionState.VERIFIED)
                .order_by("song_id", "-number")):
        latest.setdefault(rev.song_id, rev)
    return [(song, latest[song.pk]) for song in songs if song.pk in latest]


def training_job_active(*, project: Project) -> Job | None:
    """A queued or running training job of the project, if any."""
    return (Job.objects.filter(project=project, kind=JobKind.TRAIN, state__in=[JobState.QUEUED, JobState.RUNNING])
            .order_by("created_at").first())


def job_is_finished(job: Job) -> bool:
    return job.state in FINISHED_STATES


def model_previous_for_project(*, project: Project) -> int | None:
    """The id of the model the project used before its current one: the model of the latest
    activation before the current model's (None for "the shipped default"), else the active model's
    parent; None when there is no earlier model."""
    from accounts.models import ActivityEvent

    current = project.active_model_id
    for data in (ActivityEvent.objects.filter(project=project, verb="model.activated")
                 .order_by("-created_at", "-id").values_list("data", flat=True)[:50]):
        model = (data or {}).get("model")
        if model != current:
            return model
    if project.active_model is not None and project.active_model.parent_id:
        return project.active_model.parent_id
    return None


def song_prediction_layers(*, song) -> list[dict]:
    """Every model prediction of the song, newest first, each with its role in the editor: "active"
    (the project's active model; with none chosen, the newest shipped model's prediction, else the
    newest prediction), "previous" (see model_previous_for_project) or None."""
    from jobs.models import Prediction

    predictions = list(Prediction.objects.filter(song=song).select_related("model_version")
                       .order_by("-created_at", "-id"))
    project = song.project
    active = next((p for p in predictions if p.model_version_id == project.active_model_id), None)
    if active is None and project.active_model_id is None:
        active = next((p for p in predictions if p.model_version.project_id is None), None)
    if active is None and predictions:
        active = predictions[0]
    previous_id = model_previous_for_project(project=project)
    previous = next((p for p in predictions if p.model_version_id == previous_id and p is not active), None)
    rows = []
    for p in predictions:
        mv = p.model_version
        rows.append({"model": {"id": mv.pk, "name": mv.name, "kind": mv.kind, "transfer_mode": mv.transfer_mode},
                     "created_at": p.created_at, "n_frames": p.n_frames, "hop": p.hop,
                     "role": "active" if p is active else "previous" if p is previous else None,
                     "url": f"/api/songs/{song.pk}/prediction?model={mv.pk}"})
    return rows


_PARAM_LABELS = {
    "mode": "Transfer mode", "base_model_id": "Base model", "model_id": "Model", "model": "Model",
    "epochs": "Epochs", "lr": "Learning rate", "seed": "Seed", "steps_per_epoch": "Steps per epoch",
    "batch_size": "Batch size", "crop_seconds": "Crop length (s)", "median_s": "Median filter (s)",
    "name": "Name of the new model", "trigger": "Started by", "song_ids": "Songs", "song_id": "Song",
    "reference": "Reference annotations", "state": "Imported annotations become", "archive": "Archive",
}
_TRIGGERS = {"retrain": "the retraining policy (enough newly verified songs)"}


def job_parameters(*, job: Job) -> list[tuple[str, str]]:
    """The job's parameters as a person reads them: labels instead of keys, model and song names
    instead of ids, and what an empty value means (never "base_model_id None")."""
    from songs.models import Song

    params = dict(job.params or {})
    project = job.project
    out = []

    def model_text(value, *, default: str) -> str:
        if value in (None, "", "active", "default"):
            return default
        mv = model_for_project(project=project, model_id=value)
        return f"{mv.name} (#{mv.pk})" if mv is not None else f"model #{value} (deleted)"

    active = (f"the project's active model ({project.active_model.name})" if project.active_model_id
              else "the shipped default model")
    for key, value in params.items():
        label = _PARAM_LABELS.get(key, key.replace("_", " ").capitalize())
        if key in ("base_model_id", "base_model"):
            text = model_text(value, default=f"{active} at the time the job ran")
        elif key in ("model_id", "model"):
            text = model_text(value, default=active)
        elif key in ("song_ids", "song_id"):
            ids = value if isinstance(value, list) else [value]
            titles = dict(Song.objects.filter(project=project, pk__in=[i for i in ids if isinstance(i, int)])
                          .values_list("pk", "title"))
            names = [titles.get(i, f"song {i} (deleted)") for i in ids[:20]]
            text = ", ".join(names) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
        elif key == "trigger":
            text = _TRIGGERS.get(str(value), str(value))
        elif key == "reference":
            text = {"verified": "the latest verified revision of each song",
                    "current": "the current revision of each song"}.get(str(value), str(value))
        elif key == "archive":
            text = str(value).rsplit("/", 1)[-1]
        elif value is None or value == "":
            text = "—"
        else:
            text = str(value)
        out.append((label, text))
    return out
