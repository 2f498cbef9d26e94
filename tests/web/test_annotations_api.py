"""The annotation API: current revision + ETag, saving with If-Match (428 / 409 / 400), history,
diff, export / import in every format, submit and review with roles, the model's prediction."""

import base64
import io
import json

import numpy as np
import pytest
from accounts.models import Role
from audio_fixtures import sine, wav_bytes
from factories import PredictionFactory, ProjectFactory, SongFactory, member

DURATION = 4.0
VOCAL_MIDDLE = [
    {"start": 0.0, "end": 1.0, "label": "non-vocal"},
    {"start": 1.0, "end": 3.0, "label": "vocal"},
    {"start": 3.0, "end": DURATION, "label": "non-vocal"},
]


def make_song(project, *, title="Test song", duration=DURATION, user=None):
    return SongFactory(project=project, title=title, duration=duration, created_by=user, original_name="song.wav",
                       audio=wav_bytes(sine(duration, freq=220.0, amplitude=0.2)))


@pytest.fixture
def song(project, user):
    return make_song(project, user=user)


@pytest.fixture
def api(logged_in_client):
    return logged_in_client


def url(song, suffix=""):
    return f"/api/songs/{song.pk}/annotation{suffix}"


def put(client, song, segments, etag, **extra):
    headers = {"If-Match": etag} if etag is not None else {}
    return client.put(url(song), data=json.dumps({"segments": segments, **extra}), content_type="application/json",
                      headers=headers)


