"""Content-Security-Policy on every page and API answer (django-csp): scripts only from this origin
(module files; no inline code, no eval), nothing framed, no plugins, forms post only here. And the
server-rendered pages carry no inline script or event-handler attribute the policy would block."""

import re

import pytest
from factories import SungSongFactory

PAGES = ["/login/", "/", "/my-queue/", "/projects/{p}/", "/projects/{p}/songs/{s}/", "/projects/{p}/jobs/",
         "/projects/{p}/models/", "/projects/{p}/reports/", "/projects/{p}/members/", "/projects/{p}/settings/",
         "/projects/{p}/assignments/", "/projects/{p}/activity/", "/projects/{p}/import/",
         "/projects/{p}/jobs/train/new", "/account/password/", "/api/docs/", "/admin/"]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


@pytest.fixture
def site(client, project, user):
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    song = SungSongFactory(project=project, title="csp", created_by=user)
    return client, {"p": project.pk, "s": song.pk}


@pytest.mark.django_db
def test_every_page_has_a_strict_script_policy(site):
    client, ids = site
    for url in PAGES:
        response = client.get(url.format(**ids))
        assert response.status_code == 200, url
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], (url, policy)  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'self'"], url
        assert policy["form-action"] == ["'self'"], url


@pytest.mark.django_db
def test_api_answers_carry_the_policy_too(site):
    client, ids = site
    assert "script-src 'self'" in client.get("/api/songs/")["Content-Security-Policy"]
    assert "script-src 'self'" in client.get("/api/nothing-here")["Content-Security-Policy"]


@pytest.mark.django_db
def test_no_page_has_inline_script_or_event_handlers(site):
    client, ids = site
    for url in PAGES:
        html = client.get(url.format(**ids)).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
            assert re.search(r"\bsrc=", tag) or re.search(r'type="application/json"', tag), (url, tag)
        handlers = re.findall(r"<[^>]+\son[a-z]+\s*=", html, flags=re.I)
        assert not handlers, (url, handlers[:3])
        assert "javascript:" not in html.lower(), url
