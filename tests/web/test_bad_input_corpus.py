"""A corpus of bad input through the HTTP API: broken audio files, broken annotation files, bad JSON
bodies, bad headers and bad query parameters. Every row is answered with its 4xx status and a JSON
{"error": <a sentence>, "code": <stable code>} whose sentence names the problem -- never a 500, never
a traceback, and nothing half-written (no Song row, no new revision, no job)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import songs_support as ss  # noqa: E402
from factories import ProjectFactory, SungSongFactory

pytestmark = pytest.mark.django_db

GOOD = [{"start": 0.0, "end": 1.0, "label": "vocal"}, {"start": 1.0, "end": 5.0, "label": "non-vocal"}]


def _put(segments, **extra):
    return {"method": "put", "url": "/api/songs/{song}/annotation", "json": {"segments": segments},
            "headers": {"If-Match": '"{rev}"'}, **extra}


def _upload(name: str, data: bytes, **fields):
    return {"method": "post", "url": "/api/songs/", "files": {"file": (name, data)},
            "data": {"project": "{project}", **fields}}


def _import(name: str, text: str | bytes):
    return {"method": "post", "url": "/api/songs/{song}/annotation",
            "files": {"file": (name, text.encode() if isinstance(text, str) else text)}}


def _job(body, *, raw: str | None = None):
    return {"method": "post", "url": "/api/jobs/", "json": body, "raw": raw}


# (id, request, expected status, fragment of the error sentence (case-insensitive))
CASES = [
    # --- audio files ---------------------------------------------------------------------------
    ("audio-empty-file", _upload("empty.wav", b""), 400, "empty"),
    ("audio-text-named-wav", _upload("notes.wav", b"hello, this is not audio\n" * 40), 400, "audio"),
    ("audio-png-image", _upload("cover.png", ss.png_bytes()), 400, "audio"),
    ("audio-truncated-header", _upload("cut.wav", ss.wav_bytes(1.0)[:30]), 400, "audio"),
    ("audio-random-bytes-mp3", _upload("noise.mp3", bytes(range(256)) * 64), 400, "audio"),
    ("audio-video-without-sound", _upload("clip.mp4", ss.video_without_audio()), 400, "audio"),
    ("audio-zero-channels", _upload("zero-ch.wav", ss.wav_zero_channels()), 400, "audio"),
    ("audio-zero-sample-rate", _upload("zero-sr.wav", ss.wav_zero_sample_rate()), 400, "sample rate"),
    ("audio-no-file-field", {"method": "post", "url": "/api/songs/", "data": {"project": "{project}"}}, 400, "file"),
    ("audio-no-project", {"method": "post", "url": "/api/songs/", "files": {"file": ("a.wav", ss.wav_bytes(1.0))}},
     400, "project"),
    ("audio-project-not-a-number", _upload("a.wav", ss.wav_bytes(1.0)) | {"data": {"project": "abc"}}, 400, "project"),
    ("audio-someone-elses-project", _upload("a.wav", ss.wav_bytes(1.0)) | {"data": {"project": "{other_project}"}},
     404, "not found"),
    ("audio-over-the-size-limit", _upload("big.wav", ss.wav_bytes(20.0)) | {"max_mb": 1}, 413, "MB"),
    # --- annotation JSON bodies -----------------------------------------------------------------
    ("put-not-json", _put(None) | {"json": None, "raw": "segments=0-1", "content_type": "text/plain"}, 415, ""),
    ("put-malformed-json", _put(None) | {"json": None, "raw": '{"segments": [', "content_type": "application/json"},
     400, "JSON"),
    ("put-segments-missing", _put(None) | {"json": {"segs": GOOD}}, 400, "segments"),
    ("put-segments-not-a-list", _put("0-1 vocal"), 400, "list"),
    ("put-empty-partition", _put([]), 400, "segment"),
    ("put-gap", _put([{"start": 0, "end": 1, "label": "vocal"}, {"start": 1.5, "end": 5, "label": "non-vocal"}]),
     400, "gap"),
    ("put-overlap", _put([{"start": 0, "end": 2, "label": "vocal"}, {"start": 1.5, "end": 5, "label": "non-vocal"}]),
     400, "overlap"),
    ("put-unknown-label", _put([{"start": 0, "end": 5, "label": "singing"}]), 400, "label"),
    ("put-beyond-duration", _put([{"start": 0, "end": 1, "label": "vocal"}, {"start": 1, "end": 9, "label": "non-vocal"}]),
     400, "duration"),
    ("put-start-after-end", _put([{"start": 0, "end": 3, "label": "vocal"}, {"start": 3, "end": 2, "label": "vocal"},
                                  {"start": 2, "end": 5, "label": "non-vocal"}]), 400, "end"),
    ("put-start-not-a-number", _put([{"start": "zero", "end": 5, "label": "vocal"}]), 400, "numeric"),
    ("put-nan-boundary", _put(None) | {"json": None, "content_type": "application/json",
                                        "raw": '{"segments": [{"start": 0, "end": NaN, "label": "vocal"}]}'}, 400, ""),
    ("put-without-if-match", _put(GOOD) | {"headers": {}}, 428, "If-Match"),
    ("put-stale-if-match", _put(GOOD) | {"headers": {"If-Match": '"{stale}"'}}, 409, "revision"),
    ("put-garbage-if-match", _put(GOOD) | {"headers": {"If-Match": '"not-a-revision"'}}, 409, "not a revision"),
    # --- annotation files -----------------------------------------------------------------------
    ("import-lab-garbage", _import("labels.lab", "this is not\ta label file at all\n"), 400, "line"),
    ("import-lab-end-before-start", _import("labels.lab", "2.0\t1.0\tsing\n"), 400, "end"),
    ("import-lab-beyond-duration", _import("labels.lab", "1.0\t60.0\tsing\n"), 400, "after the end of the song"),
    ("import-json-broken", _import("labels.json", '{"segments": [{"start": 0,'), 400, "JSON"),
    ("import-csv-bad-number", _import("labels.csv", "start,end,label\nzero,1,vocal\n"), 400, ""),
    ("import-textgrid-broken", _import("labels.TextGrid", "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\nxmin = abc\n"),
     400, ""),
    ("import-unknown-extension", _import("labels.docx", "PK\x03\x04 not a label file"), 400, "format"),
    ("import-binary-as-lab", _import("labels.lab", bytes(range(256))), 400, ""),
    ("import-no-file", {"method": "post", "url": "/api/songs/{song}/annotation", "data": {}}, 400, "file"),
    # --- jobs JSON bodies -----------------------------------------------------------------------
    ("job-unknown-kind", _job({"kind": "dance", "project": "{project}"}), 400, "kind"),
    ("job-missing-project", _job({"kind": "detect"}), 400, "project"),
    ("job-body-is-a-list", _job(None, raw='[1, 2, 3]'), 400, ""),
    ("job-malformed-json", _job(None, raw='{"kind": "train",'), 400, "JSON"),
    ("job-train-negative-epochs", _job({"kind": "train", "project": "{project}", "epochs": -3}), 400, "epochs"),
    ("job-train-epochs-not-a-number", _job({"kind": "train", "project": "{project}", "epochs": "many"}), 400, "epochs"),
    ("job-train-unknown-mode", _job({"kind": "train", "project": "{project}", "mode": "freeze:L9"}), 400, "mode"),
    # --- query parameters -----------------------------------------------------------------------
    ("query-songs-project-not-a-number", {"method": "get", "url": "/api/songs/?project=abc"}, 400, "project"),
    ("query-songs-unknown-status", {"method": "get", "url": "/api/songs/?status=dancing"}, 400, "status"),
    ("query-songs-ids-garbage", {"method": "get", "url": "/api/songs/?ids=1,two,3"}, 400, "ids"),
    ("query-prediction-model-not-a-number", {"method": "get", "url": "/api/songs/{song}/prediction?model=abc"}, 404,
     "not found"),
    ("query-prediction-unknown-model", {"method": "get", "url": "/api/songs/{song}/prediction?model=987654"}, 404, ""),
    ("query-export-unknown-format", {"method": "get", "url": "/api/songs/{song}/annotation.docx"}, 404, "format"),
    ("query-song-does-not-exist", {"method": "get", "url": "/api/songs/987654/"}, 404, "not found"),
    ("query-jobs-project-not-a-number", {"method": "get", "url": "/api/jobs/?project=abc"}, 400, "project"),
]


@pytest.fixture
def world(settings, isolated_media, project, user, make_user, logged_in_client):
    song = SungSongFactory(project=project, title="corpus song", created_by=user)
    from annotations.services import revision_create, revision_segments

    first = song.current_revision
    current = revision_create(song=song, segments=revision_segments(first), author=user, origin="human",
                              based_on=first)
    other = ProjectFactory(name="Someone else's", created_by=make_user("bob"))
    return {"song": song.pk, "rev": current.pk, "stale": first.pk, "project": project.pk,
            "other_project": other.pk}


def _fill(value, world):
    if isinstance(value, str):
        return value.format(**world) if "{" in value and "}" in value and not value.startswith("{\"") else value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


@pytest.mark.parametrize(("request_", "status", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_4xx_and_nothing_is_written(world, logged_in_client, settings, request_, status,
                                                            fragment):
    from annotations.models import AnnotationRevision
    from django.core.files.uploadedfile import SimpleUploadedFile
    from jobs.models import Job
    from songs.models import Song

    if "max_mb" in request_:
        settings.MAX_UPLOAD_MB = request_["max_mb"]
    before = (Song.objects.count(), AnnotationRevision.objects.count(), Job.objects.count())
    url = _fill(request_["url"], world)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": _fill(v, world) for k, v in request_.get("headers", {}).items()}
    client = logged_in_client
    method = getattr(client, request_["method"])
    if request_.get("files") is not None or request_.get("data") is not None:
        data = dict(_fill(request_.get("data") or {}, world))
        for field, (name, content) in (request_.get("files") or {}).items():
            data[field] = SimpleUploadedFile(name, content)
        response = method(url, data, **headers)
    elif request_.get("raw") is not None:
        response = method(url, request_["raw"], content_type=request_.get("content_type", "application/json"),
                          **headers)
    elif request_.get("json") is not None:
        response = method(url, json.dumps(_fill(request_["json"], world)), content_type="application/json", **headers)
    else:
        response = method(url, **headers)

    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"error", "code"}, body
    assert isinstance(body["error"], str) and body["error"].strip() and isinstance(body["code"], str) and body["code"]
    assert "Traceback" not in body["error"] and "File \"" not in body["error"]
    assert fragment.lower() in body["error"].lower(), body
    after = (Song.objects.count(), AnnotationRevision.objects.count(), Job.objects.count())
    assert after == before, "a refused request wrote something"


def test_the_corpus_has_at_least_thirty_distinct_cases():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
