"""Training jobs run in-process through the real job runtime (jobs.services.job_run): a tiny CRNN
trains on synthetic verified songs and is registered with its lineage, curve, checkpoint and report."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from factories import SungSongFactory, TinyModelFactory, songs_by_split
from jobs_support import TINY_TRAINING

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
    songs = songs_by_split(project, user)
    base = TinyModelFactory(project=project)
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
    development = [{"song": s.pk, "revision": s.current_revision_id, "title": s.title}
                   for s in data["songs"]["validation"]]
    test = [{"song": s.pk, "revision": s.current_revision_id, "title": s.title} for s in data["songs"]["test"]]
    assert mv.training_revisions == expected
    assert mv.validation_revisions == development  # the validation split: the development songs
    assert job.result["songs"] == {"train": expected, "development": development, "test": test,
                                   "development_from": "validation split"}
    # The recipe is detector.adapt's with the job's values over it.
    assert mv.hyperparameters["recipe"]["lr"] == 0.003 and mv.hyperparameters["recipe"]["mode"] == "fixed:L2"
    assert mv.hyperparameters["recipe"]["epochs"] == TINY_TRAINING["epochs"]
    assert mv.hyperparameters["frozen"] == ["L2"]
    counts = mv.hyperparameters["parameter_counts"]
    assert mv.trainable_parameters == counts["total"] - counts["L2"]
    # Development scores of the new and of the start (= active) model, test scores of both, the decision.
    for key in ("development", "development_start", "test", "test_active"):
        assert set(mv.metrics[key]) >= {"f1", "accuracy"}, key
    assert isinstance(mv.metrics["promote"], bool) and "development song" in mv.metrics["reason"]
    comparison = job.result["comparison"]
    assert comparison["development"]["songs"] == development and comparison["test"]["songs"] == test
    assert comparison["development"]["new"]["f1"] == mv.metrics["development"]["f1"]
    # The curve: one point per epoch with loss and the development songs' F1 and accuracy.
    assert [p["epoch"] for p in job.result["curve"]] == list(range(1, TINY_TRAINING["epochs"] + 1))
    assert all(p["loss"] > 0 and 0 <= p["val_f1"] <= 1 and 0 <= p["val_accuracy"] <= 1 for p in job.result["curve"])
    # The log says which songs did what.
    assert "trained on 2 songs: train song 1, train song 2" in job.log
    assert "development songs (chose the post-processing" in job.log and "validation song 1" in job.log
    assert "test songs (scored the new model and the active model" in job.log and "test song 1" in job.log
    # The checkpoint is where the row says, with the recorded hash, and loads.
    path = Path(default_storage.path(mv.checkpoint.name))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == mv.checkpoint_sha256
    bundle = load_checkpoint(path)
    assert bundle.metadata["kind"] == "target"
    assert bundle.metadata["manifest"]["training"] == expected
    assert bundle.metadata["manifest"]["development"] == development
    assert bundle.postprocess.to_dict() == mv.hyperparameters["postprocess"]
    # An evaluation report on the test split exists.
    report = EvaluationReport.objects.get(pk=job.result["report_id"])
    assert report.model_version == mv
    assert [s["song"] for s in report.songs] == [s.pk for s in data["songs"]["test"]]
    # Scratch space is gone.
    from jobs.training import workdir_for

    assert not workdir_for(job.pk).exists()


def test_without_development_songs_nothing_is_judged_on_training_songs_and_nothing_activates(project, user):
    """Two verified songs and no validation split: nothing can be held out, so no development figure
    (never one measured on the training songs) and no automatic activation, and the job says why."""
    from jobs.models import ModelVersion

    SungSongFactory(project=project, title="one", split="train", created_by=user, seed=1)
    SungSongFactory(project=project, title="two", split="unassigned", created_by=user, seed=2)  # no split: a training song too
    base = TinyModelFactory(project=project)
    project.active_model = base
    project.auto_activate_margin = -1.0
    project.save()
    job = run(start(project, user))
    assert job.state == "succeeded", (job.error, job.log)
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    assert [r["title"] for r in mv.training_revisions] == ["one", "two"] and mv.validation_revisions == []
    assert mv.metrics["development"] is None and mv.metrics["development_start"] is None
    assert all("val_f1" not in p for p in job.result["curve"]) and job.result["curve"]
    assert mv.metrics["promote"] is False and job.result["activated"] is False
    assert "no development song" in mv.metrics["auto_activation"]["reason"]
    assert "no development song" in job.message and "no development song" in job.log
    project.refresh_from_db()
    assert project.active_model_id == base.pk


def test_without_a_validation_split_development_songs_are_held_out_automatically(project, user):
    from jobs.models import ModelVersion

    songs = [SungSongFactory(project=project, title=f"song {i}", split="train" if i % 2 else "unassigned", created_by=user, seed=i)
             for i in range(1, 5)]
    SungSongFactory(project=project, title="not verified", split="train", created_by=user, seed=9, verified=False)
    base = TinyModelFactory(project=project)
    job = run(start(project, user, base_model_id=base.pk))
    assert job.state == "succeeded", (job.error, job.log)
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    trained = {r["song"] for r in mv.training_revisions}
    held_out = {r["song"] for r in mv.validation_revisions}
    assert len(held_out) == 1 and len(trained) == 3 and not trained & held_out
    assert trained | held_out == {s.pk for s in songs}  # the unverified song is never used
    assert job.result["songs"]["development_from"] == "held out automatically"
    assert "held out automatically" in job.log
    assert mv.metrics["development"] is not None and all("val_f1" in p for p in job.result["curve"])


def test_the_recipe_defaults_come_from_detector_adapt(project, user, data):
    from jobs.models import ModelVersion

    from detector.adapt import DEFAULT_RECIPE

    job = run(start(project, user, base_model_id=data["base"].pk, mode=None, lr=None, anchor=None))
    assert job.state == "succeeded", (job.error, job.log)
    recipe = ModelVersion.objects.get(pk=job.result["model_id"]).hyperparameters["recipe"]
    assert (recipe["mode"], recipe["lr"], recipe["anchor"], recipe["mono_prob"]) == (
        DEFAULT_RECIPE.mode, DEFAULT_RECIPE.lr, DEFAULT_RECIPE.anchor, DEFAULT_RECIPE.mono_prob)


def test_a_cancel_while_the_songs_are_read_stops_before_training(project, user, data, monkeypatch):
    """The songs' features are read one song at a time, and the job looks for a cancel between songs."""
    from jobs.models import Job, ModelVersion

    import detector.adapt
    import detector.material

    job = start(project, user, base_model_id=data["base"].pk)
    real = detector.material.pool_from_items
    read = []

    def read_one_then_cancel(*args, **kwargs):
        read.append(args)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(detector.material, "pool_from_items", read_one_then_cancel)
    monkeypatch.setattr(detector.adapt, "adapt", lambda **kw: pytest.fail("training started after the cancel"))
    job = run(job)
    assert job.state == "cancelled" and len(read) == 1
    assert not ModelVersion.objects.filter(project=project, parent=data["base"]).exists()


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


