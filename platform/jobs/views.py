"""Jobs and model registry: the HTTP API (DRF) and the pages. Views stay thin: permission helper,
validate, call a service, respond."""

from __future__ import annotations

import base64
import io
import json
from pathlib import PurePosixPath

import numpy as np
from accounts.models import Role
from accounts.permissions import project_access, project_required, require_role, role_at_least
from accounts.services import project_training_policy_set
from annotations.selectors import song_for_user
from common.errors import ApiError
from common.pagination import Pagination
from common.schema import paginated
from common.validation import ProjectFilterSerializer, query_validated, validated
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView
from songs.selectors import song_get, songs_ready

from jobs import launch, selectors
from jobs.models import JobKind
from jobs.priority import COMPONENTS, song_queue
from jobs.registry import model_activate
from jobs.serializers import (
    ActivateRequestSerializer,
    JobCreateRequestSerializer,
    JobDetailSerializer,
    JobListQuerySerializer,
    JobSerializer,
    ModelActivatedSerializer,
    ModelChangesQuerySerializer,
    ModelVersionSerializer,
    PredictionQuerySerializer,
)

# -- API ------------------------------------------------------------------------------------------


@extend_schema(methods=["GET"], operation_id="jobs_list", parameters=[JobListQuerySerializer], responses={200: paginated(JobSerializer)})
@extend_schema(methods=["POST"], request=JobCreateRequestSerializer, responses={202: JobDetailSerializer})
@api_view(["GET", "POST"])
def api_jobs(request):
    """GET: jobs of the user's projects (`?project=`, `?kind=`, `?state=`). POST: start a job (202)."""
    if request.method == "POST":
        data = validated(JobCreateRequestSerializer(data=request.data)).sent()
        project = project_access(user=request.user, project_id=data["project"]).project
        job = launch.job_start(project=project, user=request.user, kind=data["kind"], data=data)
        return Response(JobDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    query = query_validated(JobListQuerySerializer, request)
    if "project" in query:
        project = project_access(user=request.user, project_id=query["project"]).project
        qs = selectors.jobs_for_project(project=project, kind=query.get("kind"), state=query.get("state"))
    else:
        qs = selectors.jobs_for_user(user=request.user, kind=query.get("kind"), state=query.get("state"))
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(JobSerializer(page, many=True).data)


@extend_schema(responses=JobDetailSerializer)
@api_view(["GET"])
def api_job(request, job_id: int):
    job = selectors.job_get(user=request.user, job_id=job_id)
    return Response(JobDetailSerializer(job).data)


@extend_schema(request=None, responses=JobDetailSerializer)
@api_view(["POST"])
def api_job_cancel(request, job_id: int):
    job = selectors.job_get(user=request.user, job_id=job_id)
    job = launch.job_cancel_by(job=job, user=request.user)
    return Response(JobDetailSerializer(job).data)


@extend_schema(request=None, responses={202: JobDetailSerializer})
@api_view(["POST"])
def api_job_retry(request, job_id: int):
    job = selectors.job_get(user=request.user, job_id=job_id)
    new = launch.job_retry_by(job=job, user=request.user)
    return Response(JobDetailSerializer(new).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: {"type": "object", "properties": {"results": {"type": "array", "items": {
    "type": "object"}}}}}, description="The song's model predictions, newest first, each with its role in the "
    "editor's probability lane: active, previous (the model used before the active one) or null.")
@api_view(["GET"])
def api_song_predictions(request, song_id: int):
    song = song_get(user=request.user, song_id=song_id)
    return Response({"results": selectors.song_prediction_layers(song=song)})


@extend_schema(operation_id="models_list", parameters=[ProjectFilterSerializer],
               responses=paginated(ModelVersionSerializer))
@api_view(["GET"])
def api_models(request):
    """Model versions of a project (`?project=`, with the shipped ones) or of all the user's projects."""
    query = query_validated(ProjectFilterSerializer, request)
    if "project" in query:
        project = project_access(user=request.user, project_id=query["project"]).project
        qs = selectors.models_for_project(project=project)
        context = {"project": project}
    else:
        qs = selectors.models_for_user(user=request.user)
        context = {}
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(ModelVersionSerializer(page, many=True, context=context).data)


