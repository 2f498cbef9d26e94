"""Invitation links (single use, expiring, revocable; the invitee picks a username and password and
joins with the invitation's role), the add-member form keeping its role after an error, and the
review policy "the verifier must differ from the author" (on by default, enforced by the service)."""

import re
from datetime import timedelta

import pytest
from accounts.models import Membership, Role
from django.test import Client
from django.utils import timezone
from factories import SongFactory, member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
PASSWORD = "correct horse battery"


def invite(client, project, role="reviewer", days=7, note="Rita") -> str:
    r = client.post(f"/projects/{project.pk}/members/", {"action": "invite", "role": role, "days": days, "note": note},
                    follow=True)
    assert r.status_code == 200, r.content
    return re.search(r'id="invite-url"[^>]*value="([^"]+)"', r.content.decode()).group(1)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def join(url: str, username="rita", password="a long new phrase 9", again=None) -> tuple[Client, object]:
    c = Client()
    r = c.post(path_of(url), {"username": username, "password1": password, "password2": again or password})
    return c, r


def test_an_invitee_picks_a_username_and_password_and_joins_with_the_role(logged_in_client, project):
    url = invite(logged_in_client, project, role="reviewer")
    page = Client().get(path_of(url))
    assert page.status_code == 200 and project.name in page.content.decode() and "reviewer" in page.content.decode()
    c, r = join(url)
    assert r.status_code == 302 and r["Location"] == f"/projects/{project.pk}/"
    m = Membership.objects.get(project=project, user__username="rita")
    assert m.role == Role.REVIEWER
    assert c.get(f"/projects/{project.pk}/").status_code == 200  # signed in as rita
    # single use: the link is spent
    again = Client().get(path_of(url))
    assert again.status_code == 410 and "already used" in again.content.decode()
    _, r2 = join(url, username="mallory")
    assert r2.status_code == 410 and not Membership.objects.filter(user__username="mallory").exists()


def test_bad_passwords_taken_usernames_and_mismatches_are_explained(logged_in_client, project, make_user):
    url = invite(logged_in_client, project)
    make_user("taken")
    for data, text in ((("newbie", "123"), "too short"), (("taken", "a long new phrase 9"), "is taken"),
                       (("newbie", "a long new phrase 9", "different phrase 99"), "differ")):
        _, r = join(url, *data)
        assert r.status_code == 400 and text in r.content.decode(), data
    assert not Membership.objects.filter(project=project, user__username="newbie").exists()
    _, ok = join(url, "newbie")
    assert ok.status_code == 302  # the failed attempts did not spend the link


def test_expired_revoked_and_unknown_links_are_refused(logged_in_client, project):
    from accounts.models import Invitation

    expired = invite(logged_in_client, project, days=1)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    r = Client().get(path_of(expired))
    assert r.status_code == 410 and "expired" in r.content.decode()
    assert join(expired)[1].status_code == 410

    revoked = invite(logged_in_client, project)
    open_one = Invitation.objects.get(expires_at__gt=timezone.now())
    page = logged_in_client.get(f"/projects/{project.pk}/members/").content.decode()
    assert f'data-invitation="{open_one.pk}"' in page and "Rita" in page
    logged_in_client.post(f"/projects/{project.pk}/members/", {"action": "revoke_invite", "invitation": open_one.pk})
    r = Client().get(path_of(revoked))
    assert r.status_code == 410 and "revoked" in r.content.decode()
    assert Client().get("/invite/not-a-real-key/").status_code == 404
    assert not Membership.objects.filter(project=project, user__username="rita").exists()


def test_a_signed_in_user_joins_with_their_account(logged_in_client, project, make_user):
    url = invite(logged_in_client, project, role="annotator")
    bob = make_user("bob")
    c = Client()
    c.force_login(bob)
    assert "Join as bob" in c.get(path_of(url)).content.decode()
    r = c.post(path_of(url))
    assert r.status_code == 302 and Membership.objects.get(project=project, user=bob).role == "annotator"


