"""Reads for report pages and the API: access-checked lookups, comparisons, the paper's Table 1."""

from __future__ import annotations

from accounts.permissions import require_role
from accounts.selectors import project_get, projects_for_user
from common.validation import id_or_404
from django.db.models import Q, QuerySet
from jobs.models import JobKind, ModelVersion
from jobs.selectors import jobs_recent

from detector.config import ALL_TRANSFER_MODES
from reports.models import EvaluationReport

# The rows of the paper's Table 1 and the extra fine-tuning of the whole source model (finetune:full),
# from every mode the platform trains (detector.config.ALL_TRANSFER_MODES).
TABLE1_LAYERS = tuple(dict.fromkeys(m.partition(":")[2] for m in ALL_TRANSFER_MODES if ":" in m))
# (key, label, higher is better)
HEADLINE = (
    ("accuracy", "Accuracy", True), ("precision", "Precision", True), ("recall", "Recall", True), ("f1", "F1", True),
    ("fpr", "False-positive rate", False), ("fnr", "False-negative rate", False), ("specificity", "Specificity", True),
    ("roc_auc", "ROC-AUC", True), ("pr_auc", "PR-AUC (AP)", True), ("segment_f1", "Segment F1 (1 s)", True),
    ("boundary_f", "Boundary F (±0.5 s)", True),
)


def reports_for_project(*, project) -> QuerySet[EvaluationReport]:
    return EvaluationReport.objects.filter(project=project).select_related("model_version", "created_by")


def reports_for_user(*, user, project_id=None) -> QuerySet[EvaluationReport]:
    qs = EvaluationReport.objects.filter(project__in=projects_for_user(user=user)).select_related("model_version", "project")
    if project_id not in (None, ""):
        qs = qs.filter(project=project_get(user=user, project_id=project_id))
    return qs


def report_get(*, user, report_id, project=None) -> EvaluationReport:
    """The report if the user is a member of its project (and it belongs to `project` when given);
    Http404 otherwise, the same answer as for a report that does not exist."""
    from django.http import Http404

    try:
        report = EvaluationReport.objects.select_related("model_version", "project", "created_by", "job").get(pk=id_or_404(report_id))
    except EvaluationReport.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None
    if project is not None and report.project_id != project.pk:
        raise Http404("Not found, or you do not have access to it.")
    require_role(user=user, project=report.project)
    return report


def reports_get_many(*, user, project, ids: list[int]) -> list[EvaluationReport]:
    """Reports of one project in the order asked; any id that is not one of them is a 404."""
    from django.http import Http404

    found = {r.pk: r for r in reports_for_project(project=project).filter(pk__in=ids)}
    if any(i not in found for i in ids):
        raise Http404("Not found, or you do not have access to it.")
    return [found[i] for i in ids]


def models_for_project(*, project):
    """Model versions a project can evaluate: its own and the ones shipped with Singscope."""
    return ModelVersion.objects.filter(Q(project=project) | Q(project__isnull=True)).order_by("-created_at", "-id")


def evaluate_jobs_recent(*, project, limit: int = 10):
    return jobs_recent(project=project, kind=JobKind.EVALUATE, limit=limit)


def report_compare(*, reports: list[EvaluationReport]) -> dict:
    """Side-by-side view of reports: headline rows with differences to the first report, the songs
    all reports share (Table 2 layout) with F1 differences, and whether the references agree."""
    base = reports[0]
    headline = []
    for key, label, higher in HEADLINE:
        values = [r.pooled.get(key) for r in reports]
        deltas = [None if v is None or values[0] is None else v - values[0] for v in values]
        # "gains" are signed so that positive always means better
        cells = [{"value": v, "delta": d, "gain": None if d is None else (d if higher else -d)} for v, d in zip(values, deltas, strict=True)]
        headline.append({"key": key, "label": label, "cells": cells})
    by_song = [{row["song"]: row for row in r.per_song} for r in reports]
    shared = [sid for sid in (row["song"] for row in base.per_song) if all(sid in m for m in by_song)]
    songs = []
    for sid in shared:
        rows = [m[sid] for m in by_song]
        f1s = [row["f1"] for row in rows]
        songs.append({
            "song": sid, "title": rows[0]["title"], "vocal_frames": rows[0]["vocal_frames"],
            "nonvocal_frames": rows[0]["nonvocal_frames"], "rows": rows,
            "delta_f1": [None if f is None or f1s[0] is None else f - f1s[0] for f in f1s],
            "same_reference": len({row["revision"] for row in rows}) == 1,
        })
    unshared = sorted({row["title"] for r in reports for row in r.per_song if row["song"] not in shared})
    wins = [sum(1 for s in songs if s["delta_f1"][k] is not None and s["delta_f1"][k] > 0) for k in range(len(reports))]
    return {
        "reports": reports, "headline": headline, "songs": songs, "unshared": unshared, "wins": wins,
        "references_differ": any(not s["same_reference"] for s in songs),
        "table1": table1(reports=reports),
    }


