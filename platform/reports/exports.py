"""A report as CSV (one row per song + the pooled row; cells safe in a spreadsheet) and as a JSON document."""

from __future__ import annotations

import io

from common.csv_safe import csv_writer
from django.urls import reverse

from reports.models import EvaluationReport

CSV_COLUMNS = (
    "song_id", "title", "revision_id", "frames", "vocal_frames", "nonvocal_frames", "tp", "fp", "tn", "fn",
    "accuracy", "precision", "recall", "f1", "specificity", "fpr", "fnr", "roc_auc", "pr_auc",
    "segment_f1", "boundary_precision", "boundary_recall", "boundary_f",
)


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") or "0"  # 0.75 -> "0.75", 1.0 -> "1"
    return str(value)


def report_csv(*, report: EvaluationReport) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.per_song:
        writer.writerow([_fmt(row.get("song")), row.get("title", ""), _fmt(row.get("revision")),
                         *(_fmt(row.get(c)) for c in CSV_COLUMNS[3:])])
    pooled = report.pooled
    writer.writerow(["", "pooled", "", *(_fmt(pooled.get(c)) for c in CSV_COLUMNS[3:])])
    return out.getvalue()


def report_document(*, report: EvaluationReport, full: bool = True) -> dict:
    """The API's representation; `full=False` leaves out per-song rows, curves and effort (lists)."""
    mv = report.model_version
    doc = {
        "id": report.pk,
        "project": report.project_id,
        "name": report.name,
        "model": {"id": mv.pk, "name": mv.name, "kind": mv.kind, "transfer_mode": mv.transfer_mode,
                  "trainable_parameters": mv.trainable_parameters},
        "job": report.job_id,
        "created_at": report.created_at.isoformat(),
        "created_by": report.created_by.get_username() if report.created_by else None,
        "reference": report.reference,
        "threshold": report.threshold,
        "postprocess": report.postprocess,
        "pooled": report.pooled,
        "url": reverse("report-detail", kwargs={"project_id": report.project_id, "report_id": report.pk}),
        "csv": reverse("api-report-csv", kwargs={"report_id": report.pk}),
    }
    if full:
        doc |= {"songs": report.songs, "skipped": report.skipped, "per_song": report.per_song,
                "curves": report.curves, "effort": report.effort}
    return doc
