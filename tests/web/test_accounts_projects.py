"""Projects, memberships and roles, assignment and my queue, the activity log: pages and API."""

import pytest
from accounts.models import ActivityEvent, Membership, Role
from factories import ProjectFactory, RevisionFactory, SongFactory, member

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def team(project):
    return {"rev": member(project, Role.REVIEWER, "rev"), "ann": member(project, Role.ANNOTATOR, "ann"),
            "ann2": member(project, Role.ANNOTATOR, "ann2")}


@pytest.fixture
def songs(project, user):
    return [SongFactory(project=project, title=f"Song {i}", created_by=user) for i in range(3)]


@pytest.mark.django_db
def test_creating_a_project_in_the_browser_makes_you_its_admin(logged_in_client, user):
    page = logged_in_client.get("/projects/new")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    response = logged_in_client.post("/projects/new", {"name": "  Choir  ", "description": "Sunday"})
    membership = Membership.objects.get(user=user, project__name="Choir")
    assert membership.role == Role.ADMIN
    assert response["Location"] == f"/projects/{membership.project_id}/"
    assert ActivityEvent.objects.filter(project=membership.project, verb="project.created").exists()
    assert logged_in_client.post("/projects/new", {"name": "   "}).status_code == 200  # re-shown with an error


@pytest.mark.django_db
def test_api_project_create_list_and_patch(logged_in_client, project, team, client):
    created = logged_in_client.post("/api/projects/", {"name": "Jazz"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["role"] == "admin"
    listed = logged_in_client.get("/api/projects/?limit=1")
    assert listed.json()["count"] == 2 and len(listed.json()["results"]) == 1
    patched = logged_in_client.patch(f"/api/projects/{project.pk}/", {"name": "Pop", "retrain_after_verified": 5},
                                     content_type="application/json")
    assert patched.status_code == 200 and patched.json()["name"] == "Pop"
    assert patched.json()["retrain_after_verified"] == 5
    client.force_login(team["rev"])
    assert client.get(f"/api/projects/{project.pk}/").json()["role"] == "reviewer"
    denied = client.patch(f"/api/projects/{project.pk}/", {"name": "Mine"}, content_type="application/json")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_admins_manage_members_through_the_api(logged_in_client, project, team, make_user):
    make_user("newbie")
    base = f"/api/projects/{project.pk}/members/"
    added = logged_in_client.post(base, {"username": "newbie", "role": "reviewer"}, content_type="application/json")
    assert added.status_code == 201 and added.json()["role"] == "reviewer"
    again = logged_in_client.post(base, {"username": "newbie"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    unknown = logged_in_client.post(base, {"username": "ghost"}, content_type="application/json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_user"
    bad_role = logged_in_client.post(base, {"username": "newbie", "role": "owner"}, content_type="application/json")
    assert bad_role.status_code == 400
    uid = added.json()["user"]
    changed = logged_in_client.patch(f"{base}{uid}/", {"role": "annotator"}, content_type="application/json")
    assert changed.json()["role"] == "annotator"
    assert logged_in_client.delete(f"{base}{uid}/").status_code == 204
    assert logged_in_client.get(f"{base}{uid}/").status_code == 404
    assert [m["username"] for m in logged_in_client.get(base).json()] == ["ana", "ann", "ann2", "rev"]


@pytest.mark.django_db
def test_a_project_always_keeps_an_admin(logged_in_client, project, user):
    base = f"/api/projects/{project.pk}/members/{user.pk}/"
    demote = logged_in_client.patch(base, {"role": "annotator"}, content_type="application/json")
    assert demote.status_code == 409 and demote.json()["code"] == "last_admin"
    assert logged_in_client.delete(base).status_code == 409
    assert Membership.objects.get(project=project, user=user).role == Role.ADMIN


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rev", "ann"])
def test_non_admins_see_members_but_cannot_change_them(client, project, team, who):
    client.force_login(team[who])
    assert client.get(f"/api/projects/{project.pk}/members/").status_code == 200
    response = client.post(f"/api/projects/{project.pk}/members/", {"username": "ann2", "role": "admin"},
                           content_type="application/json")
    assert response.status_code == 403
    assert client.patch(f"/api/projects/{project.pk}/members/{team['ann'].pk}/", {"role": "admin"},
                        content_type="application/json").status_code == 403
    page = client.get(f"/projects/{project.pk}/members/")
    assert page.status_code == 200 and b'name="action" value="add"' not in page.content
    assert client.post(f"/projects/{project.pk}/members/", {"action": "role", "user": team[who].pk,
                                                           "role": "admin"}).status_code == 403
    assert Membership.objects.get(project=project, user=team[who]).role == (Role.REVIEWER if who == "rev" else Role.ANNOTATOR)


@pytest.mark.django_db
def test_the_members_page_adds_changes_and_removes(logged_in_client, project, team, make_user):
    make_user("zoe")
    url = f"/projects/{project.pk}/members/"
    assert logged_in_client.post(url, {"action": "add", "username": "zoe", "role": "reviewer"}).status_code == 302
    zoe = Membership.objects.get(project=project, user__username="zoe")
    assert zoe.role == Role.REVIEWER
    logged_in_client.post(url, {"action": "role", "user": zoe.user_id, "role": "admin"})
    zoe.refresh_from_db()
    assert zoe.role == Role.ADMIN
    logged_in_client.post(url, {"action": "remove", "user": zoe.user_id})
    assert not Membership.objects.filter(pk=zoe.pk).exists()
    page = logged_in_client.post(url, {"action": "add", "username": "nobody-here", "role": "reviewer"})
    assert page.status_code == 400 and b"There is no user named" in page.content


@pytest.mark.django_db
def test_assigning_songs_fills_the_annotators_queue(logged_in_client, project, team, songs):
    from django.test import Client

    client = Client()
    response = logged_in_client.post(f"/api/projects/{project.pk}/assign",
                                     {"song_ids": [songs[0].pk, songs[1].pk], "user": "ann"},
                                     content_type="application/json")
    assert response.status_code == 200 and response.json() == {"assigned": 2, "user": team["ann"].pk}
    client.force_login(team["ann"])
    queue = client.get("/api/me/queue").json()
    assert sorted(s["title"] for s in queue["to_annotate"]) == ["Song 0", "Song 1"]
    page = client.get("/my-queue/")
    assert page.status_code == 200 and b"Song 0" in page.content and b"Song 2" not in page.content
    # Unassign one.
    logged_in_client.post(f"/api/projects/{project.pk}/assign", {"song_ids": [songs[0].pk], "user": None},
                          content_type="application/json")
    assert [s["title"] for s in client.get("/api/me/queue").json()["to_annotate"]] == ["Song 1"]
    assert ActivityEvent.objects.filter(project=project, verb="song.assigned").count() == 2


@pytest.mark.django_db
def test_assignment_refuses_outsiders_songs_of_other_projects_and_annotators(logged_in_client, client, project, team,
                                                                            songs, make_user, user):
    from songs.models import Song

    make_user("stranger")
    url = f"/api/projects/{project.pk}/assign"
    r = logged_in_client.post(url, {"song_ids": [songs[0].pk], "user": "stranger"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "not_member"
    other = ProjectFactory(name="Other", created_by=user)
    foreign = SongFactory(project=other, title="Foreign", duration=1.0, status="processing")
    r = logged_in_client.post(url, {"song_ids": [songs[0].pk, foreign.pk], "user": "ann"}, content_type="application/json")
    assert r.status_code == 404
    assert Song.objects.get(pk=songs[0].pk).assigned_to is None  # nothing half-done
    client.force_login(team["ann"])
    assert client.post(url, {"song_ids": [songs[0].pk], "user": "ann"}, content_type="application/json").status_code == 403


@pytest.mark.django_db
def test_the_assignment_page_assigns_checked_songs(logged_in_client, project, team, songs):
    url = f"/projects/{project.pk}/assignments/"
    page = logged_in_client.get(url)
    assert page.status_code == 200 and b"Song 2" in page.content
    logged_in_client.post(url, {"songs": [songs[2].pk], "user": team["ann2"].pk})
    songs[2].refresh_from_db()
    assert songs[2].assigned_to == team["ann2"]
    filtered = logged_in_client.get(url + f"?assignee={team['ann2'].pk}")
    assert b"Song 2" in filtered.content and b"Song 0" not in filtered.content


@pytest.mark.django_db
def test_removing_a_member_unassigns_their_songs(logged_in_client, project, team, songs):
    logged_in_client.post(f"/api/projects/{project.pk}/assign", {"song_ids": [songs[0].pk], "user": "ann"},
                          content_type="application/json")
    logged_in_client.delete(f"/api/projects/{project.pk}/members/{team['ann'].pk}/")
    songs[0].refresh_from_db()
    assert songs[0].assigned_to is None


@pytest.mark.django_db
def test_reviewers_see_submitted_songs_in_their_queue(client, project, team, songs, user):
    RevisionFactory(song=songs[1], segments=[(0, 10, "vocal")], author=team["ann"], state="submitted")
    client.force_login(team["rev"])
    assert [s["title"] for s in client.get("/api/me/queue").json()["to_review"]] == ["Song 1"]
    client.force_login(team["ann"])
    assert client.get("/api/me/queue").json()["to_review"] == []


@pytest.mark.django_db
def test_activity_page_and_api_list_what_happened(logged_in_client, project, team):
    page = logged_in_client.get(f"/projects/{project.pk}/activity/")
    assert page.status_code == 200 and b"created project Pop songs" in page.content
    api = logged_in_client.get(f"/api/projects/{project.pk}/activity?verb=project")
    assert api.json()["results"][0]["summary"] == "created project Pop songs"


@pytest.mark.django_db
def test_settings_are_for_admins(logged_in_client, client, project, team):
    url = f"/projects/{project.pk}/settings/"
    assert logged_in_client.get(url).status_code == 200
    r = logged_in_client.post(url, {"name": "Renamed", "description": "", "retrain_after_verified": 3,
                                    "auto_activate_margin": ""})
    assert r.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.retrain_after_verified, project.auto_activate_margin) == ("Renamed", 3, None)
    client.force_login(team["rev"])
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_annotators_may_edit_songs_assigned_to_them_or_open_only(project, team, songs, user):
    from accounts.permissions import require_song_editable
    from django.core.exceptions import PermissionDenied
    from songs.services import songs_assign

    songs_assign(project=project, actor=user, song_ids=[songs[0].pk], assignee=team["ann"])
    songs[0].refresh_from_db()
    assert require_song_editable(user=team["ann"], song=songs[0]) == Role.ANNOTATOR
    assert require_song_editable(user=team["ann2"], song=songs[1]) == Role.ANNOTATOR  # open to all
    with pytest.raises(PermissionDenied, match="assigned to ann"):
        require_song_editable(user=team["ann2"], song=songs[0])
    assert require_song_editable(user=team["rev"], song=songs[0]) == Role.REVIEWER