@pytest.mark.django_db
class TestCurrentAnnotation:
    def test_a_song_without_revision_answers_one_non_vocal_segment_and_etag_none(self, api, song):
        r = api.get(url(song))
        assert r.status_code == 200
        assert r["ETag"] == '"none"'
        assert r.json()["number"] == 0
        assert r.json()["segments"] == [{"start": 0.0, "end": DURATION, "label": "non-vocal"}]

    def test_first_save_with_if_match_none_creates_revision_1(self, api, song, user):
        r = put(api, song, VOCAL_MIDDLE, '"none"')
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["number"] == 1 and body["origin"] == "human" and body["author"] == user.username
        assert body["state"] == "draft" and body["segments"] == VOCAL_MIDDLE
        assert r["ETag"] == f'"{body["id"]}"'
        got = api.get(url(song))
        assert got.json()["id"] == body["id"] and got["ETag"] == r["ETag"]

    def test_saving_on_top_of_the_current_revision_moves_it_forward(self, api, song):
        first = put(api, song, VOCAL_MIDDLE, '"none"')
        moved = [dict(s) for s in VOCAL_MIDDLE]
        moved[0]["end"] = moved[1]["start"] = 1.25
        r = put(api, song, moved, first["ETag"])
        assert r.status_code == 201 and r.json()["number"] == 2 and r.json()["parent"] == first.json()["id"]

    def test_saving_the_same_segments_again_creates_nothing(self, api, song):
        first = put(api, song, VOCAL_MIDDLE, '"none"')
        again = put(api, song, VOCAL_MIDDLE, first["ETag"])
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    def test_same_label_neighbours_are_joined_on_save(self, api, song):
        split = [{"start": 0.0, "end": 2.0, "label": "vocal"}, {"start": 2.0, "end": 4.0, "label": "vocal"}]
        r = put(api, song, split, '"none"')
        assert r.json()["segments"] == [{"start": 0.0, "end": 4.0, "label": "vocal"}]

    def test_put_without_if_match_is_428_and_saves_nothing(self, api, song):
        r = put(api, song, VOCAL_MIDDLE, None)
        assert r.status_code == 428
        assert r.json()["code"] == "precondition_required" and "If-Match" in r.json()["error"]
        song.refresh_from_db()
        assert song.current_revision is None

    def test_stale_if_match_is_409_with_who_saved_what_and_the_latest_revision(self, api, song, make_user, project):
        first = put(api, song, VOCAL_MIDDLE, '"none"')
        bob = member(project, Role.ANNOTATOR, "bob")
        from django.test import Client

        other = Client()
        other.force_login(bob)
        theirs = [dict(s) for s in VOCAL_MIDDLE]
        theirs[2]["start"] = theirs[1]["end"] = 2.5
        assert put(other, song, theirs, first["ETag"]).status_code == 201
        mine = [dict(s) for s in VOCAL_MIDDLE]
        mine[1]["label"] = "non-vocal"
        r = put(api, song, mine, first["ETag"])
        assert r.status_code == 409
        body = r.json()
        assert body["code"] == "revision_conflict"
        assert "bob" in body["error"] and "revision 2" in body["error"]
        assert body["latest"]["number"] == 2 and body["latest"]["author"] == "bob"
        assert body["latest"]["segments"][1]["end"] == 2.5
        song.refresh_from_db()
        assert song.current_revision.number == 2

    def test_if_match_none_on_a_song_with_a_revision_is_409(self, api, song):
        put(api, song, VOCAL_MIDDLE, '"none"')
        assert put(api, song, VOCAL_MIDDLE, '"none"').status_code == 409

    def test_if_match_of_another_songs_revision_is_409(self, api, song, project):
        other = make_song(project, title="Other")
        theirs = put(api, other, VOCAL_MIDDLE, '"none"')
        assert put(api, song, VOCAL_MIDDLE, theirs["ETag"]).status_code == 409

    def test_if_match_star_skips_the_check(self, api, song):
        put(api, song, VOCAL_MIDDLE, '"none"')
        r = put(api, song, [{"start": 0, "end": DURATION, "label": "vocal"}], "*")
        assert r.status_code == 201 and r.json()["number"] == 2

    @pytest.mark.parametrize("segments, words", [
        ([{"start": 0, "end": 1.0, "label": "vocal"}, {"start": 1.5, "end": DURATION, "label": "non-vocal"}], "gap"),
        ([{"start": 0, "end": 2.0, "label": "vocal"}, {"start": 1.5, "end": DURATION, "label": "non-vocal"}], "overlap"),
        ([{"start": 0, "end": 3.0, "label": "vocal"}], "duration"),
        ([{"start": 0, "end": DURATION, "label": "singing"}], "label"),
        ([{"start": 0, "end": DURATION}], "label"),
        ("vocal everywhere", "list"),
        ([], "no segments"),
    ])
    def test_invalid_segments_are_400_naming_the_problem(self, api, song, segments, words):
        r = put(api, song, segments, '"none"')
        assert r.status_code == 400, r.content
        assert words in r.json()["error"].lower()
        song.refresh_from_db()
        assert song.current_revision is None


@pytest.mark.django_db
class TestPermissions:
    def test_outsiders_get_404_everywhere(self, client, song, make_user):
        client.force_login(make_user("eve"))
        for path in ["", "/revisions", ".lab", "/diff?from=1", "/revisions/1"]:
            assert client.get(url(song, path)).status_code == 404, path
        assert put(client, song, VOCAL_MIDDLE, '"none"').status_code == 404
        assert client.post(url(song, "/submit")).status_code == 404
        assert client.post(url(song, "/review"), {"decision": "verify"}).status_code == 404
        assert client.get(f"/api/songs/{song.pk}/prediction").status_code == 404
        assert client.get(f"/projects/{song.project_id}/songs/{song.pk}/").status_code == 404

    def test_anonymous_requests_are_refused(self, client, song):
        assert client.get(url(song)).status_code in (401, 403)

    def test_missing_song_is_404_json(self, api):
        r = api.get("/api/songs/999999/annotation")
        assert r.status_code == 404 and r.json()["code"] == "not_found"

    def test_editor_page_of_a_song_in_another_project_url_is_404(self, api, song, user):
        other = ProjectFactory(name="Other", created_by=user)
        assert api.get(f"/projects/{other.pk}/songs/{song.pk}/").status_code == 404
        assert api.get(f"/projects/{song.project_id}/songs/{song.pk}/").status_code == 200


