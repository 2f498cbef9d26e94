"""The annotation API (`/api/songs/<id>/annotation...`, `/api/songs/<id>/prediction`) and the editor page.

Optimistic locking with HTTP preconditions
------------------------------------------
`GET /api/songs/<id>/annotation` answers with `ETag: "<revision id>"` (`"none"` while the song has
no revision). Every write that moves the current revision forward (PUT, submit, review) takes
`If-Match` with that value:

* `If-Match: "<revision id>"` - the revision the edit is based on; a newer current revision -> 409.
* `If-Match: "none"` - "I expect the song to have no revision yet" (first save of a song).
* `If-Match: *` - explicitly skip the check ("whatever is current"); meant for scripts.

PUT without If-Match is refused with 428 (precondition_required). Import (POST of a file), submit
and review accept a missing If-Match as `*`: they replace or restate the current revision on
purpose. A 409 body is `{"error", "code": "revision_conflict", "latest": <revision with segments>}`
so a client can show who saved what and when, and re-apply its edits on top.
"""

from __future__ import annotations

import re

from accounts.models import Role
from accounts.permissions import require_song_editable, role_in
from common.errors import ApiError
from common.parsers import JSONParser
from common.validation import query_validated
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import formats, selectors, services
from annotations.diff import partition_diff
from annotations.errors import RevisionConflict
from annotations.models import AnnotationRevision
from annotations.serializers import (
    AnnotationExportQuerySerializer,
    AnnotationImportSerializer,
    AnnotationSaveSerializer,
    CurrentAnnotationSerializer,
    ReviewCommentSerializer,
    ReviewResultSerializer,
    ReviewSerializer,
    RevisionHistorySerializer,
    RevisionSerializer,
    RevisionSummarySerializer,
)
from detector.errors import FormatError

_ETAG = re.compile(r'^\s*(?:W/)?"?([^",\s]*)"?\s*$')


def _etag(revision: AnnotationRevision | None) -> str:
    return f'"{revision.pk}"' if revision else '"none"'


def _based_on(*, song, header: str | None, required: bool):
    """Resolve an If-Match header into the `based_on` argument of annotations.services."""
    if header is None or not header.strip():
        if required:
            raise ApiError(
                'Saving needs an If-Match header with the revision your edits are based on: the ETag of '
                'GET /api/songs/<id>/annotation, e.g. If-Match: "42" (or "none" for a song without a revision).',
                code="precondition_required", status_code=428,
            )
        return "current"
    if header.strip() == "*":
        return "current"
    match = _ETAG.match(header)
    value = match.group(1) if match else ""
    if value in ("none", "0"):
        return None
    revision = selectors.revision_of_song(song=song, revision_id=value)
    if revision is None:
        raise RevisionConflict(latest=song.current_revision, based_on=f"{value!r} (not a revision of this song)")
    return revision


def _conflict_response(exc: RevisionConflict) -> Response:
    latest = exc.latest
    body = {"error": str(exc.detail), "code": exc.code,
            "latest": RevisionSerializer(latest).data if latest else None}
    return Response(body, status=409, headers={"ETag": _etag(latest)})


def _empty_annotation(song) -> dict:
    duration = float(song.duration or 0)
    return {
        "id": None, "number": 0, "state": None, "origin": None, "author": None, "segments_by": None,
        "reviewed_by": None, "parent": None, "message": "",
        "vocal_seconds": 0.0, "n_segments": 1 if duration > 0 else 0, "created_at": None, "verify_refusal": None,
        "segments": [{"start": 0.0, "end": duration, "label": "non-vocal"}] if duration > 0 else [],
    }


def _revision_response(revision: AnnotationRevision, *, request, status_code: int = 200) -> Response:
    return Response(RevisionSerializer(revision, context={"request": request}).data, status=status_code,
                    headers={"ETag": _etag(revision)})


def _editable_song(request, song_id):
    """The song if this user may change its annotation (annotators: assigned to them or to nobody)."""
    song = selectors.song_for_user(user=request.user, song_id=song_id)
    require_song_editable(user=request.user, song=song)
    return song


