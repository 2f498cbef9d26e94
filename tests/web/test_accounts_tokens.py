"""API tokens: several named tokens per user made on the profile page (key shown once, last use shown,
revocable), `drf_create_token` still works, a missing or bad token answers 401 with WWW-Authenticate,
and every token of a user dies when the password changes (whichever way it is changed)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
PASSWORD = "correct horse battery"


def make_token(client, name: str) -> str:
    r = client.post("/account/", {"action": "create", "name": name}, follow=True)
    assert r.status_code == 200, r.content
    return re.search(r'id="new-token-key"[^>]*value="([0-9a-f]{40})"', r.content.decode()).group(1)


def api(key: str, path: str = "/api/projects/"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Token {key}")


def test_missing_and_bad_tokens_get_401_with_www_authenticate():
    for headers in ({}, {"HTTP_AUTHORIZATION": "Token 0123456789abcdef0123456789abcdef01234567"},
                    {"HTTP_AUTHORIZATION": "Token"}, {"HTTP_AUTHORIZATION": "Token a b"}):
        r = Client().get("/api/projects/", **headers)
        assert r.status_code == 401, (headers, r.content)
        assert r["WWW-Authenticate"] == 'Token realm="api"'
        assert set(r.json()) == {"error", "code"}


def test_a_user_makes_several_named_tokens_sees_their_last_use_and_revokes_one(logged_in_client, user, project):
    nightly = make_token(logged_in_client, "nightly export")
    laptop = make_token(logged_in_client, "laptop")
    assert nightly != laptop
    page = logged_in_client.get("/account/").content.decode()
    assert "nightly export" in page and "laptop" in page and nightly not in page  # the key is shown once only
    assert "revoked when your password changes" in page
    assert api(nightly).status_code == 200 and api(laptop).status_code == 200
    from accounts.models import ApiToken

    used = ApiToken.objects.get(user=user, name="nightly export")
    assert used.last_used_at is not None and used.key_digest != nightly  # only a digest is stored
    row = re.search(rf'<tr data-token="{used.pk}">(.*?)</tr>', logged_in_client.get("/account/").content.decode(),
                    re.S).group(1)
    assert "never" not in row

    logged_in_client.post("/account/", {"action": "revoke", "token": used.pk})
    assert api(nightly).status_code == 401
    assert api(laptop).status_code == 200


def test_token_names_are_required_and_unique_per_user(logged_in_client):
    make_token(logged_in_client, "ci")
    again = logged_in_client.post("/account/", {"action": "create", "name": "CI"})
    assert again.status_code == 409 and "already have a token named" in again.content.decode()
    empty = logged_in_client.post("/account/", {"action": "create", "name": "  "})
    assert empty.status_code == 400


def test_someone_elses_token_cannot_be_revoked(logged_in_client, make_user):
    from accounts.models import ApiToken
    from accounts.services import api_token_create

    other, key = api_token_create(user=make_user("bob"), name="bob's")
    r = logged_in_client.post("/account/", {"action": "revoke", "token": other.pk})
    assert r.status_code == 404
    assert ApiToken.objects.filter(pk=other.pk).exists() and api(key).status_code == 200


def test_changing_the_password_on_the_page_revokes_every_token(logged_in_client, user):
    named = make_token(logged_in_client, "script")
    call_command("drf_create_token", user.username)
    from rest_framework.authtoken.models import Token

    drf = Token.objects.get(user=user).key
    assert api(named).status_code == 200 and api(drf).status_code == 200
    page = logged_in_client.get("/account/password/").content.decode()
    assert "revokes all your API tokens" in page
    r = logged_in_client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "a new long phrase 42",
                                                     "new_password2": "a new long phrase 42"}, follow=True)
    assert "2 API tokens were revoked" in r.content.decode()
    assert api(named).status_code == 401 and api(drf).status_code == 401
    assert not Token.objects.filter(user=user).exists()


def test_a_password_changed_elsewhere_invalidates_the_tokens_too(logged_in_client, user):
    """The admin's form or `manage.py changepassword` do not pass through our page: a token
    remembers the password it was made under."""
    named = make_token(logged_in_client, "script")
    call_command("drf_create_token", user.username)
    from rest_framework.authtoken.models import Token

    drf = Token.objects.get(user=user).key
    assert api(drf).status_code == 200  # its use is now recorded, with the password of the day
    user.set_password("changed by an admin 77")
    user.save()
    assert api(named).status_code == 401 and api(drf).status_code == 401


def test_drf_create_token_is_listed_on_the_profile_with_its_last_use(logged_in_client, user):
    call_command("drf_create_token", user.username)
    from rest_framework.authtoken.models import Token

    key = Token.objects.get(user=user).key
    page = logged_in_client.get("/account/").content.decode()
    assert "drf_create_token (command line)" in page and key[:6] in page and "never" in page
    assert api(key).status_code == 200
    page = logged_in_client.get("/account/").content.decode()
    row = re.search(r"<tr data-token=\"\d+\">(.*?)</tr>", page, re.S).group(1)
    assert "drf_create_token" in row and "never" not in row
    token_id = re.search(r'<tr data-token="(\d+)">', page).group(1)
    logged_in_client.post("/account/", {"action": "revoke", "token": token_id})
    assert api(key).status_code == 401 and not Token.objects.filter(user=user).exists()


def test_the_navigation_links_the_profile_and_the_team(logged_in_client, project):
    page = logged_in_client.get(f"/projects/{project.pk}/").content.decode()
    assert 'href="/account/"' in page and f'href="/projects/{project.pk}/members/"' in page
    assert 'rel="icon"' in page
    icon = re.search(r'<link rel="icon" href="/static/([^"]+)"', page).group(1)
    from django.contrib.staticfiles import finders

    assert finders.find(icon)  # served by whitenoise (the browser tests load it)
    assert logged_in_client.get("/favicon.ico")["Location"] == f"/static/{icon}"
