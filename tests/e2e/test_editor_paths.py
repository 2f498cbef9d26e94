"""The editor's paths that the other browser tests do not walk, in Debian chromium: "load theirs"
after a conflict, a draft from an earlier visit based on an older revision, a plain comment, putting
an older revision in the editor as an edit, and Tab through the segments."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from editor_support import make_song, open_editor  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEGMENTS = [(0.0, 2.0, "non-vocal"), (2.0, 6.0, "vocal"), (6.0, 8.0, "non-vocal")]
THEIRS = [(0.0, 1.0, "non-vocal"), (1.0, 6.0, "vocal"), (6.0, 8.0, "non-vocal")]


@pytest.fixture
def song(project, user):
    return make_song(project, user=user, title="Paths song", duration=8.0, segments=SEGMENTS, spectrogram=False)


def segments(page):
    return page.evaluate("() => window.__editor.hist.present.map(s => [s.start, s.end, s.label])")


def labels(page):
    return [s[2] for s in segments(page)]


def someone_saves(song, segs):
    from annotations.services import revision_create

    from detector.labels import Segment

    return revision_create(song=song, segments=[Segment(a, b, lab) for a, b, lab in segs], author=None,
                           origin="human", based_on="current")


def toggle_last_segment(page):
    page.locator('.seg[data-index="2"]').click(position={"x": 40, "y": 60})
    page.keyboard.press("t")
    assert labels(page) == ["non-vocal", "vocal", "vocal"]


def drafts(page):
    return page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('singscope:draft:'))")


def test_load_theirs_after_a_conflict_takes_their_revision_and_forgets_my_draft(page, live_server, login, user,
                                                                                song):
    login(page, user.username)
    open_editor(page, live_server, song)
    toggle_last_segment(page)
    assert len(drafts(page)) == 1
    someone_saves(song, THEIRS)

    page.click("#btn-save")
    page.locator("#conflict").wait_for(state="visible")
    page.click("#btn-reload")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="2"][data-conflict="0"]')
    assert not page.locator("#conflict").is_visible()
    assert [[round(a, 3), round(b, 3), lab] for a, b, lab in segments(page)] == [list(s) for s in THEIRS]
    assert "Loaded revision 2." in page.inner_text("#banner")
    assert drafts(page) == []


def test_a_draft_from_an_earlier_visit_on_an_older_revision_opens_the_conflict_path(page, live_server, login, user,
                                                                                   song):
    login(page, user.username)
    open_editor(page, live_server, song)
    toggle_last_segment(page)
    someone_saves(song, THEIRS)

    page.reload()
    page.wait_for_selector('#editor[data-state="ready"]')
    page.locator("#conflict").wait_for(state="visible")
    assert "earlier visit" in page.inner_text("#conflict-text")
    assert labels(page) == ["non-vocal", "vocal", "vocal"]

    page.click("#btn-reapply")
    page.wait_for_selector('#editor[data-revision="2"][data-dirty="1"][data-conflict="0"]')
    segs = segments(page)
    assert segs[0][1] == pytest.approx(1.0) and segs[-1][2] == "vocal"  # their boundary and my label


def test_comment_use_an_older_revision_and_tab_through_segments(page, live_server, login, user, song):
    from annotations.models import ReviewComment

    login(page, user.username)
    open_editor(page, live_server, song)

    # Tab selects the next segment and puts the cursor at its start; Shift+Tab goes back
    page.keyboard.press("Tab")
    assert page.evaluate("() => window.__editor.sel") == {"kind": "segment", "index": 1}
    assert page.evaluate("() => window.__ws.getCurrentTime()") == pytest.approx(2.0, abs=0.011)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => window.__editor.sel.index") == 0

    # a plain comment (no review decision) is stored and listed
    page.fill("#comment-text", "check the breath at 0:04")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector("#comments li:has-text('check the breath')")
    assert "Comment added." in page.inner_text("#banner")
    assert ReviewComment.objects.get().text == "check the breath at 0:04"

    # save an edit as revision 2, then put revision 1 back in the editor as an unsaved edit
    toggle_last_segment(page)
    page.keyboard.press("Control+s")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="2"]')
    page.keyboard.press("h")
    page.wait_for_function("() => document.querySelectorAll('#history-rows tr[data-id]').length === 2")
    page.locator("#history-rows tr[data-id]").nth(1).locator(".load-rev").click()
    page.wait_for_selector('#editor[data-dirty="1"]')
    assert labels(page) == ["non-vocal", "vocal", "non-vocal"]
    assert "Revision 1 is in the editor as an unsaved edit." in page.inner_text("#banner")
