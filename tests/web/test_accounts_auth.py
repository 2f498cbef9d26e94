"""Accounts: login, logout, password change, login rate limiting, API tokens."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_login_then_logout(client, user):
    page = client.get("/login/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    response = client.post("/login/", {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


@pytest.mark.django_db
def test_a_wrong_password_says_so_and_keeps_you_out(client, user):
    response = client.post("/login/", {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_five_failures_lock_that_username_from_that_address_with_429(client, user, make_user):
    for _ in range(4):
        assert client.post("/login/", {"username": "ana", "password": "guess"}).status_code == 200
    fifth = client.post("/login/", {"username": "ana", "password": "guess"})  # the fifth failure locks
    assert fifth.status_code == 429 and b"Too many failed attempts" in fifth.content
    blocked = client.post("/login/", {"username": "ana", "password": PASSWORD})  # even the right password
    assert blocked.status_code == 429
    assert b"Too many failed attempts" in blocked.content and int(blocked["Retry-After"]) > 800
    assert client.get("/").status_code == 302
    # Another account from the same address is not affected.
    make_user("bea")
    assert client.post("/login/", {"username": "bea", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_the_admin_signs_in_through_the_rate_limited_login_page(client, make_user):
    make_user("root", is_staff=True, is_superuser=True)
    r = client.get("/admin/")
    assert r.status_code == 302
    r = client.get(r["Location"])
    assert r.status_code == 302 and r["Location"] == "/login/?next=/admin/"
    # the admin's own form does not check passwords, so it cannot be used to guess them
    r = client.post("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert client.get("/admin/").status_code == 302
    for _ in range(5):
        client.post("/login/", {"username": "root", "password": "guess"})
    assert client.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD}).status_code == 429
    from axes.utils import reset

    reset()  # what `manage.py axes_reset` does for a locked-out admin
    r = client.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_lock_ends_when_the_window_passes(client, user, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    for _ in range(5):
        client.post("/login/", {"username": "ANA", "password": "guess"})  # usernames count case-insensitively
    assert client.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 429
    # The window passes: the failures are older than LOGIN_FAILURE_WINDOW.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW + 1))
    assert client.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_a_success_resets_the_failure_count(client, user):
    for _ in range(4):
        client.post("/login/", {"username": "ana", "password": "guess"})
    assert client.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        client.post("/login/", {"username": "ana", "password": "guess"})
    assert client.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_password_change(client, user):
    client.force_login(user)
    page = client.get("/account/password/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    weak = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and b"too short" in weak.content
    wrong = client.post("/account/password/", {"old_password": "bad", "new_password1": "a new long phrase 42",
                                                 "new_password2": "a new long phrase 42"})
    assert b"incorrectly" in wrong.content
    ok = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "a new long phrase 42",
                                              "new_password2": "a new long phrase 42"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # still logged in (session hash updated)
    client.post("/logout/")
    assert client.post("/login/", {"username": "ana", "password": "a new long phrase 42"}).status_code == 302


@pytest.mark.django_db
def test_password_change_needs_login(client):
    assert client.get("/account/password/")["Location"].startswith("/login/")


@pytest.mark.django_db
def test_drf_create_token_authenticates_api_calls_until_deleted(client, user, project, capsys):
    call_command("drf_create_token", "ana")
    out = capsys.readouterr().out
    from rest_framework.authtoken.models import Token

    key = Token.objects.get(user=user).key
    assert key in out
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    response = client.get("/api/projects/", **auth)
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["Pop songs"]
    assert client.get(f"/api/projects/{project.pk}/members/", **auth).status_code == 200
    # Token requests need no CSRF token (no session cookie is involved).
    created = client.post("/api/projects/", {"name": "By script"}, content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["role"] == "admin"

    Token.objects.filter(user=user).delete()
    denied = client.get("/api/projects/", **auth)
    assert denied.status_code in (401, 403)  # DRF answers 403 when session auth is listed first
    assert denied.json()["code"] == "authentication_failed" and "token" in denied.json()["error"].lower()
    assert "Pop songs" not in denied.content.decode()


@pytest.mark.django_db
def test_the_api_without_credentials_is_refused(client):
    response = client.get("/api/projects/")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"error", "code"}
