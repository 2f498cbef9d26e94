"""Song API: list (search, sort, paginate), edit, delete with files, bulk actions, audio with HTTP
Range, peaks, original download, and permissions."""

import gzip
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import ActiveModelFactory, ModelVersionFactory, ProjectFactory, SungSongFactory, member
from jobs.models import Job
from songs.models import Song
from songs_support import encode, media_files, wav_bytes

pytestmark = pytest.mark.django_db


def upload(client, project, name, data, **extra):
    r = client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile(name, data), **extra})
    assert r.status_code == 201, r.content
    return Song.objects.get(pk=r.json()["id"])


@pytest.fixture
def song(logged_in_client, project):
    return upload(logged_in_client, project, "Früh & spät.wav", wav_bytes(2.0, seed=9))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_list_searches_sorts_and_paginates(logged_in_client, project):
    for i, (title, artist) in enumerate([("Blue", "Zed"), ("Amber", "Yan"), ("Crimson", "Xu")]):
        upload(logged_in_client, project, f"{title}.wav", wav_bytes(1.0 + i, seed=i), title=title, artist=artist)
    r = logged_in_client.get("/api/songs/", {"project": project.pk, "ordering": "title"})
    assert [s["title"] for s in r.json()["results"]] == ["Amber", "Blue", "Crimson"]
    assert r.json()["count"] == 3 and r.json()["processing"] == 3
    r = logged_in_client.get("/api/songs/", {"project": project.pk, "ordering": "-duration"})
    assert [s["title"] for s in r.json()["results"]] == ["Crimson", "Amber", "Blue"]
    r = logged_in_client.get("/api/songs/", {"project": project.pk, "search": "yan"})
    assert [s["title"] for s in r.json()["results"]] == ["Amber"]
    r = logged_in_client.get("/api/songs/", {"project": project.pk, "ordering": "artist", "limit": 2, "offset": 2})
    assert [s["title"] for s in r.json()["results"]] == ["Blue"] and r.json()["previous"]
    for param in ("status", "split", "ordering"):
        r = logged_in_client.get("/api/songs/", {"project": project.pk, param: "nonsense"})
        assert r.status_code == 400 and r.json()["error"].startswith(f"{param} must be one of"), param
    r = logged_in_client.get("/api/songs/", {"project": project.pk, "split": "unassigned"})
    assert r.json()["count"] == 3


def test_songs_of_other_projects_are_invisible(client, project, song, make_user):
    eve = make_user("eve")
    client.force_login(eve)
    assert client.get("/api/songs/").json()["count"] == 0
    assert client.get("/api/songs/", {"project": project.pk}).status_code == 404
    for url in ("", "audio", "peaks", "original"):
        r = client.get(f"/api/songs/{song.pk}/{url}")
        assert r.status_code == 404 and r.json()["code"] == "not_found", url
    assert client.patch(f"/api/songs/{song.pk}/", {"title": "x"}, content_type="application/json").status_code == 404
    assert client.delete(f"/api/songs/{song.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/").status_code == 404


def test_patch_edits_title_artist_and_split(logged_in_client, song):
    r = logged_in_client.patch(f"/api/songs/{song.pk}/", {"title": "New", "artist": "Ana", "split": "test"},
                               content_type="application/json")
    assert r.status_code == 200 and (r.json()["title"], r.json()["artist"], r.json()["split"]) == ("New", "Ana", "test")
    r = logged_in_client.patch(f"/api/songs/{song.pk}/", {"split": "holdout"}, content_type="application/json")
    assert r.status_code == 400 and "split must be one of" in r.json()["error"]
    r = logged_in_client.patch(f"/api/songs/{song.pk}/", {"title": ""}, content_type="application/json")
    assert r.status_code == 400


