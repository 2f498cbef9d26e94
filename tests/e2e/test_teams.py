"""Browser: HTML in a song title stays text on the pages that render titles with JavaScript (song
list, editor) and on the server-rendered ones (report, queue); the team pages work."""

import pytest

INJECTION = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture
def world(transactional_db, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from accounts.services import membership_set, project_create
    from annotations.services import revision_create
    from jobs.models import ModelVersion
    from reports.models import EvaluationReport
    from songs.models import Song
    from songs.services import songs_assign

    from detector.labels import Segment

    boss = django_user_model.objects.create_user("boss", password="correct horse battery")
    anna = django_user_model.objects.create_user("anna", password="correct horse battery")
    project = project_create(name="Choir", created_by=boss)
    membership_set(project=project, user=anna, role="annotator")
    song = Song.objects.create(project=project, title=INJECTION, artist=INJECTION, original="x/a.wav",
                               original_name="a.wav", sha256="e" * 64, duration=12.0, status="ready", created_by=boss)
    revision_create(song=song, segments=[Segment(0, 5, "non-vocal"), Segment(5, 12, "vocal")], author=boss,
                    origin="import:lab")
    songs_assign(project=project, actor=boss, song_ids=[song.pk], assignee=anna)
    model = ModelVersion.objects.create(project=project, name="m1", kind="target", checkpoint="m/x.pt")
    report = EvaluationReport.objects.create(
        project=project, model_version=model, name="r1", songs=[{"song": song.pk, "title": INJECTION}],
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
