"""Song pages and API: thin views (permission helper, validate, call a service, respond)."""

from __future__ import annotations

import gzip

from accounts.models import Role
from accounts.permissions import has_role, require_role
from accounts.selectors import project_get
from common.errors import ApiError
from common.pagination import Pagination
from common.parsers import JSONParser
from common.schema import paginated
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from songs import selectors, services
from songs.audio_response import file_response
from songs.files import content_type_for
from songs.models import SongStatus, Split
from songs.serializers import (
    SongBulkSerializer,
    SongListQuerySerializer,
    SongSerializer,
    SongUpdateSerializer,
    SongUploadSerializer,
)
from songs.uploads import HashingUploadHandler, too_large_error

# Multipart overhead allowed on top of the file itself before the early Content-Length check trips.
MULTIPART_SLACK = 64 * 1024


# -- pages -------------------------------------------------------------------------------------------


@login_required
def song_list_page(request, project_id: int):
    project = project_get(user=request.user, project_id=project_id)
    context = {
        "project": project,
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "can_upload": has_role(user=request.user, project=project, role=Role.ANNOTATOR),
        "can_manage": has_role(user=request.user, project=project, role=Role.REVIEWER),
        "splits": Split.choices,
    }
    return render(request, "songs/list.html", context)


# -- API ---------------------------------------------------------------------------------------------


def _serialize(songs, *, many: bool):
    items = list(songs) if many else [songs]
    jobs = selectors.process_jobs_for(songs=items)
    return SongSerializer(songs, many=many, context={"jobs": jobs}).data


