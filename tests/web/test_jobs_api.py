"""The jobs and models API and pages, without a worker: validation, permissions, cancel / retry,
a dead worker's job shown failed by the API, the registry, the retraining trigger and the activation policy."""

from datetime import timedelta

import pytest
from django.utils import timezone
from factories import (
    JobFactory,
    ModelVersionFactory,
    ProjectFactory,
    RevisionFactory,
    SungSongFactory,
    TinyModelFactory,
    member,
    songs_by_split,
    sung_segments,
)
from jobs_support import TINY_TRAINING

pytestmark = pytest.mark.django_db


@pytest.fixture
def songs(project, user):
    return songs_by_split(project, user)


@pytest.fixture
def base(project):
    return TinyModelFactory(project=project)


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


# -- starting jobs --------------------------------------------------------------------------------


def test_post_train_job_is_202_queued_on_the_train_queue_with_complete_params(logged_in_client, project, songs, base):
    r = post(logged_in_client, "/api/jobs/", {"kind": "train", "project": project.pk, "base_model_id": base.pk,
                                              "mode": "fixed:L3", "epochs": 4, "lr": 0.01, "seed": 7})
    assert r.status_code == 202, r.json()
    body = r.json()
    assert body["kind"] == "train" and body["state"] == "queued" and body["created_by"] == "ana"
    from detector.adapt import DEFAULT_RECIPE

    # What was not sent is the recipe's (detector.adapt.DEFAULT_RECIPE; None = its own training budget).
    assert body["params"] == {"mode": "fixed:L3", "epochs": 4, "lr": 0.01, "seed": 7, "anchor": DEFAULT_RECIPE.anchor,
                              "steps_per_epoch": DEFAULT_RECIPE.steps, "batch_size": None, "crop_seconds": None,
                              "base_model_id": base.pk}
    from jobs.handlers import QUEUES

    assert QUEUES["train"] == "train"


@pytest.mark.parametrize("payload, code", [
    ({"mode": "freeze:L9"}, "invalid_mode"),
    ({"epochs": 0}, "invalid_parameter"),
    ({"epochs": "many"}, "invalid_parameter"),
    ({"lr": -1}, "invalid_parameter"),
    ({"seed": 1.5}, "invalid_parameter"),
    ({"anchor": -0.5}, "invalid_parameter"),
    ({"anchor": "strong"}, "invalid_parameter"),
    ({"base_model_id": 999999}, "unknown_model"),
])
def test_bad_training_parameters_are_400_with_a_sentence_and_queue_nothing(logged_in_client, project, songs, payload, code):
    from jobs.models import Job

    r = post(logged_in_client, "/api/jobs/", {"kind": "train", "project": project.pk, **payload})
    assert r.status_code == 400
    assert r.json()["code"] == code and len(r.json()["error"]) > 15
    assert not Job.objects.exists()


def test_training_without_verified_train_songs_is_refused(logged_in_client, project, user):
    SungSongFactory(project=project, title="unverified", split="train", verified=False, created_by=user)
    r = post(logged_in_client, "/api/jobs/", {"kind": "train", "project": project.pk})
    assert r.status_code == 400 and r.json()["code"] == "no_training_data"


def test_detect_job_for_a_selection_and_for_all_songs(logged_in_client, project, songs, base):
    ids = [songs["train"][0].pk, songs["test"][0].pk]
    r = post(logged_in_client, "/api/jobs/", {"kind": "detect", "project": project.pk, "song_ids": ids, "model_id": base.pk})
    assert r.status_code == 202 and r.json()["params"] == {"song_ids": sorted(ids), "model_id": base.pk}
    r = post(logged_in_client, "/api/jobs/", {"kind": "detect", "project": project.pk, "songs": "all"})
    assert r.status_code == 202 and len(r.json()["params"]["song_ids"]) == 4 and r.json()["params"]["model_id"] is None


def test_detect_rejects_songs_of_other_projects_and_unknown_kinds(logged_in_client, project, songs, make_user):
    other = ProjectFactory(name="other", created_by=make_user("bo"))
    foreign = SungSongFactory(project=other, title="foreign", verified=False)
    r = post(logged_in_client, "/api/jobs/", {"kind": "detect", "project": project.pk, "song_ids": [foreign.pk]})
    assert r.status_code == 400 and r.json()["code"] == "unknown_song"
    r = post(logged_in_client, "/api/jobs/", {"kind": "mine-bitcoin", "project": project.pk})
    assert r.status_code == 400 and r.json()["code"] == "invalid_kind"
    r = post(logged_in_client, "/api/jobs/", {"kind": "detect", "project": other.pk, "songs": "all"})
    assert r.status_code == 404


