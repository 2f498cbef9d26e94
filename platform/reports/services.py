"""Evaluation reports: a model version x a set of songs x the reference revisions of that moment.

A report is computed once and frozen: it records the revision used for every song and stores
every number it shows (metrics, curves, correction effort), so later edits, re-detections or
retraining never change it. Predictions are reused when the model already ran on a song,
otherwise `jobs.detection.song_detect` runs it.
"""

from __future__ import annotations

import io
import logging

import numpy as np
from accounts.services import activity_record
from annotations.models import AnnotationRevision
from annotations.selectors import revision_latest_verified
from annotations.services import revision_segments
from common.errors import ApiError
from django.db import transaction
from django.urls import reverse
from jobs.detection import song_detect
from jobs.models import ModelVersion, Prediction
from songs.models import Song, SongStatus, Split

from detector.errors import DetectorError
from detector.labels import Segment, segments_to_frames, time_to_frame
from detector.postprocess import PostprocessConfig, binarize, smooth
from reports import metrics
from reports.models import EvaluationReport

log = logging.getLogger(__name__)

REFERENCES = ("verified", "current")


def report_create(
    *, project, model_version, songs=None, created_by, job=None, reference: str = "verified", name: str = "", ctx=None,
) -> EvaluationReport:
    """Evaluate `model_version` on `songs` (default: the project's test split) and store the report.

    reference: "verified" uses each song's latest verified revision (songs without one are skipped
    and listed); "current" uses each song's current revision whatever its state. Raises ApiError
    (400) when no song can be evaluated. Nothing is written unless the whole report is computed.
    """
    if reference not in REFERENCES:
        raise ApiError(f"reference must be 'verified' or 'current', not {reference!r}.", code="invalid_reference")
    if model_version.project_id not in (None, project.pk):
        raise ApiError("That model belongs to another project.", code="model_not_in_project", status_code=404)
    if songs is None:
        songs = Song.objects.filter(project=project, split=Split.TEST)
        if not songs.exists():
            raise ApiError(
                "This project has no songs in the test split; assign some songs to the test split or pick songs to evaluate.",
                code="no_test_songs",
            )
    songs = sorted(songs, key=lambda s: (s.title.lower(), s.pk))
    for song in songs:
        if song.project_id != project.pk:
            raise ApiError(f"Song {song.pk} is not in this project.", code="song_not_in_project", status_code=404)

    entries, skipped = [], []
    postprocess: PostprocessConfig | None = None
    all_ref, all_est, all_score = [], [], []
    sums = dict.fromkeys(("seg_tp", "seg_fp", "seg_tn", "seg_fn", "bnd_hits", "bnd_ref", "bnd_est"), 0)
    per_song, effort = [], []

    for k, song in enumerate(songs):
        if ctx is not None:
            ctx.check_cancelled()
            ctx.progress(k / max(len(songs), 1), f"Evaluating {song.title} ({k + 1}/{len(songs)})")
        revision = _reference_revision(song=song, reference=reference)
        if song.status != SongStatus.READY:
            skipped.append(_skip(song, f"the song is {song.status}, not ready"))
            continue
        if revision is None:
            why = "it has no verified revision" if reference == "verified" else "it has no annotation"
            skipped.append(_skip(song, why))
            continue
        try:
            prediction = _prediction_for(song=song, model_version=model_version, ctx=ctx)
        except DetectorError as exc:  # unreadable audio, broken checkpoint: say so, evaluate the rest
            skipped.append(_skip(song, f"the model could not run on it: {exc}"))
            continue
        if postprocess is None:
            postprocess = _postprocess_of(prediction)
        probabilities = _probabilities(prediction)
        n = min(probabilities.size, int(time_to_frame(song.duration or probabilities.size / metrics.FRAME_RATE)))
        probabilities = probabilities[:n]
        ref = segments_to_frames(revision_segments(revision), n_frames=n)
        est = binarize(probabilities, config=postprocess)
        score = smooth(probabilities, config=postprocess)

        counts = metrics.confusion(reference=ref, estimate=est)
        extra = metrics.grid_counts(reference=ref, estimate=est) | metrics.boundary_counts(reference=ref, estimate=est)
        for key in sums:
            sums[key] += extra[key]
        rank = metrics.ranking(reference=ref, score=score)
        per_song.append({
            "song": song.pk, "title": song.title, "revision": revision.pk, "revision_number": revision.number,
            **metrics.scores(counts), **extra, **metrics.derived(extra),
            "roc_auc": rank["roc_auc"], "pr_auc": rank["pr_auc"],
        })
        entries.append({
            "song": song.pk, "title": song.title, "revision": revision.pk, "revision_number": revision.number,
            "revision_state": revision.state, "prediction": prediction.pk, "frames": n,
        })
        effort.append(_effort_row(song=song, revision=revision, ref=ref, est=est, model_version=model_version))
        all_ref.append(ref)
        all_est.append(est)
        all_score.append(score)

    if not per_song:
        reasons = "; ".join(f"{s['title']}: {s['reason']}" for s in skipped[:5])
        raise ApiError(
            f"None of the {len(songs)} songs could be evaluated ({reasons}). "
            + ("Verify their annotations first, or evaluate against current revisions." if reference == "verified" else ""),
            code="nothing_to_evaluate",
        )

    ref_all, est_all, score_all = np.concatenate(all_ref), np.concatenate(all_est), np.concatenate(all_score)
    rank = metrics.ranking(reference=ref_all, score=score_all)
    pooled = {
        **metrics.scores(metrics.confusion(reference=ref_all, estimate=est_all)), **sums, **metrics.derived(sums),
        "roc_auc": rank["roc_auc"], "pr_auc": rank["pr_auc"], "songs": len(per_song),
    }
    curves = {"roc": rank["roc"], "pr": rank["pr"], "sweep": metrics.threshold_sweep(reference=ref_all, score=score_all)}
    with transaction.atomic():
        report = EvaluationReport.objects.create(
            project=project, model_version=model_version, job=job,
            name=name or f"{model_version.name} on {len(per_song)} song{'s' if len(per_song) != 1 else ''}",
            songs=entries, threshold=postprocess.threshold, postprocess=postprocess.to_dict(), pooled=pooled,
            per_song=per_song, curves=curves, effort=effort, reference=reference, skipped=skipped,
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        activity_record(
            project=project, actor=report.created_by, verb="report.created",
            summary=f"Evaluation report {report.name}: F1 {_pct(pooled['f1'])}", data={"report": report.pk},
        )
    return report


def report_for_trained_model(*, project, model_version, created_by, job) -> int:
    """The ``model_registered`` hook (common.hooks): a training job's new model on the test split."""
    return report_create(project=project, model_version=model_version, songs=None, created_by=created_by,
                         job=job).pk


def evaluate_handler(*, job, ctx) -> dict:
    """`evaluate` job: params {"model": id, "song_ids": [ids]?, "reference": "verified"|"current"?}."""
    params = job.params or {}
    model_id = params.get("model", params.get("model_version"))
    try:
        model_version = ModelVersion.objects.get(pk=int(model_id))
    except (ModelVersion.DoesNotExist, TypeError, ValueError):
        raise ApiError(f"Model {model_id!r} does not exist.", code="model_not_found", status_code=404) from None
    song_ids = params.get("song_ids")
    songs = None
    if song_ids:
        songs = list(Song.objects.filter(project=job.project, pk__in=[int(i) for i in song_ids]))
        missing = sorted(set(int(i) for i in song_ids) - {s.pk for s in songs})
        if missing:
            raise ApiError(f"Songs {missing} are not in this project.", code="song_not_in_project", status_code=404)
    reference = params.get("reference") or ("current" if params.get("use_current") else "verified")
    ctx.log(f"evaluating model {model_version.pk} ({model_version.name}) against {reference} revisions")
    report = report_create(
        project=job.project, model_version=model_version, songs=songs, created_by=job.created_by, job=job,
        reference=reference, ctx=ctx,
    )
    p = report.pooled
    ctx.log(f"report {report.pk}: {p['songs']} songs, F1 {_pct(p['f1'])}, accuracy {_pct(p['accuracy'])}")
    if report.skipped:
        ctx.log(f"skipped {len(report.skipped)} songs: " + "; ".join(f"{s['title']} ({s['reason']})" for s in report.skipped))
    return {
        "report": report.pk, "url": reverse("report-detail", kwargs={"project_id": job.project_id, "report_id": report.pk}),
        "message": f"Report {report.pk}: F1 {_pct(p['f1'])} over {p['songs']} songs",
    }


def _reference_revision(*, song, reference: str) -> AnnotationRevision | None:
    if reference == "current":
        return song.current_revision
    return revision_latest_verified(song=song)


def _prediction_for(*, song, model_version, ctx):
    prediction = Prediction.objects.filter(song=song, model_version=model_version).first()
    if prediction is not None:
        return prediction
    return song_detect(song=song, model_version=model_version, ctx=None)


def _postprocess_of(prediction) -> PostprocessConfig:
    try:
        return PostprocessConfig.from_dict(prediction.postprocess or {})
    except (ValueError, TypeError):
        known = {k: v for k, v in (prediction.postprocess or {}).items() if k in PostprocessConfig.__dataclass_fields__}
        return PostprocessConfig.from_dict(known)


def _probabilities(prediction) -> np.ndarray:
    if abs(prediction.hop - 1.0 / metrics.FRAME_RATE) > 1e-9:
        raise ApiError(
            f"Prediction {prediction.pk} uses a hop of {prediction.hop} s; reports need the 10 ms frame grid.",
            code="bad_prediction",
        )
    with prediction.probabilities.open("rb") as fh:
        data = np.load(io.BytesIO(fh.read()), allow_pickle=False)
    return np.asarray(data, dtype=np.float32).reshape(-1)


def _effort_row(*, song, revision, ref: np.ndarray, est: np.ndarray, model_version) -> dict:
    """Correction effort of the reference against (a) this model's proposal, (b) the model proposal
    the annotators actually started from (the nearest model-made ancestor revision), (c) every
    other model version that has predicted this song."""
    n = ref.size
    row = {"song": song.pk, "title": song.title, "revision": revision.pk,
           "this_model": metrics.effort(reference=ref, proposal=est), "started_from": None, "models": []}
    ancestor, seen = revision, set()
    while ancestor is not None and ancestor.pk not in seen:
        seen.add(ancestor.pk)
        if ancestor.origin.startswith("model:"):
            mask = segments_to_frames(revision_segments(ancestor), n_frames=n)
            row["started_from"] = {"revision": ancestor.pk, "revision_number": ancestor.number, "origin": ancestor.origin,
                                   **metrics.effort(reference=ref, proposal=mask)}
            break
        ancestor = ancestor.parent
    for prediction in Prediction.objects.filter(song=song).select_related("model_version").order_by("model_version__created_at", "model_version_id"):
        try:
            segments = [Segment.from_dict(s) for s in prediction.segments]
        except Exception:  # noqa: BLE001 - a malformed stored prediction is skipped, not fatal
            continue
        mask = segments_to_frames(segments, n_frames=n)
        row["models"].append({
            "model": prediction.model_version_id, "name": prediction.model_version.name,
            "this": prediction.model_version_id == model_version.pk, **metrics.effort(reference=ref, proposal=mask),
        })
    return row


def _skip(song, reason: str) -> dict:
    return {"song": song.pk, "title": song.title, "reason": reason}


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"