@pytest.mark.django_db
class TestHistoryAndDiff:
    def test_revisions_list_newest_first_and_detail(self, api, song):
        first = put(api, song, VOCAL_MIDDLE, '"none"').json()
        second = put(api, song, [{"start": 0, "end": DURATION, "label": "vocal"}], f'"{first["id"]}"').json()
        r = api.get(url(song, "/revisions"))
        assert r.status_code == 200
        assert [x["number"] for x in r.json()["results"]] == [2, 1]
        assert r.json()["current"] == second["id"]
        detail = api.get(url(song, f"/revisions/{first['id']}"))
        assert detail.json()["segments"] == VOCAL_MIDDLE

    def test_diff_counts_frames_and_moved_boundaries(self, api, song):
        first = put(api, song, VOCAL_MIDDLE, '"none"').json()
        moved = [{"start": 0, "end": 1.2, "label": "non-vocal"}, {"start": 1.2, "end": 3.0, "label": "vocal"},
                 {"start": 3.0, "end": DURATION, "label": "non-vocal"}]
        second = put(api, song, moved, f'"{first["id"]}"').json()
        r = api.get(url(song, f"/diff?from={first['id']}&to={second['id']}"))
        assert r.status_code == 200
        d = r.json()
        assert d["frames_changed"] == 20 and d["frames_to_non_vocal"] == 20 and d["frames_to_vocal"] == 0
        assert d["boundaries_moved"] == [{"from": 1.0, "to": 1.2, "delta": 0.2, "kind": "up"}]
        assert d["boundaries_added"] == [] and d["boundaries_removed"] == []
        assert d["spans"] == [{"start": 1.0, "end": 1.2, "to": "non-vocal"}]
        assert d["to"]["author"] == "ana"

    def test_diff_without_from_is_400(self, api, song):
        assert api.get(url(song, "/diff")).status_code == 400


def vocal_seconds(segments):
    return sum(s["end"] - s["start"] for s in segments if s["label"] == "vocal")


@pytest.mark.django_db
class TestExportImport:
    @pytest.mark.parametrize("fmt", ["lab", "csv", "json", "audacity", "jams", "textgrid", "rttm"])
    def test_every_format_exports_and_imports_back_to_the_same_partition(self, api, song, fmt):
        put(api, song, VOCAL_MIDDLE, '"none"')
        r = api.get(url(song, f".{fmt}"))
        assert r.status_code == 200, r.content
        assert "attachment" in r["Content-Disposition"] and "Test song" in r["Content-Disposition"]
        content = b"".join(r) if hasattr(r, "streaming_content") else r.content
        ext = {"audacity": "txt", "textgrid": "TextGrid"}.get(fmt, fmt)
        up = io.BytesIO(content)
        up.name = f"back.{ext}"
        imported = api.post(url(song), {"file": up}, format="multipart")
        assert imported.status_code == 201, imported.content
        body = imported.json()
        assert body["origin"] == f"import:{fmt}" and body["number"] == 2
        assert [(s["start"], s["end"], s["label"]) for s in body["segments"]] == [
            (s["start"], s["end"], s["label"]) for s in VOCAL_MIDDLE]

    def test_lab_export_is_jamendo_style(self, api, song):
        put(api, song, VOCAL_MIDDLE, '"none"')
        assert api.get(url(song, ".lab")).content.decode() == "1.000\t3.000\tsing\n"

    def test_export_file_name_is_safe(self, api, project):
        nasty = make_song(project, title='../../etc/pa"ss\r\nwd ÿ')
        r = api.get(url(nasty, ".csv"))
        cd = r["Content-Disposition"]
        assert "/" not in cd.split("filename", 1)[1].replace("filename*=utf-8''", "")
        assert "\n" not in cd and "\r" not in cd

    def test_unknown_export_format_is_404_json(self, api, song):
        r = api.get(url(song, ".mp3"))
        assert r.status_code == 404 and r.json()["code"] == "unknown_format"

    def test_import_with_explicit_format_field(self, api, song):
        up = io.BytesIO(b"0.5\t1.5\tsing\n")
        up.name = "labels.data"
        r = api.post(url(song), {"file": up, "format": "lab"}, format="multipart")
        assert r.status_code == 201 and vocal_seconds(r.json()["segments"]) == pytest.approx(1.0)

    def test_import_of_garbage_is_400_and_names_the_line(self, api, song):
        up = io.BytesIO(b"0.5\t1.5\tsing\nhello world\n")
        up.name = "labels.lab"
        r = api.post(url(song), {"file": up}, format="multipart")
        assert r.status_code == 400 and "line 2" in r.json()["error"]
        song.refresh_from_db()
        assert song.current_revision is None

    def test_import_of_unknown_extension_is_400(self, api, song):
        up = io.BytesIO(b"0.5\t1.5\tsing\n")
        up.name = "labels.xyz"
        r = api.post(url(song), {"file": up}, format="multipart")
        assert r.status_code == 400

    def test_import_with_stale_if_match_is_409(self, api, song):
        first = put(api, song, VOCAL_MIDDLE, '"none"')
        put(api, song, [{"start": 0, "end": DURATION, "label": "vocal"}], first["ETag"])
        up = io.BytesIO(b"0.5\t1.5\tsing\n")
        up.name = "labels.lab"
        r = api.post(url(song), {"file": up}, format="multipart", headers={"If-Match": first["ETag"]})
        assert r.status_code == 409


