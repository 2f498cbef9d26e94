"""Request bodies over the limits (DATA_UPLOAD_MAX_MEMORY_SIZE for JSON and form fields, MAX_UPLOAD_MB
for audio) get a 413 JSON error on /api/, in the API's error shape, like an upload over the limit --
never Django's HTML "Bad Request (400)" -- and nothing is written."""

import json

import pytest
from django.test import Client
from factories import SungSongFactory

LIMIT = 2000  # bytes: DATA_UPLOAD_MAX_MEMORY_SIZE for these tests


@pytest.fixture
def member(user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _big_json(key="description"):
    return json.dumps({"name": "x", key: "y" * (LIMIT * 3)})


CASES = [
    ("post", "/api/projects/", _big_json(), "application/json"),
    ("patch", "/api/projects/{project}/", _big_json(), "application/json"),
    ("post", "/api/jobs/", json.dumps({"kind": "detect", "project": 1, "song_ids": list(range(1, 2000))}),
     "application/json"),
    ("put", "/api/songs/{song}/annotation",
     json.dumps({"segments": [{"start": 0, "end": 5, "label": "vocal"}], "message": "m" * LIMIT * 3}),
     "application/json"),
    ("patch", "/api/songs/{song}/", _big_json("title"), "application/json"),
    ("post", "/api/songs/bulk", json.dumps({"action": "delete", "ids": list(range(1, 1500))}), "application/json"),
    ("post", "/api/projects/", "name=x&description=" + "y" * LIMIT * 3, "application/x-www-form-urlencoded"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "body", "content_type"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3].split('/')[1]}" for c in CASES])
def test_an_oversize_body_is_a_413_json_error(member, project, user, method, url, body, content_type):
    from accounts.models import Project
    from annotations.models import AnnotationRevision
    from jobs.models import Job

    song = SungSongFactory(project=project, title="s", created_by=user)
    url = url.format(project=project.pk, song=song.pk)
    before = (Project.objects.count(), AnnotationRevision.objects.count(), Job.objects.count())
    response = getattr(member, method)(url, body, content_type=content_type, HTTP_IF_MATCH="*")
    assert response.status_code == 413, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    doc = response.json()
    assert doc["code"] == "too_large" and "too large" in doc["error"].lower(), doc
    assert (Project.objects.count(), AnnotationRevision.objects.count(), Job.objects.count()) == before


@pytest.mark.django_db
def test_an_oversize_multipart_field_next_to_an_upload_is_a_413(member, project):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from songs.models import Song
    from songs_support import wav_bytes

    response = member.post("/api/songs/", {"project": project.pk, "title": "t" * LIMIT * 3,
                                           "file": SimpleUploadedFile("a.wav", wav_bytes(0.5))})
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not Song.objects.exists()


@pytest.mark.django_db
def test_an_oversize_annotation_import_field_is_a_413(member, project, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    song = SungSongFactory(project=project, title="s", created_by=user)
    response = member.post(f"/api/songs/{song.pk}/annotation", {"format": "f" * LIMIT * 3,
                                                                 "file": SimpleUploadedFile("a.lab", b"0\t1\tsing\n")})
    assert response.status_code == 413 and response.json()["code"] == "too_large"


@pytest.mark.django_db
def test_a_body_too_large_outside_drf_is_json_on_the_api(rf, settings):
    """handler400: what Django answers when a middleware trips over the limit first."""
    from common.errors import handler400
    from django.core.exceptions import RequestDataTooBig

    response = handler400(rf.post("/api/projects/"), RequestDataTooBig("too big"))
    assert response.status_code == 413 and json.loads(response.content)["code"] == "too_large"
    page = handler400(rf.post("/projects/new"), RequestDataTooBig("too big"))
    assert page.status_code == 400 and b"Bad Request" in page.content