def test_evaluate_job_records_the_model(logged_in_client, project, songs, base):
    r = post(logged_in_client, "/api/jobs/", {"kind": "evaluate", "project": project.pk, "model": base.pk})
    assert r.status_code == 202 and r.json()["params"] == {"model": base.pk, "reference": "verified"}
    r = post(logged_in_client, "/api/jobs/", {"kind": "evaluate", "project": project.pk, "model": base.pk,
                                              "reference": "current"})
    assert r.json()["params"]["reference"] == "current"
    r = post(logged_in_client, "/api/jobs/", {"kind": "evaluate", "project": project.pk, "model": base.pk,
                                              "reference": "latest"})
    assert r.status_code == 400 and "reference must be 'verified' or 'current'" in r.json()["error"]


def test_roles_annotators_detect_but_cannot_train_outsiders_see_nothing(client, project, songs, base, make_user, user):
    from jobs.services import job_create

    annotator = member(project, "annotator")
    client.force_login(annotator)
    assert post(client, "/api/jobs/", {"kind": "detect", "project": project.pk, "songs": "all"}).status_code == 202
    r = post(client, "/api/jobs/", {"kind": "train", "project": project.pk})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    job = job_create(project=project, kind="train", params={}, created_by=user)
    assert post(client, f"/api/jobs/{job.pk}/cancel").status_code == 403
    client.force_login(make_user("outsider"))
    assert client.get(f"/api/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/api/jobs/?project={project.pk}").status_code == 404
    assert client.get("/api/jobs/").json()["results"] == []
    assert client.get(f"/api/models/{base.pk}/").status_code == 404
    assert client.get(f"/api/models/{base.pk}/checkpoint").status_code == 404
    assert client.get(f"/projects/{project.pk}/jobs/").status_code == 404
    assert client.get(f"/projects/{project.pk}/models/").status_code == 404


# -- cancel, retry, reaper --------------------------------------------------------------------------


def test_cancel_a_queued_job_at_once_and_a_finished_one_is_409(logged_in_client, project, user):
    from jobs.services import job_create

    job = job_create(project=project, kind="detect", params={"song_ids": []}, created_by=user)
    r = post(logged_in_client, f"/api/jobs/{job.pk}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    r = post(logged_in_client, f"/api/jobs/{job.pk}/cancel")
    assert r.status_code == 409 and r.json()["code"] == "job_finished"


def test_cancel_a_running_job_asks_it_to_stop(logged_in_client, project, user):
    from jobs.models import Job
    from jobs.services import job_create

    job = job_create(project=project, kind="train", params={}, created_by=user)
    Job.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now())
    r = post(logged_in_client, f"/api/jobs/{job.pk}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "running" and r.json()["cancel_requested"] is True
    assert r.json()["can_cancel"] is False


def test_retry_a_failed_job_makes_a_new_one_with_the_same_params(logged_in_client, project, user):
    from jobs.models import Job
    from jobs.services import job_create

    job = job_create(project=project, kind="detect", params={"song_ids": [1]}, created_by=user)
    assert post(logged_in_client, f"/api/jobs/{job.pk}/retry").status_code == 409
    Job.objects.filter(pk=job.pk).update(state="failed", error="boom")
    r = post(logged_in_client, f"/api/jobs/{job.pk}/retry")
    assert r.status_code == 202
    assert r.json()["retry_of"] == job.pk and r.json()["params"] == {"song_ids": [1]} and r.json()["state"] == "queued"


def test_the_api_fails_a_running_job_whose_worker_stopped_beating(logged_in_client, project, user, settings):
    from jobs.models import Job
    from jobs.services import job_create

    settings.JOB_STALE_SECONDS = 5
    job = job_create(project=project, kind="train", params={}, created_by=user)
    Job.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now() - timedelta(seconds=30))
    body = logged_in_client.get(f"/api/jobs/{job.pk}/").json()
    assert body["state"] == "failed" and body["message"] == "Worker lost"
    assert "stopped responding" in body["error"] and body["can_retry"] is True


