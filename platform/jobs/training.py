"""Training jobs: verified corrections -> a transferred (or baseline) CRNN -> a registered model version.

`train_handler(*, job, ctx)` runs on the `train` queue:

1. training data = the latest verified revision of every ready `train`-split song (the exact
   revision ids are recorded), validation = the same for `validation`-split songs;
2. the model for the transfer mode (see `model_for_mode`) starts from the base model's checkpoint;
3. `detector.train.train` runs with a callback that reports progress, writes the loss / validation
   F1 curve into `job.result["curve"]` after each epoch and stops when the job is cancelled;
4. the decision threshold is tuned on the validation songs, the model is scored on the `test`
   split (and so is the active model, for the auto-activation policy);
5. the checkpoint is written atomically under a job-unique name, then the ModelVersion is
   registered in one transaction that first re-checks the job is still running (a job failed by
   the reaper or cancelled in the meantime registers nothing, and its file is removed);
6. an evaluation report on the test split is made through `reports.services.report_create`.

Every scratch file lives in `var/jobs/train-<job id>/` (job-unique, removed at the end; the
housekeeping sweep removes the folder of a job whose worker was killed).

Transfer modes (Hou et al. 2020, Table 1): `baseline` trains the base model's architecture from
a random initialisation on the target songs; `fixed:Li` copies block Li from the base model and
freezes it; `finetune:Li` copies Li and trains everything; `all` = L1, L2 and L3. The layers that
are not transferred (and the GRU + head) start from a seeded random initialisation. Transferred
modes keep the base model's feature normalisation so copied layers see the inputs they learnt on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

import numpy as np
from common.errors import ApiError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from detector.config import ALL_TRANSFER_MODES, DEFAULT_RECIPE, TARGET_TRAIN_CONFIG
from jobs.models import Job, JobState, ModelKind, ModelVersion

log = logging.getLogger(__name__)

# The recipe of detector/weights/default.pt with TARGET_TRAIN_CONFIG's budget (about 2 minutes for 30
# minutes of songs on 2 cores); a project's `default_training` overrides it.
DEFAULTS = {
    **DEFAULT_RECIPE, "seed": 0, "median_s": 0.8,
    **{k: TARGET_TRAIN_CONFIG[k] for k in ("epochs", "steps_per_epoch", "batch_size", "crop_seconds")},
}
LIMITS = {
    "epochs": (1, 500), "lr": (1e-6, 1.0), "seed": (0, 2**31 - 1), "steps_per_epoch": (1, 10_000),
    "batch_size": (1, 512), "crop_seconds": (0.1, 60.0), "median_s": (0.0, 5.0),
}
INTS = ("epochs", "seed", "steps_per_epoch", "batch_size")


# -- parameters ---------------------------------------------------------------------------------


def training_params_clean(*, project, raw: dict) -> dict:
    """Validate training parameters (API, form, retrain trigger) into a complete params dict.

    Raises ApiError (400) with a sentence naming the bad field. `base_model_id` may be None: the
    project's active model, else the shipped default, is used as the base.
    """
    from jobs.selectors import model_for_project

    params = {**DEFAULTS, **(project.default_training or {})}
    params.update({k: v for k, v in raw.items() if v not in (None, "")})
    mode = str(params.get("mode", "")).strip()
    if mode not in ALL_TRANSFER_MODES:
        raise ApiError(f"mode {mode!r} is not a transfer mode; choose one of {', '.join(ALL_TRANSFER_MODES)}.",
                       code="invalid_mode")
    clean: dict = {"mode": mode}
    for key, (lo, hi) in LIMITS.items():
        value = params.get(key)
        try:
            number = int(value) if key in INTS else float(value)
            if key in INTS and float(value) != number:
                raise ValueError
        except (TypeError, ValueError):
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


def training_data_check(*, project) -> None:
    """Refuse to queue a training job that cannot start: no verified song in the train split."""
    from songs.models import Split

    from jobs.selectors import verified_revisions

    if not verified_revisions(project=project, split=Split.TRAIN):
        raise ApiError("There is no verified song in the train split yet: verify some annotations and put "
                       "those songs in the train split first.", code="no_training_data")


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


class _TrainingRun:
    def __init__(self, *, job: Job, ctx, workdir: Path):
        self.job, self.ctx, self.workdir = job, ctx, workdir
        self.project = job.project
        self.published: str | None = None
        self.registered = False
        self.curve: list[dict] = []

    # each step ---------------------------------------------------------------------------------

    def execute(self) -> dict:
        from songs.models import Split

        from jobs.selectors import verified_revisions

        params = training_params_clean(project=self.project, raw=self.job.params)
        self.params = params
        mode = params["mode"]
        ctx = self.ctx
        base_mv, base_bundle = self._base_model(params)
        ctx.log(f"base model: {base_mv.name if base_mv else 'shipped default'}; mode {mode}")

        train_pairs = verified_revisions(project=self.project, split=Split.TRAIN)
        val_pairs = verified_revisions(project=self.project, split=Split.VALIDATION)
        test_pairs = verified_revisions(project=self.project, split=Split.TEST)
        if not train_pairs:
            raise ApiError("There is no verified song in the train split: nothing to train on.", code="no_training_data")
        val_note = ""
        if not val_pairs:
            val_note = "no verified song in the validation split: validated on the training songs"
            ctx.log(f"warning: {val_note}")
        ctx.log(f"{len(train_pairs)} training, {len(val_pairs)} validation, {len(test_pairs)} test songs")

        fc = base_bundle.feature_config
        all_pairs = train_pairs + val_pairs
        feats = self._features(all_pairs, fc, share=0.1, label="Reading training songs")
        train_set = self._dataset(train_pairs, feats, fc)
        val_set = self._dataset(val_pairs, feats, fc) if val_pairs else train_set

        from detector.train import TrainConfig, TrainingCancelled, train, tune_threshold

        model, normalization, frozen = model_for_mode(bundle=base_bundle, mode=mode, seed=params["seed"])
        steps = params["steps_per_epoch"]
        config = TrainConfig(
            epochs=params["epochs"], steps_per_epoch=steps, batch_size=params["batch_size"],
            crop_seconds=params["crop_seconds"], lr=params["lr"], callback_every=max(1, min(10, steps)),
            num_threads=int(os.environ.get("TORCH_THREADS") or 0) or 2, patience=max(6, params["epochs"] + 1),
        )
        ctx.progress(0.1, f"Training: epoch 1 of {params['epochs']}", force=True)
        try:
            result = train(model, train_set, val_set, config=config, seed=params["seed"], frozen=frozen,
                           normalization=normalization, callback=self._callback, progress=False)
        except TrainingCancelled:
            from jobs.services import JobCancelled

            raise JobCancelled() from None
        ctx.log(f"trained {result.epochs_run} epochs in {result.train_seconds:.1f} s; best epoch {result.best_epoch}, "
                f"validation F1 {result.best_metrics.get('f1', 0):.3f}")

        # Threshold and smoothing tuned on the validation songs, saved in the model.
        from detector.postprocess import PostprocessConfig
        from detector.train import predict_probabilities

        val_probs = predict_probabilities(result.model, val_set.features, normalization=result.normalization)
        threshold, val_scores = tune_threshold(val_probs, val_set.labels, median_s=params["median_s"])
        postprocess = PostprocessConfig(median_s=params["median_s"], threshold=threshold)
        ctx.log(f"threshold {threshold:.2f} (validation F1 after smoothing {val_scores['f1']:.3f})")
        ctx.progress(0.86, "Scoring on the test split", force=True)

        test_new = test_active = None
        active_label = ""
        if test_pairs:
            test_feats = self._features(test_pairs, fc, share=0.0, label="Reading test songs")
            test_new = _score(result.model, result.normalization, postprocess,
                              [test_feats[s.pk] for s, _ in test_pairs], [self._labels(s, r, test_feats) for s, r in test_pairs])
            active_label, test_active = self._score_active(test_pairs)
            ctx.log(f"test F1 {test_new['f1']:.3f}" + (f" (active model {active_label}: {test_active['f1']:.3f})"
                                                    if test_active else ""))
        ctx.check_cancelled()

        counts = result.parameter_counts
        metrics = {
            "validation": {**_rounded(val_scores), "threshold": threshold},
            "validation_raw": result.best_metrics,
            "test": _rounded(test_new) if test_new else None,
            "test_songs": len(test_pairs),
            "compared_with": {"model": active_label, "test": _rounded(test_active)} if test_active else None,
            "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "stopped": result.stopped,
            "train_seconds": round(result.train_seconds, 1),
        }
        training_revs = [{"song": s.pk, "revision": r.pk, "title": s.title} for s, r in train_pairs]
        validation_revs = [{"song": s.pk, "revision": r.pk, "title": s.title} for s, r in val_pairs]
        hyper = {**{k: params[k] for k in ("epochs", "lr", "steps_per_epoch", "batch_size", "crop_seconds", "median_s")},
                 "threshold": threshold, "frozen": list(result.frozen), "job_id": self.job.pk,
                 "base": base_mv.name if base_mv else "shipped default", "pos_weight": result.pos_weight,
                 "parameter_counts": counts}
        if val_note:
            hyper["validation_note"] = val_note

        # Checkpoint: job-unique name, written atomically, before anything is registered.
        from detector.checkpoint import save_checkpoint

        kind = ModelKind.BASELINE if mode == "baseline" else ModelKind.TARGET
        name = checkpoint_name(self.job)
        ckpt_kwargs = dict(
            model=result.model, feature_config=fc, normalization=result.normalization, postprocess=postprocess,
            training=result.summary(), seed=params["seed"], metrics=metrics, kind=str(kind),
            parent=(base_mv.name if base_mv else "shipped default") if mode != "baseline" else None,
            manifest={"project": self.project.pk, "job": self.job.pk, "mode": mode,
                      "training": training_revs, "validation": validation_revs},
        )
        self.published = _publish_checkpoint(name=name, workdir=self.workdir, save=save_checkpoint, kwargs=ckpt_kwargs)
        sha = _sha256_storage(self.published)
        ctx.progress(0.92, "Registering the model", force=True)

        mv = self._register(
            name=params.get("name") or f"{mode} · job {self.job.pk}", kind=kind, base_mv=base_mv, mode=mode,
            training_revs=training_revs, validation_revs=validation_revs, hyper=hyper, seed=params["seed"],
            metrics=metrics, trainable=counts["trainable"], sha=sha, test_new=test_new, test_active=test_active,
        )
        out = {"model_id": mv.pk, "model_name": mv.name, "curve": self.curve, "epochs": params["epochs"],
               "test_f1": test_new["f1"] if test_new else None, "activated": mv.activated_now,
               "message": f"Registered model {mv.name}" + (" and activated it" if mv.activated_now else "")}
        report_id, report_error = self._report(mv)
        out["report_id"] = report_id
        if report_error:
            out["report_error"] = report_error
        return out

    # pieces ---------------------------------------------------------------------------------------

    def _base_model(self, params):
        """(ModelVersion or None for the shipped default file, loaded Bundle)."""
        from detector.checkpoint import default_model_path, load_checkpoint

        mv = None
        if params.get("base_model_id"):
            mv = ModelVersion.objects.get(pk=params["base_model_id"])
        else:
            mv = self.project.active_model
            if mv is None:
                try:
                    from jobs.detection import model_version_for_project

                    mv = model_version_for_project(self.project)
                except ImportError:
                    mv = None
        if mv is not None:
            path = _local_path(mv.checkpoint, self.workdir / "base.pt")
        else:
            path = default_model_path()  # NoDefaultModelError says what to do
        return mv, load_checkpoint(path)

    def _features(self, pairs, fc, *, share: float, label: str) -> dict:
        from detector.inference import file_features

        out = {}
        for i, (song, _rev) in enumerate(pairs):
            self.ctx.check_cancelled()
            path = _local_path(song.original, self.workdir / f"song-{song.pk}{song.extension}")
            feats, _duration, _info = file_features(path, config=fc)
            out[song.pk] = feats.astype(np.float16)
            if share:
                self.ctx.progress(share * (i + 1) / len(pairs), f"{label}: {i + 1} of {len(pairs)}")
        return out

    @staticmethod
    def _labels(song, rev, feats) -> np.ndarray:
        from annotations.services import revision_segments

        from detector.labels import segments_to_frames

        return segments_to_frames(revision_segments(rev), n_frames=len(feats[song.pk])).astype(np.uint8)

    def _dataset(self, pairs, feats, fc):
        from detector.data import FrameDataset

        return FrameDataset([f"song-{s.pk}" for s, _ in pairs], [feats[s.pk] for s, _ in pairs],
                            [self._labels(s, r, feats) for s, r in pairs], fc, f"project {self.project.pk}")

    def _callback(self, info: dict):
        ctx = self.ctx
        if ctx.is_cancelled():
            return False
        epochs = info["epochs"]
        fraction = 0.1 + 0.75 * float(info["progress"])
        if info["event"] == "epoch":
            point = {"epoch": info["epoch"], "loss": info["train_loss"], "val_f1": info["val_f1"],
                     "val_accuracy": info["val_accuracy"], "lr": info["lr"]}
            self.curve.append(point)
            Job.objects.filter(pk=self.job.pk, state=JobState.RUNNING).update(
                result={"curve": self.curve, "epochs": epochs}, heartbeat_at=timezone.now())
            ctx.log(f"epoch {info['epoch']}/{epochs}: loss {info['train_loss']:.4f}, validation F1 {info['val_f1']:.3f}")
            ctx.progress(fraction, f"Epoch {info['epoch']} of {epochs} done: loss {info['train_loss']:.3f}, "
                                   f"validation F1 {info['val_f1']:.3f}", force=True)
        else:
            ctx.progress(fraction, f"Epoch {info['epoch']} of {epochs}, step {info['step']} of {info['steps']}: "
                                   f"loss {info['loss']:.3f}")
        return True

    def _score_active(self, test_pairs):
        """(label, pooled test metrics) of the model new detections use now, or ("", None)."""
        from detector.errors import DetectorError
        from detector.inference import load_model  # ONNX Runtime: 3-4x cheaper than eager PyTorch

        active = self.project.active_model
        try:
            if active is not None:
                bundle = load_model(_local_path(active.checkpoint, self.workdir / "active.pt"))
                label = active.name
            else:
                bundle = load_model()
                label = "shipped default"
        except DetectorError as exc:
            self.ctx.log(f"active model not scored: {exc}")
            return "", None
        feats = self._features(test_pairs, bundle.feature_config, share=0.0, label="Reading test songs")
        from detector.inference import predict_features_batch

        probs = predict_features_batch(bundle, [feats[s.pk].astype(np.float32) for s, _ in test_pairs])
        labels = [self._labels(s, r, feats) for s, r in test_pairs]
        return label, _pooled(probs, labels, bundle.postprocess)

    @transaction.atomic
    def _register(self, *, name, kind, base_mv, mode, training_revs, validation_revs, hyper, seed, metrics,
                  trainable, sha, test_new, test_active) -> ModelVersion:
        from accounts.models import Project
        from accounts.services import activity_record

        job = Job.objects.select_for_update().get(pk=self.job.pk)
        if job.state == JobState.RUNNING and job.cancel_requested:
            from jobs.services import JobCancelled

            raise JobCancelled()
        if job.state != JobState.RUNNING:
            raise _NotRegistered(job)
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
        decision = auto_activation_decision(project=project, test_new=test_new, test_active=test_active)
        if decision["activate"]:
            project.active_model = mv
            project.save(update_fields=["active_model"])
            mv.activated_now = True
            activity_record(project=project, actor=None, verb="model.activated",
                            summary=f"activated model {mv.name} automatically: {decision['reason']}",
                            data={"model": mv.pk})
        mv.metrics = {**metrics, "auto_activation": decision}
        mv.save(update_fields=["metrics"])
        self.ctx.log(f"auto-activation: {decision['reason']}")
        return mv

    def _report(self, mv) -> tuple[int | None, str]:
        """Evaluation report of the new model on the test split, through the reports app."""
        if not mv.metrics.get("test_songs"):
            return None, "no verified song in the test split: no report"
        try:
            from reports.services import report_create
        except ImportError:
            self.ctx.log("reports.services.report_create is not available yet: no report made")
            return None, "the reports app cannot make reports yet"
        self.ctx.progress(0.95, "Evaluating on the test split", force=True)
        try:
            report = report_create(project=self.project, model_version=mv, songs=None,
                                   created_by=self.job.created_by, job=self.job)
        except Exception as exc:  # noqa: BLE001 - the model is registered; the report can be redone
            log.exception("report for model %s failed", mv.pk)
            self.ctx.log(f"evaluation report failed: {type(exc).__name__}: {exc}")
            return None, f"evaluation report failed: {exc}"
        return report.pk, ""


class _NotRegistered(ApiError):
    def __init__(self, job):
        super().__init__(f"The job was {job.state} before its model could be registered; nothing was kept.",
                         code="not_registered", status_code=409)


# -- helpers --------------------------------------------------------------------------------------


def model_for_mode(*, bundle, mode: str, seed: int):
    """(fresh CRNN initialised for `mode` from the base `bundle`, normalisation or None, frozen blocks).

    The modes are detector.transfer's: baseline starts from a seeded random init (normalisation
    fitted on the training songs later, None here); fixed:Li / finetune:Li copy block(s) Li from
    the base model and keep its normalisation; fixed also freezes them.
    """
    from detector.transfer import TransferMode, prepare_model

    parsed = TransferMode.parse(mode)
    model = prepare_model(parsed, source=bundle, seed=seed)
    return model, (None if parsed.kind == "baseline" else bundle.normalization), parsed.frozen


def auto_activation_decision(*, project, test_new: dict | None, test_active: dict | None) -> dict:
    """The auto-activation policy: activate when the new model's test F1 beats the active model's
    by at least `project.auto_activate_margin` (None = never automatically)."""
    margin = project.auto_activate_margin
    if margin is None:
        return {"activate": False, "reason": "automatic activation is off for this project"}
    if not test_new:
        return {"activate": False, "reason": "no verified test songs to compare on"}
    new_f1 = float(test_new["f1"])
    old_f1 = float(test_active["f1"]) if test_active else 0.0
    if test_active is None:
        return {"activate": True, "reason": f"test F1 {new_f1:.3f}; no active model to compare with", "margin": margin}
    activate = new_f1 >= old_f1 + margin
    verb = "beats" if activate else "does not beat"
    return {"activate": activate, "margin": margin, "new_f1": round(new_f1, 4), "active_f1": round(old_f1, 4),
            "reason": f"test F1 {new_f1:.3f} {verb} the active model's {old_f1:.3f} by the margin {margin:g}"}


def _pooled(probs, labels, postprocess) -> dict:
    from detector.postprocess import binarize
    from detector.train import frame_scores

    pred = np.concatenate([binarize(np.asarray(p, np.float32), config=postprocess) for p in probs])
    ref = np.concatenate([np.asarray(y, bool)[: len(p)] for y, p in zip(labels, probs, strict=True)])
    return frame_scores(pred[: len(ref)], ref)


def _score(model, normalization, postprocess, feats, labels) -> dict:
    from detector.train import predict_probabilities

    probs = predict_probabilities(model, feats, normalization=normalization)
    return _pooled(probs, labels, postprocess)


def _rounded(scores: dict | None) -> dict | None:
    if scores is None:
        return None
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}


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


def _publish_checkpoint(*, name: str, workdir: Path, save, kwargs) -> str:
    """Write the checkpoint to storage under `name`, atomically: on a filesystem storage straight
    to its final path (temporary file + os.replace), on object storage by uploading a finished file."""
    try:
        target = Path(default_storage.path(name))
    except NotImplementedError:
        local = save(workdir / "model.pt", **kwargs)
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(local, "rb") as fh:
            return default_storage.save(name, File(fh, name=Path(name).name))
    save(target, **kwargs)
    return name


def _sha256_storage(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
