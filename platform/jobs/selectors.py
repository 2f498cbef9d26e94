"""Reads of the jobs app: jobs and model versions a user may see, and the data a training job uses."""

from datetime import timedelta

import numpy as np
from accounts.models import ActivityEvent, Project
from accounts.permissions import require_role
from accounts.selectors import projects_for_user
from annotations.selectors import revisions_latest_verified
from common.validation import id_or_404, id_value
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from songs.models import Song, SongStatus
from songs.selectors import songs_list

from detector.priority import region_priorities
from jobs.models import FINISHED_STATES, Job, JobKind, JobState, ModelVersion, Prediction


def jobs_for_project(*, project: Project, kind: str | None = None, state: str | None = None) -> QuerySet[Job]:
    qs = Job.objects.filter(project=project).select_related("created_by")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs


def jobs_for_user(*, user, kind: str | None = None, state: str | None = None) -> QuerySet[Job]:
    """Jobs of every project the user belongs to."""
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


def verified_revisions(*, project: Project, split: str | tuple[str, ...]) -> list[tuple]:
    """``(song, revision)`` for every ready song of ``split`` (one or several) with a verified revision:
    the latest verified one (a later draft on top of it does not count until it is verified)."""

    splits = (split,) if isinstance(split, str) else tuple(split)
    songs = list(Song.objects.filter(project=project, split__in=splits, status=SongStatus.READY).order_by("id"))
    latest = revisions_latest_verified(songs=songs)
    return [(song, latest[song.pk]) for song in songs if song.pk in latest]


TRAINING_SPLITS = ("train", "unassigned")


def training_songs(*, project: Project) -> dict[str, list[tuple]]:
    """What a training job of the project uses, as ``(song, latest verified revision)`` pairs:
    "train" (every verified song outside the validation and test splits), "development" (the
    validation split's) and "test" (the test split's, scored only)."""
    return {"train": verified_revisions(project=project, split=TRAINING_SPLITS),
            "development": verified_revisions(project=project, split="validation"),
            "test": verified_revisions(project=project, split="test")}


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
                     "url": reverse("api-prediction", kwargs={"song_id": song.pk}) + f"?model={mv.pk}"})
    return rows


_PARAM_LABELS = {
    "mode": "Transfer mode", "base_model_id": "Base model", "model_id": "Model", "model": "Model",
    "epochs": "Epochs", "lr": "Learning rate", "seed": "Seed", "steps_per_epoch": "Steps per epoch",
    "batch_size": "Batch size", "crop_seconds": "Crop length (s)", "median_s": "Median filter (s)",
    "anchor": "Anchor (pull toward the start weights)", "previous_model_id": "Model used before",
    "name": "Name of the new model", "trigger": "Started by", "song_ids": "Songs", "song_id": "Song",
    "reference": "Reference annotations", "state": "Imported annotations become", "archive": "Archive",
}
_TRIGGERS = {"retrain": "the retraining policy (enough newly verified songs)",
             "activation": "the activation of a model (the songs brought up to date with it)"}
_RECIPE_BUDGET = ("epochs", "steps_per_epoch", "batch_size", "crop_seconds")


def job_parameters(*, job: Job) -> list[tuple[str, str]]:
    """The job's parameters as a person reads them: labels instead of keys, model and song names
    instead of ids, and what an empty value means (never "base_model_id None")."""

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
            started = ((job.result or {}).get("comparison") or {}).get("start_model")
            text = model_text(value, default=f"the project's active model when the job ran ({started})" if started
                              else f"{active} at the time the job ran")
        elif key in ("model_id", "model"):
            text = model_text(value, default=active)
        elif key == "previous_model_id":
            text = model_text(value, default="the shipped default model")
        elif key in _RECIPE_BUDGET and value in (None, "") and job.kind == "train":
            text = "the recipe's (detector.adapt.DEFAULT_RECIPE)"
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


# -- what an activation changed -------------------------------------------------------------------