def test_only_admins_create_invitations(client, project, make_user):
    anna = member(project, Role.REVIEWER, "anna")
    client.force_login(anna)
    r = client.post(f"/projects/{project.pk}/members/", {"action": "invite", "role": "admin", "days": 7})
    assert r.status_code == 403
    from accounts.models import Invitation

    assert not Invitation.objects.exists()


def test_invitation_days_are_bounded(logged_in_client, project):
    r = logged_in_client.post(f"/projects/{project.pk}/members/", {"action": "invite", "role": "admin", "days": 400})
    assert r.status_code == 400 and 'id="invite-url"' not in r.content.decode()


def test_the_add_member_form_keeps_the_chosen_role_after_an_error(logged_in_client, project):
    r = logged_in_client.post(f"/projects/{project.pk}/members/", {"action": "add", "username": "rita",
                                                                   "role": "reviewer"})
    html = r.content.decode()
    assert "There is no user named" in html
    form = re.search(r'<form method="post" class="row-form">(.*?)</form>', html, re.S).group(1)
    assert re.search(r'<option value="reviewer" selected>', form), form
    assert not re.search(r'<option value="annotator" selected>', form)


# -- the review policy ------------------------------------------------------------------------------


def _song(project, author):
    return SongFactory(project=project, title="Hymn", revision=[(0, 4, "non-vocal"), (4, 10, "vocal")],
                       revision__author=author)


def review(client, song, decision="verify"):
    return client.post(f"/api/songs/{song.pk}/annotation/review", {"decision": decision, "comment": "ok"},
                       content_type="application/json")


def test_nobody_verifies_their_own_work_by_default(logged_in_client, user, project, make_user):
    assert project.verifier_must_differ is True
    song = _song(project, user)
    logged_in_client.post(f"/api/songs/{song.pk}/annotation/submit")
    r = review(logged_in_client, song)
    assert r.status_code == 403 and r.json()["code"] == "verifier_is_author"
    assert "someone else" in r.json()["error"]
    song.refresh_from_db()
    assert song.current_revision.state == "submitted"
    # the editor is told before anyone clicks
    current = logged_in_client.get(f"/api/songs/{song.pk}/annotation").json()
    assert "someone else" in current["verify_refusal"]

    rita = member(project, Role.REVIEWER, "rita")
    c = Client()
    c.force_login(rita)
    assert c.get(f"/api/songs/{song.pk}/annotation").json()["verify_refusal"] is None
    v = review(c, song)
    assert v.status_code == 201
    rev = v.json()["revision"]
    # the verified revision says whose segments they are, and who reviewed them
    assert rev["segments_by"] == user.username and rev["reviewed_by"] == "rita" and rev["author"] == "rita"


def test_an_admin_cannot_verify_a_model_revision_they_submitted(logged_in_client, project):
    song = SongFactory(project=project, title="M", revision=[(0, 10, "vocal")], revision__origin="model:x")
    assert review(logged_in_client, song).status_code == 201  # nobody made these segments: a model did
    song2 = SongFactory(project=project, title="N", revision=[(0, 10, "vocal")], revision__origin="model:x")
    logged_in_client.post(f"/api/songs/{song2.pk}/annotation/submit")
    assert review(logged_in_client, song2).json()["code"] == "verifier_is_author"


def test_the_setting_can_be_turned_off_on_the_settings_page(logged_in_client, user, project):
    page = logged_in_client.get(f"/projects/{project.pk}/settings/").content.decode()
    assert re.search(r'name="verifier_must_differ"[^>]*checked', page)
    r = logged_in_client.post(f"/projects/{project.pk}/settings/", {
        "name": project.name, "description": "", "retrain_after_verified": 0, "auto_activate_margin": ""})
    assert r.status_code == 302
    project.refresh_from_db()
    assert project.verifier_must_differ is False
    song = _song(project, user)
    assert review(logged_in_client, song).status_code == 201
    api = logged_in_client.patch(f"/api/projects/{project.pk}/", {"verifier_must_differ": True},
                                 content_type="application/json")
    assert api.status_code == 200 and api.json()["verifier_must_differ"] is True
