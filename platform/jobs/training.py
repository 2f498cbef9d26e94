"""Training jobs: the project's verified songs -> `detector.adapt.adapt` -> a registered model version.

`train_handler(*, job, ctx)` runs on the `train` queue. It only loads rows, calls the detector's one
training path once and registers what came out:

1. the songs: every ready song of the project whose latest **verified** revision exists (audio +
   the vocal spans of that revision; the exact revision ids are recorded). Songs of the
   `validation` split are the development songs (they stop training early, choose the median,
   threshold and gap filling, and judge the new model against the start model); without any,
   `adapt` holds out a seeded fifth of the training songs itself (at least 3 songs), and below
   that nothing is judged. Songs of the `test` split are never trained or tuned on: both the new
   and the active model are scored on them (`detector.evaluation.evaluate_backend`). Every other
   verified song (split `train` or unassigned) is a training song;
2. the start model: the project's active model (or the base model the user chose), as a PyTorch
   bundle; the recipe: `detector.adapt.DEFAULT_RECIPE` with the job's values laid over it;
3. `detector.adapt.adapt` with a callback that reports progress, writes the learning curve into
   `job.result["curve"]` after each epoch and stops (within a few steps) when the job is cancelled.
   The songs' features are read into a job-local cache song by song first, so a cancel is also
   noticed between songs while they are read;
4. the checkpoint (`Adaptation.save`) is written atomically under a job-unique name, then the
   ModelVersion is registered in one transaction that first re-checks the job is still running (a
   job failed by the reaper or cancelled in the meantime registers nothing, and its file is removed);
5. auto-activation only when `adapt` says the new model is better on the development songs
   (`promote`) **and** the project's policy allows it (`auto_activation_decision`); activating
   queues the re-detection of the project's songs (`jobs.registry.model_activate`);
6. an evaluation report on the test split through the `model_registered` hook (common.hooks; the
   reports app implements it).

The job says, in its log and result, which songs trained the model, which chose its
post-processing and judged it (development) and which scored it (test).

Every scratch file lives in `var/jobs/train-<job id>/` (job-unique, removed at the end; the
housekeeping sweep removes the folder of a job whose worker was killed).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from dataclasses import replace
from pathlib import Path

from accounts.models import Project
from accounts.services import activity_record
from annotations.services import revision_segments
from common.errors import ApiError
from common.files import sha256_stream
from common.hooks import hook_call
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from detector.adapt import DEFAULT_RECIPE, Recipe
from detector.config import ALL_TRANSFER_MODES
from jobs.errors import JobCancelled, NotRegistered
from jobs.models import Job, JobState, ModelKind, ModelVersion

log = logging.getLogger(__name__)

# A job's parameters: the recipe's (detector.adapt.DEFAULT_RECIPE, read at import: never copied) and
# the seed; epochs / steps_per_epoch / batch_size / crop_seconds None = the recipe's own budget.
# A project's `default_training` overrides them.
DEFAULTS = {
    "mode": DEFAULT_RECIPE.mode or "finetune:full", "lr": DEFAULT_RECIPE.lr, "anchor": DEFAULT_RECIPE.anchor,
    "epochs": DEFAULT_RECIPE.epochs, "steps_per_epoch": DEFAULT_RECIPE.steps, "seed": 0,
    "batch_size": None, "crop_seconds": None,
}
LIMITS = {
    "lr": (1e-6, 1.0), "anchor": (0.0, 100.0), "seed": (0, 2**31 - 1), "epochs": (1, 500),
    "steps_per_epoch": (1, 10_000), "batch_size": (1, 512), "crop_seconds": (0.1, 60.0),
}
INTS = ("epochs", "seed", "steps_per_epoch", "batch_size")
OPTIONAL = ("epochs", "steps_per_epoch", "batch_size", "crop_seconds")  # None: the recipe's budget
CALLBACK_EVERY_STEPS = 2  # how often training asks whether the job was cancelled


# -- parameters ---------------------------------------------------------------------------------


def training_params_clean(*, project, raw: dict) -> dict:
    """Validate training parameters (API, form, retrain trigger) into a complete params dict.

    Raises ApiError (400) with a sentence naming the bad field. `base_model_id` None means the
    project's active model (else the shipped default) at the time the job runs.
    """
    from jobs.selectors import model_for_project

    params = {**DEFAULTS, **{k: v for k, v in (project.default_training or {}).items() if k in DEFAULTS}}
    params.update({k: v for k, v in raw.items() if v not in (None, "")})
    mode = str(params.get("mode", "")).strip()
    if mode not in ALL_TRANSFER_MODES:
        raise ApiError(f"mode {mode!r} is not a transfer mode; choose one of {', '.join(ALL_TRANSFER_MODES)}.",
                       code="invalid_mode")
    clean: dict = {"mode": mode}
    for key, (lo, hi) in LIMITS.items():
        value = params.get(key)
        if value is None and key in OPTIONAL:
            clean[key] = None
            continue
        try:
            if isinstance(value, bool):
                raise ValueError
            number = int(value) if key in INTS else float(value)
            if key in INTS and float(value) != number:
                raise ValueError
            if not math.isfinite(number):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise ApiError(f"{key} must be a {'whole ' if key in INTS else ''}number, got {value!r}.",
                           code="invalid_parameter") from None
        if not lo <= number <= hi:
            raise ApiError(f"{key} must be between {lo} and {hi}, got {number}.", code="invalid_parameter")
        clean[key] = number
    base = params.get("base_model_id", params.get("base_model"))
    if base not in (None, ""):
        mv = model_for_project(project=project, model_id=base)
        if mv is None:
            raise ApiError(f"base model {base!r} is not a model of this project or a shipped one.",
                           code="unknown_model")
        clean["base_model_id"] = mv.pk
    else:
        clean["base_model_id"] = None
    name = str(params.get("name") or "").strip()[:120]
    if name:
        clean["name"] = name
    if params.get("trigger"):
        clean["trigger"] = str(params["trigger"])[:40]
    return clean


def training_recipe(*, params: dict) -> Recipe:
    """The detector's recipe for a job's cleaned params: DEFAULT_RECIPE with the job's values over it."""
    return replace(DEFAULT_RECIPE, mode=params["mode"], lr=float(params["lr"]), anchor=float(params["anchor"]),
                   epochs=params.get("epochs") or DEFAULT_RECIPE.epochs,
                   steps=params.get("steps_per_epoch") or DEFAULT_RECIPE.steps)


