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
