"""Reads on songs: the songs a user may see, filtered, searched, ordered; one song by id."""

from __future__ import annotations

import logging

from accounts.models import Project
from accounts.selectors import projects_for_user
from common.validation import id_or_404, id_value
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.http import Http404

from songs.models import Song, SongStatus, Split

log = logging.getLogger(__name__)

ORDERINGS = {
    "title": "title", "artist": "artist", "duration": "duration", "created": "created_at",
    "status": "status", "split": "split", "size": "size_bytes",
}


def songs_visible(*, user) -> QuerySet[Song]:
    return Song.objects.filter(project__in=projects_for_user(user=user))


def song_get(*, user, song_id) -> Song:
    """The song if the user is a member of its project; Http404 otherwise (missing or not yours)."""
    try:
        return songs_visible(user=user).select_related("project").get(pk=id_or_404(song_id))
    except Song.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None


def songs_list(*, user, project_id=None, search: str = "", ordering: str = "", status: str = "",
               split: str = "", ids: list[int] | None = None) -> QuerySet[Song]:
    qs = songs_visible(user=user)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    if search:
        for word in search.split()[:8]:
            qs = qs.filter(Q(title__icontains=word) | Q(artist__icontains=word) | Q(original_name__icontains=word))
    if status:
        qs = qs.filter(status=status)
    if split:
        qs = qs.filter(split=split)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    field = ORDERINGS.get(ordering.lstrip("-"))
    if field:
        desc = "-" if ordering.startswith("-") else ""
        qs = qs.order_by(f"{desc}{field}", f"{desc}id")
    return qs.select_related("current_revision", "created_by")


def assignable_songs(*, project: Project, assignee: str = "") -> QuerySet:
    """The project's songs for the assignment page; assignee "" = all, "none" = unassigned, or a user id."""
    qs = Song.objects.filter(project=project).select_related("assigned_to", "current_revision").order_by("title", "id")
    if assignee == "none":
        qs = qs.filter(assigned_to__isnull=True)
    elif id_value(assignee) is not None:
        qs = qs.filter(assigned_to_id=id_value(assignee))
    return qs


def songs_ready(*, project: Project) -> QuerySet[Song]:
    """The project's ready songs by title (what detection and evaluation can run on)."""
    return Song.objects.filter(project=project, status=SongStatus.READY).order_by("title", "id")


def songs_in_test_split_exist(*, project: Project) -> bool:
    return Song.objects.filter(project=project, split=Split.TEST).exists()


def song_signatures(*, songs) -> dict[int, list[float]]:
    """``{song id: signature}`` of ``songs``: the stored one, or for a song processed before signatures
    were stored, one computed from its stored spectrogram (the same log-mel features, read back) and
    not saved (:func:`songs.services.song_signatures_ensure` keeps them). Songs with neither are left
    out (``manage.py spectrograms_compute`` gives them both)."""
    from songs.processing import signature_values
    from songs.spectrogram import spectrogram_features

    out = {}
    for song in songs:
        if song.signature:
            out[song.pk] = song.signature
            continue
        if not song.spectrogram:
            continue
        try:
            with default_storage.open(song.spectrogram.name, "rb") as f:
                out[song.pk] = signature_values(spectrogram_features(f))
        except (OSError, ValueError):
            log.warning("no signature for song %s: its spectrogram cannot be read", song.pk, exc_info=True)
    return out