def training_data_check(*, project) -> None:
    """Refuse to queue a training job that cannot start: no verified song to train on."""
    from jobs.selectors import training_songs

    if not training_songs(project=project)["train"]:
        raise ApiError("There is no verified song to train on yet: verify the annotations of some songs first "
                       "(songs of the validation and test splits are held out, never trained on).",
                       code="no_training_data")


# -- the handler ----------------------------------------------------------------------------------


def workdir_for(job_id: int) -> Path:
    return Path(settings.VAR_DIR) / "jobs" / f"train-{job_id}"


def checkpoint_name(job: Job) -> str:
    return f"projects/{job.project_id}/models/job-{job.pk}/model.pt"


def train_handler(*, job, ctx) -> dict:
    workdir = workdir_for(job.pk)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    run = _TrainingRun(job=job, ctx=ctx, workdir=workdir)
    try:
        return run.execute()
    except BaseException:
        if run.published and not run.registered:  # never leave a checkpoint without its model row
            _storage_delete(run.published)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _song_name(song) -> str:
    return f"song-{song.pk}"


def _revs(pairs) -> list[dict]:
    return [{"song": s.pk, "revision": r.pk, "title": s.title} for s, r in pairs]


def _titles(pairs) -> str:
    return ", ".join(s.title for s, _ in pairs) or "none"


