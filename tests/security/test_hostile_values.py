"""Hostile numbers, ids and structures from a signed-in member, through every kind of entry point
(JSON bodies, query strings, URL paths, headers, form posts). Each is answered with a 4xx (a JSON
{"error", "code"} on /api/), never a 500, and writes nothing. Ids must fit the database's signed
64-bit column; `1e400` is infinity to a JSON parser; `"²"` passes str.isdigit() but not int()."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from factories import ModelVersionFactory, ProjectFactory, SungSongFactory

BIG = "9" * 25  # a 25-digit id: past a signed 64-bit column
SUP2 = "²"
DEEP = "[" * 2000 + "]" * 2000
DEEP_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000
HUGE_RANGE = "bytes=" + "9" * 5000 + "-"


def _api(method, url, *, body=None, raw=None, headers=None):
    return {"method": method, "url": url, "body": body, "raw": raw, "headers": headers or {}}


API_CASES = [
    # JSON bodies
    ("jobs-project-1e400", _api("post", "/api/jobs/", raw='{"kind": "detect", "project": 1e400, "song_ids": "all"}')),
    ("jobs-project-sup2", _api("post", "/api/jobs/", body={"kind": "detect", "project": SUP2, "song_ids": "all"})),
    ("jobs-project-25-digits", _api("post", "/api/jobs/", raw='{"kind": "detect", "project": {big}}')),
    ("jobs-song-ids-1e400", _api("post", "/api/jobs/", raw='{"kind": "detect", "project": {project}, "song_ids": [1e400]}')),
    ("jobs-song-ids-25-digits", _api("post", "/api/jobs/", raw='{"kind": "detect", "project": {project}, "song_ids": [{big}]}')),
    ("jobs-song-ids-sup2", _api("post", "/api/jobs/", body={"kind": "detect", "project": "{project}", "song_ids": [SUP2]})),
    ("jobs-model-id-1e400", _api("post", "/api/jobs/", raw='{"kind": "detect", "project": {project}, "song_ids": [{song}], "model_id": 1e400}')),
    ("jobs-model-id-25-digits", _api("post", "/api/jobs/", raw='{"kind": "detect", "project": {project}, "song_ids": [{song}], "model_id": {big}}')),
    ("jobs-evaluate-model-sup2", _api("post", "/api/jobs/", body={"kind": "evaluate", "project": "{project}", "model_id": SUP2})),
    ("jobs-train-epochs-1e400", _api("post", "/api/jobs/", raw='{"kind": "train", "project": {project}, "epochs": 1e400}')),
    ("jobs-train-epochs--1e400", _api("post", "/api/jobs/", raw='{"kind": "train", "project": {project}, "epochs": -1e400}')),
    ("jobs-train-lr-400-digit-int", _api("post", "/api/jobs/", raw='{"kind": "train", "project": {project}, "lr": {digits400}}')),
    ("jobs-train-seed-25-digits", _api("post", "/api/jobs/", raw='{"kind": "train", "project": {project}, "seed": {big}}')),
    ("jobs-train-base-model-1e400", _api("post", "/api/jobs/", raw='{"kind": "train", "project": {project}, "base_model_id": 1e400}')),
    ("jobs-nested-2000-deep", _api("post", "/api/jobs/", raw=DEEP)),
    ("jobs-nested-object-2000-deep", _api("post", "/api/jobs/", raw=DEEP_OBJECT)),
    ("projects-nested-2000-deep", _api("post", "/api/projects/", raw=DEEP_OBJECT)),
    ("annotation-nested-2000-deep", _api("put", "/api/songs/{song}/annotation", raw='{"segments": {deep}}',
                                         headers={"If-Match": "*"})),
    ("bulk-ids-25-digits", _api("post", "/api/songs/bulk", raw='{"action": "delete", "ids": [{big}]}')),
    ("bulk-ids-1e400", _api("post", "/api/songs/bulk", raw='{"action": "delete", "ids": [1e400]}')),
    ("bulk-model-id-25-digits", _api("post", "/api/songs/bulk", raw='{"action": "detect", "ids": [{song}], "model_id": {big}}')),
    ("bulk-nested-2000-deep", _api("post", "/api/songs/bulk", raw=DEEP_OBJECT)),
    ("assign-user-sup2", _api("post", "/api/projects/{project}/assign", body={"song_ids": ["{song}"], "user": SUP2})),
    ("assign-user-25-digits", _api("post", "/api/projects/{project}/assign", body={"song_ids": ["{song}"], "user": BIG})),
    ("assign-song-ids-25-digits", _api("post", "/api/projects/{project}/assign", raw='{"song_ids": [{big}], "user": null}')),
    ("activate-project-1e400", _api("post", "/api/models/{model}/activate", raw='{"project": 1e400}')),
    ("project-patch-retrain-1e400", _api("patch", "/api/projects/{project}/", raw='{"retrain_after_verified": 1e400}')),
    ("project-patch-margin-1e400", _api("patch", "/api/projects/{project}/", raw='{"auto_activate_margin": 1e400}')),
    # query strings
    ("songs-ids-25-digits", _api("get", f"/api/songs/?ids={BIG}")),
    ("songs-ids-sup2", _api("get", f"/api/songs/?ids={SUP2}")),
    ("songs-project-25-digits", _api("get", f"/api/songs/?project={BIG}")),
    ("songs-limit-25-digits", _api("get", f"/api/songs/?limit={BIG}&offset={BIG}")),
    ("jobs-list-project-25-digits", _api("get", f"/api/jobs/?project={BIG}")),
    ("jobs-list-project-sup2", _api("get", f"/api/jobs/?project={SUP2}")),
    ("models-list-project-25-digits", _api("get", f"/api/models/?project={BIG}")),
    ("reports-list-project-25-digits", _api("get", f"/api/reports/?project={BIG}")),
    ("reports-list-project-sup2", _api("get", f"/api/reports/?project={SUP2}")),
    ("prediction-model-25-digits", _api("get", f"/api/songs/{{song}}/prediction?model={BIG}")),
    ("prediction-model-sup2", _api("get", f"/api/songs/{{song}}/prediction?model={SUP2}")),
    ("export-revision-25-digits", _api("get", f"/api/songs/{{song}}/annotation.lab?revision={BIG}")),
    ("diff-from-25-digits", _api("get", f"/api/songs/{{song}}/annotation/diff?from={BIG}&to={SUP2}")),
    ("project-export-bad-format", _api("get", "/api/projects/{project}/export?format=%00")),
    # URL paths
    ("member-25-digits", _api("get", f"/api/projects/{{project}}/members/{BIG}/")),
    ("member-patch-25-digits", _api("patch", f"/api/projects/{{project}}/members/{BIG}/", body={"role": "admin"})),
    ("song-25-digits", _api("get", f"/api/songs/{BIG}/")),
    ("job-25-digits", _api("get", f"/api/jobs/{BIG}/")),
    ("model-25-digits", _api("get", f"/api/models/{BIG}/")),
    ("report-25-digits", _api("get", f"/api/reports/{BIG}/")),
    ("revision-25-digits", _api("get", f"/api/songs/{{song}}/annotation/revisions/{BIG}")),
    ("project-25-digits", _api("get", f"/api/projects/{BIG}/")),
    # headers
    ("annotation-if-match-25-digits", _api("put", "/api/songs/{song}/annotation", body={"segments": []},
                                           headers={"If-Match": f'"{BIG}"'})),
]

# (Range header, expected status): a position past any file is "beyond the end", as RFC 9110 reads it.
RANGE_CASES = [
    ("start-5000-digits", HUGE_RANGE, 416),
    ("start-5000-zeros-then-1", "bytes=" + "0" * 5000 + "1-", 206),
    ("suffix-5000-digits", "bytes=-" + "9" * 5000, 206),
    ("end-5000-digits", "bytes=0-" + "9" * 5000, 206),
]

PAGE_CASES = [
    ("assignments-post-song-sup2", "post", "/projects/{project}/assignments/", {"songs": [SUP2], "user": ""}),
    ("assignments-post-song-25-digits", "post", "/projects/{project}/assignments/", {"songs": [BIG], "user": ""}),
    ("assignments-post-user-sup2", "post", "/projects/{project}/assignments/", {"songs": ["{song}"], "user": SUP2}),
    ("assignments-post-user-25-digits", "post", "/projects/{project}/assignments/", {"songs": ["{song}"], "user": BIG}),
    ("assignments-filter-sup2", "get", f"/projects/{{project}}/assignments/?assignee={SUP2}", None),
    ("assignments-filter-25-digits", "get", f"/projects/{{project}}/assignments/?assignee={BIG}", None),
    ("members-role-user-25-digits", "post", "/projects/{project}/members/", {"action": "role", "user": BIG, "role": "admin"}),
    ("members-remove-user-sup2", "post", "/projects/{project}/members/", {"action": "remove", "user": SUP2}),
    ("compare-ids-25-digits", "get", f"/projects/{{project}}/reports/compare?ids={BIG},{BIG}8", None),
    ("compare-plot-ids-25-digits", "get", f"/projects/{{project}}/reports/compare/plots/roc.svg?ids={BIG},{BIG}8", None),
    ("project-page-25-digits", "get", f"/projects/{BIG}/", None),
    ("song-page-25-digits", "get", f"/projects/{{project}}/songs/{BIG}/", None),
    ("job-page-25-digits", "get", f"/projects/{{project}}/jobs/{BIG}/", None),
    ("report-page-25-digits", "get", f"/projects/{{project}}/reports/{BIG}/", None),
    ("model-checkpoint-page-25-digits", "get", f"/projects/{{project}}/models/{BIG}/checkpoint", None),
    ("activate-model-page-25-digits", "post", f"/projects/{{project}}/models/{BIG}/activate", {}),
    ("detect-form-song-25-digits", "post", "/projects/{project}/jobs/detect", {"song_ids": [BIG]}),
    ("detect-form-model-sup2", "post", "/projects/{project}/jobs/detect", {"song_ids": ["{song}"], "model_id": SUP2}),
    ("train-form-epochs-1e400", "post", "/projects/{project}/jobs/train/new", {"mode": "finetune:L1", "epochs": "1e400"}),
    ("activity-page-25-digits", "get", f"/projects/{{project}}/activity/?page={BIG}", None),
]


@pytest.fixture
def world(project, user, make_user):
    song = SungSongFactory(project=project, title="hostile", created_by=user)
    model = ModelVersionFactory(project=project, name="m", kind="target", checkpoint="m/x.pt")
    ProjectFactory(name="Bob's", created_by=make_user("bob"))
    return {"project": project.pk, "song": song.pk, "model": model.pk, "big": BIG, "deep": DEEP, "digits400": "9" * 400}


def _fill(value, world):
    if isinstance(value, str):
        for key, v in world.items():
            value = value.replace("{" + key + "}", str(v))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _state():
    from annotations.models import AnnotationRevision
    from jobs.models import Job
    from songs.models import Song

    return Song.objects.count(), AnnotationRevision.objects.count(), Job.objects.count()


@pytest.fixture
def member(user):
    client = Client(raise_request_exception=False)  # a 500 is a finding, not a crash of the test
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("case", [c[1] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_a_hostile_api_value_gets_a_json_4xx_and_writes_nothing(world, member, case):
    before = _state()
    url = _fill(case["url"], world)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in case["headers"].items()}
    method = getattr(member, case["method"])
    if case["raw"] is not None:
        response = method(url, _fill(case["raw"], world), content_type="application/json", **headers)
    elif case["body"] is not None:
        response = method(url, json.dumps(_fill(case["body"], world)), content_type="application/json", **headers)
    else:
        response = method(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    assert response["Content-Type"].startswith("application/json"), (response["Content-Type"], body[:300])
    doc = json.loads(body)
    assert isinstance(doc.get("error"), str) and doc["error"].strip() and isinstance(doc.get("code"), str), doc
    assert "Traceback" not in doc["error"] and len(doc["error"]) < 600, doc
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["audio", "original"])
@pytest.mark.parametrize(("header", "status"), [c[1:] for c in RANGE_CASES], ids=[c[0] for c in RANGE_CASES])
def test_a_range_with_thousands_of_digits_is_a_range_not_a_500(world, member, path, header, status):
    from songs.models import Song

    size = Song.objects.get(pk=world["song"]).size_bytes
    response = member.get(f"/api/songs/{world['song']}/{path}", HTTP_RANGE=header)
    assert response.status_code == status
    if status == 416:
        assert response["Content-Range"] == f"bytes */{size}" and response.json()["code"] == "range_not_satisfiable"
    else:
        body = b"".join(response.streaming_content)
        start = 1 if "1-" in header else 0
        assert response["Content-Range"] == f"bytes {start}-{size - 1}/{size}" and len(body) == size - start


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "data"), [c[1:] for c in PAGE_CASES], ids=[c[0] for c in PAGE_CASES])
def test_a_hostile_page_value_gets_an_answer_not_a_500(world, member, method, url, data):
    before = _state()
    url = _fill(url, world)
    response = member.post(url, _fill(data, world)) if method == "post" else member.get(url)
    # A page answers with itself (200 + a message), a redirect to itself, or a 4xx page.
    assert response.status_code in (200, 302) or 400 <= response.status_code < 500, response.status_code
    assert _state() == before
