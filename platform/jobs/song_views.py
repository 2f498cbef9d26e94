"""Song views that show jobs data, so they live here, above songs (docs/architecture.md):

- the song API's list, detail and bulk routes (/api/songs/, /api/songs/<id>/, /api/songs/bulk): a
  song as the API shows it carries its process job (progress while it processes) and its latest
  prediction's model; uploading queues the process job and the bulk "detect" action a detect job;
- the assignment page and the work queues (page and API), ordered by jobs.priority.

The song's media routes (audio, peaks, spectrogram), its list page and the assign API stay in songs.views."""

from __future__ import annotations

from urllib.parse import urlencode

from accounts import selectors as account_selectors
from accounts.models import Role
from accounts.permissions import project_access, project_required, require_role, role_at_least
from annotations.selectors import queue_for_user
from common.errors import ApiError
from common.pagination import Pagination
from common.parsers import JSONParser
from common.schema import paginated
from common.validation import id_value, page_query
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from songs import selectors as song_selectors
from songs import services as song_services
from songs.models import SongStatus
from songs.serializers import (
    AssignmentsQuerySerializer,
    SongBulkSerializer,
    SongListQuerySerializer,
    SongUpdateSerializer,
    SongUploadSerializer,
)
from songs.uploads import HashingUploadHandler, too_large_error

from jobs import launch, selectors
from jobs.priority import song_queue, songs_in_priority_order, songs_priority
from jobs.processing import song_upload
from jobs.serializers import QueueSerializer, SongSerializer

# Multipart overhead allowed on top of the file itself before the early Content-Length check trips.
MULTIPART_SLACK = 64 * 1024



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
            project_access(user=request.user, project_id=project_id)
        qs = selectors.songs_listed(
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
        project = project_access(user=request.user, project_id=fields.validated_data["project"], role=Role.ANNOTATOR).project
        song = song_upload(
            project=project, upload=files[0], created_by=request.user,
            title=fields.validated_data.get("title", ""), artist=fields.validated_data.get("artist", ""),
            album=fields.validated_data.get("album", ""),
        )
        return Response(_serialize(song, many=False), status=status.HTTP_201_CREATED)


class SongDetail(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    serializer_class = SongSerializer

    def get(self, request, song_id: int):
        song = song_selectors.song_get(user=request.user, song_id=song_id)
        return Response(_serialize(selectors.songs_listed(user=request.user, ids=[song.pk]).get(), many=False))

    def patch(self, request, song_id: int):
        song = song_selectors.song_get(user=request.user, song_id=song_id)
        data = SongUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        require_role(user=request.user, project=song.project,
                     role=Role.REVIEWER if "split" in fields else Role.ANNOTATOR)
        song_services.song_update(song=song, actor=request.user, **fields)
        return Response(_serialize(selectors.songs_listed(user=request.user, ids=[song.pk]).get(), many=False))

    def delete(self, request, song_id: int):
        song = song_selectors.song_get(user=request.user, song_id=song_id)
        require_role(user=request.user, project=song.project, role=Role.REVIEWER)
        song_services.song_delete(song=song, actor=request.user)
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
        songs = list(song_selectors.songs_visible(user=request.user).filter(pk__in=ids).select_related("project"))
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
            n = song_services.songs_set_split(songs=songs, split=data.validated_data.get("split", ""), actor=request.user)
            return Response({"updated": n})
        if action == "delete":
            require_role(user=request.user, project=project, role=Role.REVIEWER)
            for song in songs:
                song_services.song_delete(song=song, actor=request.user)
            return Response({"deleted": len(songs)})
        require_role(user=request.user, project=project, role=Role.ANNOTATOR)
        job = launch.songs_detect(project=project, songs=songs, actor=request.user,
                                    model_id=data.validated_data.get("model_id"))
        return Response({"job": {"id": job.pk, "kind": job.kind, "state": job.state, "params": job.params}},
                        status=status.HTTP_202_ACCEPTED)


# -- assignments and work queues, in priority order (jobs.priority) ---------------------------------


@project_required(roles={"POST": Role.REVIEWER})
@page_query(AssignmentsQuerySerializer)
def assignments_page(request, project_id: int):
    project = request.project
    can_assign = role_at_least(request.role, Role.REVIEWER)
    members = account_selectors.members_list(project=project)
    if request.method == "POST":
        song_ids = [i for i in map(id_value, request.POST.getlist("songs")) if i is not None]
        assignee_id = request.POST.get("user", "")
        try:
            assignee = None
            if assignee_id:
                assignee = account_selectors.membership_get(project=project, user_id=assignee_id).user
            n = song_services.songs_assign(project=project, actor=request.user, song_ids=song_ids, assignee=assignee)
            messages.success(request, f"Assigned {n} song{'s' if n != 1 else ''} to "
                                      f"{assignee.get_username() if assignee else 'nobody'}.")
        except ApiError as exc:
            messages.error(request, str(exc.detail))
        except Exception as exc:  # Http404 from membership_get: a readable message on the page
            if not isinstance(exc, Http404):
                raise
            messages.error(request, "That user is not a member of this project.")
        assignee = request.query["assignee"]
        return redirect(reverse("project-assignments", kwargs={"project_id": project.pk})
                        + (f"?{urlencode({'assignee': assignee})}" if assignee else ""))
    assignee, order = request.query["assignee"], request.query["order"]
    songs = song_selectors.assignable_songs(project=project, assignee=assignee)
    if order == "priority":  # correct first what teaches the model most (jobs.priority)
        entries = song_queue(project=project, songs=songs)
    else:
        scores = songs_priority(project=project)
        entries = [{"song": s, "priority": scores.get(s.pk)} for s in songs]
    page = Paginator(entries, 100).get_page(request.query["page"])
    return render(request, "accounts/assignments.html", {
        "project": project, "page": page, "members": members, "can_assign": can_assign, "assignee": assignee,
        "order": order,
    })


@login_required
def my_queue_page(request):
    queue = queue_for_user(user=request.user)
    return render(request, "accounts/my_queue.html", {
        "to_annotate": songs_in_priority_order(songs=queue["to_annotate"][:500]),
        "to_review": queue["to_review"][:500]})


class MyQueue(APIView):
    """GET: songs assigned to you that wait for annotation, and songs waiting for your review."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=QueueSerializer)
    def get(self, request):
        queue = queue_for_user(user=request.user)
        ordered = songs_in_priority_order(songs=queue["to_annotate"][:500])
        to_annotate = []
        for entry in ordered:
            entry["song"].priority = entry["priority"]
            to_annotate.append(entry["song"])
        return Response(QueueSerializer({"to_annotate": to_annotate, "to_review": queue["to_review"][:500]}).data)