class _TrainingRun:
    def __init__(self, *, job: Job, ctx, workdir: Path):
        self.job, self.ctx, self.workdir = job, ctx, workdir
        self.project = job.project
        self.published: str | None = None
        self.registered = False
        self.curve: list[dict] = []
        self.cache = workdir / "features"

    # the steps ----------------------------------------------------------------------------------

    def execute(self) -> dict:
        from jobs.selectors import training_songs

        params = training_params_clean(project=self.project, raw=self.job.params)
        recipe = training_recipe(params=params)
        ctx = self.ctx
        base_mv, start = self._start_model(params)
        in_use = _model_in_use(self.project)
        from_active = (base_mv.pk if base_mv else None) == (in_use.pk if in_use else None)
        ctx.log(f"start model: {base_mv.name if base_mv else 'shipped default'}; recipe {recipe.to_dict()}")

        songs = training_songs(project=self.project)
        train_pairs, dev_pairs, test_pairs = songs["train"], songs["development"], songs["test"]
        if not train_pairs:
            raise ApiError("There is no verified song to train on: nothing to train on.", code="no_training_data")
        items = {_song_name(s): self._item(s, r) for s, r in train_pairs + dev_pairs + test_pairs}
        by_name = {_song_name(s): (s, r) for s, r in train_pairs + dev_pairs + test_pairs}
        ctx.log(f"verified songs: {len(train_pairs)} to train on, {len(dev_pairs)} in the validation split, "
                f"{len(test_pairs)} in the test split")
        if not dev_pairs:
            ctx.log("no verified song in the validation split: the development songs are held out from the "
                    "training songs automatically (a fifth of them, when there are at least 3)")

        self._read_songs(start, train=[items[_song_name(s)] for s, _ in train_pairs],
                         other=[items[_song_name(s)] for s, _ in dev_pairs + test_pairs])

        from detector.adapt import adapt
        from detector.errors import TrainingCancelled
        from detector.transfer import default_target_config

        overrides = {"callback_every": CALLBACK_EVERY_STEPS}
        if params.get("batch_size"):
            overrides["batch_size"] = params["batch_size"]
        if params.get("crop_seconds"):
            overrides["crop_seconds"] = params["crop_seconds"]
        ctx.progress(0.1, "Training: starting", force=True)
        try:
            result = adapt(
                start=start, train=[items[_song_name(s)] for s, _ in train_pairs],
                development=[items[_song_name(s)] for s, _ in dev_pairs] or None, recipe=recipe,
                config=default_target_config(**overrides), seed=params["seed"], callback=self._callback,
                cache_dir=self.cache, threads=int(os.environ.get("TORCH_THREADS") or 0) or 2,
            )
        except TrainingCancelled:
            raise JobCancelled() from None
        ctx.check_cancelled()

        trained = [by_name[n] for n in result.train_songs]
        development = [by_name[n] for n in result.development_songs]
        training = result.training or {}
        ctx.log(f"trained {training.get('epochs_run', 0)} epochs in {training.get('train_seconds', 0)} s "
                f"({training.get('stopped', '')}); best epoch {training.get('best_epoch')}")
        ctx.log(f"trained on {len(trained)} songs: {_titles(trained)}")
        if development:
            ctx.log(f"development songs (chose the post-processing {result.postprocess.to_dict()} and judged the new "
                    f"model): {_titles(development)}" + ("" if dev_pairs else " (held out automatically)"))
        else:
            ctx.log("no development song (fewer than 3 verified songs and no validation split): the new model keeps "
                    "the start model's post-processing and nothing judged it")
        ctx.log(f"promotion: {result.reason}")

        test_new = test_active = None
        active_label = in_use.name if in_use else "shipped default"
        if test_pairs:
            ctx.progress(0.88, "Scoring both models on the test songs", force=True)
            test_new, test_active = self._score_test(result.backend, [items[_song_name(s)] for s, _ in test_pairs],
                                                     in_use=in_use)
            ctx.log(f"test songs (scored the new model and the active model {active_label}): {_titles(test_pairs)}")
            ctx.log(f"test: new accuracy {test_new['accuracy']:.3f} / F1 {test_new['f1']:.3f}"
                    + (f"; active {test_active['accuracy']:.3f} / {test_active['f1']:.3f}" if test_active else ""))
        ctx.check_cancelled()

        roles = {"train": _revs(trained), "development": _revs(development), "test": _revs(test_pairs),
                 "development_from": "validation split" if dev_pairs else ("held out automatically" if development
                                                                            else "none")}
        comparison = {
            "start_model": base_mv.name if base_mv else "shipped default",
            "active_model": active_label,
            "started_from_active": from_active,
            "development": {"songs": roles["development"], "new": _figures(result.development),
                            "start": _figures(result.start_development)},
            "test": {"songs": roles["test"], "new": _figures(test_new), "active": _figures(test_active)},
            "promote": result.promote, "reason": result.reason,
        }
        counts = training.get("parameter_counts") or {}
        metrics = {
            "development": _rounded(result.development), "development_start": _rounded(result.start_development),
            "test": _rounded(test_new), "test_active": _rounded(test_active), "test_songs": len(test_pairs),
            "promote": result.promote, "reason": result.reason, "comparison": comparison,
            "best_epoch": training.get("best_epoch"), "epochs_run": training.get("epochs_run"),
            "stopped": training.get("stopped"), "train_seconds": training.get("train_seconds"),
            "curve": self.curve,
        }
        hyper = {
            "recipe": result.recipe.to_dict(), "seed": params["seed"], "postprocess": result.postprocess.to_dict(),
            "threshold": result.postprocess.threshold, "frozen": training.get("frozen", []), "job_id": self.job.pk,
            "base": base_mv.name if base_mv else "shipped default", "pos_weight": _json_number(training.get("pos_weight")),
            "parameter_counts": counts, "development_from": roles["development_from"],
            **{k: params[k] for k in ("epochs", "lr", "anchor", "steps_per_epoch", "batch_size", "crop_seconds")},
        }

        # Checkpoint: job-unique name, written atomically, before anything is registered.
        mode = params["mode"]
        kind = ModelKind.BASELINE if mode == "baseline" else ModelKind.TARGET
        name = checkpoint_name(self.job)
        parent_name = (base_mv.name if base_mv else "shipped default") if mode != "baseline" else None
        manifest = {"project": self.project.pk, "job": self.job.pk, "mode": mode, "training": roles["train"],
                    "development": roles["development"], "test": roles["test"]}
        self.published = _publish_checkpoint(
            name=name, workdir=self.workdir,
            save=lambda path: result.save(path, parent=parent_name, extra_manifest=manifest))
        sha = _sha256_storage(self.published)
        ctx.progress(0.92, "Registering the model", force=True)

        mv = self._register(
            name=params.get("name") or f"{mode} · job {self.job.pk}", kind=kind, base_mv=base_mv, mode=mode,
            training_revs=roles["train"], validation_revs=roles["development"], hyper=hyper, seed=params["seed"],
            metrics=metrics, trainable=int(counts.get("trainable") or 0), sha=sha, promote=result.promote,
            reason=result.reason, start_id=base_mv.pk if base_mv else None,
        )
        decision = mv.metrics.get("auto_activation", {})
        out = {"model_id": mv.pk, "model_name": mv.name, "curve": self.curve,
               "epochs": (training.get("config") or {}).get("epochs"), "epochs_run": training.get("epochs_run"),
               "songs": roles, "comparison": comparison, "promote": result.promote, "reason": result.reason,
               "activated": mv.activated_now, "auto_activation": decision,
               "redetect_job": getattr(mv, "redetect_job_id", None),
               "test_f1": test_new["f1"] if test_new else None,
               "message": f"Registered model {mv.name}" + (" and activated it" if mv.activated_now else
                                                           f"; not activated: {decision.get('reason', '')}")}
        report_id, report_error = self._report(mv)
        out["report_id"] = report_id
        if report_error:
            out["report_error"] = report_error
        return out

    # pieces ---------------------------------------------------------------------------------------

    def _start_model(self, params):
        """(ModelVersion or None for the shipped default file, PyTorch bundle)."""
        from detector.inference import default_model_path, load_model

        mv = ModelVersion.objects.get(pk=params["base_model_id"]) if params.get("base_model_id") else \
            _model_in_use(self.project)
        path = _local_path(mv.checkpoint, self.workdir / "start.pt") if mv is not None else default_model_path()
        return mv, load_model(path, runtime="torch")

    def _item(self, song, revision):
        from detector.adapt import SongItem

        path = _local_path(song.original, self.workdir / f"song-{song.pk}{song.extension}")
        vocal = [(s.start, s.end) for s in revision_segments(revision) if s.is_vocal]
        return SongItem(_song_name(song), path, vocal)

    def _read_songs(self, start, *, train, other) -> None:
        """Read every song's features into the job's cache one song at a time (what `adapt` then reads
        from it), so progress moves and a cancel is noticed between songs."""
        from detector.data import FrameDataset
        from detector.material import pool_from_items

        songs = [(s, True) for s in train] + [(s, False) for s in other]
        for i, (song, both_front_ends) in enumerate(songs):
            self.ctx.check_cancelled()
            self.ctx.progress(0.1 * i / len(songs), f"Reading songs: {i + 1} of {len(songs)}")
            item = [(song.name, song.audio, list(song.vocal))]
            if both_front_ends:  # training songs are heard through both front ends (centre and mono)
                pool_from_items("songs", item, stereo=True, cache_dir=self.cache, feature_config=start.feature_config)
            else:
                FrameDataset.from_items(item, feature_config=start.feature_config, cache_dir=self.cache)
        self.ctx.check_cancelled()

    def _callback(self, info: dict):
        ctx = self.ctx
        if ctx.is_cancelled():
            return False
        event = info.get("event")
        if event == "features":
            ctx.progress(0.1, "Reading the songs' features", force=True)
        elif event == "step":
            epochs = info["epochs"]
            ctx.progress(0.1 + 0.75 * float(info["progress"]),
                         f"Epoch {info['epoch']} of {epochs}, step {info['step']} of {info['steps']}: "
                         f"loss {info['loss']:.3f}")
        elif event == "epoch":
            epochs = info["epochs"]
            point = {"epoch": info["epoch"], "loss": info["train_loss"], "lr": info.get("lr")}
            if "val_f1" in info:
                point.update(val_f1=info["val_f1"], val_accuracy=info.get("val_accuracy"))
            self.curve.append(point)
            Job.objects.filter(pk=self.job.pk, state=JobState.RUNNING).update(
                result={"curve": self.curve, "epochs": epochs}, heartbeat_at=timezone.now())
            scores = (f", development F1 {info['val_f1']:.3f} / accuracy {info.get('val_accuracy', 0):.3f}"
                      if "val_f1" in info else "")
            ctx.log(f"epoch {info['epoch']}/{epochs}: loss {info['train_loss']:.4f}{scores}")
            ctx.progress(0.1 + 0.75 * float(info["progress"]),
                         f"Epoch {info['epoch']} of {epochs} done: loss {info['train_loss']:.3f}{scores}", force=True)
        elif event == "evaluate":
            ctx.progress(0.86, "Choosing the post-processing on the development songs and comparing the models",
                         force=True)
        return True

    def _score_test(self, backend, items, *, in_use) -> tuple[dict, dict | None]:
        """Pooled test figures of the new model and of the project's active model (detector.evaluation:
        the one evaluation path, detection's own windows), each with its own post-processing."""
        from detector.data import FrameDataset
        from detector.errors import DetectorError
        from detector.evaluation import evaluate_backend
        from detector.inference import default_model_path, load_model

        data = FrameDataset.from_items([(s.name, s.audio, list(s.vocal)) for s in items],
                                       feature_config=backend.feature_config, cache_dir=self.cache)
        new = evaluate_backend(backend, data)["pooled"]
        self.ctx.check_cancelled()
        try:
            path = _local_path(in_use.checkpoint, self.workdir / "active.pt") if in_use else default_model_path()
            bundle = load_model(path, runtime="torch")
        except DetectorError as exc:
            self.ctx.log(f"active model not scored: {exc}")
            return new, None
        if bundle.feature_config != backend.feature_config:
            data = FrameDataset.from_items([(s.name, s.audio, list(s.vocal)) for s in items],
                                           feature_config=bundle.feature_config, cache_dir=self.cache)
        return new, evaluate_backend(bundle, data)["pooled"]

    @transaction.atomic
    def _register(self, *, name, kind, base_mv, mode, training_revs, validation_revs, hyper, seed, metrics,
                  trainable, sha, promote, reason, start_id) -> ModelVersion:
        from jobs.registry import model_activate

        job = Job.objects.select_for_update().get(pk=self.job.pk)
        if job.state == JobState.RUNNING and job.cancel_requested:
            raise JobCancelled()
        if job.state != JobState.RUNNING:
            raise NotRegistered(job)
        existing = ModelVersion.objects.filter(project=self.project, checkpoint=self.published).first()
        if existing is not None:  # registered by an earlier run of this very job: never twice
            existing.activated_now = False
            self.registered = True
            return existing
        mv = ModelVersion.objects.create(
            project=self.project, name=name[:200], kind=kind, parent=base_mv if mode != "baseline" else None,
            transfer_mode=mode, training_revisions=training_revs, validation_revisions=validation_revs,
            hyperparameters=hyper, seed=seed, metrics=metrics, trainable_parameters=trainable,
            checkpoint=self.published, checkpoint_sha256=sha, created_by=job.created_by,
        )
        self.registered = True
        activity_record(project=self.project, actor=job.created_by, verb="model.trained",
                        summary=f"trained model {mv.name} ({mode})", data={"model": mv.pk, "job": job.pk})
        project = Project.objects.select_for_update().get(pk=self.project.pk)
        mv.activated_now = False
        in_use = _model_in_use(project)  # now, not when training started: someone may have activated another
        decision = auto_activation_decision(
            project=project, promote=promote, reason=reason, development_new=metrics["development"],
            development_start=metrics["development_start"], started_from_active=start_id == (in_use.pk if in_use else None))
        if decision["activate"]:
            locked = model_activate(project=project, model_version=mv, actor=None,
                                    reason=f"automatically: {decision['reason']}")
            mv.activated_now = True
            mv.redetect_job_id = locked.redetect_job.pk if locked.redetect_job else None
            decision["redetect_job"] = mv.redetect_job_id
        mv.metrics = {**metrics, "auto_activation": decision}
        mv.save(update_fields=["metrics"])
        self.ctx.log(f"auto-activation: {decision['reason']}")
        if mv.activated_now:
            self.ctx.log(f"activated; re-detection of the project's songs queued (job {mv.redetect_job_id})"
                         if mv.redetect_job_id else "activated; no ready song to detect again")
        return mv

    def _report(self, mv) -> tuple[int | None, str]:
        """Evaluation report of the new model on the test split (the reports app implements the
        ``model_registered`` hook)."""
        if not mv.metrics.get("test_songs"):
            return None, "no verified song in the test split: no report"
        self.ctx.progress(0.95, "Evaluating on the test split", force=True)
        try:
            report_ids = hook_call("model_registered", project=self.project, model_version=mv,
                                   created_by=self.job.created_by, job=self.job)
        except Exception as exc:  # noqa: BLE001 - the model is registered; the report can be redone
            log.exception("report for model %s failed", mv.pk)
            self.ctx.log(f"evaluation report failed: {type(exc).__name__}: {exc}")
            return None, f"evaluation report failed: {exc}"
        if not report_ids:
            return None, "no evaluation is installed: no report"
        return report_ids[0], ""


