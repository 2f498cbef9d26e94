"""Bulk import (zip upload page and API) and bulk export (zip download) of a project."""

from __future__ import annotations

from accounts.models import Role
from accounts.permissions import ProjectRolePermission, project_required, role_at_least
from common.errors import ApiError
from common.negotiation import FirstRenderer
from common.validation import validated
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from jobs.models import JobKind
from jobs.selectors import jobs_recent
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets import services
from datasets.uploads import LimitedUploadHandler

MULTIPART_SLACK = 64 * 1024


def _limit_bytes() -> int:
    return settings.MAX_IMPORT_MB * 1024 * 1024


def _too_large() -> ApiError:
    return ApiError(f"The archive is larger than the {settings.MAX_IMPORT_MB} MB import limit; split it into "
                    "several zips, or use `manage.py import_dataset` on the server.", code="too_large",
                    status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def _declared_too_large(request) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    return declared > _limit_bytes() + MULTIPART_SLACK


class ExportQuerySerializer(serializers.Serializer):
    """The query of the export download (page and API), as services.project_export takes it."""

    format = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="lab")
    revision = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="current")
    audio = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")

    def export_params(self) -> dict:
        data = validated(self).validated_data
        return {"fmt": data["format"], "include_audio": data["audio"] in ("1", "true", "on", "yes"),
                "which": data["revision"]}


# -- pages ------------------------------------------------------------------------------------------


@csrf_exempt  # only to install the streaming upload handler first; csrf_protect below checks the token
def import_page(request, project_id: int):
    if request.method == "POST":
        request.upload_handlers = [LimitedUploadHandler(request, max_bytes=_limit_bytes())]
    return _import_page(request, project_id)


@csrf_protect
@project_required(roles={"POST": Role.REVIEWER})
def _import_page(request, project_id: int):
    project = request.project
    can_import = role_at_least(request.role, Role.REVIEWER)
    status_code = 200
    if request.method == "POST":
        try:
            if _declared_too_large(request):
                raise _too_large()
            upload = request.FILES.get("archive")
            if upload is None:
                if any(getattr(h, "too_large", False) for h in request.upload_handlers):
                    raise _too_large()
                raise ApiError("Choose a .zip file to import.", code="missing_file")
            state = "verified" if request.POST.get("verified") else "draft"
            job = services.zip_import_prepare(project=project, upload=upload, actor=request.user, state=state)
        except ApiError as exc:
            messages.error(request, str(exc.detail))
            status_code = exc.status_code
        else:
            messages.success(request, f"Uploaded {upload.name}; import job {job.pk} is queued. Songs appear in the "
                                      "song list as they are imported.")
            return redirect("dataset-import", project_id=project.pk)
    jobs = jobs_recent(project=project, kind=JobKind.IMPORT)
    return render(request, "datasets/import.html", {
        "project": project, "can_import": can_import, "jobs": jobs, "max_import_mb": settings.MAX_IMPORT_MB,
        "formats": services.EXPORT_FORMATS,
    }, status=status_code)


@project_required()
def export_download(request, project_id: int):
    project = request.project
    try:
        out, filename = services.project_export(project=project, **ExportQuerySerializer(data=request.GET).export_params())
    except ApiError as exc:
        messages.error(request, str(exc.detail))
        return redirect("dataset-import", project_id=project.pk)
    return FileResponse(out, as_attachment=True, filename=filename, content_type="application/zip")


# -- API --------------------------------------------------------------------------------------------


class ImportUploadSerializer(serializers.Serializer):
    archive = serializers.FileField(help_text="a .zip of <song>/audio.* + labels folders")
    state = serializers.ChoiceField(choices=list(services.IMPORT_STATES), default="draft")


class ImportApi(APIView):
    """POST multipart ``archive`` (+ ``state``): a zip of song folders -> 202 with the queued import job."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]
    project_roles = {"POST": Role.REVIEWER}
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            request.upload_handlers = [LimitedUploadHandler(request, max_bytes=_limit_bytes())]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        if request.method == "POST" and _declared_too_large(request):
            raise _too_large()
        super().initial(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer},
                   responses={202: {"type": "object", "properties": {"job": {"type": "integer"}, "url": {"type": "string"}}}})
    def post(self, request, project_id: int):
        upload = request.FILES.get("archive")
        if upload is None:
            if any(getattr(h, "too_large", False) for h in request._request.upload_handlers):
                raise _too_large()
            raise ApiError("No file in the 'archive' field of the multipart form.", code="missing_file")
        state = request.data.get("state") or "draft"
        job = services.zip_import_prepare(project=request.project, upload=upload, actor=request.user, state=state)
        return Response({"job": job.pk, "url": reverse("api-job", kwargs={"job_id": job.pk})}, status=status.HTTP_202_ACCEPTED)


class ExportApi(APIView):
    """GET: a zip of the project's annotations (?format=lab|csv|json|audacity|jams|textgrid|rttm,
    ?revision=current|verified, ?audio=1 to include the original audio), splits.json and manifest.json."""

    permission_classes = [IsAuthenticated, ProjectRolePermission]
    content_negotiation_class = FirstRenderer

    @extend_schema(parameters=[
        OpenApiParameter("format", str, enum=list(services.EXPORT_FORMATS), default="lab"),
        OpenApiParameter("revision", str, enum=["current", "verified"], default="current"),
        OpenApiParameter("audio", bool, default=False),
    ], responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, project_id: int):
        out, filename = services.project_export(project=request.project,
                                                **ExportQuerySerializer(data=request.query_params).export_params())
        return FileResponse(out, as_attachment=True, filename=filename, content_type="application/zip")
