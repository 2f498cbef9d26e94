"""Reads for the annotation editor and API. Access control goes through accounts.permissions."""

from __future__ import annotations

from accounts.models import ROLE_RANK, Membership, Project, Role
from accounts.permissions import require_role
from accounts.selectors import projects_for_user
from common.validation import id_or_404, id_value
from django.http import Http404
from songs.models import Song

from annotations.models import AnnotationRevision, ReviewComment, RevisionState


def song_for_user(*, user, song_id, role: str = Role.ANNOTATOR, project_id=None):
    """The song if `user` has at least `role` in its project: Http404 for outsiders and missing songs,
    PermissionDenied (403) for members whose role is too low. With project_id, the song must belong to it."""
    try:
        song = Song.objects.select_related(
            "project", "current_revision", "current_revision__author", "current_revision__segments_by",
            "current_revision__reviewed_by").get(pk=id_or_404(song_id))
    except Song.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None
    if project_id is not None and song.project_id != id_value(project_id):
        raise Http404("Not found, or you do not have access to it.")
    require_role(user=user, project=song.project, role=role)
    return song


def revision_list(*, song) -> list[AnnotationRevision]:
    """All revisions of the song, newest first, with authors and the count of review comments."""
    from django.db.models import Count

    return list(
        AnnotationRevision.objects.filter(song=song).select_related("author", "segments_by", "reviewed_by").annotate(n_comments=Count("comments"))
        .order_by("-number")
    )


def revision_get(*, song, revision_id) -> AnnotationRevision:
    try:
        return AnnotationRevision.objects.select_related("author", "segments_by", "reviewed_by").get(
            song=song, pk=id_or_404(revision_id))
    except AnnotationRevision.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None


def revision_of_song(*, song, revision_id) -> AnnotationRevision | None:
    """The song's revision with this id, or None (also for a value that is not an id)."""
    pk = id_value(revision_id)
    return AnnotationRevision.objects.filter(song=song, pk=pk).first() if pk is not None else None


def review_comments(*, song) -> list[ReviewComment]:
    return list(ReviewComment.objects.filter(revision__song=song).select_related("author", "revision").order_by("created_at", "id"))


def queue_for_user(*, user) -> dict:
    """What waits for this user across their projects: songs assigned to them that are not yet
    submitted or verified, and (for reviewers and admins) songs submitted for review."""
    if not user.is_authenticated:
        return {"to_annotate": Song.objects.none(), "to_review": Song.objects.none()}
    visible = Song.objects.filter(project__in=projects_for_user(user=user)).select_related(
        "project", "current_revision", "assigned_to")
    to_annotate = visible.filter(assigned_to=user).exclude(
        current_revision__state__in=[RevisionState.SUBMITTED, RevisionState.VERIFIED]).order_by("project__name", "title", "id")
    if user.is_superuser:
        review_projects = Project.objects.all()
    else:
        roles = Membership.objects.filter(user=user).values_list("project_id", "role")
        review_projects = [pid for pid, role in roles if ROLE_RANK[Role(role)] >= ROLE_RANK[Role.REVIEWER]]
    to_review = visible.filter(project__in=review_projects, current_revision__state=RevisionState.SUBMITTED).order_by(
        "project__name", "title", "id")
    return {"to_annotate": to_annotate, "to_review": to_review}


def revision_latest_verified(*, song) -> AnnotationRevision | None:
    """The song's latest verified revision, or None: a later draft or submission on top of it does
    not count until it is verified. Training, evaluation reports and exports all use this one."""
    return AnnotationRevision.objects.filter(song=song, state=RevisionState.VERIFIED).order_by("-number").first()


def revisions_latest_verified(*, songs) -> dict[int, AnnotationRevision]:
    """``{song id: revision_latest_verified}`` of those of ``songs`` that have one, in one query."""
    latest: dict[int, AnnotationRevision] = {}
    for rev in AnnotationRevision.objects.filter(song__in=songs, state=RevisionState.VERIFIED).order_by("song_id", "-number"):
        latest.setdefault(rev.song_id, rev)
    return latest