def test_job_list_filters_and_paginates(logged_in_client, project, user):
    from jobs.services import job_create

    for kind in ("detect", "train", "detect"):
        job_create(project=project, kind=kind, params={}, created_by=user)
    body = logged_in_client.get(f"/api/jobs/?project={project.pk}&kind=detect").json()
    assert body["count"] == 2 and {j["kind"] for j in body["results"]} == {"detect"}
    assert "log" not in body["results"][0]
    assert logged_in_client.get(f"/api/jobs/?project={project.pk}&limit=1").json()["next"]


# -- registry -------------------------------------------------------------------------------------


def test_models_list_detail_checkpoint_download_and_activate(logged_in_client, project, base, make_user):
    from django.core.files.storage import default_storage

    body = logged_in_client.get(f"/api/models/?project={project.pk}").json()
    assert [m["id"] for m in body["results"]] == [base.pk] and body["results"][0]["active"] is False
    assert logged_in_client.get(f"/api/models/{base.pk}/").json()["checkpoint_sha256"] == base.checkpoint_sha256
    r = logged_in_client.get(f"/api/models/{base.pk}/checkpoint")
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    assert b"".join(r.streaming_content) == default_storage.open(base.checkpoint.name).read()
    reviewer = member(project, "reviewer")
    logged_in_client.force_login(reviewer)
    assert post(logged_in_client, f"/api/models/{base.pk}/activate").status_code == 403
    logged_in_client.force_login(project.created_by)
    r = post(logged_in_client, f"/api/models/{base.pk}/activate")
    assert r.status_code == 200 and r.json()["active"] is True
    project.refresh_from_db()
    assert project.active_model == base


def test_a_shipped_model_is_activated_per_project(logged_in_client, project):
    shipped = TinyModelFactory(project=None, name="shipped")
    assert post(logged_in_client, f"/api/models/{shipped.pk}/activate").status_code == 400
    r = post(logged_in_client, f"/api/models/{shipped.pk}/activate", {"project": project.pk})
    assert r.status_code == 200
    project.refresh_from_db()
    assert project.active_model == shipped


# -- pages ----------------------------------------------------------------------------------------


def test_pages_render_and_the_train_form_queues_a_job(logged_in_client, project, songs, base):
    from jobs.models import Job

    for url in ("jobs/", "models/", "jobs/train/new"):
        r = logged_in_client.get(f"/projects/{project.pk}/{url}")
        assert r.status_code == 200, url
    form = logged_in_client.get(f"/projects/{project.pk}/jobs/train/new").content.decode()
    assert "finetune:L1" in form and "2</strong> verified training songs" in form
    r = logged_in_client.post(f"/projects/{project.pk}/jobs/train/new", {**TINY_TRAINING, "base_model_id": base.pk})
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/projects/{project.pk}/jobs/{job.pk}/"
    page = logged_in_client.get(r["Location"]).content.decode()
    assert "Learning curve" in page and "job-data" in page
    r = logged_in_client.post(f"/projects/{project.pk}/jobs/train/new", {**TINY_TRAINING, "mode": "nope"})
    assert r.status_code == 400 and "is not a transfer mode" in r.content.decode()


def test_models_page_shows_lineage_data_metrics_and_the_active_model(logged_in_client, project, base, user):
    child = ModelVersionFactory(
        project=project, name="tuned on March", kind="target", parent=base, transfer_mode="finetune:L1",
        training_revisions=[{"song": 1, "revision": 11, "title": "Song A"}], validation_revisions=[],
        hyperparameters={"epochs": 5, "lr": 0.001, "threshold": 0.45}, seed=3, trainable_parameters=1234,
        metrics={"development": {"f1": 0.812}, "test": {"f1": 0.79}}, checkpoint=base.checkpoint.name, created_by=user)
    project.active_model = child
    project.save()
    page = logged_in_client.get(f"/projects/{project.pk}/models/").content.decode()
    assert "tiny source</span> → <span class=\"lin-mode\">finetune:L1" in page
    assert "0.812" in page and "0.790" in page and "1234" in page and "Song A" in page
    assert 'class="is-active"' in page and "active-name\">tuned on March" in page


# -- policies ----------------------------------------------------------------------------------------


