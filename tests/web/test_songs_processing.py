"""The process job: peaks, playable rendition, detection (model revision), failure handling; every
upload format becomes ready with the right duration through a real Celery worker."""

import gzip
import json
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import ActiveModelFactory
from jobs.models import Job, JobState, Prediction
from songs.models import Song
from songs_support import encode, media_files, wav_bytes

FORMATS = ["wav", "flac", "ogg", "opus", "mp3", "m4a", "aiff"]


def upload(client, project, name, data):
    r = client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile(name, data)})
    assert r.status_code == 201, r.content
    return r.json()


def run_job_here(job_id):
    """Run a job's handler in this process, as jobs.services.job_run does in the worker (job_run itself
    closes the connection, which a test transaction cannot survive)."""
    from jobs.handlers import handler_for
    from jobs.services import JobContext, _readable

    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING)
    try:
        result = handler_for(job.kind)(job=job, ctx=JobContext(job)) or {}
    except Exception as exc:  # noqa: BLE001
        Job.objects.filter(pk=job.pk).update(state=JobState.FAILED, error=_readable(exc))
    else:
        Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, message=result.pop("message", "Done"),
                                             result=result, progress=1.0)
    job.refresh_from_db()
    return job


def run_process_job(song_id):
    return run_job_here(Job.objects.filter(kind="process", params__song_id=song_id).latest("id").pk)


@pytest.mark.django_db
def test_processing_makes_peaks_a_prediction_and_a_model_revision(logged_in_client, project, settings):
    mv = ActiveModelFactory(project=project)
    body = upload(logged_in_client, project, "tone.wav", wav_bytes(4.0))
    job = run_process_job(body["id"])
    assert job.state == JobState.SUCCEEDED, job.error
    assert "tiny-target" in job.message
    song = Song.objects.get(pk=body["id"])
    assert song.status == "ready" and song.duration == pytest.approx(4.0, abs=1e-3)
    assert not song.playable.name  # WAV plays in the browser as is

    peaks = json.loads(gzip.decompress((Path(settings.MEDIA_ROOT) / song.peaks.name).read_bytes()))
    assert peaks["samples_per_peak"] == 80 and peaks["sample_rate"] == 16000
    assert peaks["length"] == 800 and len(peaks["data"]) == 1600  # 200 min/max pairs per second
    data = np.array(peaks["data"]).reshape(-1, 2)
    assert (data[:, 0] <= data[:, 1]).all() and data[:, 1].max() == pytest.approx(0.36, abs=0.08)
    # three decimals on the wire (no float32 noise like 0.12300000339746475): a 10-minute song's peaks stay small
    assert all(round(v, 3) == v for v in peaks["data"])
    assert len(json.dumps(peaks["data"], separators=(",", ":"))) <= 7 * len(peaks["data"])

    prediction = Prediction.objects.get(song=song, model_version=mv)
    probs = np.load(Path(settings.MEDIA_ROOT) / prediction.probabilities.name)
    assert probs.dtype == np.float16 and len(probs) == prediction.n_frames == 400
    assert prediction.segments[-1]["end"] == pytest.approx(4.0) and prediction.postprocess["median_s"] == 0.8
    rev = song.current_revision
    assert rev.origin == "model:tiny-target" and rev.segments == prediction.segments
    # The song's signature (detector.priority.signature of the features it just computed) is stored for
    # the order in which songs are corrected; the stored spectrogram reads back to the same features.
    from songs.services import song_signatures_ensure
    from songs.spectrogram import spectrogram_features

    with song.spectrogram.open("rb") as f:
        features = spectrogram_features(f)
    assert len(song.signature) == 2 * features.shape[1]
    np.testing.assert_allclose(song.signature[: features.shape[1]], features.mean(axis=0), atol=0.1)
    stored = list(song.signature)
    Song.objects.filter(pk=song.pk).update(signature=None)  # as a song processed before signatures existed
    song.refresh_from_db()
    again = song_signatures_ensure(songs=[song])[song.pk]
    np.testing.assert_allclose(again, stored, atol=0.1)
    song.refresh_from_db()
    assert song.signature == again  # kept

    r = logged_in_client.get(f"/api/songs/{song.pk}/")
    assert r.json()["model"]["name"] == "tiny-target" and r.json()["annotation"]["origin"] == "model:tiny-target"
    assert r.json()["vocal_share"] is not None


