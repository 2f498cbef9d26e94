"""What members read about a failure -- a job's error and log, an import's per-song reasons -- is a
sentence: no Python traceback, no server or temporary path. Tracebacks go to the server log."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from audio_fixtures import sine, wav_bytes
from factories import JobFactory, SungSongFactory, member

# An absolute path with two or more parts (/var/lib/..., /tmp/singscope-import-x/...), or a traceback.
INTERNALS = re.compile(r"Traceback|File \"|(?<![\w.:/])/(?:[\w.+-]+/)+[\w.+-]*")


def _leaks(text: str) -> list[str]:
    return INTERNALS.findall(text or "")


def _wav(seconds: float = 2.0) -> bytes:
    return wav_bytes(sine(seconds, freq=16000 / (10 * np.pi), amplitude=0.2))


@pytest.mark.django_db(transaction=True)
def test_a_failed_detect_job_shows_sentences_to_an_annotator(project, user, make_user, client, settings):
    from accounts.models import Role
    from django.core.files.storage import default_storage
    from jobs.models import Job
    from jobs.services import job_create, job_run

    song = SungSongFactory(project=project, title="gone", created_by=user)
    default_storage.delete(song.original.name)  # the file vanished from storage: the job fails on it
    job = job_create(project=project, kind="detect", params={"song_ids": [song.pk], "model_id": None}, created_by=user)
    Job.objects.filter(pk=job.pk).update(state="queued")
    job_run(job_id=job.pk, worker="test")
    job.refresh_from_db()
    assert job.state == "failed"
    annotator = member(project, Role.ANNOTATOR, "anna")
    client.force_login(annotator)
    shown = client.get(f"/api/jobs/{job.pk}/").json()
    page = client.get(f"/projects/{project.pk}/jobs/{job.pk}/").content.decode()
    for text in (shown["error"], shown["log"], shown["message"], str(shown["result"])):
        assert not _leaks(text), _leaks(text)
    assert "Traceback" not in page and str(settings.MEDIA_ROOT) not in page and "original.wav" in page
    assert "gone" in shown["error"]  # still says which song failed


@pytest.mark.django_db
def test_import_failures_name_the_song_not_the_temporary_folder(project, user, isolated_media):
    from datasets import services
    from jobs.services import JobContext

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("set/good/audio.wav", _wav())
        zf.writestr("set/good/labels.lab", "0.5\t1.0\tsing\n")
        zf.writestr("set/broken_audio/audio.wav", b"RIFF" + b"\x00" * 100)
        zf.writestr("set/broken_audio/labels.lab", "0.5\t1.0\tsing\n")
        zf.writestr("set/bad_labels/audio.wav", _wav(1.5))
        zf.writestr("set/bad_labels/labels.lab", "this is not\ta label file\n")
        zf.writestr("set/bad_json/audio.wav", _wav(1.2))
        zf.writestr("set/bad_json/labels.json", '{"segments": [')
        zf.writestr("set/backwards/audio.wav", _wav(1.1))
        zf.writestr("set/backwards/labels.lab", "9.0\t1.0\tsing\n")
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    archive = default_storage.save(f"imports/{project.pk}/set.zip", ContentFile(buf.getvalue()))
    job = JobFactory(project=project, kind="import", params={"archive": archive, "state": "draft"},
                     created_by=user, state="running")
    result = services.import_handler(job=job, ctx=JobContext(job))
    job.refresh_from_db()
    assert len(result["created"]) == 1 and len(result["failed"]) >= 3, result
    texts = [f["reason"] for f in result["failed"]] + result["problems"] + [job.log]
    for text in texts:
        assert not _leaks(text), (text, _leaks(text))
        assert "singscope-import" not in text and "/tmp" not in text
    assert all(f["reason"].strip() for f in result["failed"])


def test_the_leak_detector_sees_what_it_must():
    assert _leaks('Traceback (most recent call last):\n  File "/work/x.py", line 3')
    assert _leaks("[Errno 2] No such file or directory: '/var/lib/singscope/media/projects/1/a.wav'")
    assert _leaks("/tmp/singscope-import-abc/set/x/labels.lab: line 1")
    assert not _leaks("labels.lab: line 1 is not start<TAB>end<TAB>label; see https://example.org/a/b")
    assert not _leaks("Song 3 (Hey / Jude): 4.0 s of 3.0 s")
