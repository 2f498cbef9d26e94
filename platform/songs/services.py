"""Writes on songs: create from an upload, edit, delete (files too), bulk actions."""

from __future__ import annotations

import logging
import re
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

from accounts.models import Membership, Project
from accounts.services import activity_record
from common.errors import ApiError
from common.files import upload_on_disk, upload_sha256
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from songs.files import extension_for, song_dir, storage_delete
from songs.models import Song, SongStatus, Split, song_upload_to
from songs.tags import audio_tags
from songs.validation import audio_validate

log = logging.getLogger(__name__)

TITLE_MAX = 300


def filename_clean(name: str) -> str:
    """The uploader's file name as display data: last path component, no control characters, bounded."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or "upload"
    return name[:TITLE_MAX]


def _title_from(filename: str) -> str:
    stem = Path(filename).stem if "." in filename else filename
    return (stem.replace("_", " ").strip() or filename)[:TITLE_MAX]


def song_create(*, project: Project, upload, created_by, title: str = "", artist: str = "", album: str = "",
                fallback_title: str = "", on_created: Callable[[Song], dict] | None = None) -> Song:
    """Validate an uploaded file by decoding it, store it byte-exact, create the song (status processing).

    Title, artist and album: the values given, else the file's own tags (songs.tags), else (title
    only) ``fallback_title``, else the file name. ``on_created(song)`` runs in the transaction that
    creates the row and returns what it adds to the "song.uploaded" activity (jobs.processing.song_upload
    queues the process job there). Raises ApiError (400 not audio / 409 duplicate / 413 too large);
    on any failure no row and no stored file remain.
    """
    display = filename_clean(getattr(upload, "name", "") or "upload")
    title = (title or "").strip()
    artist = (artist or "").strip()
    album = (album or "").strip()
    if len(title) > TITLE_MAX or len(artist) > TITLE_MAX or len(album) > TITLE_MAX:
        raise ApiError(f"Title, artist and album may be at most {TITLE_MAX} characters.", code="invalid")
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if upload.size > limit:
        from songs.uploads import too_large_error

        raise too_large_error(limit_mb=settings.MAX_UPLOAD_MB)
    if upload.size == 0:
        raise ApiError(f'"{display}" is empty (0 bytes). Choose the audio file itself.', code="empty_file")

    suffix = Path(display).suffix
    with upload_on_disk(upload, suffix=suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else "") as path:
        info = audio_validate(path, display_name=display, max_duration=settings.MAX_AUDIO_MINUTES * 60)
        sha = upload_sha256(upload)
        existing = Song.objects.filter(project=project, sha256=sha).first()
        if existing:
            raise _duplicate(existing)
        tags = audio_tags(path)
        song = Song(
            project=project, title=title or tags["title"] or fallback_title.strip()[:TITLE_MAX] or _title_from(display),
            artist=artist or tags["artist"], album=album or tags["album"], original_name=display,
            extension=extension_for(container=info.container, codec=info.codec, filename=display),
            size_bytes=upload.size, sha256=sha, duration=round(info.duration, 6), sample_rate=info.sample_rate,
            channels=info.channels, codec=info.codec[:64], status=SongStatus.PROCESSING, created_by=created_by,
        )
        upload.seek(0)
        stored = default_storage.save(song_upload_to(song, display), upload)
    try:
        with transaction.atomic():
            song.original.name = stored
            song.save()
            extra = on_created(song) if on_created is not None else {}
            activity_record(project=project, actor=created_by, verb="song.uploaded",
                            summary=f"uploaded {song.title}", data={"song": song.pk, **extra})
    except IntegrityError:
        storage_delete(stored)
        existing = Song.objects.filter(project=project, sha256=sha).first()
        if existing:
            raise _duplicate(existing) from None
        raise
    except BaseException:
        storage_delete(stored)
        raise
    return song


def _duplicate(existing: Song) -> ApiError:
    return ApiError(
        f'This file is already in the project as "{existing.title}" (song {existing.pk}, uploaded as '
        f'"{existing.original_name}").', code="duplicate", status_code=409,
    )


def song_update(*, song: Song, actor, title: str | None = None, artist: str | None = None,
                album: str | None = None, split: str | None = None) -> Song:
    fields = []
    if title is not None:
        title = title.strip()
        if not title or len(title) > TITLE_MAX:
            raise ApiError(f"A title needs 1 to {TITLE_MAX} characters.", code="invalid")
        song.title = title
        fields.append("title")
    if artist is not None:
        if len(artist.strip()) > TITLE_MAX:
            raise ApiError(f"An artist name may be at most {TITLE_MAX} characters.", code="invalid")
        song.artist = artist.strip()
        fields.append("artist")
    if album is not None:
        if len(album.strip()) > TITLE_MAX:
            raise ApiError(f"An album name may be at most {TITLE_MAX} characters.", code="invalid")
        song.album = album.strip()
        fields.append("album")
    if split is not None:
        if split not in Split.values:
            raise ApiError(f"split must be one of {', '.join(Split.values)}, not {split!r}.", code="invalid")
        song.split = split
        fields.append("split")
    if fields:
        song.save(update_fields=[*fields, "updated_at"])
        activity_record(project=song.project, actor=actor, verb="song.edited",
                        summary=f"edited {', '.join(fields)} of {song.title}", data={"song": song.pk})
    return song


def song_delete(*, song: Song, actor) -> None:
    """Delete the song, its revisions and predictions, and every file it owns."""
    names = [song.original.name, song.peaks.name, song.playable.name, song.spectrogram.name]
    names += [p.probabilities.name for p in song.predictions.all()]
    title, project, pk, folder = song.title, song.project, song.pk, song_dir(song)
    with transaction.atomic():
        song.delete()
        activity_record(project=project, actor=actor, verb="song.deleted", summary=f"deleted {title}", data={"song": pk})
    storage_delete(*names)
    _delete_folder(folder)


def _delete_folder(folder: str) -> None:
    try:
        path = Path(default_storage.path(folder))
    except NotImplementedError:
        return
    if path.is_dir():  # the folder belongs to this song alone (one sha per project)
        shutil.rmtree(path, ignore_errors=True)


def songs_set_split(*, songs, split: str, actor) -> int:
    if split not in Split.values:
        raise ApiError(f"split must be one of {', '.join(Split.values)}, not {split!r}.", code="invalid")
    ids = [s.pk for s in songs]
    n = Song.objects.filter(pk__in=ids).update(split=split)
    if ids:
        activity_record(project=songs[0].project, actor=actor, verb="song.split",
                        summary=f"set split {split} on {n} songs", data={"songs": ids})
    return n


def song_signatures_ensure(*, songs) -> dict[int, list[float]]:
    """``{song id: signature}`` of ``songs`` (:func:`songs.selectors.song_signatures`); a song processed
    before signatures were stored gets its signature kept. Background work (beat's `jobs.housekeep`
    through :func:`song_signatures_store_missing`), never a request: pages compute without saving."""
    from songs.selectors import song_signatures

    out = song_signatures(songs=songs)
    for song in songs:
        if not song.signature and song.pk in out:
            Song.objects.filter(pk=song.pk).update(signature=out[song.pk])
            song.signature = out[song.pk]
    return out


def song_signatures_store_missing(*, limit: int = 200) -> int:
    """Store the signature of up to ``limit`` ready songs that have a spectrogram but no signature
    (processed before signatures were stored); the number stored."""
    songs = list(Song.objects.filter(status=SongStatus.READY, signature__isnull=True).exclude(spectrogram="")
                 .order_by("id")[:limit])
    return sum(1 for song in songs if song.pk in song_signatures_ensure(songs=[song]))


@transaction.atomic
def songs_assign(*, project: Project, actor, song_ids: list[int], assignee) -> int:
    """Assign songs of ``project`` to a member (or unassign them with ``assignee=None``).

    Every id must name a song of this project (otherwise 404 and nothing changes: the answer is the
    same for songs of other projects and for ids that do not exist)."""
    ids = sorted({int(i) for i in song_ids})
    if not ids:
        raise ApiError("Choose at least one song to assign.", code="invalid")
    songs = Song.objects.filter(project=project, pk__in=ids)
    if songs.count() != len(ids):
        raise ApiError("Some of these songs are not in this project (or do not exist).", code="not_found",
                       status_code=404)
    if assignee is not None and not Membership.objects.filter(project=project, user=assignee).exists():
        raise ApiError(f"{assignee.get_username()} is not a member of this project.", code="not_member")
    n = songs.update(assigned_to=assignee)
    who = assignee.get_username() if assignee is not None else "nobody"
    activity_record(project=project, actor=actor, verb="song.assigned",
                    summary=f"assigned {n} song{'s' if n != 1 else ''} to {who}",
                    data={"songs": ids, "user": assignee.pk if assignee is not None else None})
    return n


def songs_unassign(*, project: Project, user) -> int:
    """The ``member_removed`` hook: the songs of ``project`` assigned to ``user`` become unassigned."""
    return Song.objects.filter(project=project, assigned_to=user).update(assigned_to=None)