class AnnotationView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=CurrentAnnotationSerializer, description="The current revision (ETag: its id). A song without "
                   "a revision answers id null, number 0 and one non-vocal segment, ETag \"none\".")
    def get(self, request, song_id: int):
        song = selectors.song_for_user(user=request.user, song_id=song_id)
        if song.current_revision is None:
            return Response(_empty_annotation(song), headers={"ETag": _etag(None)})
        return _revision_response(song.current_revision, request=request)

    @extend_schema(request=AnnotationSaveSerializer, responses={201: RevisionSerializer, 200: RevisionSerializer},
                   parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                                                description='"<revision id>", "none" or *')])
    def put(self, request, song_id: int):
        song = _editable_song(request, song_id)
        based_on = _based_on(song=song, header=request.headers.get("If-Match"), required=True)
        data = AnnotationSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            revision, created = services.annotation_save(
                song=song, raw_segments=data.validated_data["segments"], author=request.user, based_on=based_on,
                message=data.validated_data["message"],
            )
        except RevisionConflict as exc:
            return _conflict_response(exc)
        except FormatError as exc:
            raise ApiError(f"The segments are not a valid partition of the song: {exc}", code="invalid_segments") from exc
        return _revision_response(revision, request=request, status_code=201 if created else 200)

    @extend_schema(request={"multipart/form-data": AnnotationImportSerializer}, responses={201: RevisionSerializer},
                   description="Import an annotation file (multipart `file`; format from its extension or the "
                   "`format` field) as a new revision with origin import:<format>. `state=verified` (project admins "
                   "only, others get 403) makes it a verified reference in the same call: one revision.")
    def post(self, request, song_id: int):
        song = _editable_song(request, song_id)
        based_on = _based_on(song=song, header=request.headers.get("If-Match"), required=False)
        data = AnnotationImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = data.validated_data["state"]
        if state == "verified" and role_in(user=request.user, project=song.project) != Role.ADMIN:
            raise ApiError("Only a project admin can import an annotation straight to verified; import it as a "
                           "draft and have it reviewed.", code="admin_required", status_code=403)
        upload = data.validated_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise ApiError("An annotation file must be smaller than 20 MB.", code="too_large", status_code=413)
        try:
            revision = services.annotation_import(
                song=song, content=upload.read(), filename=upload.name or "", fmt=data.validated_data["format"] or None,
                author=request.user, based_on=based_on, state=state,
            )
        except RevisionConflict as exc:
            return _conflict_response(exc)
        except FormatError as exc:
            raise ApiError(f"Cannot import {upload.name!r}: {exc}", code="invalid_file") from exc
        return _revision_response(revision, request=request, status_code=201)


