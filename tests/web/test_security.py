"""Security: nobody learns anything about another project's objects through any page or endpoint
(a sweep over Django's URL resolver), an annotator cannot verify, user text is escaped, every form
carries a CSRF token, production settings pass `check --deploy`."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from accounts.models import Membership, Role
from accounts.services import activity_record
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from factories import (
    JobFactory,
    MembershipFactory,
    ModelVersionFactory,
    ProjectFactory,
    ReportFactory,
    SongFactory,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET_TITLE = "Nightingale-7Q"
SECRET_PROJECT = "Alpha-Secret-Project"
SECRET_ARTIST = "Zephyrine-Artist"
INJECTION = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
ID_KWARGS = {"project_id", "song_id", "job_id", "model_id", "report_id", "revision_id", "user_id"}


pytestmark = pytest.mark.usefixtures("fast_passwords")


def _routes() -> list[tuple[str, str]]:
    found = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                found.append((route, p.name or ""))

    walk(get_resolver().url_patterns, "")
    return [(r, n) for r, n in found if not r.startswith("admin/") and ID_KWARGS & set(re.findall(r"<(?:\w+:)?(\w+)>", r))]


def _song(project, user, title: str, artist: str = ""):
    return SongFactory(project=project, title=title, artist=artist, created_by=user,
                       revision=[(0, 4, "non-vocal"), (4, 10, "vocal")], revision__state="submitted")


def _world(make_user):
    """Project A (alice's, with a song, revision, job, model, report) and mallory's own project B."""
    alice, mallory = make_user("alice"), make_user("mallory")
    a = ProjectFactory(name=SECRET_PROJECT, created_by=alice)
    b = ProjectFactory(name="Mallory's", created_by=mallory)
    song = _song(a, alice, SECRET_TITLE, artist=SECRET_ARTIST)
    _song(b, mallory, "Mallory song")
    model = ModelVersionFactory(project=a, name=f"{SECRET_TITLE}-model")
    job = JobFactory(project=a, kind="detect", params={"song_ids": [song.pk]}, message=f"detecting {SECRET_TITLE}")
    report = ReportFactory(model_version=model, name=f"{SECRET_TITLE} report",
                           songs=[{"song": song.pk, "revision": song.current_revision_id, "title": SECRET_TITLE}],
                           per_song=[{"song": song.pk, "title": SECRET_TITLE}])
    activity_record(project=a, actor=alice, verb="song.uploaded", summary=f"uploaded {SECRET_TITLE}")
    return {"alice": alice, "mallory": mallory, "a": a, "b": b, "song": song, "model": model, "job": job,
            "report": report}


def _fill(route: str, w, *, project) -> str:
    values = {"project_id": project.pk, "song_id": w["song"].pk, "job_id": w["job"].pk, "model_id": w["model"].pk,
              "report_id": w["report"].pk, "revision_id": w["song"].current_revision_id, "user_id": w["alice"].pk,
              "fmt": "lab", "name": "roc"}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def _snapshot(w) -> dict:
    from annotations.models import AnnotationRevision
    from jobs.models import Job
    from songs.models import Song

    song = Song.objects.filter(pk=w["song"].pk).values("title", "split", "assigned_to", "current_revision").first()
    return {"song": song, "revisions": AnnotationRevision.objects.filter(song_id=w["song"].pk).count(),
            "members": sorted(Membership.objects.filter(project=w["a"]).values_list("user_id", "role")),
            "job": Job.objects.filter(pk=w["job"].pk).values("state", "cancel_requested").first(),
            "project": list(type(w["a"]).objects.filter(pk=w["a"].pk).values("name", "active_model"))}


METHODS = ("get", "post", "put", "patch", "delete")


@pytest.mark.django_db
def test_every_id_route_refuses_a_member_of_another_project_and_leaks_nothing(make_user):
    w = _world(make_user)
    before = _snapshot(w)
    client = Client(raise_request_exception=False)  # a 500 is a failure to report, not a crash of the sweep
    client.force_login(w["mallory"])
    routes = _routes()
    assert len(routes) >= 40, routes  # songs, annotations, jobs, models, reports, accounts, datasets
    failures, requests = [], 0
    # With project A's id, and with mallory's own project B around A's object ids (ids mixed across projects).
    for route, name in routes:
        for project in (w["a"], w["b"]):
            if project is w["b"] and "project_id" not in route:
                continue
            if project is w["b"] and not (ID_KWARGS - {"project_id", "user_id"}) & set(re.findall(r"<(?:\w+:)?(\w+)>", route)):
                continue  # only B's own resources: mallory may see those
            url = _fill(route, w, project=project)
            for method in METHODS:
                requests += 1
                response = getattr(client, method)(url, data=json.dumps({"decision": "verify", "role": "admin"}),
                                                   content_type="application/json") if method != "get" else client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                text = body.decode(errors="replace")
                leaked = [s for s in (SECRET_TITLE, SECRET_PROJECT, SECRET_ARTIST) if s in text]
                if response.status_code not in (403, 404, 405) or leaked:
                    failures.append(f"{method.upper()} {url} ({name}) -> {response.status_code} {leaked} {text[:120]!r}")
    assert not failures, f"{len(failures)} of {requests} requests:\n" + "\n".join(failures)
    assert _snapshot(w) == before  # nothing changed in project A


@pytest.mark.django_db
def test_lists_and_filters_never_show_another_projects_objects(make_user):
    w = _world(make_user)
    client = Client()
    client.force_login(w["mallory"])
    a = w["a"].pk
    for url in ("/api/songs/", "/api/jobs/", "/api/models/", "/api/reports/", "/api/projects/", "/api/me/queue",
                f"/api/songs/?ids={w['song'].pk}", "/my-queue/", "/", f"/projects/{w['b'].pk}/",
                f"/projects/{w['b'].pk}/activity/", f"/projects/{w['b'].pk}/assignments/",
                f"/projects/{w['b'].pk}/reports/", f"/projects/{w['b'].pk}/jobs/", f"/projects/{w['b'].pk}/models/"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert SECRET_TITLE not in text and SECRET_PROJECT not in text, url
    for url in (f"/api/songs/?project={a}", f"/api/jobs/?project={a}", f"/api/models/?project={a}",
                f"/api/reports/?project={a}"):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code in (403, 404) or '"count":0' in body.replace(" ", ""), url
        assert SECRET_TITLE not in body, url
    # Assigning another project's song from one's own project is refused and changes nothing.
    r = client.post(f"/api/projects/{w['b'].pk}/assign", {"song_ids": [w["song"].pk], "user": "mallory"},
                    content_type="application/json")
    assert r.status_code == 404 and SECRET_TITLE not in r.content.decode()


@pytest.fixture
def reviewed_song(make_user):
    admin, annotator = make_user("boss"), make_user("anna")
    project = ProjectFactory(name="Choir", created_by=admin)
    MembershipFactory(project=project, user=annotator, role=Role.ANNOTATOR)
    song = SongFactory(project=project, title="Hymn", assigned_to=annotator, revision=[(0, 10, "vocal")],
                       revision__author=annotator, revision__state="submitted")
    return project, song, annotator


@pytest.mark.django_db
def test_an_annotator_cannot_verify_or_reject(client, reviewed_song):
    project, song, annotator = reviewed_song
    client.force_login(annotator)
    rev = song.current_revision
    for decision in ("verify", "reject"):
        response = client.post(f"/api/songs/{song.pk}/annotation/review",
                               {"decision": decision, "comment": "fine", "time": 1.0},
                               content_type="application/json", HTTP_IF_MATCH=f'"{rev.pk}"')
        assert response.status_code == 403, response.content
        assert set(response.json()) == {"error", "code"}
    song.refresh_from_db()
    assert song.current_revision_id == rev.pk and song.current_revision.state == "submitted"
    editor = client.get(f"/projects/{project.pk}/songs/{song.pk}/")
    assert editor.status_code == 200
    assert re.search(r'canReview&quot;: false|"canReview": false|canReview\W+false', editor.content.decode())


# -- escaping -------------------------------------------------------------------------------------


@pytest.fixture
def injected(make_user):
    boss = make_user("boss")
    project = ProjectFactory(name=f"P {INJECTION}", created_by=boss)
    song = _song(project, boss, INJECTION, artist=INJECTION)
    report = ReportFactory(
        model_version__project=project, model_version__name="m1", name="r1", songs=[{"song": song.pk, "title": INJECTION}],
        per_song=[{"song": song.pk, "title": INJECTION, "revision_number": 1, "vocal_frames": 600,
                   "nonvocal_frames": 400, "precision": 1, "recall": 1, "f1": 1, "accuracy": 1,
                   "tp": 600, "fp": 0, "tn": 400, "fn": 0}],
        pooled={"songs": 1, "frames": 1000, "vocal_frames": 600, "nonvocal_frames": 400, "precision": 1, "recall": 1, "f1": 1, "accuracy": 1, "tp": 600, "fp": 0,
                "tn": 400, "fn": 0})
    from songs.services import songs_assign

    songs_assign(project=project, actor=boss, song_ids=[song.pk], assignee=boss)
    return boss, project, song, report


@pytest.mark.django_db
def test_html_in_titles_is_escaped_on_every_server_rendered_page(client, injected):
    boss, project, song, report = injected
    client.force_login(boss)
    pages = ["/", "/my-queue/", f"/projects/{project.pk}/", f"/projects/{project.pk}/songs/{song.pk}/",
             f"/projects/{project.pk}/reports/", f"/projects/{project.pk}/reports/{report.pk}/",
             f"/projects/{project.pk}/activity/", f"/projects/{project.pk}/assignments/",
             f"/projects/{project.pk}/members/", f"/projects/{project.pk}/jobs/", f"/projects/{project.pk}/models/",
             f"/projects/{project.pk}/import/"]
    shown = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "<script>window.__xss" not in text and '<img src=x onerror' not in text, url
        shown += "&lt;script&gt;window.__xss=1&lt;/script&gt;" in text or "\\u003Cscript\\u003E" in text
    assert shown >= 5  # the title (or project name) really is on those pages, as text


# -- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_form_on_every_page_carries_a_csrf_token(client, injected):
    boss, project, song, report = injected
    client.force_login(boss)
    pages = ["/", "/projects/new", "/my-queue/", "/account/password/", f"/projects/{project.pk}/members/",
             f"/projects/{project.pk}/settings/", f"/projects/{project.pk}/assignments/",
             f"/projects/{project.pk}/activity/", f"/projects/{project.pk}/import/", f"/projects/{project.pk}/",
             f"/projects/{project.pk}/songs/{song.pk}/", f"/projects/{project.pk}/jobs/",
             f"/projects/{project.pk}/models/", f"/projects/{project.pk}/reports/",
             f"/projects/{project.pk}/jobs/train/new"]
    checked = 0
    for url in pages:
        text = client.get(url).content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            if re.search(r'method=["\']?post', form, flags=re.I):
                checked += 1
                assert "csrfmiddlewaretoken" in form, f"{url}: {form[:200]}"
    assert checked >= 8


@pytest.mark.django_db
def test_posts_without_the_csrf_token_are_refused(injected):
    boss, project, song, report = injected
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    posts = {"/projects/new": {"name": "x"}, f"/projects/{project.pk}/members/": {"action": "add", "username": "boss"},
             f"/projects/{project.pk}/settings/": {"name": "x"}, f"/projects/{project.pk}/assignments/": {"songs": [song.pk]},
             f"/projects/{project.pk}/import/": {}, "/account/password/": {}, "/logout/": {}}
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    # The API with a session cookie needs the token too (token-authenticated scripts do not).
    api = client.post("/api/projects/", {"name": "x"}, content_type="application/json")
    assert api.status_code == 403 and "CSRF" in api.json()["error"]
    from accounts.models import Project

    assert not Project.objects.filter(name="x").exists()


def test_no_view_is_csrf_exempt_except_apis_and_the_streaming_import():
    """DRF views are csrf_exempt by design (SessionAuthentication enforces CSRF itself, tested above);
    the import page is exempt only to install its upload handler and then applies csrf_protect."""
    from rest_framework.views import APIView

    allowed = {"dataset-import"}
    offenders = []
    for p in _all_patterns():
        callback = p.callback
        if getattr(callback, "csrf_exempt", False):
            view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            if view_class and issubclass(view_class, APIView):
                continue
            if p.name in allowed or str(p.pattern).startswith("admin/"):
                continue
            offenders.append(f"{p.pattern} ({p.name})")
    assert not offenders, offenders


def _all_patterns():
    out = []

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            else:
                out.append(p)

    walk(get_resolver().url_patterns)
    return out


# -- production settings ------------------------------------------------------------------------


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # Not the test run's own switches (the e2e conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright).
    dropped = ("DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped} | {
        "DEBUG": "0", "SECRET_KEY": "x7" * 40 + "-not-a-real-key-but-long-and-random-enough-Q9",
        "ALLOWED_HOSTS": "singscope.example.org", "SINGSCOPE_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Django's security checks (security.W001 ... W022, E...) are all clean; drf-spectacular's schema
    # warnings (W001/W002 about other apps' views) are reported by test_api_schema instead.
    assert not re.findall(r"\(security\.[WE]\d+\)", output), output


@pytest.mark.django_db
def test_responses_carry_security_headers(client, user):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    from django.conf import settings

    assert settings.SESSION_COOKIE_HTTPONLY
