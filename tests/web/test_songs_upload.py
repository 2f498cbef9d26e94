"""POST /api/songs/: good uploads are stored byte-exact and queue a process job; bad ones get a 4xx
JSON error a person understands and leave no row and no file (in storage or the upload temp dir)."""

import hashlib
import json
from pathlib import Path

import pytest
from audio_fixtures import ffmpeg
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import ProjectFactory
from songs.models import Song
from songs_support import (
    encode,
    media_files,
    png_bytes,
    video_without_audio,
    wav_bytes,
    wav_header_claiming_hours,
    wav_zero_channels,
    wav_zero_sample_rate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_tmp(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


def post(client, project_, name, data, field="file", **extra):
    payload = {"project": project_.pk, field: SimpleUploadedFile(name, data, content_type="application/octet-stream")}
    payload.update(extra)
    return client.post("/api/songs/", payload)


def test_a_wav_upload_is_stored_byte_exact_and_queues_a_process_job(logged_in_client, project, settings):
    from jobs.models import Job

    data = wav_bytes(3.0)
    r = post(logged_in_client, project, "My Song.wav", data, title="", artist="Ana")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "processing" and body["title"] == "My Song" and body["artist"] == "Ana"
    assert body["duration"] == pytest.approx(3.0, abs=0.01)
    song = Song.objects.get(pk=body["id"])
    assert song.sha256 == hashlib.sha256(data).hexdigest()
    stored = Path(settings.MEDIA_ROOT) / song.original.name
    assert stored.read_bytes() == data
    assert song.original.name.endswith(f"{song.sha256}/original.wav")
    job = Job.objects.get(kind="process")
    assert job.params == {"song_id": song.pk} and job.project == project


def test_unicode_and_path_traversal_names_are_only_data(logged_in_client, project, settings):
    name = "../../../etc/Ünïcødé \"<img src=x onerror=alert(1)>\"\u202e.wav"
    r = post(logged_in_client, project, name, wav_bytes(1.0))
    assert r.status_code == 201, r.content
    song = Song.objects.get()
    assert "/" not in song.original_name and ".." not in song.original_name.split(".")[0]
    assert song.original_name == 'Ünïcødé "<img src=x onerror=alert(1)>".wav'
    assert song.original.name.startswith(f"projects/{project.pk}/songs/")
    files = media_files(settings.MEDIA_ROOT)
    assert [f.name for f in files] == ["original.wav"]
    # The list page escapes it (the JSON carries it as plain text; the page builds DOM with textContent).
    r = logged_in_client.get(f"/projects/{project.pk}/")
    assert r.status_code == 200 and b"onerror" not in r.content


def test_the_extension_comes_from_the_content_not_the_name(logged_in_client, project):
    r = post(logged_in_client, project, "actually-flac.mp3", encode("flac", 1.0))
    assert r.status_code == 201
    assert Song.objects.get().extension == ".flac"


def test_a_duplicate_is_refused_naming_the_existing_song(logged_in_client, project, settings):
    data = wav_bytes(1.0, seed=3)
    assert post(logged_in_client, project, "first.wav", data, title="Original take").status_code == 201
    before = media_files(settings.MEDIA_ROOT)
    r = post(logged_in_client, project, "copy.wav", data)
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate" and "Original take" in r.json()["error"]
    assert Song.objects.count() == 1 and media_files(settings.MEDIA_ROOT) == before


def test_the_same_file_in_another_project_is_fine(logged_in_client, project, user):
    other = ProjectFactory(name="Other", created_by=user)
    data = wav_bytes(1.0, seed=4)
    assert post(logged_in_client, project, "a.wav", data).status_code == 201
    assert post(logged_in_client, other, "a.wav", data).status_code == 201


BAD_FILES = {
    "empty": ("empty.wav", b"", 400, "empty"),
    "text renamed .mp3": ("notes.mp3", b"These are my lyrics, not audio.\n" * 200, 400, "not audio"),
    "truncated mp3": ("cut.mp3", None, 400, "truncated"),
    "truncated flac": ("cut.flac", None, 400, "not audio"),
    "truncated m4a": ("cut.m4a", None, 400, "not audio"),
    "wav header claiming hours": ("long.wav", None, 400, "header declares"),
    "zero-channel wav": ("zero.wav", None, 400, "no audio channels"),
    "zero sample rate wav": ("zerosr.wav", None, 400, "not audio"),
    "png renamed .wav": ("picture.wav", None, 400, "not audio"),
    "video without audio": ("clip.mp4", None, 400, "no audio stream"),
    "zip renamed .flac": ("archive.flac", b"PK\x03\x04" + b"\x00" * 4000, 400, "not audio"),
    "path traversal name with garbage": ("../../../../tmp/evil.wav", b"\x00\x01garbage" * 500, 400, "not audio"),
    "random bytes .ogg": ("noise.ogg", bytes(range(256)) * 64, 400, "not audio"),
    "html page .opus": ("page.opus", b"<!doctype html><html><body>hi</body></html>" * 50, 400, "not audio"),
}


def _bad_bytes(kind: str) -> bytes:
    if kind == "truncated mp3":
        data = encode("mp3", 6.0)
        return data[: len(data) // 3]
    if kind == "truncated flac":
        data = encode("flac", 6.0)
        return data[: len(data) // 3]
    if kind == "truncated m4a":
        data = encode("m4a", 6.0)
        return data[: len(data) // 2]
    return {
        "wav header claiming hours": wav_header_claiming_hours, "zero-channel wav": wav_zero_channels,
        "zero sample rate wav": wav_zero_sample_rate, "png renamed .wav": png_bytes,
        "video without audio": video_without_audio,
    }[kind]()


def assert_nothing_left(settings, upload_tmp):
    assert Song.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == []
    assert list(upload_tmp.iterdir()) == []


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_gets_a_readable_4xx_and_leaves_nothing(kind, logged_in_client, project, settings, upload_tmp):
    name, data, status, words = BAD_FILES[kind]
    data = data if data is not None else _bad_bytes(kind)
    r = post(logged_in_client, project, name, data)
    assert r.status_code == status, (kind, r.content)
    body = r.json()
    assert set(body) == {"error", "code"}
    assert words in body["error"], body
    assert "/tmp" not in body["error"] and "Traceback" not in body["error"]
    assert_nothing_left(settings, upload_tmp)


def test_a_file_over_max_upload_mb_is_refused_from_content_length_with_413(logged_in_client, project, settings,
                                                                         upload_tmp):
    settings.MAX_UPLOAD_MB = 1
    r = post(logged_in_client, project, "big.wav", wav_bytes(30.0))  # ~5 MB
    assert r.status_code == 413
    assert r.json()["code"] == "too_large" and "1 MB" in r.json()["error"]
    assert_nothing_left(settings, upload_tmp)


def test_a_file_just_over_the_limit_is_stopped_while_streaming(logged_in_client, project, settings, upload_tmp):
    settings.MAX_UPLOAD_MB = 1
    data = wav_bytes(1.0) + b"\x00" * (1024 * 1024)  # passes the Content-Length slack, not the streamed count
    data = data[: 1024 * 1024 + 10]
    r = post(logged_in_client, project, "edge.wav", data)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert_nothing_left(settings, upload_tmp)


def test_a_song_longer_than_max_audio_minutes_is_refused(logged_in_client, project, settings, upload_tmp):
    settings.MAX_AUDIO_MINUTES = 0.05  # 3 s
    r = post(logged_in_client, project, "long.wav", wav_bytes(5.0, sr=8000, channels=1))
    assert r.status_code == 400 and r.json()["code"] == "too_long"
    assert "at most 3 s" in r.json()["error"]
    assert_nothing_left(settings, upload_tmp)


def test_the_wrong_multipart_field_is_named_in_the_error(logged_in_client, project, settings, upload_tmp):
    r = post(logged_in_client, project, "song.wav", wav_bytes(1.0), field="audio")
    assert r.status_code == 400
    assert r.json()["code"] == "missing_file" and "'audio'" in r.json()["error"] and "'file'" in r.json()["error"]
    assert_nothing_left(settings, upload_tmp)


def test_a_json_body_instead_of_multipart_is_refused(logged_in_client, project, settings, upload_tmp):
    r = logged_in_client.post("/api/songs/", json.dumps({"project": project.pk, "file": "song.wav"}),
                              content_type="application/json")
    assert r.status_code == 415 and "error" in r.json()
    assert_nothing_left(settings, upload_tmp)


def test_two_files_in_one_request_are_refused(logged_in_client, project, settings, upload_tmp):
    r = logged_in_client.post("/api/songs/", {"project": project.pk, "file": [
        SimpleUploadedFile("a.wav", wav_bytes(1.0, seed=1)), SimpleUploadedFile("b.wav", wav_bytes(1.0, seed=2))]})
    assert r.status_code == 400 and r.json()["code"] == "too_many_files"
    assert_nothing_left(settings, upload_tmp)


def test_a_missing_or_bad_project_is_refused(logged_in_client, project, settings, upload_tmp):
    r = logged_in_client.post("/api/songs/", {"file": SimpleUploadedFile("a.wav", wav_bytes(1.0))})
    assert r.status_code == 400 and r.json()["code"] == "missing_project"
    r = post(logged_in_client, project, "a.wav", wav_bytes(1.0), project="seven")
    assert r.status_code == 400 and "whole number" in r.json()["error"]
    assert_nothing_left(settings, upload_tmp)


def test_an_outsider_cannot_upload_into_a_project(client, project, make_user, settings, upload_tmp):
    client.force_login(make_user("eve"))
    r = post(client, project, "a.wav", wav_bytes(1.0))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert_nothing_left(settings, upload_tmp)


def test_an_anonymous_upload_is_refused(client, project, settings, upload_tmp):
    r = post(client, project, "a.wav", wav_bytes(1.0))
    assert r.status_code in (401, 403) and "error" in r.json()
    assert_nothing_left(settings, upload_tmp)


def test_an_over_long_title_is_refused(logged_in_client, project, settings, upload_tmp):
    r = post(logged_in_client, project, "a.wav", wav_bytes(1.0), title="x" * 301)
    assert r.status_code == 400 and "300" in r.json()["error"]
    assert_nothing_left(settings, upload_tmp)


def _mp3_without_xing_with_cover_art(folder: Path, seconds: float = 6.0) -> bytes:
    """A constant-bitrate MP3 without a Xing/Info frame and with 1.6 MB of ID3v2 cover art: the
    header length guesses (libsndfile's, FFmpeg's) count the picture as audio."""
    (folder / "plain.mp3").write_bytes(encode("mp3", seconds))
    ffmpeg("-f", "lavfi", "-i", "nullsrc=s=1500x1500,geq=random(1)*255:128:128", "-frames:v", "1", "-q:v", "1",
           str(folder / "cover.jpg"))
    ffmpeg("-i", str(folder / "plain.mp3"), "-i", str(folder / "cover.jpg"), "-map", "0:a", "-map", "1", "-c", "copy",
           "-id3v2_version", "3", "-write_xing", "0", str(folder / "art.mp3"))
    return (folder / "art.mp3").read_bytes()


def test_an_mp3_with_cover_art_and_no_xing_frame_is_accepted_with_its_decoded_duration(
        logged_in_client, project, tmp_path):
    r = post(logged_in_client, project, "art.mp3", _mp3_without_xing_with_cover_art(tmp_path))
    assert r.status_code == 201, r.content
    assert r.json()["duration"] == pytest.approx(6.0, abs=0.1)


def test_bulk_import_accepts_the_same_mp3(project, user, tmp_path):
    from datasets import services

    song_dir = tmp_path / "collection" / "art"
    song_dir.mkdir(parents=True)
    (song_dir / "audio.mp3").write_bytes(_mp3_without_xing_with_cover_art(tmp_path))
    (song_dir / "labels.lab").write_text("1.000\t5.900\tsing\n")
    result = services.dataset_import(project=project, root=tmp_path / "collection", actor=user)
    assert result["failed"] == [] and [c["name"] for c in result["created"]] == ["art"]
    assert Song.objects.get().duration == pytest.approx(6.0, abs=0.1)