@pytest.mark.django_db
class TestReview:
    @pytest.fixture
    def annotator(self, make_user, project):
        u = member(project, Role.ANNOTATOR, "annie")
        return u

    @pytest.fixture
    def reviewer(self, make_user, project):
        u = member(project, Role.REVIEWER, "rita")
        return u

    def test_submit_then_verify_creates_revisions_with_the_same_segments(self, client, song, annotator, reviewer):
        client.force_login(annotator)
        put(client, song, VOCAL_MIDDLE, '"none"')
        r = client.post(url(song, "/submit"))
        assert r.status_code == 201 and r.json()["state"] == "submitted" and r.json()["segments"] == VOCAL_MIDDLE
        assert client.post(url(song, "/submit")).status_code == 400  # already submitted
        client.force_login(reviewer)
        v = client.post(url(song, "/review"), {"decision": "verify", "comment": "clean"}, content_type="application/json")
        assert v.status_code == 201, v.content
        assert v.json()["revision"]["state"] == "verified" and v.json()["revision"]["number"] == 3
        assert v.json()["revision"]["segments"] == VOCAL_MIDDLE and v.json()["comment"]["decision"] == "verified"

    def test_annotators_cannot_verify(self, client, song, annotator):
        client.force_login(annotator)
        put(client, song, VOCAL_MIDDLE, '"none"')
        client.post(url(song, "/submit"))
        r = client.post(url(song, "/review"), {"decision": "verify"}, content_type="application/json")
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
        song.refresh_from_db()
        assert song.current_revision.state == "submitted"

    def test_reject_needs_a_comment_and_can_pin_it_to_a_time(self, client, song, annotator, reviewer):
        client.force_login(annotator)
        put(client, song, VOCAL_MIDDLE, '"none"')
        client.post(url(song, "/submit"))
        client.force_login(reviewer)
        empty = client.post(url(song, "/review"), {"decision": "reject"}, content_type="application/json")
        assert empty.status_code == 400 and empty.json()["code"] == "comment_required"
        r = client.post(url(song, "/review"), {"decision": "reject", "comment": "breath at 2.1 s is not singing",
                                               "time": 2.1}, content_type="application/json")
        assert r.status_code == 201
        assert r.json()["revision"]["state"] == "draft" and r.json()["comment"]["time"] == 2.1
        history = client.get(url(song, "/revisions")).json()
        assert history["comments"][0]["text"] == "breath at 2.1 s is not singing"
        assert history["comments"][0]["revision_number"] == 2

    def test_a_comment_outside_the_song_is_400(self, client, song, reviewer):
        client.force_login(reviewer)
        put(client, song, VOCAL_MIDDLE, '"none"')
        r = client.post(url(song, "/review"), {"decision": "reject", "comment": "x", "time": 99},
                        content_type="application/json")
        assert r.status_code == 400

    def test_an_unknown_decision_is_400(self, client, song, reviewer):
        client.force_login(reviewer)
        put(client, song, VOCAL_MIDDLE, '"none"')
        r = client.post(url(song, "/review"), {"decision": "approve"}, content_type="application/json")
        assert r.status_code == 400

    def test_submit_without_revision_is_400(self, client, song, annotator):
        client.force_login(annotator)
        assert client.post(url(song, "/submit")).status_code == 400