# -- the policy -----------------------------------------------------------------------------------


def auto_activation_decision(*, project, promote: bool, reason: str, development_new: dict | None,
                             development_start: dict | None, started_from_active: bool) -> dict:
    """Whether a newly trained model becomes the active one by itself: only when `adapt` found it
    better than its start model on the development songs (`promote`), the start model was the active
    one, and the project's policy allows it (`auto_activate_margin` not None: the new development F1
    must beat the active model's by at least that margin). Never without development songs."""
    margin = project.auto_activate_margin
    if margin is None:
        return {"activate": False, "reason": "automatic activation is off for this project"}
    if development_new is None or development_start is None:
        return {"activate": False, "margin": margin,
                "reason": "no development song judged the new model (a validation split, or at least 3 verified "
                          "songs to hold one out from), so it is not activated automatically"}
    if not started_from_active:
        return {"activate": False, "margin": margin,
                "reason": "the model started from another model than the active one, so the development songs "
                          "did not compare it with the active model: activate it by hand if you want it"}
    new_f1, old_f1 = float(development_new["f1"]), float(development_start["f1"])
    figures = {"margin": margin, "new_f1": round(new_f1, 4), "active_f1": round(old_f1, 4)}
    if not promote:
        return {"activate": False, **figures, "reason": f"not better than the active model: {reason}"}
    activate = new_f1 >= old_f1 + margin
    verb = "beats" if activate else "does not beat"
    return {"activate": activate, **figures,
            "reason": f"development F1 {new_f1:.3f} {verb} the active model's {old_f1:.3f} by the margin {margin:g}"}


