"""Reads: the order in which a project's songs are best corrected (`detector.priority.song_priorities`).

A song's priority is the detector's: how unsure the active model is about it (uncertainty), how much
it disagrees with the model used before (disagreement, where that model's prediction is stored), and
how unlike the verified songs it sounds (novelty, from the songs' stored signatures). The
assignments page, the project queue API (`GET /api/projects/<id>/queue`) and "My queue" show
songs in this order with the three parts, so people correct first what teaches the model most.

Priorities are computed from stored files (the predictions' probabilities, the signatures), cached
per project until any of their inputs changes.
"""

from __future__ import annotations

import hashlib
import io
import logging

import numpy as np
from annotations.models import AnnotationRevision, RevisionState
from django.core.cache import cache
from songs.models import Song, SongStatus
from songs.selectors import song_signatures

log = logging.getLogger(__name__)

CACHE_SECONDS = 600
COMPONENTS = ("priority", "uncertainty", "disagreement", "novelty")


def _probabilities(prediction) -> np.ndarray | None:
    try:
        with prediction.probabilities.open("rb") as fh:
            return np.load(io.BytesIO(fh.read()), allow_pickle=False).astype(np.float32).reshape(-1)
    except (OSError, ValueError):
        log.warning("prediction %s cannot be read", prediction.pk, exc_info=True)
        return None


def songs_priority(*, project) -> dict[int, dict]:
    """``{song id: {"priority", "uncertainty", "disagreement", "novelty", "model"}}`` for the project's
    ready songs that still need correcting (no verified current revision) and have a prediction of
    the model in use (the active model's; with none chosen, the newest shipped model's; else the
    song's newest prediction)."""

    from detector.priority import song_priorities
    from jobs.models import Prediction
    from jobs.selectors import model_previous_for_project

    songs = list(Song.objects.filter(project=project, status=SongStatus.READY).select_related("current_revision"))
    if not songs:
        return {}
    verified_ids = set(AnnotationRevision.objects.filter(song__in=songs, state=RevisionState.VERIFIED)
                       .values_list("song_id", flat=True))
    open_songs = [s for s in songs if not (s.current_revision_id and s.current_revision.state == RevisionState.VERIFIED)]
    previous_id = model_previous_for_project(project=project)
    predictions = list(Prediction.objects.filter(song__in=open_songs).select_related("model_version")
                       .order_by("-created_at", "-id"))
    key = _cache_key(project=project, songs=songs, verified=verified_ids, predictions=predictions,
                     previous_id=previous_id)
    hit = cache.get(key)
    if hit is not None:
        return hit

    by_song: dict[int, list] = {}
    for p in predictions:
        by_song.setdefault(p.song_id, []).append(p)
    current, previous, model_of = {}, {}, {}
    for song in open_songs:
        preds = by_song.get(song.pk, [])
        chosen = next((p for p in preds if p.model_version_id == project.active_model_id), None)
        if chosen is None and project.active_model_id is None:
            chosen = next((p for p in preds if p.model_version.project_id is None), None)
        if chosen is None and preds:
            chosen = preds[0]
        if chosen is None:
            continue
        probs = _probabilities(chosen)
        if probs is None:
            continue
        current[str(song.pk)] = probs
        model_of[song.pk] = chosen.model_version.name
        before = next((p for p in preds if p.model_version_id == previous_id and p is not chosen), None)
        if before is not None and (old := _probabilities(before)) is not None:
            previous[str(song.pk)] = old
    signatures = song_signatures(songs=[s for s in songs if s.pk in verified_ids or str(s.pk) in current])
    signatures = _same_length({str(k): np.asarray(v, np.float32) for k, v in signatures.items()})
    scores = song_priorities(probabilities=current, signatures=signatures,
                             verified=[str(i) for i in verified_ids], previous=previous)
    out = {int(k): {**v, "model": model_of[int(k)]} for k, v in scores.items()}
    cache.set(key, out, CACHE_SECONDS)
    return out


def song_queue(*, project, songs=None) -> list[dict]:
    """``songs`` (default: the project's ready songs that still need correcting) in the order to
    correct them: highest priority first, songs without a prediction after them, verified songs
    last; each ``{"song": Song, "priority": dict | None}``."""

    scores = songs_priority(project=project)
    if songs is None:
        songs = (Song.objects.filter(project=project, status=SongStatus.READY)
                 .exclude(current_revision__state=RevisionState.VERIFIED)
                 .select_related("current_revision", "assigned_to"))

    def order(song):
        verified = bool(song.current_revision_id and song.current_revision.state == RevisionState.VERIFIED)
        p = scores.get(song.pk)
        return (verified, p is None, -(p["priority"] if p else 0.0), song.title.lower(), song.pk)

    return [{"song": s, "priority": scores.get(s.pk)} for s in sorted(songs, key=order)]


def _same_length(signatures: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Only signatures of the most common length (songs processed with another front end, e.g. after
    a model with other mel bands became active, cannot be compared with the rest)."""
    if not signatures:
        return signatures
    lengths = [len(v) for v in signatures.values()]
    common = max(set(lengths), key=lengths.count)
    return {k: v for k, v in signatures.items() if len(v) == common}


def _cache_key(*, project, songs, verified, predictions, previous_id) -> str:
    parts = [project.pk, project.active_model_id, previous_id, sorted(verified),
             sorted((s.pk, s.current_revision_id, bool(s.signature)) for s in songs),
             sorted((p.pk, p.probabilities.name) for p in predictions)]
    return f"song-priority:{project.pk}:" + hashlib.sha1(repr(parts).encode()).hexdigest()


def songs_in_priority_order(*, songs) -> list[dict]:
    """Songs of any projects (e.g. one person's queue), project by project (by name), each project's in
    its correcting order (:func:`song_queue`)."""
    by_project: dict[int, list] = {}
    for song in songs:
        by_project.setdefault(song.project_id, []).append(song)
    out = []
    for group in sorted(by_project.values(), key=lambda g: (g[0].project.name.lower(), g[0].project_id)):
        out.extend(song_queue(project=group[0].project, songs=group))
    return out