@pytest.mark.django_db
def test_without_any_model_the_song_is_ready_and_says_detection_was_skipped(logged_in_client, project, monkeypatch):
    from jobs import detection

    from detector.errors import NoDefaultModelError

    def no_model():
        raise NoDefaultModelError("none installed")

    monkeypatch.setattr(detection, "_default_checkpoint_path", no_model)
    body = upload(logged_in_client, project, "tone.wav", wav_bytes(2.0))
    job = run_process_job(body["id"])
    assert job.state == JobState.SUCCEEDED
    assert "skipped because no model is installed" in job.message
    song = Song.objects.get(pk=body["id"])
    assert song.status == "ready" and song.current_revision is None and song.peaks.name


@pytest.mark.django_db
def test_the_shipped_default_model_is_registered_once_and_used(logged_in_client, project, monkeypatch, tmp_path):
    from jobs import detection
    from jobs.models import ModelVersion

    from detector.checkpoint import save_checkpoint
    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNN

    path = save_checkpoint(tmp_path / "default.pt", model=CRNN(), feature_config=FeatureConfig(),
                           normalization=Normalization.identity(80), kind="source")
    monkeypatch.setattr(detection, "_default_checkpoint_path", lambda: path)
    first = detection.model_version_for_project(project)
    again = detection.model_version_for_project(project)
    assert first.pk == again.pk and first.project is None and first.kind == "source"
    assert ModelVersion.objects.filter(project=None).count() == 1
    body = upload(logged_in_client, project, "tone.wav", wav_bytes(2.0))
    assert run_process_job(body["id"]).state == JobState.SUCCEEDED
    assert Song.objects.get(pk=body["id"]).current_revision.origin == f"model:{first.name}"


@pytest.mark.django_db
def test_an_aiff_gets_a_flac_rendition_the_browser_can_play(logged_in_client, project, settings):
    import soundfile as sf

    body = upload(logged_in_client, project, "song.aiff", encode("aiff", 2.0))
    assert run_process_job(body["id"]).state == JobState.SUCCEEDED
    song = Song.objects.get(pk=body["id"])
    assert song.playable.name.endswith("playable.flac")
    info = sf.info(str(Path(settings.MEDIA_ROOT) / song.playable.name))
    assert info.format == "FLAC" and info.channels == 2 and abs(info.duration - 2.0) < 0.01
    r = logged_in_client.get(f"/api/songs/{song.pk}/audio")
    assert r["Content-Type"] == "audio/flac"
    r = logged_in_client.get(f"/api/songs/{song.pk}/original")
    assert r["Content-Type"] == "audio/aiff" and b"".join(r.streaming_content) == encode("aiff", 2.0)


@pytest.mark.django_db
def test_a_file_that_breaks_during_processing_fails_with_a_reason_and_leaves_no_half_made_files(
        logged_in_client, project, settings):
    ActiveModelFactory(project=project)
    body = upload(logged_in_client, project, "tone.flac", encode("flac", 6.0))
    song = Song.objects.get(pk=body["id"])
    original = Path(settings.MEDIA_ROOT) / song.original.name
    data = bytearray(original.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 3000] = b"\xff" * 3000  # corrupt the middle: the edges still decode
    original.write_bytes(bytes(data))
    job = run_process_job(song.pk)
    assert job.state == JobState.FAILED and job.error
    song.refresh_from_db()
    assert song.status == "failed" and "tone.flac" in song.error and str(settings.MEDIA_ROOT) not in song.error
    assert not song.peaks.name and not song.playable.name and not song.predictions.exists()
    assert [f.name for f in media_files(settings.MEDIA_ROOT) if "songs" in f.parts] == ["original.flac"]
    r = logged_in_client.get("/api/songs/", {"project": project.pk})
    assert r.json()["results"][0]["status"] == "failed" and r.json()["results"][0]["error"] == song.error