def decision_change(*, segments: list[dict], other: list[dict], n_frames: int) -> float:
    """The fraction of the first ``n_frames`` frames whose vocal / non-vocal decision differs between
    two partitions (a prediction's stored segments)."""
    from detector.labels import Segment, segments_to_frames

    if n_frames <= 0:
        return 0.0
    a = segments_to_frames([Segment.from_dict(s) for s in segments], n_frames=n_frames)
    b = segments_to_frames([Segment.from_dict(s) for s in other], n_frames=n_frames)
    return round(float((a != b).mean()), 4)


def prediction_change(*, prediction, previous_model_id) -> float | None:
    """How much of the song's decision ``prediction`` changed from the stored prediction of model
    ``previous_model_id`` (None when that model never ran on the song)."""
    if previous_model_id in (None, ""):
        return None
    old = (Prediction.objects.filter(song_id=prediction.song_id, model_version_id=previous_model_id)
           .only("segments", "n_frames").first())
    if old is None or old.pk == prediction.pk:
        return None
    return decision_change(segments=prediction.segments, other=old.segments,
                           n_frames=min(int(prediction.n_frames), int(old.n_frames)))


def model_changes(*, project: Project, model_version: ModelVersion, limit: int = 20) -> dict:
    """After ``model_version`` was activated in ``project``: the songs whose decision changed most
    between the model used before and this one (both models' stored predictions), most changed first,
    each with a link into the editor showing both models' probability curves; and the state of the
    re-detection job the activation queued."""

    event = None
    for data in (ActivityEvent.objects.filter(project=project, verb="model.activated")
                 .order_by("-created_at", "-id").values_list("data", flat=True)[:200]):
        if (data or {}).get("model") == model_version.pk:
            event = data
            break
    if event is None:
        return {"activated": False, "previous": None, "job": None, "songs": [], "compared": 0}
    previous_id = event.get("previous")
    previous = ModelVersion.objects.filter(pk=previous_id).first() if previous_id else None
    job = Job.objects.filter(pk=event.get("job"), project=project).first() if event.get("job") else None
    rows = []
    if previous is not None:
        old = {p.song_id: p for p in Prediction.objects.filter(song__project=project, model_version=previous)
               .only("song_id", "segments", "n_frames")}
        for p in (Prediction.objects.filter(song__project=project, model_version=model_version, song_id__in=list(old))
                  .select_related("song").only("song_id", "segments", "n_frames", "song__title", "song__project_id")):
            o = old[p.song_id]
            rows.append({"song": p.song_id, "title": p.song.title,
                         "changed": decision_change(segments=p.segments, other=o.segments,
                                                    n_frames=min(int(p.n_frames), int(o.n_frames))),
                         "editor": reverse("song-editor", kwargs={"project_id": project.pk, "song_id": p.song_id})
                                   + f"?compare={previous.pk}"})
    rows.sort(key=lambda r: (-r["changed"], r["title"].lower(), r["song"]))
    return {
        "activated": True, "active": project.active_model_id == model_version.pk or (
            project.active_model_id is None and model_version.project_id is None),
        "model": {"id": model_version.pk, "name": model_version.name},
        "previous": {"id": previous.pk, "name": previous.name} if previous else None,
        "job": {"id": job.pk, "state": job.state, "progress": job.progress, "message": job.message,
                "url": reverse("job", kwargs={"project_id": project.pk, "job_id": job.pk})} if job else None,
        "compared": len(rows), "songs": rows[:limit],
    }


def model_learning_points(*, project: Project) -> list[dict]:
    """What each corrected song bought: the project's trained model versions in the order they were
    made, each with the verified songs it used (x: trained on + development) and its development (and
    test, where present) accuracy and F1."""
    points = []
    for mv in ModelVersion.objects.filter(project=project).order_by("created_at", "id"):
        metrics = mv.metrics or {}
        dev, test = metrics.get("development") or {}, metrics.get("test") or {}
        if not (dev or test):
            continue
        train, development = len(mv.training_revisions or []), len(mv.validation_revisions or [])
        points.append({
            "model": mv.pk, "name": mv.name, "songs": train + development, "train": train, "development": development,
            "dev_accuracy": dev.get("accuracy"), "dev_f1": dev.get("f1"),
            "test_accuracy": test.get("accuracy"), "test_f1": test.get("f1"),
            "start_accuracy": (metrics.get("development_start") or {}).get("accuracy"),
            "start_f1": (metrics.get("development_start") or {}).get("f1"),
            "active": project.active_model_id == mv.pk, "created_at": mv.created_at.isoformat(),
        })
    return points