@pytest.mark.django_db
class TestPrediction:
    @pytest.fixture
    def prediction(self, song):
        return PredictionFactory(song=song, model_version__project=None, model_version__name="tiny",
                                 model_version__kind="source", probabilities=np.linspace(0, 1, 400).astype(np.float16),
                                 postprocess={"threshold": 0.4, "median_seconds": 0.8},
                                 segments=[{"start": 0, "end": 1.6, "label": "non-vocal"},
                                           {"start": 1.6, "end": 4.0, "label": "vocal"}])

    def test_latest_prediction_as_base64_float16(self, api, song, prediction):
        r = api.get(f"/api/songs/{song.pk}/prediction")
        assert r.status_code == 200
        body = r.json()
        assert body["hop"] == 0.01 and body["threshold"] == 0.4 and body["n_frames"] == 400
        probs = np.frombuffer(base64.b64decode(body["probabilities"]), dtype="<f2")
        assert probs.shape == (400,) and probs[-1] == 1.0 and body["segments"][1]["label"] == "vocal"

    def test_prediction_as_list_and_by_model(self, api, song, prediction):
        r = api.get(f"/api/songs/{song.pk}/prediction?encoding=list&model={prediction.model_version_id}")
        assert len(r.json()["probabilities"]) == 400

    def test_no_prediction_is_404(self, api, song):
        assert api.get(f"/api/songs/{song.pk}/prediction").status_code == 404


@pytest.mark.django_db
class TestAssignment:
    """Annotators change only songs assigned to them or to nobody; reviewers change any song."""

    @pytest.fixture
    def annotator(self, project, make_user, client):
        bob = member(project, Role.ANNOTATOR, "bob")
        client.force_login(bob)
        return client

    def test_an_annotator_cannot_save_import_or_submit_a_song_assigned_to_someone_else(self, annotator, song, user):
        song.assigned_to = user
        song.save()
        r = put(annotator, song, VOCAL_MIDDLE, '"none"')
        assert r.status_code == 403
        assert "assigned to ana" in r.json()["error"]
        lab = io.BytesIO(b"1.000\t3.000\tsing\n")
        lab.name = "labels.lab"
        assert annotator.post(url(song), {"file": lab}).status_code == 403
        assert annotator.post(url(song, "/submit")).status_code == 403
        assert song.revisions.count() == 0

    def test_an_annotator_saves_songs_assigned_to_nobody_or_to_them(self, annotator, song, make_user):
        assert put(annotator, song, VOCAL_MIDDLE, '"none"').status_code == 201
        from django.contrib.auth import get_user_model

        song.refresh_from_db()
        song.assigned_to = get_user_model().objects.get(username="bob")
        song.save()
        r = put(annotator, song, VOCAL_MIDDLE[:1] + [{"start": 1.0, "end": DURATION, "label": "vocal"}],
                f'"{song.current_revision_id}"')
        assert r.status_code == 201
