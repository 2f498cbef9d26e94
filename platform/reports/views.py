"""Report pages (list + evaluate form, one report, comparison, SVG plots) and the reports API."""

from __future__ import annotations

from accounts.models import Role
from accounts.permissions import project_required, role_at_least
from common.pagination import Pagination
from common.validation import ProjectFilterSerializer, page_query, query_validated
from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from jobs.selectors import model_learning_points
from jobs.services import job_create
from rest_framework.response import Response
from rest_framework.views import APIView
from songs.selectors import songs_in_test_split_exist, songs_ready

from reports import plots, selectors
from reports.exports import report_csv, report_document
from reports.serializers import ReportCompareQuerySerializer

# --- pages ---------------------------------------------------------------------------------------

class EvaluateForm(forms.Form):
    model = forms.ModelChoiceField(queryset=None, empty_label=None, label="Model")
    songs = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Songs",
        help_text="Leave empty to use the project's test split.",
    )
    reference = forms.ChoiceField(
        choices=[("verified", "Verified revisions (ground truth)"), ("current", "Current revisions, verified or not")],
        initial="verified", label="Reference", widget=forms.RadioSelect,
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["model"].queryset = selectors.models_for_project(project=project)
        self.fields["songs"].queryset = songs_ready(project=project)
        self.fields["songs"].label_from_instance = lambda song: f"{song.title} ({song.get_split_display().lower()})"

    def clean(self):
        data = super().clean()
        if not data.get("songs") and not songs_in_test_split_exist(project=self.project):
            raise forms.ValidationError(
                "This project has no songs in the test split yet: pick the songs to evaluate, or assign songs to the test split."
            )
        return data


@project_required(roles={"POST": Role.REVIEWER}, methods=["GET", "POST"])
def report_list(request, project_id: int):
    project = request.project
    can_evaluate = role_at_least(request.role, Role.REVIEWER)
    form = EvaluateForm(project=project)
    status = 200
    if request.method == "POST":
        form = EvaluateForm(request.POST, project=project)
        if form.is_valid():
            params = {"model": form.cleaned_data["model"].pk, "reference": form.cleaned_data["reference"]}
            if form.cleaned_data["songs"]:
                params["song_ids"] = [s.pk for s in form.cleaned_data["songs"]]
            job = job_create(project=project, kind="evaluate", params=params, created_by=request.user)
            messages.success(request, f"Evaluation job {job.pk} queued; its report appears here when it finishes.")
            return redirect("report-list", project_id=project.pk)
        status = 400
    return render(request, "reports/list.html", {
        "project": project, "reports": selectors.reports_for_project(project=project),
        "jobs": selectors.evaluate_jobs_recent(project=project), "form": form, "can_evaluate": can_evaluate,
    }, status=status)


@project_required(methods=["GET"])
def report_detail(request, project_id: int, report_id: int):
    project = request.project
    report = selectors.report_get(user=request.user, report_id=report_id, project=project)
    others = selectors.reports_for_project(project=project).exclude(pk=report.pk)[:20]

    return render(request, "reports/detail.html", {
        "project": project, "report": report, "pooled": report.pooled, "others": others,
        "learning": model_learning_points(project=project),
        "effort": selectors.report_effort_table(report=report),
        "plots": [(name, reverse("report-plot", kwargs={"project_id": project.pk, "report_id": report.pk, "name": name})) for name in plots.PLOTS],
    })


@project_required(methods=["GET"])
@page_query(ReportCompareQuerySerializer)
def report_compare(request, project_id: int):
    project = request.project
    ids = request.query["ids"]
    if len(ids) < 2:
        return render(request, "reports/compare.html", {
            "project": project, "choose": True, "reports": selectors.reports_for_project(project=project), "ids": ids,
        })
    reports = selectors.reports_get_many(user=request.user, project=project, ids=ids)
    query = ",".join(str(i) for i in ids)
    return render(request, "reports/compare.html", {
        "project": project, "ids": query, **selectors.report_compare(reports=reports),
        "plots": [(name, reverse("report-compare-plot", kwargs={"project_id": project.pk, "name": name}) + f"?ids={query}")
                  for name in ("roc", "pr", "threshold", "songs")],
    })


def _svg_response(key: str, render_fn) -> HttpResponse:
    svg = cache.get(key)
    if svg is None:
        svg = render_fn()
        cache.set(key, svg, 3600)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@project_required(methods=["GET"])
def report_plot(request, project_id: int, report_id: int, name: str):
    project = request.project
    report = selectors.report_get(user=request.user, report_id=report_id, project=project)
    if name not in plots.PLOTS:
        raise Http404("No such plot.")
    return _svg_response(f"report-plot:{report.pk}:{name}", lambda: plots.plot_render(name=name, reports=[report]))


@project_required(methods=["GET"])
@page_query(ReportCompareQuerySerializer)
def report_compare_plot(request, project_id: int, name: str):
    project = request.project
    ids = request.query["ids"]
    if not ids or name not in plots.PLOTS:
        raise Http404("No such plot.")
    reports = selectors.reports_get_many(user=request.user, project=project, ids=ids)
    key = f"report-plot:{','.join(map(str, ids))}:{name}"
    return _svg_response(key, lambda: plots.plot_render(name=name, reports=reports))


# --- API -----------------------------------------------------------------------------------------

class ReportListApi(APIView):
    """GET /api/reports/?project=<id>: reports of the projects you belong to (summaries, newest first)."""

    @extend_schema(operation_id="reports_list", responses={200: OpenApiTypes.OBJECT},
                   parameters=[ProjectFilterSerializer])
    def get(self, request):
        query = query_validated(ProjectFilterSerializer, request)
        qs = selectors.reports_for_user(user=request.user, project_id=query.get("project"))
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([report_document(report=r, full=False) for r in page])


class ReportDetailApi(APIView):
    """GET /api/reports/<id>/: the whole frozen report (pooled, per song, curves, effort, revisions used)."""

    @extend_schema(operation_id="reports_retrieve", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, report_id: int):
        report = selectors.report_get(user=request.user, report_id=report_id)
        return Response(report_document(report=report))


class ReportCsvApi(APIView):
    """GET /api/reports/<id>.csv: one row per song and a final pooled row."""

    @extend_schema(operation_id="reports_csv", responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, report_id: int):
        report = selectors.report_get(user=request.user, report_id=report_id)
        response = HttpResponse(report_csv(report=report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="report-{report.pk}.csv"'
        return response


class ReportJsonApi(APIView):
    """GET /api/reports/<id>.json: the same document as /api/reports/<id>/, as a download."""

    @extend_schema(operation_id="reports_json_download", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, report_id: int):
        report = selectors.report_get(user=request.user, report_id=report_id)
        response = JsonResponse(report_document(report=report), json_dumps_params={"indent": 1})
        response["Content-Disposition"] = f'attachment; filename="report-{report.pk}.json"'
        return response
