"""Training jobs run in-process through the real job runtime (jobs.services.job_run): a tiny CRNN
trains on synthetic verified songs and is registered with its lineage, curve, checkpoint and report."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from jobs_support import TINY_TRAINING, make_songs, make_tiny_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """As in the worker (TORCH_THREADS=1): 2 threads on a busy 2-core machine only contend."""
    monkeypatch.setenv("TORCH_THREADS", "1")
    yield
    import torch

    torch.set_num_threads(2)


@pytest.fixture
def data(project, user):
    songs = make_songs(project, user)
    base = make_tiny_model(project)
    return {"songs": songs, "base": base}


@pytest.fixture(autouse=True)
def _jobs_stay_off_the_broker(monkeypatch):
    """These tests run jobs in this process (job_run); a worker left running by another test on the
    same broker must not claim them first."""
    monkeypatch.setattr("jobs.services.job_enqueue", lambda **_: None)


def start(project, user, **params):
    from jobs.launch import job_start

    return job_start(project=project, user=user, kind="train", data={**TINY_TRAINING, **params})


def run(job):
    from jobs.models import Job
    from jobs.services import job_run

    job_run(job_id=job.pk, worker="test-process")
    return Job.objects.get(pk=job.pk)


def test_a_training_job_registers_a_model_with_lineage_exact_revisions_curve_and_report(project, user, data):
    from jobs.models import ModelVersion
    from reports.models import EvaluationReport

    from detector.checkpoint import load_checkpoint

    job = run(start(project, user, base_model_id=data["base"].pk, mode="fixed:L2"))
    assert job.state == "succeeded", (job.error, job.log)
    assert job.progress == 1.0
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    assert mv.project == project and mv.parent == data["base"] and mv.transfer_mode == "fixed:L2"
    assert mv.kind == "target" and mv.created_by == user and mv.seed == 1
    expected = [{"song": s.pk, "revision": s.current_revision_id, "title": s.title} for s in data["songs"]["train"]]
    assert mv.training_revisions == expected
    assert [r["revision"] for r in mv.validation_revisions] == [s.current_revision_id for s in data["songs"]["validation"]]
    assert mv.hyperparameters["epochs"] == TINY_TRAINING["epochs"] and mv.hyperparameters["lr"] == 0.003
    assert mv.hyperparameters["frozen"] == ["L2"]
    counts = mv.hyperparameters["parameter_counts"]
    assert mv.trainable_parameters == counts["total"] - counts["L2"]
    assert set(mv.metrics["test"]) >= {"f1", "precision", "recall", "accuracy"}
    # The curve: one point per epoch with loss and validation F1, in the job result.
    assert [p["epoch"] for p in job.result["curve"]] == list(range(1, TINY_TRAINING["epochs"] + 1))
    assert all(p["loss"] > 0 and 0 <= p["val_f1"] <= 1 for p in job.result["curve"])
    # The checkpoint is where the row says, with the recorded hash, and loads.
    path = Path(default_storage.path(mv.checkpoint.name))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == mv.checkpoint_sha256
    bundle = load_checkpoint(path)
    assert bundle.metadata["kind"] == "target"
    assert bundle.metadata["manifest"]["training"] == expected
    assert bundle.postprocess.threshold == mv.hyperparameters["threshold"]
    # An evaluation report on the test split exists.
    report = EvaluationReport.objects.get(pk=job.result["report_id"])
    assert report.model_version == mv
    assert [s["song"] for s in report.songs] == [s.pk for s in data["songs"]["test"]]
    # Scratch space is gone.
    from jobs.training import workdir_for

    assert not workdir_for(job.pk).exists()


def test_two_training_jobs_write_different_files_and_both_models_load(project, user, data):
    from jobs.models import ModelVersion

    from detector.checkpoint import load_checkpoint

    a, b = start(project, user, base_model_id=data["base"].pk), start(project, user, base_model_id=data["base"].pk, seed=2)
    a, b = run(a), run(b)
    assert a.state == b.state == "succeeded", (a.error, b.error)
    ma, mb = ModelVersion.objects.get(pk=a.result["model_id"]), ModelVersion.objects.get(pk=b.result["model_id"])
    assert ma.checkpoint.name != mb.checkpoint.name
    assert ma.checkpoint_sha256 != mb.checkpoint_sha256
    for mv in (ma, mb):
        load_checkpoint(default_storage.path(mv.checkpoint.name))


def test_a_redelivered_job_does_nothing_the_second_time(project, user, data):
    from jobs.models import ModelVersion

    job = run(start(project, user, base_model_id=data["base"].pk))
    again = run(job)
    assert again.state == "succeeded" and again.attempts == 1
    assert ModelVersion.objects.filter(project=project, parent__isnull=False).count() == 1


def test_a_failure_after_the_checkpoint_is_written_registers_nothing_and_removes_the_file(project, user, data, monkeypatch):
    from jobs import training
    from jobs.models import ModelVersion

    def boom(self, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(training._TrainingRun, "_register", boom)
    job = run(start(project, user, base_model_id=data["base"].pk))
    assert job.state == "failed" and "database went away" in job.error
    assert not ModelVersion.objects.filter(project=project, parent__isnull=False).exists()
    assert not default_storage.exists(training.checkpoint_name(job))
    assert not training.workdir_for(job.pk).exists()


@pytest.mark.parametrize("margin, activated", [(-1.0, True), (1.0, False), (None, False)])
def test_auto_activation_follows_the_projects_margin(project, user, data, margin, activated):
    from jobs.models import ModelVersion

    project.auto_activate_margin = margin
    project.active_model = data["base"]
    project.save()
    job = run(start(project, user, base_model_id=data["base"].pk))
    assert job.state == "succeeded", job.error
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    project.refresh_from_db()
    assert (project.active_model_id == mv.pk) is activated
    assert mv.metrics["auto_activation"]["activate"] is activated
    assert job.result["activated"] is activated


def test_baseline_trains_from_scratch_and_has_no_parent(project, user, data):
    from jobs.models import ModelVersion

    job = run(start(project, user, base_model_id=data["base"].pk, mode="baseline"))
    assert job.state == "succeeded", job.error
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    assert mv.kind == "baseline" and mv.parent is None and mv.transfer_mode == "baseline"