@pytest.mark.parametrize("margin, promote, activated", [
    (-1.0, True, True), (1.0, True, False), (None, True, False), (-1.0, False, False)])
def test_auto_activation_needs_adapts_promote_and_the_projects_margin(project, user, data, margin, promote, activated,
                                                                       monkeypatch):
    from jobs.models import Job, ModelVersion

    import detector.adapt

    real = detector.adapt.adapt

    def judged(**kwargs):
        result = real(**kwargs)
        result.promote = promote  # what the development songs said, fixed for the test
        return result

    monkeypatch.setattr(detector.adapt, "adapt", judged)
    project.auto_activate_margin = margin
    project.active_model = data["base"]
    project.save()
    job = run(start(project, user))
    assert job.state == "succeeded", job.error
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    project.refresh_from_db()
    assert (project.active_model_id == mv.pk) is activated
    assert mv.metrics["auto_activation"]["activate"] is activated
    assert job.result["activated"] is activated
    redetect = Job.objects.filter(project=project, kind="detect", params__trigger="activation")
    if activated:  # the loop closes: one detect job over the project's songs, with the new model
        assert redetect.count() == 1 and job.result["redetect_job"] == redetect.get().pk
        assert redetect.get().params["model_id"] == mv.pk and redetect.get().params["previous_model_id"] == data["base"].pk
        assert sorted(redetect.get().params["song_ids"]) == sorted(s.pk for split in data["songs"].values() for s in split)
    else:
        assert not redetect.exists() and job.result["redetect_job"] is None
        if margin is not None and not promote:
            assert "not better" in mv.metrics["auto_activation"]["reason"]


def test_baseline_trains_from_scratch_and_has_no_parent(project, user, data):
    from jobs.models import ModelVersion

    job = run(start(project, user, base_model_id=data["base"].pk, mode="baseline"))
    assert job.state == "succeeded", job.error
    mv = ModelVersion.objects.get(pk=job.result["model_id"])
    assert mv.kind == "baseline" and mv.parent is None and mv.transfer_mode == "baseline"