@extend_schema(responses=ModelVersionSerializer)
@api_view(["GET"])
def api_model(request, model_id: int):
    mv = selectors.model_get(user=request.user, model_id=model_id)
    return Response(ModelVersionSerializer(mv).data)


@extend_schema(responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
def api_model_checkpoint(request, model_id: int):
    mv = selectors.model_get(user=request.user, model_id=model_id)
    return _checkpoint_response(mv)


@extend_schema(request=ActivateRequestSerializer, responses=ModelActivatedSerializer)
@api_view(["POST"])
def api_model_activate(request, model_id: int):
    """Make this model the one new detections use, and queue one detect job over the project's songs
    (`redetect_job`): songs only a model annotated get its proposal, songs with a person's work get its
    prediction beside that work. Shipped models need `project` in the body."""
    mv = selectors.model_get(user=request.user, model_id=model_id)
    body = ActivateRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    if mv.project is None and "project" not in body.validated_data:
        raise ApiError("project is required to activate a shipped model.", code="project_required")
    project = mv.project or project_access(user=request.user, project_id=body.validated_data["project"]).project
    require_role(user=request.user, project=project, role=Role.ADMIN)
    project = model_activate(project=project, model_version=mv, actor=request.user)
    return Response(ModelActivatedSerializer(mv, context={"project": project, "redetect_job": project.redetect_job}).data)


@extend_schema(parameters=[ModelChangesQuerySerializer], responses={200: {"type": "object"}},
               description="After the model was activated: the songs whose vocal / non-vocal decision changed most "
               "from the model used before (fraction of frames, both models' stored predictions), with editor links "
               "showing both probability curves, and the re-detection job's state.")
@api_view(["GET"])
def api_model_changes(request, model_id: int):
    mv = selectors.model_get(user=request.user, model_id=model_id)
    query = query_validated(ModelChangesQuerySerializer, request)
    if mv.project is None and "project" not in query:
        raise ApiError("project is required for a shipped model.", code="project_required")
    project = mv.project or project_access(user=request.user, project_id=query["project"]).project
    return Response(selectors.model_changes(project=project, model_version=mv))


@extend_schema(operation_id="projects_queue", responses={200: {"type": "object", "properties": {"results": {
    "type": "array", "items": {"type": "object"}}}}},
    description="The project's ready songs that still need correcting, in the order to correct them: highest "
    "priority first (detector.priority: uncertainty of the active model + disagreement with the previous model + "
    "novelty against the verified songs), each with its three parts; songs without a prediction come last.")
@api_view(["GET"])
def api_project_queue(request, project_id: int):
    project = project_access(user=request.user, project_id=project_id).project
    rows = []
    for rank, entry in enumerate(song_queue(project=project), start=1):
        song, p = entry["song"], entry["priority"]
        rows.append({"rank": rank, "id": song.pk, "title": song.title,
                     "state": song.current_revision.state if song.current_revision_id else None,
                     "assigned_to": song.assigned_to.get_username() if song.assigned_to_id else None,
                     **{k: (p[k] if p else None) for k in COMPONENTS},
                     "model": p["model"] if p else None, "url": reverse("song-editor", kwargs={"project_id": project.pk, "song_id": song.pk})})
    return Response({"results": rows})


def _checkpoint_response(mv):
    if not mv.checkpoint:
        raise Http404("This model has no checkpoint file.")
    try:
        fh = mv.checkpoint.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The checkpoint file of this model is missing from storage.") from None
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in mv.name)[:80] or f"model-{mv.pk}"
    suffix = PurePosixPath(mv.checkpoint.name).suffix or ".pt"
    return FileResponse(fh, as_attachment=True, filename=f"{stem}{suffix}", content_type="application/octet-stream")


# -- pages ----------------------------------------------------------------------------------------