def test_an_annotator_may_edit_the_title_but_not_the_split_or_delete(client, project, song, make_user):
    bo = member(project, "annotator", "bo")
    client.force_login(bo)
    assert client.patch(f"/api/songs/{song.pk}/", {"title": "Mine"}, content_type="application/json").status_code == 200
    r = client.patch(f"/api/songs/{song.pk}/", {"split": "train"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert client.delete(f"/api/songs/{song.pk}/").status_code == 403


def test_delete_removes_the_row_and_every_file(logged_in_client, project, song, settings):
    from test_songs_processing import run_process_job

    ActiveModelFactory(project=project)
    run_process_job(song.pk)
    song.refresh_from_db()
    assert song.peaks.name and song.predictions.exists()
    made = sorted(f.name for f in media_files(settings.MEDIA_ROOT) if "songs" in f.parts)
    assert len(made) == 4 and "spectrogram.bin" in made  # original, peaks, spectrogram, npy
    assert logged_in_client.delete(f"/api/songs/{song.pk}/").status_code == 204
    assert not Song.objects.exists()
    assert [f for f in media_files(settings.MEDIA_ROOT) if "songs" in f.parts] == []


def test_audio_answers_range_requests_with_the_right_bytes(logged_in_client, song, settings):
    data = (Path(settings.MEDIA_ROOT) / song.original.name).read_bytes()
    size = len(data)
    url = f"/api/songs/{song.pk}/audio"
    r = logged_in_client.get(url)
    assert r.status_code == 200 and body_of(r) == data and r["Accept-Ranges"] == "bytes"
    assert r["Content-Type"] == "audio/wav" and int(r["Content-Length"]) == size
    cases = {"bytes=0-99": (0, 99), "bytes=1000-": (1000, size - 1), "bytes=-500": (size - 500, size - 1),
             f"bytes=100-{size + 999}": (100, size - 1), "bytes=44-44": (44, 44)}
    for header, (a, b) in cases.items():
        r = logged_in_client.get(url, HTTP_RANGE=header)
        assert r.status_code == 206, header
        assert r["Content-Range"] == f"bytes {a}-{b}/{size}", header
        assert body_of(r) == data[a : b + 1] and int(r["Content-Length"]) == b - a + 1, header
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        r = logged_in_client.get(url, HTTP_RANGE=header)
        assert r.status_code == 416 and r["Content-Range"] == f"bytes */{size}", header
        assert r.json()["code"] == "range_not_satisfiable"
    for header in ("bytes=5-2", "pages=1-2", "bytes=0-1,5-6"):  # ignored: the whole file
        r = logged_in_client.get(url, HTTP_RANGE=header)
        assert r.status_code == 200 and body_of(r) == data, header
    r = logged_in_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"')
    assert r.status_code == 200
    r = logged_in_client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=r["ETag"])
    assert r.status_code == 206
    r = logged_in_client.get(url, HTTP_ACCEPT="audio/webm,audio/ogg,audio/*;q=0.9")
    assert r.status_code == 200


def test_production_hands_the_bytes_to_the_web_server(logged_in_client, song, settings):
    settings.AUDIO_SENDFILE = "nginx"
    r = logged_in_client.get(f"/api/songs/{song.pk}/audio", HTTP_RANGE="bytes=0-9")
    assert r.status_code == 200 and r["X-Accel-Redirect"] == f"/protected-media/{song.original.name}"
    assert r.content == b""
    settings.AUDIO_SENDFILE = "apache"
    r = logged_in_client.get(f"/api/songs/{song.pk}/audio")
    assert r["X-Sendfile"] == str(Path(settings.MEDIA_ROOT) / song.original.name)


def test_the_original_downloads_byte_exact_with_its_name_safely_encoded(logged_in_client, song):
    r = logged_in_client.get(f"/api/songs/{song.pk}/original")
    assert r.status_code == 200 and body_of(r) == wav_bytes(2.0, seed=9)
    disposition = r["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''Fr%C3%BCh%20%26%20sp%C3%A4t.wav" in disposition


def test_peaks_are_served_as_json_and_gzipped_when_accepted(logged_in_client, project, song):
    from test_songs_processing import run_process_job

    r = logged_in_client.get(f"/api/songs/{song.pk}/peaks")
    assert r.status_code == 409 and r.json()["code"] == "not_ready"
    run_process_job(song.pk)
    r = logged_in_client.get(f"/api/songs/{song.pk}/peaks")
    doc = json.loads(r.content)
    assert doc["duration"] == pytest.approx(2.0) and doc["peaks_per_second"] == 200 and len(doc["data"]) == 800
    r = logged_in_client.get(f"/api/songs/{song.pk}/peaks", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert r["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(body_of(r))) == doc


def test_bulk_set_split_detect_and_delete(logged_in_client, project, settings):
    from test_songs_processing import run_process_job

    songs = [upload(logged_in_client, project, f"{i}.wav", wav_bytes(1.0, seed=20 + i)) for i in range(3)]
    ids = [s.pk for s in songs]
    r = logged_in_client.post("/api/songs/bulk", {"ids": ids, "action": "set_split", "split": "train"},
                              content_type="application/json")
    assert r.json() == {"updated": 3} and set(Song.objects.values_list("split", flat=True)) == {"train"}
    r = logged_in_client.post("/api/songs/bulk", {"ids": ids, "action": "detect"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "not_ready"
    run_process_job(ids[0])
    r = logged_in_client.post("/api/songs/bulk", {"ids": ids, "action": "detect"}, content_type="application/json")
    assert r.status_code == 202 and r.json()["job"]["params"] == {"song_ids": [ids[0]]}
    assert Job.objects.get(pk=r.json()["job"]["id"]).kind == "detect"
    r = logged_in_client.post("/api/songs/bulk", {"ids": [*ids, 999999], "action": "delete"},
                              content_type="application/json")
    assert r.status_code == 404 and Song.objects.count() == 3
    r = logged_in_client.post("/api/songs/bulk", {"ids": ids, "action": "delete"}, content_type="application/json")
    assert r.json() == {"deleted": 3} and not Song.objects.exists()
    assert [f for f in media_files(settings.MEDIA_ROOT) if "songs" in f.parts] == []


def test_bulk_detect_checks_the_model_as_post_jobs_does(logged_in_client, project, user, make_user):
    """Another project's model or a missing one: 400 unknown_model from both, and no job is queued."""

    song = SungSongFactory(project=project, title="ready", created_by=user)
    other = ProjectFactory(name="theirs", created_by=make_user("bo"))
    theirs = ModelVersionFactory(project=other, name="theirs", kind="target", checkpoint="m/t.pt")
    mine = ModelVersionFactory(project=project, name="mine", kind="target", checkpoint="m/m.pt")
    for model_id in (theirs.pk, 987654321):
        bulk = logged_in_client.post("/api/songs/bulk", {"ids": [song.pk], "action": "detect", "model_id": model_id},
                                     content_type="application/json")
        jobs = logged_in_client.post("/api/jobs/", {"kind": "detect", "project": project.pk, "song_ids": [song.pk],
                                                    "model_id": model_id}, content_type="application/json")
        assert (bulk.status_code, bulk.json()["code"]) == (jobs.status_code, jobs.json()["code"]) == (400, "unknown_model")
    assert not Job.objects.filter(kind="detect").exists()
    ok = logged_in_client.post("/api/songs/bulk", {"ids": [song.pk], "action": "detect", "model_id": mine.pk},
                               content_type="application/json")
    assert ok.status_code == 202 and ok.json()["job"]["params"] == {"song_ids": [song.pk], "model_id": mine.pk}


def test_the_song_list_page_is_the_projects_home(logged_in_client, project):
    r = logged_in_client.get(f"/projects/{project.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="dropzone"' in html and "js/songs.js" in html and f'data-project="{project.pk}"' in html
    assert 'id="bulk-delete"' in html  # the admin may delete


def test_m4a_original_and_audio_content_types(logged_in_client, project):
    song = upload(logged_in_client, project, "x.m4a", encode("m4a", 1.0))
    assert song.extension == ".m4a"
    assert logged_in_client.get(f"/api/songs/{song.pk}/audio")["Content-Type"] == "audio/mp4"


def test_audio_whose_file_vanished_from_storage_is_a_clear_404_not_a_crash(logged_in_client, song):
    from django.core.files.storage import default_storage

    default_storage.delete(song.original.name)
    for suffix in ("audio", "original"):
        response = logged_in_client.get(f"/api/songs/{song.pk}/{suffix}")
        assert response.status_code == 404
        assert response.json()["code"] == "file_missing"
        assert "missing from storage" in response.json()["error"]