# -- helpers --------------------------------------------------------------------------------------


def _model_in_use(project) -> ModelVersion | None:
    """The model the project's detections use: its active model, else the shipped default one."""
    from jobs.detection import model_version_for_project

    return model_version_for_project(project)


def _figures(scores: dict | None) -> dict | None:
    if not scores:
        return None
    return {k: round(float(scores[k]), 4) for k in ("accuracy", "f1", "precision", "recall")
            if scores.get(k) is not None and math.isfinite(float(scores[k]))}


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rounded(scores: dict | None) -> dict | None:
    """Flat JSON-safe scores (no NaN: PostgreSQL's JSON refuses it; nested dicts kept)."""
    if scores is None:
        return None
    out = {}
    for k, v in scores.items():
        if isinstance(v, dict):
            out[k] = _rounded(v)
        elif isinstance(v, float):
            out[k] = round(v, 4) if math.isfinite(v) else None
        elif isinstance(v, int | str | bool) or v is None:
            out[k] = v
    return out


def _local_path(fieldfile, fallback: Path) -> Path:
    """A local file with the content of a storage file: its own path on a filesystem storage,
    else a copy at `fallback` (object storage)."""
    try:
        return Path(fieldfile.storage.path(fieldfile.name))
    except NotImplementedError:
        fallback.parent.mkdir(parents=True, exist_ok=True)
        with fieldfile.storage.open(fieldfile.name, "rb") as src, open(fallback, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return fallback


def _publish_checkpoint(*, name: str, workdir: Path, save) -> str:
    """Write the checkpoint to storage under `name`, atomically: on a filesystem storage straight
    to its final path (`save(path)` writes a temporary file + os.replace), on object storage by
    uploading a finished file."""
    try:
        target = Path(default_storage.path(name))
    except NotImplementedError:
        local = save(workdir / "model.pt")
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(local, "rb") as fh:
            return default_storage.save(name, File(fh, name=Path(name).name))
    save(target)
    return name


def _sha256_storage(name: str) -> str:
    with default_storage.open(name, "rb") as fh:
        return sha256_stream(fh)


def _storage_delete(name: str) -> None:
    try:
        default_storage.delete(name)
        try:
            Path(default_storage.path(name)).parent.rmdir()
        except (NotImplementedError, OSError):
            pass
    except Exception:  # noqa: BLE001
        log.warning("could not delete %s", name, exc_info=True)


def training_leftovers_sweep() -> int:
    """Remove what a training job that is no longer running left behind (a worker killed mid-job
    cannot clean up after itself): its scratch folder, and its checkpoint when no model version was
    registered with it. A job always leaves its scratch folder when killed, so the folders are the
    index. Returns the number of jobs cleaned."""
    root = Path(settings.VAR_DIR) / "jobs"
    if not root.is_dir():
        return 0
    folders = {int(p.name.split("-", 1)[1]): p for p in root.glob("train-*") if p.name.split("-", 1)[1].isdigit()}
    if not folders:
        return 0
    done = Job.objects.filter(pk__in=list(folders)).exclude(state__in=[JobState.RUNNING, JobState.QUEUED])
    gone = set(folders) - set(Job.objects.filter(pk__in=list(folders)).values_list("pk", flat=True))
    cleaned = 0
    for job in done:
        name = checkpoint_name(job)
        try:
            if default_storage.exists(name) and not ModelVersion.objects.filter(checkpoint=name).exists():
                _storage_delete(name)
        except Exception:  # noqa: BLE001
            log.warning("sweep of %s failed", name, exc_info=True)
        shutil.rmtree(folders[job.pk], ignore_errors=True)
        cleaned += 1
    for job_id in gone:
        shutil.rmtree(folders[job_id], ignore_errors=True)
        cleaned += 1
    return cleaned