@project_required()
def jobs_page(request, project_id: int):
    project = request.project
    jobs = [selectors.job_as_seen(job) for job in selectors.jobs_for_project(project=project)[:100]]
    return render(request, "jobs/jobs.html", {
        "project": project,
        "jobs": jobs,
        "jobs_json": JobSerializer(jobs, many=True).data,
        "models": list(selectors.models_for_project(project=project)),
        "songs": list(songs_ready(project=project)[:500]),
        "can_detect": True,
        "can_train": role_at_least(request.role, Role.REVIEWER),
    })


@project_required()
def job_page(request, project_id: int, job_id: int):
    project = request.project
    job = selectors.job_as_seen(selectors.job_get(user=request.user, job_id=job_id))
    if job.project_id != project.pk:
        raise Http404("Not found, or you do not have access to it.")
    data = JobDetailSerializer(job).data
    return render(request, "jobs/job.html", {"project": project, "job": job, "job_json": data,
                                             "parameters": selectors.job_parameters(job=job)})


@project_required(Role.REVIEWER)
def train_form_page(request, project_id: int):
    """GET: the training form. POST: queue the job and go to its page."""
    from detector.config import ALL_TRANSFER_MODES
    from jobs.training import DEFAULTS

    project = request.project
    values = {**DEFAULTS, **{k: v for k, v in (project.default_training or {}).items() if k in DEFAULTS},
              "base_model_id": ""}
    error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("mode", "epochs", "lr", "anchor", "seed", "steps_per_epoch",
                                                        "batch_size", "crop_seconds", "base_model_id", "name")}
        try:
            job = launch.job_start(project=project, user=request.user, kind=JobKind.TRAIN, data=values)
        except ApiError as exc:
            error = str(exc.detail)
        else:
            messages.success(request, f"Training job {job.pk} queued.", extra_tags=f"job-{job.pk}")
            return redirect("job", project_id=project.pk, job_id=job.pk)
    songs = selectors.training_songs(project=project)
    return render(request, "jobs/train_form.html", {
        "project": project, "values": values, "error": error, "modes": ALL_TRANSFER_MODES,
        "models": list(selectors.models_for_project(project=project)),
        "train_songs": songs["train"], "validation_songs": songs["development"], "test_songs": songs["test"],
    }, status=400 if error else 200)


@project_required(methods=["POST"])
def detect_form_post(request, project_id: int):
    project = request.project
    songs = "all" if request.POST.get("scope") == "all" else request.POST.getlist("song_ids")
    try:
        job = launch.job_start(project=project, user=request.user, kind=JobKind.DETECT,
                               data={"song_ids": songs, "model_id": request.POST.get("model_id") or None})
    except ApiError as exc:
        messages.error(request, str(exc.detail))
        return redirect("jobs", project_id=project.pk)
    messages.success(request, f"Detection job {job.pk} queued for {len(job.params['song_ids'])} song(s).",
                     extra_tags=f"job-{job.pk}")
    return redirect("job", project_id=project.pk, job_id=job.pk)


@project_required(methods=["POST"])
def job_action_post(request, project_id: int, job_id: int, action: str):
    """No-JavaScript fallback of the cancel / retry buttons."""
    project = request.project
    job = selectors.job_get(user=request.user, job_id=job_id)
    if job.project_id != project.pk:
        raise Http404("Not found, or you do not have access to it.")
    try:
        if action == "cancel":
            job = launch.job_cancel_by(job=job, user=request.user)
        else:
            job = launch.job_retry_by(job=job, user=request.user)
    except ApiError as exc:
        messages.error(request, str(exc.detail))
    return redirect("job", project_id=project.pk, job_id=job.pk)


@project_required()
def models_page(request, project_id: int):
    project = request.project
    models = list(selectors.models_for_project(project=project))
    from jobs.retrain import verified_since_last_model

    running = selectors.training_job_active(project=project)
    return render(request, "jobs/models.html", {
        "project": project, "models": models,
        "models_json": json.loads(json.dumps(ModelVersionSerializer(models, many=True, context={"project": project}).data,
                                             default=str)),
        "is_admin": role_at_least(request.role, Role.ADMIN),
        "can_train": role_at_least(request.role, Role.REVIEWER),
        "new_verified": verified_since_last_model(project=project),
        "training_job": running,
    })