def prediction_get(*, song, model_id=None):
    """The latest prediction of the song (or that of model `model_id`); Http404 when there is none."""
    qs = Prediction.objects.filter(song=song).select_related("model_version")
    if model_id not in (None, ""):
        qs = qs.filter(model_version_id=id_or_404(model_id))
    prediction = qs.order_by("-created_at", "-id").first()
    if prediction is None:
        raise Http404("This song has no model prediction yet; run detection first.")
    return prediction


UNSURE_MARGIN = 0.15  # a frame is "unsure" when its probability is this close to the threshold
UNSURE_MIN_FRAMES = 5


def prediction_unsure_regions(*, probabilities, hop: float, threshold: float) -> list[dict]:
    """The spans where the model is unsure (every frame's probability within UNSURE_MARGIN of the
    threshold, at least UNSURE_MIN_FRAMES long), most uncertain first
    (`detector.priority.region_priorities`): the editor's "next unsure region" order."""
    p = np.asarray(probabilities, np.float32).reshape(-1)
    unsure = np.abs(p - float(threshold)) < UNSURE_MARGIN
    edges = np.flatnonzero(np.diff(np.concatenate([[0], unsure.astype(np.int8), [0]])))
    bounds = [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True) if b - a >= UNSURE_MIN_FRAMES]
    scores = region_priorities(p, bounds)
    regions = [{"start": round(a * hop, 6), "end": round(b * hop, 6), "uncertainty": round(u, 4)}
               for (a, b), u in zip(bounds, scores, strict=True)]
    return sorted(regions, key=lambda r: (-r["uncertainty"], r["start"]))


WORKER_LOST = "Worker lost"


def worker_lost_error() -> str:
    """The error of a job failed because its worker stopped touching it (jobs.services.jobs_fail_stale)."""
    return (f"The worker running this job stopped responding for over {settings.JOB_STALE_SECONDS} s "
            "(killed or crashed). Nothing partial was kept; retry the job.")


def job_as_seen(job: Job) -> Job:
    """``job`` as pages and the API show it: a running job whose worker has not touched it for
    JOB_STALE_SECONDS is shown failed ("Worker lost"), as the beat task jobs.housekeep will record it.
    Changes the instance in memory only; nothing is written."""
    if job.state == JobState.RUNNING and job.heartbeat_at is not None and \
            job.heartbeat_at < timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS):
        job.state, job.message, job.error = JobState.FAILED, WORKER_LOST, worker_lost_error()
        job.finished_at = job.finished_at or timezone.now()
    return job


def songs_listed(**filters) -> QuerySet:
    """songs.selectors.songs_list (same filters) with each song's predictions, newest first, for
    the song API's "model" (its latest prediction's model)."""
    return songs_list(**filters).prefetch_related(
        Prefetch("predictions", queryset=Prediction.objects.select_related("model_version").order_by("-created_at", "-id"))
    )


def process_jobs_for(*, songs) -> dict[int, Job]:
    """The latest process job of each song (by song id)."""
    ids = [s.pk for s in songs]
    if not ids:
        return {}
    latest: dict[int, Job] = {}
    projects = {s.project_id for s in songs}
    jobs = Job.objects.filter(project_id__in=projects, kind=JobKind.PROCESS, params__song_id__in=ids).order_by("created_at", "id")
    for job in jobs.only("id", "state", "progress", "message", "error", "params", "created_at"):
        latest[job.params.get("song_id")] = job
    return latest


def jobs_recent(*, project: Project, kind: str, limit: int = 10) -> QuerySet[Job]:
    """The project's latest ``limit`` jobs of ``kind``, newest first."""
    return Job.objects.filter(project=project, kind=kind).order_by("-created_at", "-id")[:limit]
