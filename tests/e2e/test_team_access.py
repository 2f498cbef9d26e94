"""The way into the team from the app, in Debian chromium: an admin invites someone by link, the
invitee picks a username and password and lands in the project with the invited role; the add-member
form keeps its role after an error; a user makes, uses, sees and revokes API tokens on the profile
page, and a password change revokes them; no page asks for a favicon that is not there."""

import json
import re
import urllib.error
import urllib.request

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_passwords")]


def api_get(url: str, key: str):
    request = urllib.request.Request(url, headers={"Authorization": f"Token {key}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_an_admin_invites_a_reviewer_who_joins_with_a_new_account(browser, page, live_server, login, user, project,
                                                                  screenshot):
    from accounts.models import Membership

    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click("nav.topnav a:has-text('Team')")
    page.wait_for_url(f"**/projects/{project.pk}/members/")
    page.select_option(".invite-form select[name=role]", "reviewer")
    page.fill(".invite-form input[name=note]", "Rita from the choir")
    page.click(".invite-form button[type=submit]")
    link = page.input_value("#invite-url")
    assert re.match(rf"^{re.escape(live_server.url)}/invite/[\w-]{{20,}}/$", link), link
    assert page.input_value(".invite-form select[name=role]") == "reviewer"
    assert "Rita from the choir" in page.inner_text("table.invitations")
    screenshot(page, "team_invitation_link")

    guest = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        gp = guest.new_page()
        gp.goto(link)
        assert "as reviewer" in gp.inner_text("main")
        gp.fill("input[name=username]", "rita")
        gp.fill("input[name=password1]", "123")
        gp.fill("input[name=password2]", "123")
        gp.click("form.stack button[type=submit]")
        assert "too short" in gp.inner_text("main")  # explained, and the link still works
        gp.fill("input[name=username]", "rita")
        gp.fill("input[name=password1]", "sings in the choir 42")
        gp.fill("input[name=password2]", "sings in the choir 42")
        gp.click("form.stack button[type=submit]")
        gp.wait_for_url(f"**/projects/{project.pk}/")
        assert "you joined as reviewer" in gp.inner_text(".messages")
        assert gp.inner_text(".account .who") == "rita"
        screenshot(gp, "team_invitee_joined")
        gp.click(".account a:has-text('Log out'), .account button:has-text('Log out')")
        gp.goto(link)
        assert "already used" in gp.inner_text("main")
    finally:
        guest.close()
    assert Membership.objects.get(project=project, user__username="rita").role == "reviewer"
    page.reload()  # a reload neither shows the link again nor makes a second invitation
    assert page.locator("#invite-url").count() == 0
    assert "rita" in page.inner_text("table.members") and "Rita from the choir" not in page.inner_text("main")

    # a link that is revoked stops working
    page.click(".invite-form button[type=submit]")
    second = page.input_value("#invite-url")
    page.click("table.invitations button:has-text('Revoke')")
    page.wait_for_selector("text=no longer works")
    page.goto(second)
    assert "revoked" in page.inner_text("main")


def test_the_add_member_form_keeps_the_chosen_role_after_an_error(page, live_server, login, user, project):
    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/members/")
    page.fill("form.row-form input[name=username]", "nobody-here")
    page.select_option("form.row-form select[name=role]", "reviewer")
    page.click("form.row-form button[type=submit]")
    assert "There is no user named" in page.inner_text("body")
    assert page.input_value("form.row-form select[name=role]") == "reviewer"
    assert page.input_value("form.row-form input[name=username]") == "nobody-here"


def test_api_tokens_are_made_used_seen_and_revoked_on_the_profile_page(page, live_server, login, user, project,
                                                                       screenshot):
    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click(".account a.who")
    page.wait_for_url("**/account/")
    assert "revoked when your password changes" in page.inner_text("#tokens")
    page.fill("#tokens input[name=name]", "nightly export")
    page.click("#tokens button:has-text('Create token')")
    key = page.input_value("#new-token-key")
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert "never" in page.inner_text("#token-table")
    screenshot(page, "profile_token_created")

    status, _, body = api_get(f"{live_server.url}/api/projects/", key)
    assert status == 200 and [p["name"] for p in body["results"]] == [project.name]
    page.reload()
    assert key not in page.content()  # shown once
    row = page.locator("#token-table tr", has_text="nightly export")
    assert row.locator(".last-used").inner_text() != "never"

    row.locator("button:has-text('Revoke')").click()
    page.wait_for_selector("text=scripts using it are refused")
    status, headers, body = api_get(f"{live_server.url}/api/projects/", key)
    assert status == 401 and headers.get("WWW-Authenticate") == 'Token realm="api"'
    assert set(body) == {"error", "code"}
    status, headers, _ = api_get(f"{live_server.url}/api/projects/", "")
    assert status == 401 and "WWW-Authenticate" in headers

    # a password change revokes every token, and says so
    page.fill("#tokens input[name=name]", "laptop")
    page.click("#tokens button:has-text('Create token')")
    laptop = page.input_value("#new-token-key")
    assert api_get(f"{live_server.url}/api/projects/", laptop)[0] == 200
    page.click("a:has-text('Change your password')")
    assert "revokes all your API tokens" in page.inner_text("main")
    page.fill("input[name=old_password]", "correct horse battery")
    page.fill("input[name=new_password1]", "a brand new phrase 7")
    page.fill("input[name=new_password2]", "a brand new phrase 7")
    page.click("form.stack button[type=submit]")
    assert "1 API token was revoked" in page.inner_text(".messages")
    assert api_get(f"{live_server.url}/api/projects/", laptop)[0] == 401


def test_no_page_asks_for_a_favicon_that_is_not_there(page, live_server, login, user, project):
    missing, icons = [], []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.on("response", lambda r: icons.append((r.url, r.status)) if "favicon" in r.url else None)
    login(page, user.username)
    for url in ("/", f"/projects/{project.pk}/", f"/projects/{project.pk}/jobs/", f"/projects/{project.pk}/members/",
                "/account/", "/my-queue/"):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
    assert missing == []
    assert icons and all(status in (200, 304) for _, status in icons), icons
    assert page.evaluate("() => fetch('/favicon.ico').then((r) => r.status)") == 200  # for pages outside base.html