class SongListCreate(APIView):
    """GET: songs you can see (?project, search, ordering, status, split, ids, limit, offset).
    POST multipart: file (+ project, title, artist) -> 201 with the song and a queued process job."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = SongSerializer

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            limit_mb = settings.MAX_UPLOAD_MB
            # Stream every file part to disk, hashed on the way; stop at the limit.
            request.upload_handlers = [
                HashingUploadHandler(request, max_bytes=limit_mb * 1024 * 1024, limit_mb=limit_mb)
            ]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > settings.MAX_UPLOAD_MB * 1024 * 1024 + MULTIPART_SLACK:
                raise too_large_error(limit_mb=settings.MAX_UPLOAD_MB)  # before reading a byte of the body
        super().initial(request, *args, **kwargs)

    @extend_schema(operation_id="songs_list", parameters=[SongListQuerySerializer], responses=paginated(
        SongSerializer, extra={"processing": serializers.IntegerField(
            allow_null=True, help_text="songs of ?project still processing (null without ?project)")}))
    def get(self, request):
        query = SongListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        project_id = q.get("project")
        if project_id is not None:
            project_get(user=request.user, project_id=project_id)
        qs = selectors.songs_list(
            user=request.user, project_id=project_id, search=q.get("search", ""), ordering=q.get("ordering", ""),
            status=q.get("status", ""), split=q.get("split", ""), ids=q.get("ids"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        response = paginator.get_paginated_response(_serialize(page, many=True))
        response.data["processing"] = qs.filter(status=SongStatus.PROCESSING).count() if project_id else None
        return response

    @extend_schema(operation_id="songs_create", request={"multipart/form-data": SongUploadSerializer},
                   responses={201: SongSerializer})
    def post(self, request):
        files = request.FILES.getlist("file")
        if not files:
            others = [k for k in request.FILES.keys()]
            hint = f" (the request had a file in {', '.join(repr(k) for k in others)})" if others else ""
            raise ApiError(f"No file in the 'file' field of the multipart form{hint}. "
                           "Send the audio as multipart/form-data with the field name 'file'.", code="missing_file")
        if len(files) > 1:
            raise ApiError("Send one file per request in the 'file' field.", code="too_many_files")
        if not request.data.get("project") and not request.query_params.get("project"):
            raise ApiError("Say which project the song belongs to with the 'project' field.", code="missing_project")
        fields = SongUploadSerializer(data={"project": request.data.get("project") or request.query_params.get("project"),
                                            "file": files[0], "title": request.data.get("title", ""),
                                            "artist": request.data.get("artist", "")})
        fields.is_valid(raise_exception=True)
        project = project_get(user=request.user, project_id=fields.validated_data["project"])
        require_role(user=request.user, project=project, role=Role.ANNOTATOR)
        song = services.song_create(
            project=project, upload=files[0], created_by=request.user,
            title=fields.validated_data.get("title", ""), artist=fields.validated_data.get("artist", ""),
            album=fields.validated_data.get("album", ""),
        )
        return Response(_serialize(song, many=False), status=status.HTTP_201_CREATED)


class SongDetail(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    serializer_class = SongSerializer

    def get(self, request, song_id: int):
        song = selectors.song_get(user=request.user, song_id=song_id)
        return Response(_serialize(selectors.songs_list(user=request.user, ids=[song.pk]).get(), many=False))

    def patch(self, request, song_id: int):
        song = selectors.song_get(user=request.user, song_id=song_id)
        data = SongUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        require_role(user=request.user, project=song.project,
                     role=Role.REVIEWER if "split" in fields else Role.ANNOTATOR)
        services.song_update(song=song, actor=request.user, **fields)
        return Response(_serialize(selectors.songs_list(user=request.user, ids=[song.pk]).get(), many=False))

    def delete(self, request, song_id: int):
        song = selectors.song_get(user=request.user, song_id=song_id)
        require_role(user=request.user, project=song.project, role=Role.REVIEWER)
        services.song_delete(song=song, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SongBulk(APIView):
    """POST {"ids": [...], "action": "set_split"|"detect"|"delete", "split"?, "model_id"?}."""

    parser_classes = [JSONParser]
    serializer_class = SongBulkSerializer

    @extend_schema(request=SongBulkSerializer, responses={
        200: inline_serializer("SongBulkResult", fields={
            "updated": serializers.IntegerField(required=False, help_text="set_split: songs changed"),
            "deleted": serializers.IntegerField(required=False, help_text="delete: songs deleted")}),
        202: inline_serializer("SongBulkDetect", fields={"job": inline_serializer("SongBulkJob", fields={
            "id": serializers.IntegerField(), "kind": serializers.CharField(), "state": serializers.CharField(),
            "params": serializers.DictField()})}),
    }, description="set_split and delete answer 200; detect queues one detect job over the ready songs (202).")
    def post(self, request):
        data = SongBulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["ids"]
        songs = list(selectors.songs_visible(user=request.user).filter(pk__in=ids).select_related("project"))
        if len(songs) != len(set(ids)):
            raise ApiError("Some of the selected songs do not exist or are not yours to change.", code="not_found",
                           status_code=404)
        projects = {s.project_id for s in songs}
        if len(projects) != 1:
            raise ApiError("Bulk actions work on songs of one project at a time.", code="invalid")
        project = songs[0].project
        action = data.validated_data["action"]
        if action == "set_split":
            require_role(user=request.user, project=project, role=Role.REVIEWER)
            n = services.songs_set_split(songs=songs, split=data.validated_data.get("split", ""), actor=request.user)
            return Response({"updated": n})
        if action == "delete":
            require_role(user=request.user, project=project, role=Role.REVIEWER)
            for song in songs:
                services.song_delete(song=song, actor=request.user)
            return Response({"deleted": len(songs)})
        require_role(user=request.user, project=project, role=Role.ANNOTATOR)
        job = services.songs_detect(project=project, songs=songs, actor=request.user,
                                    model_id=data.validated_data.get("model_id"))
        return Response({"job": {"id": job.pk, "kind": job.kind, "state": job.state, "params": job.params}},
                        status=status.HTTP_202_ACCEPTED)


class _AnyAccept(BaseContentNegotiation):
    """Audio elements send Accept: audio/*; the media endpoints answer regardless (errors are JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _MediaView(APIView):
    content_negotiation_class = _AnyAccept


# The stored file's own type (audio/wav, audio/flac, ...; application/octet-stream when unknown); 206 for a Range.
AUDIO_RESPONSES = {(code, media): OpenApiTypes.BINARY for code in (200, 206)
                   for media in ("audio/*", "application/octet-stream")}


@extend_schema(responses=AUDIO_RESPONSES)
class SongAudio(_MediaView):
    """The browser-playable rendition if there is one, else the original; HTTP Range -> 206."""

    def get(self, request, song_id: int):
        song = selectors.song_get(user=request.user, song_id=song_id)
        name = song.playable.name or song.original.name
        return file_response(request, name=name, content_type=content_type_for(name),
                             etag=f"{song.sha256[:32]}-{'p' if song.playable.name else 'o'}")


@extend_schema(responses=AUDIO_RESPONSES)
class SongOriginal(_MediaView):
    """The original file, byte-exact, as an attachment named as it was uploaded."""

    def get(self, request, song_id: int):
        song = selectors.song_get(user=request.user, song_id=song_id)
        return file_response(request, name=song.original.name, content_type=content_type_for(song.original.name),
                             etag=song.sha256[:32], download_name=song.original_name or f"song-{song.pk}{song.extension}",
                             as_attachment=True)


@extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
class SongPeaks(_MediaView):
    """Waveform min/max pairs as JSON (stored gzipped; sent gzipped when the client accepts it)."""

    def get(self, request, song_id: int):
        from django.core.files.storage import default_storage

        song = selectors.song_get(user=request.user, song_id=song_id)
        if not song.peaks.name:
            if song.status == SongStatus.FAILED:
                raise ApiError(f"This song has no waveform: processing failed ({song.error}).", code="no_peaks",
                               status_code=404)
            raise ApiError("The waveform is not ready yet; the song is still being processed.", code="not_ready",
                           status_code=409)
        headers = {"Cache-Control": "private, max-age=3600", "Vary": "Accept-Encoding",
                   "ETag": f'"{song.sha256[:24]}-peaks"'}
        if "gzip" in request.headers.get("Accept-Encoding", "").lower():
            f = default_storage.open(song.peaks.name, "rb")
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(default_storage.size(song.peaks.name))
            return StreamingHttpResponse(_chunks(f), content_type="application/json", headers=headers)
        with default_storage.open(song.peaks.name, "rb") as f:
            return HttpResponse(gzip.decompress(f.read()), content_type="application/json", headers=headers)


def _spectrogram_name(song) -> str:
    if song.spectrogram.name:
        return song.spectrogram.name
    if song.status == SongStatus.PROCESSING:
        raise ApiError("The spectrogram is not ready yet; the song is still being processed.", code="not_ready",
                       status_code=409)
    if song.status == SongStatus.FAILED:
        raise ApiError(f"This song has no spectrogram: processing failed ({song.error}).", code="no_spectrogram",
                       status_code=404)
    raise ApiError("The spectrogram of this song has not been computed yet: it was processed before Singscope "
                   "stored spectrograms. An administrator can compute it with `python manage.py "
                   "spectrograms_compute`.", code="no_spectrogram", status_code=404)


def _bounded_int(value, name: str, *, high: int) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) > high:
        raise ApiError(f"{name} must be a whole number from 0 to {high}, not {text[:20]!r}.", code="invalid")
    return int(text)


@extend_schema(
    parameters=[OpenApiParameter("level", int, description="zoom level: rows average 2**level frames"),
                OpenApiParameter("tile", int, description="tile of that level (tile_frames rows each)")],
    responses={200: OpenApiTypes.OBJECT, (200, "application/octet-stream"): OpenApiTypes.BINARY})
class SongSpectrogram(_MediaView):
    """Without parameters: the stored log-mel spectrogram's description (JSON: bands in Hz, zoom
    levels and their tiles). With ?level=&tile=: that tile, uint8 rows (frames x bands, band 0
    lowest), sent gzip-encoded exactly as stored (like the peaks)."""

    def get(self, request, song_id: int):
        from django.core.files.storage import default_storage

        from songs.spectrogram import spectrogram_header, spectrogram_tile

        song = selectors.song_get(user=request.user, song_id=song_id)
        name = _spectrogram_name(song)
        level, tile = request.query_params.get("level"), request.query_params.get("tile")
        tag = f"{song.sha256[:16]}-{_name_tag(name)}"
        if level is None and tile is None:
            with default_storage.open(name, "rb") as f:
                header, _ = spectrogram_header(f)
            header["tile_url"] = f"/api/songs/{song.pk}/spectrogram?level={{level}}&tile={{tile}}"
            return JsonResponse(header, headers={"Cache-Control": "private, max-age=3600", "ETag": f'"{tag}-spec"'})
        if level is None or tile is None:
            raise ApiError("Ask for a tile with both level and tile, e.g. ?level=0&tile=0.", code="invalid")
        level, tile = _bounded_int(level, "level", high=64), _bounded_int(tile, "tile", high=10**6)
        with default_storage.open(name, "rb") as f:
            header, base = spectrogram_header(f)
            try:
                member = spectrogram_tile(f, header=header, base=base, level=level, tile=tile)
            except IndexError:
                raise ApiError(f"There is no tile {tile} of level {level} in this spectrogram (levels 0 to "
                               f"{len(header['levels']) - 1}).", code="not_found", status_code=404) from None
        entry = header["levels"][level]["tiles"][tile]
        headers = {"Cache-Control": "private, max-age=86400", "Vary": "Accept-Encoding",
                   "ETag": f'"{tag}-{level}-{tile}"', "X-Frames": str(entry["frames"]), "X-Bands": str(header["n_mels"])}
        if "gzip" in request.headers.get("Accept-Encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return HttpResponse(member, content_type="application/octet-stream", headers=headers)
        return HttpResponse(gzip.decompress(member), content_type="application/octet-stream", headers=headers)


def _name_tag(name: str) -> str:
    """A short tag of a stored file name (a recomputed spectrogram gets a new name, so new ETags)."""
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()[:8]


def _chunks(f, size: int = 256 * 1024):
    try:
        while data := f.read(size):
            yield data
    finally:
        f.close()