@project_required(Role.ADMIN, methods=["POST"])
def model_activate_post(request, project_id: int, model_id: int):
    project = request.project
    if str(model_id) == "0":
        mv = None
    else:
        mv = selectors.model_for_project(project=project, model_id=model_id)
        if mv is None:
            raise Http404("Not found, or you do not have access to it.")
    locked = model_activate(project=project, model_version=mv, actor=request.user)
    job = locked.redetect_job
    messages.success(request, f"{mv.name if mv else 'The shipped default model'} is now the active model."
                     + (f" Detection job {job.pk} brings the project's songs up to date with it." if job else ""),
                     extra_tags=f"job-{job.pk}" if job else "")
    return redirect("models", project_id=project.pk)


@project_required(Role.ADMIN, methods=["POST"])
def training_policy_post(request, project_id: int):
    from jobs.retrain import retrain_maybe_trigger

    project = request.project
    try:
        every = int(request.POST.get("retrain_after_verified") or 0)
        raw_margin = (request.POST.get("auto_activate_margin") or "").strip()
        margin = None if raw_margin == "" else float(raw_margin)
        if every < 0 or (margin is not None and not -1 <= margin <= 1):
            raise ValueError
    except ValueError:
        messages.error(request, "Retrain after N songs needs a whole number >= 0, and the margin an F1 difference "
                                "between -1 and 1 (or empty for never).")
        return redirect("models", project_id=project.pk)
    project_training_policy_set(project=project, actor=request.user, retrain_after_verified=every,
                                auto_activate_margin=margin)
    job = retrain_maybe_trigger(project=project)
    messages.success(request, "Training policy saved." + (f" Retraining queued (job {job.pk})." if job else ""))
    return redirect("models", project_id=project.pk)


@project_required()
def model_checkpoint_page(request, project_id: int, model_id: int):
    project = request.project
    mv = selectors.model_for_project(project=project, model_id=model_id)
    if mv is None:
        raise Http404("Not found, or you do not have access to it.")
    return _checkpoint_response(mv)


class PredictionView(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("model", int, description="model version id (default: the latest prediction)"),
                    OpenApiParameter("encoding", str, enum=["base64", "list"],
                                     description="base64 (default): little-endian float16 bytes; list: floats")],
        description="Frame probabilities of the vocal class: frame i covers [i*hop, (i+1)*hop) s. `probabilities` "
        "is base64 of little-endian IEEE float16 (encoding=base64, default) or a list of floats (encoding=list). "
        "`unsure_regions`: the spans where the model is unsure, most uncertain first (the editor's order).",
    )
    def get(self, request, song_id: int):
        song = song_for_user(user=request.user, song_id=song_id)
        query = query_validated(PredictionQuerySerializer, request)
        prediction = selectors.prediction_get(song=song, model_id=query["model"])
        encoding = query["encoding"]
        with prediction.probabilities.open("rb") as fh:
            probs = np.load(io.BytesIO(fh.read()), allow_pickle=False).astype("<f2").reshape(-1)
        post = prediction.postprocess or {}
        model = prediction.model_version
        threshold = float(post.get("threshold", 0.5))
        return Response({
            "song": song.pk, "model": {"id": model.pk, "name": model.name, "kind": model.kind},
            "hop": prediction.hop, "n_frames": int(probs.size), "threshold": threshold,
            "postprocess": post, "segments": prediction.segments, "created_at": prediction.created_at,
            "unsure_regions": selectors.prediction_unsure_regions(probabilities=probs, hop=prediction.hop,
                                                                  threshold=threshold),
            "encoding": encoding,
            "probabilities": (base64.b64encode(probs.tobytes()).decode("ascii") if encoding == "base64"
                              else [round(float(p), 4) for p in probs.astype(np.float32)]),
        })