class AnnotationExportView(APIView):
    @extend_schema(parameters=[OpenApiParameter("revision", int, description="a revision id (default: current)")],
                   responses={(200, "text/plain"): str})
    def get(self, request, song_id: int, fmt: str):
        song = selectors.song_for_user(user=request.user, song_id=song_id)
        if fmt not in formats.FORMATS:
            raise ApiError(f"Unknown format {fmt!r}; use one of {', '.join(formats.FORMATS)}.", code="unknown_format",
                           status_code=404)
        rid = query_validated(AnnotationExportQuerySerializer, request)["revision"]
        revision = selectors.revision_get(song=song, revision_id=rid) if rid else song.current_revision
        segments = (services.revision_segments(revision) if revision
                    else services.segments_parse(raw=_empty_annotation(song)["segments"], duration=song.duration))
        text = formats.write(segments=segments, fmt=fmt, duration=float(song.duration or 0), title=song.title)
        response = HttpResponse(text, content_type=f"{formats.CONTENT_TYPES[fmt]}; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, _download_name(song.title, fmt))
        if revision:
            response["ETag"] = _etag(revision)
        return response


def _download_name(title: str, fmt: str) -> str:
    """A file name from the song title that is safe everywhere: no path separators, control or quote chars."""
    base = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", title or "").strip(" .") or "annotation"
    base = re.sub(r"\s+", " ", base)[:120]
    return f"{base}.{formats.EXTENSIONS[fmt]}"


class RevisionListView(APIView):
    @extend_schema(operation_id="songs_annotation_revisions_list", responses=RevisionHistorySerializer)
    def get(self, request, song_id: int):
        song = selectors.song_for_user(user=request.user, song_id=song_id)
        revisions = selectors.revision_list(song=song)
        comments = selectors.review_comments(song=song)
        return Response({
            "current": song.current_revision_id,
            "results": RevisionSummarySerializer(revisions, many=True).data,
            "comments": ReviewCommentSerializer(comments, many=True).data,
        })


class RevisionDetailView(APIView):
    @extend_schema(responses=RevisionSerializer)
    def get(self, request, song_id: int, revision_id: int):
        song = selectors.song_for_user(user=request.user, song_id=song_id)
        revision = selectors.revision_get(song=song, revision_id=revision_id)
        return Response(RevisionSerializer(revision, context={"request": request}).data,
                        headers={"ETag": _etag(revision)})


class RevisionDiffView(APIView):
    @extend_schema(parameters=[OpenApiParameter("from", int, required=True), OpenApiParameter("to", int)],
                   responses=OpenApiTypes.OBJECT,
                   description="What changed from revision `from` to revision `to` (default: current): frames "
                   "changed on the 10 ms grid, changed spans, boundaries moved / added / removed, and by whom.")
    def get(self, request, song_id: int):
        song = selectors.song_for_user(user=request.user, song_id=song_id)
        rid_from = request.query_params.get("from")
        if not rid_from:
            raise ApiError("Give the revision to compare from: ?from=<revision id>&to=<revision id>.", code="invalid")
        old = selectors.revision_get(song=song, revision_id=rid_from)
        rid_to = request.query_params.get("to")
        new = selectors.revision_get(song=song, revision_id=rid_to) if rid_to else song.current_revision
        if new is None:
            raise ApiError("This song has no current revision to compare with.", code="no_revision")
        diff = partition_diff(old=services.revision_segments(old), new=services.revision_segments(new),
                              duration=float(song.duration or new.segments[-1]["end"]))
        return Response({
            "from": RevisionSummarySerializer(old).data, "to": RevisionSummarySerializer(new).data, **diff,
        })


class SubmitView(APIView):
    @extend_schema(request=None, responses={201: RevisionSerializer})
    def post(self, request, song_id: int):
        song = _editable_song(request, song_id)
        based_on = _based_on(song=song, header=request.headers.get("If-Match"), required=False)
        try:
            revision = services.revision_submit(song=song, author=request.user, based_on=based_on)
        except RevisionConflict as exc:
            return _conflict_response(exc)
        return _revision_response(revision, request=request, status_code=201)


class ReviewView(APIView):
    @extend_schema(request=ReviewSerializer, responses={201: ReviewResultSerializer, 200: ReviewResultSerializer},
                   description="Reviewers (and admins) verify or reject the current revision (201); any member may "
                   "leave a comment (decision=comment, 200). Comments may be pinned to a time in seconds.")
    def post(self, request, song_id: int):
        song = selectors.song_for_user(user=request.user, song_id=song_id)
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = data.validated_data["decision"]
        if decision != "comment":
            song = selectors.song_for_user(user=request.user, song_id=song_id, role=Role.REVIEWER)
        based_on = _based_on(song=song, header=request.headers.get("If-Match"), required=False)
        try:
            revision, note = services.revision_review(
                song=song, reviewer=request.user, decision=decision, comment=data.validated_data["comment"],
                time=data.validated_data["time"], based_on=based_on,
            )
        except RevisionConflict as exc:
            return _conflict_response(exc)
        body = {"revision": RevisionSerializer(revision, context={"request": request}).data,
                "comment": ReviewCommentSerializer(note).data}
        return Response(body, status=201 if decision != "comment" else 200, headers={"ETag": _etag(revision)})


# ------------------------------------------------------------------------------------------ page
@login_required
def song_editor(request, project_id: int, song_id: int):
    song = selectors.song_for_user(user=request.user, song_id=song_id, project_id=project_id)
    role = role_in(user=request.user, project=song.project)
    api_ids = {"song_id": song.pk}
    config = {
        "song": {"id": song.pk, "title": song.title, "artist": song.artist, "album": song.album,
                 "duration": song.duration, "sample_rate": song.sample_rate, "status": song.status},
        "role": role,
        "canReview": role in (Role.REVIEWER, Role.ADMIN),
        "canRename": role is not None,
        "verifierMustDiffer": song.project.verifier_must_differ,
        "user": request.user.get_username(),
        "api": {
            "annotation": reverse("api-annotation", kwargs=api_ids),
            "revisions": reverse("api-revisions", kwargs=api_ids),
            "diff": reverse("api-revision-diff", kwargs=api_ids),
            "submit": reverse("api-annotation-submit", kwargs=api_ids),
            "review": reverse("api-annotation-review", kwargs=api_ids),
            "prediction": reverse("api-prediction", kwargs=api_ids),
            "peaks": reverse("api-song-peaks", kwargs=api_ids),
            "spectrogram": reverse("api-song-spectrogram", kwargs=api_ids),
            "predictions": reverse("api-song-predictions", kwargs=api_ids),
            "song": reverse("api-song", kwargs=api_ids),
            "audio": reverse("api-song-audio", kwargs=api_ids),
        },
        "formats": list(formats.FORMATS),
    }
    return render(request, "annotations/editor.html", {"project": song.project, "song": song, "config": config})