@pytest.mark.django_db
def test_a_dead_process_job_shows_the_song_as_failed_with_the_jobs_reason(logged_in_client, project):
    body = upload(logged_in_client, project, "tone.wav", wav_bytes(1.0))
    Job.objects.filter(kind="process").update(state=JobState.FAILED, error="The worker running this job stopped responding.")
    r = logged_in_client.get(f"/api/songs/{body['id']}/")
    assert r.json()["status"] == "failed" and "stopped responding" in r.json()["error"]


@pytest.mark.django_db
def test_a_detect_job_runs_over_the_selected_songs(logged_in_client, project):
    mv = ActiveModelFactory(project=project)
    ids = [upload(logged_in_client, project, f"s{i}.wav", wav_bytes(2.0, seed=i))["id"] for i in range(2)]
    for i in ids:
        run_process_job(i)
    Prediction.objects.all().delete()
    r = logged_in_client.post("/api/songs/bulk", {"ids": ids, "action": "detect"}, content_type="application/json")
    assert r.status_code == 202, r.content
    job = run_job_here(r.json()["job"]["id"])
    assert job.state == JobState.SUCCEEDED, job.error
    assert sorted(job.result["songs"]) == sorted(ids) and job.result["model_id"] == mv.pk
    assert Prediction.objects.filter(model_version=mv).count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_format_becomes_ready_with_the_right_duration_through_a_real_worker(
        celery_worker_process, logged_in_client, project, settings):
    ActiveModelFactory(project=project)
    expected = {}
    for i, fmt in enumerate(FORMATS):
        body = upload(logged_in_client, project, f"song-{fmt}.{fmt}", encode(fmt, 3.0, seed=i))
        expected[body["id"]] = fmt
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        states = dict(Song.objects.filter(pk__in=expected).values_list("pk", "status"))
        if all(s != "processing" for s in states.values()):
            break
        time.sleep(0.5)
    for song in Song.objects.filter(pk__in=expected):
        fmt = expected[song.pk]
        job = Job.objects.filter(kind="process", params__song_id=song.pk).get()
        assert song.status == "ready", (fmt, song.error, job.error, celery_worker_process.log())
        assert song.duration == pytest.approx(3.0, abs=0.06), fmt  # codec padding is at most a frame or two
        assert song.peaks.name and song.current_revision is not None, fmt
        assert bool(song.playable.name) == (fmt == "aiff"), fmt
        assert job.state == JobState.SUCCEEDED and job.progress == 1.0


@pytest.mark.django_db
def test_the_start_up_command_registers_the_shipped_model_once_and_a_get_then_lists_it(
        logged_in_client, project, monkeypatch, tmp_path):
    from django.core.management import call_command
    from jobs import detection
    from jobs.models import ModelVersion

    from detector.checkpoint import save_checkpoint
    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNN

    path = save_checkpoint(tmp_path / "default.pt", model=CRNN(), feature_config=FeatureConfig(),
                           normalization=Normalization.identity(80), kind="source")
    monkeypatch.setattr(detection, "_default_checkpoint_path", lambda: path)
    assert logged_in_client.get("/api/models/").status_code == 200
    assert not ModelVersion.objects.filter(project=None).exists()  # a GET registers nothing
    call_command("models_register_shipped")
    call_command("models_register_shipped")
    shipped = ModelVersion.objects.get(project=None)
    assert shipped.pk in [m["id"] for m in logged_in_client.get("/api/models/").json()["results"]]
    assert detection.model_version_for_project(project).pk == shipped.pk
