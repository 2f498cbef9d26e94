"""Song pages and API: thin views (permission helper, validate, call a service, respond)."""

from __future__ import annotations

import gzip

from accounts.models import Role
from accounts.permissions import ProjectRolePermission, project_required, role_at_least
from accounts.selectors import member_find
from common.errors import ApiError
from common.negotiation import FirstRenderer
from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from songs import selectors, services
from songs.audio_response import file_response
from songs.files import content_type_for
from songs.models import SongStatus, Split
from songs.serializers import AssignSerializer

# -- pages -------------------------------------------------------------------------------------------


@project_required()
def song_list_page(request, project_id: int):
    project = request.project
    context = {
        "project": project,
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "can_upload": role_at_least(request.role, Role.ANNOTATOR),
        "can_manage": role_at_least(request.role, Role.REVIEWER),
        "splits": Split.choices,
    }
    return render(request, "songs/list.html", context)


# -- API ---------------------------------------------------------------------------------------------


class _MediaView(APIView):
    content_negotiation_class = FirstRenderer


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
            header["tile_url"] = reverse("api-song-spectrogram", kwargs={"song_id": song.pk}) + "?level={level}&tile={tile}"
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


class AssignView(APIView):
    """POST (reviewer or admin) {song_ids: [...], user: id|username|null}: assign songs to a member."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]
    project_roles = {"POST": Role.REVIEWER}

    @extend_schema(request=AssignSerializer, responses={200: {"type": "object", "properties": {
        "assigned": {"type": "integer"}, "user": {"type": "integer", "nullable": True}}}})
    def post(self, request, project_id: int):
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        who = data.validated_data["user"]
        assignee = None
        if who not in (None, ""):
            user = member_find(project=request.project, who=who)
            if user is None:
                raise ApiError(f"{str(who)[:150]!r} is not a member of this project.", code="not_member")
            assignee = user
        n = services.songs_assign(project=request.project, actor=request.user,
                                  song_ids=data.validated_data["song_ids"], assignee=assignee)
        return Response({"assigned": n, "user": assignee.pk if assignee else None})
