"""The learning loop on the platform (issue 18): an admin imports a reference straight to verified,
activating a model brings the project's songs up to date by itself (one detect job: proposals where only
a model worked, predictions beside a person's work), the queue orders songs by what correcting them
teaches the model, and the editor's unsure regions come most uncertain first."""


import factory
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import (
    PredictionFactory,
    RevisionFactory,
    SungSongFactory,
    TinyModelFactory,
    member,
    sung_segments,
)

LAB = "1.000\t2.400\tsing\n3.100\t4.300\tsing\n"


class StoredPredictionFactory(PredictionFactory):
    """A stored prediction with exactly these frame probabilities (its segments: non-vocal throughout)."""

    segments = factory.LazyAttribute(lambda o: [{"start": 0.0, "end": float(o.song.duration), "label": "non-vocal"}])


# -- an admin imports a reference straight to verified ----------------------------------------------------


@pytest.mark.django_db
def test_an_admin_imports_a_reference_straight_to_verified_in_one_call(logged_in_client, project, user,
                                                                       django_capture_on_commit_callbacks):
    from annotations.models import AnnotationRevision
    from jobs.models import Job

    song = SungSongFactory(project=project, title="reference", verified=False)
    project.retrain_after_verified = 1
    project.save()
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in_client.post(f"/api/songs/{song.pk}/annotation",
                                  {"file": SimpleUploadedFile("ref.lab", LAB.encode()), "state": "verified"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "verified" and body["origin"] == "import:lab" and body["author"] == "ana"
    revisions = AnnotationRevision.objects.filter(song=song)
    assert revisions.count() == 1  # one call, one revision
    rev = revisions.get()
    assert rev.author == user and rev.reviewed_by == user and rev.segments_by == user
    assert [s["label"] for s in rev.segments] == ["non-vocal", "vocal", "non-vocal", "vocal", "non-vocal"]
    # A verified song counts for the retraining policy at once.
    assert Job.objects.filter(project=project, kind="train", params__trigger="retrain").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_only_admins_import_straight_to_verified_others_get_a_403_sentence(client, project, make_user, role):
    from annotations.models import AnnotationRevision

    song = SungSongFactory(project=project, title="reference", verified=False)
    client.force_login(member(project, role, role))
    r = client.post(f"/api/songs/{song.pk}/annotation",
                    {"file": SimpleUploadedFile("ref.lab", LAB.encode()), "state": "verified"})
    assert r.status_code == 403
    assert r.json()["code"] == "admin_required" and "admin" in r.json()["error"]
    assert not AnnotationRevision.objects.filter(song=song).exists()
    r = client.post(f"/api/songs/{song.pk}/annotation", {"file": SimpleUploadedFile("ref.lab", LAB.encode())})
    assert r.status_code == 201 and r.json()["state"] == "draft"  # a draft import is theirs to make


@pytest.mark.django_db
def test_an_unknown_import_state_is_a_400_sentence(logged_in_client, project):
    song = SungSongFactory(project=project, title="reference", verified=False)
    r = logged_in_client.post(f"/api/songs/{song.pk}/annotation",
                              {"file": SimpleUploadedFile("ref.lab", LAB.encode()), "state": "approved"})
    assert r.status_code == 400 and r.json()["code"] and "state" in r.json()["error"]


# -- activating a model closes the loop ---------------------------------------------------------------------


@pytest.mark.django_db
def test_activating_a_model_queues_one_detect_job_over_the_projects_songs(logged_in_client, project, user):
    from jobs.models import Job

    songs = [SungSongFactory(project=project, title=f"s{i}", verified=i == 0, seed=i) for i in range(3)]
    old, new = TinyModelFactory(project=project, name="old"), TinyModelFactory(project=project, name="new", weights_seed=1)
    project.active_model = old
    project.save()
    r = logged_in_client.post(f"/api/models/{new.pk}/activate", {}, content_type="application/json")
    assert r.status_code == 200, r.content
    job = Job.objects.get(pk=r.json()["redetect_job"]["id"])
    assert job.kind == "detect" and job.state == "queued" and job.created_by == user
    assert job.params == {"song_ids": sorted(s.pk for s in songs), "model_id": new.pk, "trigger": "activation",
                          "previous_model_id": old.pk}
    # Activating the model in use again changes nothing and queues nothing.
    r = logged_in_client.post(f"/api/models/{new.pk}/activate", {}, content_type="application/json")
    assert r.json()["redetect_job"] is None and Job.objects.filter(kind="detect").count() == 1
    # Another activation supersedes the queued re-detection: still one job waiting.
    r = logged_in_client.post(f"/projects/{project.pk}/models/{old.pk}/activate")
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.state == "cancelled"
    waiting = Job.objects.get(kind="detect", state="queued")
    assert waiting.params["model_id"] == old.pk and waiting.params["previous_model_id"] == new.pk


@pytest.mark.django_db(transaction=True)
def test_the_redetection_proposes_where_only_a_model_worked_and_keeps_human_work(logged_in_client, project, user,
                                                                                 monkeypatch):
    from jobs.detection import song_detect
    from jobs.models import Job, Prediction
    from jobs.services import job_run

    monkeypatch.setattr("jobs.services.job_enqueue", lambda **_: None)  # run here, not on a worker
    old, new = TinyModelFactory(project=project, name="old"), TinyModelFactory(project=project, name="new", weights_seed=3)
    model_only = SungSongFactory(project=project, title="model only", verified=False, seed=1)
    verified = SungSongFactory(project=project, title="verified by a person", verified=True, created_by=user, seed=2)
    edited = SungSongFactory(project=project, title="edited draft", verified=False, seed=3)
    untouched = SungSongFactory(project=project, title="never detected", verified=False, seed=4)
    for song in (model_only, verified, edited):
        song_detect(song=song, model_version=old)
    RevisionFactory(song=edited, segments=sung_segments(), author=user)
    for song in (verified, edited):
        song.refresh_from_db()
    human_revisions = {verified.pk: verified.current_revision_id, edited.pk: edited.current_revision_id}
    project.active_model = old
    project.save()

    r = logged_in_client.post(f"/api/models/{new.pk}/activate", {}, content_type="application/json")
    job = Job.objects.get(pk=r.json()["redetect_job"]["id"])
    job_run(job_id=job.pk, worker="test-process")
    job.refresh_from_db()
    assert job.state == "succeeded", (job.error, job.log)
    outcomes = {row["song"]: row["outcome"] for row in job.result["per_song"]}
    assert outcomes == {model_only.pk: "proposed", untouched.pk: "proposed",
                        verified.pk: "beside_human_work", edited.pk: "beside_human_work"}
    assert job.result["counts"] == {"proposed": 2, "beside_human_work": 2, "unchanged": 0}
    changed = {row["song"]: row["changed"] for row in job.result["per_song"]}
    assert changed[untouched.pk] is None and all(0 <= changed[s.pk] <= 1 for s in (model_only, verified, edited))
    for song in (model_only, untouched):
        song.refresh_from_db()
        assert song.current_revision.origin == "model:new"
    for song in (verified, edited):
        song.refresh_from_db()
        assert song.current_revision_id == human_revisions[song.pk]  # never a new revision over human work
        assert Prediction.objects.filter(song=song, model_version=new).exists()
    assert "kept a person's work" in job.message and "model only" in job.log

    # What the activation changed, most changed first, with the editor showing both models' curves.
    r = logged_in_client.get(f"/api/models/{new.pk}/changes")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["activated"] and body["previous"] == {"id": old.pk, "name": "old"}
    assert body["job"]["id"] == job.pk and body["job"]["state"] == "succeeded"
    rows = body["songs"]
    assert {row["song"] for row in rows} == {model_only.pk, verified.pk, edited.pk}
    assert [row["changed"] for row in rows] == sorted((row["changed"] for row in rows), reverse=True)
    assert rows[0]["editor"] == f"/projects/{project.pk}/songs/{rows[0]['song']}/?compare={old.pk}"
    page = logged_in_client.get(f"/projects/{project.pk}/jobs/{job.pk}/").content.decode()
    assert "What happened to each song" in page


@pytest.mark.django_db
def test_the_changes_of_a_model_never_activated_say_so(logged_in_client, project):
    model = TinyModelFactory(project=project, name="never active")
    r = logged_in_client.get(f"/api/models/{model.pk}/changes")
    assert r.status_code == 200 and r.json()["activated"] is False and r.json()["songs"] == []


# -- correct what matters first -------------------------------------------------------------------------------


@pytest.fixture
def queue(project, user):
    """Songs whose priority order differs from their title order (detector.priority, worked by hand):

    song    uncertainty  disagreement  novelty      priority
    b       0.04         0.96          1.0 (x0.5)   1.50
    c       0.70         0            0.67 (x0.5)   1.03
    a       1.00         0            0             1.00
    e       no prediction: after them; d (verified): last on the assignments page, not in the queue.
    """
    from jobs.registry import model_activate
    from songs.models import Song

    frames = 500
    songs = {name: SungSongFactory(project=project, title=name, verified=name == "d", created_by=user, seed=i)
             for i, name in enumerate("abcde")}
    previous, active = TinyModelFactory(project=project, name="previous"), TinyModelFactory(project=project, name="active", weights_seed=1)
    model_activate(project=project, model_version=previous, actor=user)
    model_activate(project=project, model_version=active, actor=user)
    StoredPredictionFactory(song=songs["a"], model_version=active, probabilities=np.full(frames, 0.5))
    StoredPredictionFactory(song=songs["b"], model_version=active, probabilities=np.full(frames, 0.02))
    StoredPredictionFactory(song=songs["c"], model_version=active, probabilities=np.full(frames, 0.35))
    StoredPredictionFactory(song=songs["b"], model_version=previous, probabilities=np.full(frames, 0.98))
    for name, sig in {"a": [0.0, 0.0], "b": [3.0, 0.0], "c": [1.0, 0.0], "d": [0.0, 0.0], "e": [5.0, 0.0]}.items():
        Song.objects.filter(pk=songs[name].pk).update(signature=sig)
    project.refresh_from_db()
    return songs


@pytest.mark.django_db
def test_the_project_queue_api_orders_songs_by_priority_with_its_three_parts(logged_in_client, project, queue):
    r = logged_in_client.get(f"/api/projects/{project.pk}/queue")
    assert r.status_code == 200, r.content
    rows = r.json()["results"]
    assert [row["title"] for row in rows] == ["b", "c", "a", "e"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]
    b, c, a, e = rows
    assert (b["uncertainty"], b["disagreement"], b["novelty"], b["priority"]) == pytest.approx((0.04, 0.96, 1.0, 1.5),
                                                                                              abs=2e-3)
    assert (c["uncertainty"], c["disagreement"], c["novelty"]) == pytest.approx((0.7, 0.0, 2 / 3), abs=2e-3)
    assert (a["uncertainty"], a["disagreement"], a["novelty"]) == pytest.approx((1.0, 0.0, 0.0), abs=2e-3)
    assert e["priority"] is None and a["model"] == "active"


@pytest.mark.django_db
def test_the_assignments_page_shows_songs_in_priority_order_with_the_parts(logged_in_client, project, queue):
    import re

    html = logged_in_client.get(f"/projects/{project.pk}/assignments/").content.decode()
    order = [int(i) for i in re.findall(r'<tr data-song="(\d+)"', html)]
    assert order == [queue[n].pk for n in "bcaed"]
    assert "uncertainty 0.04" in html and "disagreement 0.96" in html and "novelty 1.00" in html
    html = logged_in_client.get(f"/projects/{project.pk}/assignments/?order=title").content.decode()
    assert [int(i) for i in re.findall(r'<tr data-song="(\d+)"', html)] == [queue[n].pk for n in "abcde"]


@pytest.mark.django_db
def test_my_queue_puts_the_songs_that_teach_most_first(logged_in_client, project, user, queue):
    import re

    from songs.models import Song

    Song.objects.filter(project=project).update(assigned_to=user)
    body = logged_in_client.get("/api/me/queue").json()
    assert [s["title"] for s in body["to_annotate"]] == ["b", "c", "a", "e"]
    assert body["to_annotate"][0]["priority"]["disagreement"] == pytest.approx(0.96, abs=2e-3)
    html = logged_in_client.get("/my-queue/").content.decode()
    assert [int(i) for i in re.findall(r'<tr data-song="(\d+)"', html)] == [queue[n].pk for n in "bcae"]


@pytest.mark.django_db
def test_the_priority_pages_and_queue_api_compute_a_missing_signature_without_saving_it(
        logged_in_client, project, user, queue):
    """A song processed before signatures were stored: GETs compute its signature from the stored
    spectrogram and change no row; beat's housekeeping (and `manage.py jobs_housekeep`) stores it."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from jobs.tasks import housekeep
    from songs.models import Song
    from songs.spectrogram import spectrogram_bytes

    from detector.config import DEFAULT_FEATURES

    d = queue["d"]  # verified: its signature is read for every other song's novelty
    name = default_storage.save(f"test/{d.pk}/spectrogram.bin", ContentFile(
        spectrogram_bytes(np.zeros((300, DEFAULT_FEATURES.n_mels), np.float32), config=DEFAULT_FEATURES, duration=3.0)))
    Song.objects.filter(pk=d.pk).update(signature=None, spectrogram=name)
    Song.objects.filter(project=project).update(assigned_to=user)
    before = list(Song.objects.filter(project=project).order_by("id").values())
    for url in (f"/api/projects/{project.pk}/queue", f"/projects/{project.pk}/assignments/",
                f"/projects/{project.pk}/assignments/?order=title", "/api/me/queue", "/my-queue/"):
        assert logged_in_client.get(url).status_code == 200, url
    assert list(Song.objects.filter(project=project).order_by("id").values()) == before
    housekeep.apply()
    assert len(Song.objects.get(pk=d.pk).signature) == 2 * DEFAULT_FEATURES.n_mels


@pytest.mark.django_db
def test_the_editors_unsure_regions_come_most_uncertain_first(logged_in_client, project):
    song = SungSongFactory(project=project, title="unsure", verified=False)
    probs = np.full(500, 0.02)
    probs[50:100] = 0.60   # uncertainty 0.8
    probs[200:260] = 0.50  # 1.0
    probs[300:340] = 0.42  # 0.84
    probs[400:402] = 0.5   # too short to be a region
    StoredPredictionFactory(song=song, model_version=TinyModelFactory(project=project), probabilities=probs)
    r = logged_in_client.get(f"/api/songs/{song.pk}/prediction")
    regions = r.json()["unsure_regions"]
    assert [(x["start"], x["end"]) for x in regions] == [(2.0, 2.6), (3.0, 3.4), (0.5, 1.0)]
    assert [x["uncertainty"] for x in regions] == pytest.approx([1.0, 0.84, 0.8], abs=2e-3)