def test_retrain_trigger_queues_one_job_after_n_new_verified_songs(project, user, songs, base):
    from jobs.models import Job
    from jobs.retrain import retrain_maybe_trigger, verified_since_last_model

    assert retrain_maybe_trigger(project=project) is None  # policy off
    project.retrain_after_verified = 4
    project.save()
    assert verified_since_last_model(project=project) == 3  # 2 train + 1 validation; the test song never counts
    assert retrain_maybe_trigger(project=project) is None  # 3 < 4
    SungSongFactory(project=project, title="third", split="train", created_by=user, seed=9)
    job = retrain_maybe_trigger(project=project)
    assert job is not None and job.kind == "train" and job.params["trigger"] == "retrain" and job.created_by is None
    assert retrain_maybe_trigger(project=project) is None  # one training job at a time
    Job.objects.filter(pk=job.pk).update(state="succeeded")
    from jobs.selectors import verified_revisions

    ModelVersionFactory(project=project, name="m", kind="target", checkpoint="x.pt", training_revisions=[
        {"song": s.pk, "revision": r.pk} for s, r in verified_revisions(project=project, split="train")],
        validation_revisions=[{"song": s.pk, "revision": r.pk}
                              for s, r in verified_revisions(project=project, split="validation")])
    assert verified_since_last_model(project=project) == 0
    assert retrain_maybe_trigger(project=project) is None


def test_the_policy_form_saves_and_triggers(logged_in_client, project, songs):
    from jobs.models import Job

    r = logged_in_client.post(f"/projects/{project.pk}/models/policy", {"retrain_after_verified": "2", "auto_activate_margin": "0.01"})
    assert r.status_code == 302
    project.refresh_from_db()
    assert project.retrain_after_verified == 2 and project.auto_activate_margin == 0.01
    assert Job.objects.filter(kind="train", params__trigger="retrain").count() == 1


@pytest.mark.parametrize("margin, promote, new, old, from_active, expected", [
    (None, True, 0.9, 0.1, True, False),     # policy off
    (0.02, True, 0.90, 0.87, True, True),    # better by the margin
    (0.02, True, 0.88, 0.87, True, False),   # better, not by the margin
    (-1.0, False, 0.95, 0.90, True, False),  # adapt said "not better": never, whatever the margin
    (0.0, True, 0.9, 0.8, False, False),     # started from another model than the active one
    (0.0, True, None, None, True, False),    # no development song judged it
])
def test_auto_activation_needs_promote_the_policy_and_development_songs(margin, promote, new, old, from_active,
                                                                          expected, project):
    from jobs.training import auto_activation_decision

    project.auto_activate_margin = margin
    decision = auto_activation_decision(
        project=project, promote=promote, reason="adapt's reason", started_from_active=from_active,
        development_new={"f1": new} if new is not None else None,
        development_start={"f1": old} if old is not None else None)
    assert decision["activate"] is expected and decision["reason"]
    if new is None and margin is not None:
        assert "no development song" in decision["reason"]


def test_verifying_the_song_that_completes_the_quota_queues_a_training_job(
        logged_in_client, project, user, songs, base, django_capture_on_commit_callbacks):
    from jobs.models import Job

    project.retrain_after_verified = 4  # 3 verified songs (train + validation) + the one verified here
    project.verifier_must_differ = False  # one user submits and verifies here; the review policy is not under test
    project.save()
    third = SungSongFactory(project=project, title="third", split="train", created_by=user, seed=9, verified=False)
    RevisionFactory(song=third, segments=sung_segments(), author=user, state="submitted")
    assert not Job.objects.filter(kind="train").exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = post(logged_in_client, f"/api/songs/{third.pk}/annotation/review", {"decision": "verify"})
    assert r.status_code == 201, r.content
    job = Job.objects.get(project=project, kind="train")
    assert job.params["trigger"] == "retrain"


def test_the_job_page_shows_parameters_as_people_read_them(logged_in_client, project, user):
    job = JobFactory(project=project, kind="train", created_by=user,
                     params={"mode": "finetune:full", "base_model_id": None, "epochs": 12, "lr": 0.0005,
                             "trigger": "retrain"})
    html = logged_in_client.get(f"/projects/{project.pk}/jobs/{job.pk}/").content.decode()
    params = html[html.index("<h2>Parameters</h2>"):html.index("<h2>Log</h2>")]
    assert "base_model_id" not in params and "None" not in params
    assert "Base model" in params and "the shipped default model at the time the job ran" in params
    assert "Transfer mode" in params and "finetune:full" in params and "Learning rate" in params
    assert "retraining policy" in params