def table1(*, reports: list[EvaluationReport]) -> dict:
    """The paper's Table 1: rows L1, L2, L3, L_all; for Fixed and Fine-tune: P, R, F, trainable
    parameters. Filled from the reports' model transfer modes (first report per mode wins);
    the baseline and models without a transfer mode are listed separately."""
    cells: dict[tuple[str, str], dict] = {}
    others = []
    for r in reports:
        mode = (r.model_version.transfer_mode or "").strip()
        kind, _, layer = mode.partition(":")
        layer = {"l1": "L1", "l2": "L2", "l3": "L3", "all": "all", "l_all": "all", "full": "full"}.get(layer.lower(), layer)
        cell = _cell(r)
        if kind in ("fixed", "finetune") and layer in TABLE1_LAYERS:
            cells.setdefault((kind, layer), cell)
        else:
            others.append({"mode": mode or r.model_version.get_kind_display(), **cell})
    rows = [{"layer": {"all": "L_all", "full": "whole source model"}.get(layer, layer),
             "fixed": cells.get(("fixed", layer)), "finetune": cells.get(("finetune", layer)),
             "fixed_exists": f"fixed:{layer}" in ALL_TRANSFER_MODES,
             "finetune_exists": f"finetune:{layer}" in ALL_TRANSFER_MODES} for layer in TABLE1_LAYERS]
    for other in others:
        other["known"] = other["mode"] in ALL_TRANSFER_MODES
    return {"rows": rows, "others": others, "filled": bool(cells)}


def _cell(report: EvaluationReport) -> dict:
    p = report.pooled
    return {"report": report, "precision": p.get("precision"), "recall": p.get("recall"), "f1": p.get("f1"),
            "trainable": report.model_version.trainable_parameters}


def report_effort_table(*, report: EvaluationReport) -> dict:
    """Correction effort rows plus one column per model version that predicted the songs, and the
    pooled fraction of frames each model's proposal got wrong (over the songs it predicted)."""
    models: dict[int, str] = {}
    for row in report.effort:
        for m in row.get("models", []):
            models.setdefault(m["model"], m["name"])
    columns = [{"model": mid, "name": name, "this": mid == report.model_version_id} for mid, name in models.items()]
    rows, changed, frames = [], dict.fromkeys(models, 0), dict.fromkeys(models, 0)
    for row in report.effort:
        by_model = {m["model"]: m for m in row.get("models", [])}
        for mid, m in by_model.items():
            changed[mid] += m["frames_changed"]
            frames[mid] += m["frames"]
        rows.append({**row, "cells": [by_model.get(c["model"]) for c in columns]})
    for c in columns:
        c["changed_fraction"] = changed[c["model"]] / frames[c["model"]] if frames[c["model"]] else None
    this = [r["this_model"] for r in report.effort]
    total = {
        "frames_changed": sum(e["frames_changed"] for e in this),
        "frames": sum(e["frames"] for e in this),
        "boundaries_moved": sum(e["boundaries_moved"] for e in this),
        "boundaries_added": sum(e["boundaries_added"] for e in this),
        "boundaries_removed": sum(e["boundaries_removed"] for e in this),
        "boundaries_kept": sum(e["boundaries_kept"] for e in this),
    }
    total["changed_fraction"] = total["frames_changed"] / total["frames"] if total["frames"] else None
    return {"columns": columns, "rows": rows, "total": total}
