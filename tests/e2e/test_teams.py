"""Browser: HTML in a song title stays text on the pages that render titles with JavaScript (song
list, editor) and on the server-rendered ones (report, queue); the team pages work."""

import pytest

INJECTION = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from accounts.services import songs_assign
    from factories import ProjectFactory, ReportFactory, SongFactory, UserFactory, member

    boss = UserFactory(username="boss")
    project = ProjectFactory(name="Choir", created_by=boss)
    anna = member(project, "annotator", "anna")
    song = SongFactory(project=project, title=INJECTION, artist=INJECTION, original_name="a.wav", duration=12.0,
                       created_by=boss, revision=[(0, 5, "non-vocal"), (5, 12, "vocal")], revision__origin="import:lab")
    songs_assign(project=project, actor=boss, song_ids=[song.pk], assignee=anna)
    report = ReportFactory(
        model_version__project=project, model_version__name="m1", name="r1", songs=[{"song": song.pk, "title": INJECTION}],
        per_song=[{"song": song.pk, "title": INJECTION, "revision_number": 1, "vocal_frames": 700,
                   "nonvocal_frames": 500, "precision": 1, "recall": 1, "f1": 1, "accuracy": 1, "tp": 700, "fp": 0,
                   "tn": 500, "fn": 0}],
        pooled={"songs": 1, "frames": 1200, "vocal_frames": 700, "nonvocal_frames": 500, "precision": 1, "recall": 1,
                "f1": 1, "accuracy": 1, "tp": 700, "fp": 0, "tn": 500, "fn": 0})
    return {"project": project, "song": song, "report": report}


@pytest.mark.e2e
def test_a_title_with_html_is_shown_as_text_everywhere(page, live_server, login, screenshot, world):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, "boss")
    p, s, r = world["project"].pk, world["song"].pk, world["report"].pk
    for name, url in [("song_list", f"/projects/{p}/"), ("editor", f"/projects/{p}/songs/{s}/"),
                      ("report", f"/projects/{p}/reports/{r}/"), ("assignments", f"/projects/{p}/assignments/")]:
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        page.get_by_text("window.__xss=2", exact=False).first.wait_for(timeout=15000)
        assert page.evaluate("window.__xss") is None, name
        assert page.locator("img[src='x']").count() == 0, name
        screenshot(page, f"xss_{name}")
    assert dialogs == []


@pytest.mark.e2e
def test_team_pages_members_queue_import(page, live_server, login, screenshot, world):
    login(page, "boss")
    p = world["project"].pk
    page.goto(f"{live_server.url}/projects/{p}/members/")
    page.get_by_role("cell", name="anna").wait_for()
    screenshot(page, "team_members")
    page.goto(f"{live_server.url}/projects/{p}/import/")
    assert page.locator("#import-form input[type=file]").count() == 1
    screenshot(page, "team_import_export")
    page.goto(f"{live_server.url}/projects/{p}/activity/")
    screenshot(page, "team_activity")
    page.click("button:has-text('Log out')")
    login(page, "anna")
    page.goto(f"{live_server.url}/my-queue/")
    assert page.locator("table.queue a").first.inner_text().startswith("<img")
    assert page.evaluate("window.__xss") is None
    screenshot(page, "team_my_queue")
