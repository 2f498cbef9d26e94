"""The annotation editor in Debian chromium: edit a partition with mouse and keyboard, undo/redo,
save, reload; a second browser saves first and the first one gets the conflict path with its edits."""

import sys
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import sine, voice
from factories import PredictionFactory, member

sys.path.insert(0, str(Path(__file__).resolve().parent))
from editor_support import make_song as editor_song  # noqa: E402
from editor_support import open_editor  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INITIAL = [
    {"start": 0.0, "end": 2.0, "label": "non-vocal"},
    {"start": 2.0, "end": 6.0, "label": "vocal"},
    {"start": 6.0, "end": 8.0, "label": "non-vocal"},
]


def make_song(project, *, title="Editor song", duration=8.0, user=None, with_prediction=True):
    """A ready song as the songs app leaves it: original wav, peaks file, an initial revision, a prediction."""
    signal = sine(duration, freq=110.0, amplitude=0.05) + voice(
        duration, f0=440.0, spans=[(2.0, 6.0)], amplitude=0.4, harmonics=1, vibrato=0.0, tremolo=0.4, tremolo_hz=3.0)
    song = editor_song(project, title=title, duration=duration, user=user, segments=INITIAL, spectrogram=False,
                       signal=signal)
    if with_prediction:
        probs = np.full(int(duration * 100), 0.1, dtype=np.float16)
        probs[200:600] = 0.9
        probs[650:680] = 0.55  # the model is unsure at 6.5-6.8 s and says vocal there
        PredictionFactory(song=song, model_version__project=None, model_version__name="tiny",
                          model_version__kind="source", probabilities=probs, segments=INITIAL)
    return song


@pytest.fixture
def song(project, user):
    return make_song(project, user=user)


def segments(page):
    return page.evaluate("() => window.__editor.hist.present.map(s => [s.start, s.end, s.label])")


def labels(page):
    return [s[2] for s in segments(page)]


def set_cursor(page, t):
    page.evaluate(f"() => window.__ws.setTime({t})")


def boundary_x(page, b):
    box = page.locator(f'.bnd[data-b="{b}"]').bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_edit_undo_redo_save_and_reload(page, live_server, login, user, song, screenshot):
    login(page, user.username)
    open_editor(page, live_server, song)
    assert segments(page) == [[0, 2, "non-vocal"], [2, 6, "vocal"], [6, 8, "non-vocal"]]
    assert page.locator(".seg").count() == 3
    screenshot(page, "editor_open")

    # split at the cursor (s), then toggle the new right half (t): vocal 2-4, non-vocal 4-8
    set_cursor(page, 4.0)
    page.keyboard.press("s")
    assert segments(page)[1:3] == [[2, 4, "vocal"], [4, 6, "vocal"]]
    page.locator('.seg[data-index="2"]').click(position={"x": 40, "y": 60})
    page.keyboard.press("t")
    assert labels(page) == ["non-vocal", "vocal", "non-vocal", "non-vocal"]

    # drag boundary 1 (2.0 s) to the right by about half a second of pixels
    x, y = boundary_x(page, 1)
    pps = page.evaluate("() => window.__ws.getWrapper().scrollWidth / 8")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 0.25 * pps, y, steps=5)
    page.mouse.move(x + 0.5 * pps, y, steps=5)
    page.mouse.up()
    dragged = segments(page)[1][0]
    assert 2.4 <= dragged <= 2.6 and round(dragged * 100) == pytest.approx(dragged * 100, abs=1e-6)  # on the 10 ms grid
    assert segments(page)[0][1] == dragged  # both neighbours moved

    # nudge the selected boundary: +10 ms, then Shift: -100 ms
    page.keyboard.press(".")
    assert segments(page)[1][0] == pytest.approx(dragged + 0.01)
    page.keyboard.press("Shift+>")
    page.keyboard.press("Shift+<")
    page.keyboard.press("Shift+<")
    assert segments(page)[1][0] == pytest.approx(dragged + 0.01 - 0.1)
    edited = segments(page)

    # undo everything step by step back to the start, then redo it all
    for _ in range(7):
        page.keyboard.press("Control+z")
    assert segments(page) == [[0, 2, "non-vocal"], [2, 6, "vocal"], [6, 8, "non-vocal"]]
    assert page.locator("#btn-undo").is_disabled()
    for _ in range(3):
        page.keyboard.press("Control+Shift+Z")
    for _ in range(4):
        page.keyboard.press("y")
    assert segments(page) == edited
    assert page.get_attribute("#editor", "data-dirty") == "1"
    screenshot(page, "editor_edited")

    # save: a new revision, the page says so
    page.click("#btn-save")
    page.wait_for_selector('#editor[data-dirty="0"]')
    assert page.get_attribute("#editor", "data-revision") == "2"
    from songs.models import Song

    saved = Song.objects.get(pk=song.pk).current_revision
    assert saved.number == 2 and saved.origin == "human" and saved.author_id == user.pk
    expected = [[round(a, 3), round(b, 3), lab] for a, b, lab in edited]
    # same-label neighbours are joined on save (4-6 and 6-8 non-vocal)
    assert [[round(s["start"], 3), round(s["end"], 3), s["label"]] for s in saved.segments] == [
        expected[0], expected[1], [expected[2][0], 8.0, "non-vocal"]]

    page.reload()
    page.wait_for_selector('#editor[data-state="ready"]')
    assert [[round(a, 3), round(b, 3), lab] for a, b, lab in segments(page)] == [
        expected[0], expected[1], [expected[2][0], 8.0, "non-vocal"]]
    assert page.get_attribute("#editor", "data-dirty") == "0"
    assert page.locator(".seg").count() == 3
    screenshot(page, "editor_reloaded")


def test_a_second_browser_saves_first_and_the_first_gets_the_conflict_path(
        browser, page, live_server, login, user, make_user, project, song, screenshot):
    from accounts.models import Role
    from songs.models import Song

    member(project, Role.ANNOTATOR, "bob")
    login(page, user.username)
    open_editor(page, live_server, song)

    # Ana toggles the last segment (6-8 s becomes vocal) but does not save yet
    page.locator('.seg[data-index="2"]').click(position={"x": 40, "y": 60})
    page.keyboard.press("t")
    assert labels(page) == ["non-vocal", "vocal", "vocal"]

    # Ana's unsaved edit survives a page reload (localStorage, keyed by song + base revision)
    page.reload()
    page.wait_for_selector('#editor[data-state="ready"]')
    assert labels(page) == ["non-vocal", "vocal", "vocal"]
    assert page.get_attribute("#editor", "data-dirty") == "1"

    # Bob, in another browser context, moves the first boundary from 2.0 s to 1.0 s and saves first
    other = browser.new_context(viewport={"width": 1360, "height": 900})
    bob_page = other.new_page()
    try:
        login(bob_page, "bob")
        open_editor(bob_page, live_server, song)
        set_cursor(bob_page, 1.0)
        bob_page.keyboard.press("b")  # nearest boundary: 2.0 s
        for _ in range(10):
            bob_page.keyboard.press("Shift+<")
        assert segments(bob_page)[0][1] == pytest.approx(1.0)
        bob_page.click("#btn-save")
        bob_page.wait_for_selector('#editor[data-dirty="0"][data-revision="2"]')
    finally:
        other.close()

    # Ana saves: 409, the dialog says who saved which revision; her edit is still on screen
    page.click("#btn-save")
    dialog = page.locator("#conflict")
    dialog.wait_for(state="visible")
    text = page.inner_text("#conflict-text")
    assert "bob" in text and "revision 2" in text
    assert labels(page) == ["non-vocal", "vocal", "vocal"]
    screenshot(page, "editor_conflict")
    assert Song.objects.get(pk=song.pk).current_revision.number == 2

    # Re-apply on top: Bob's boundary move and Ana's toggle together, then save as revision 3
    page.click("#btn-reapply")
    assert [[round(a, 3), round(b, 3), lab] for a, b, lab in segments(page)] == [
        [0, 1.0, "non-vocal"], [1.0, 8.0, "vocal"]]
    page.click("#btn-save")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="3"]')
    current = Song.objects.get(pk=song.pk).current_revision
    assert current.number == 3 and current.parent.number == 2
    assert current.segments == [{"start": 0.0, "end": 1.0, "label": "non-vocal"},
                                {"start": 1.0, "end": 8.0, "label": "vocal"}]


def test_history_diff_review_and_shortcuts(browser, page, live_server, login, user, make_user, project, song,
                                           screenshot):
    from accounts.models import Role
    from songs.models import Song

    login(page, user.username)
    open_editor(page, live_server, song)
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    screenshot(page, "editor_shortcuts")
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()

    # jump to the next disagreement with the model (6.5 s), make it vocal there, save, submit
    page.wait_for_function("() => window.__editor.pred && window.__editor.pred.disagree.length")
    page.keyboard.press("d")
    assert page.evaluate("() => window.__ws.getCurrentTime()") == pytest.approx(6.5, abs=0.011)
    page.keyboard.press("s")
    set_cursor(page, 6.8)
    page.keyboard.press("s")
    page.evaluate("() => { window.__editor.sel = {kind: 'segment', index: 3} }")
    page.keyboard.press("v")
    assert labels(page) == ["non-vocal", "vocal", "non-vocal", "vocal", "non-vocal"]
    page.keyboard.press("Control+s")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="2"]')
    page.click("#btn-submit")
    page.wait_for_selector('#editor[data-revision="3"]')
    assert "submitted" in page.inner_text("#rev-badge")

    # history: compare r1 and r2 -> 30 frames changed
    page.keyboard.press("h")
    # the history shows all three revisions (saves and the submit refresh it in the background too)
    page.wait_for_function("() => document.querySelectorAll('#history-rows tr[data-id]').length === 3")
    page.locator("#history-rows .pick").nth(0).uncheck()
    page.locator("#history-rows .pick").nth(1).check()
    page.locator("#history-rows .pick").nth(2).check()
    page.click("#btn-diff")
    page.wait_for_selector(".diff-frames")
    assert page.inner_text(".diff-frames") == "30"
    assert "ana" in page.inner_text("#diff-out")
    screenshot(page, "editor_history_diff")
    page.keyboard.press("Escape")

    # a reviewer rejects with a comment pinned to the cursor; the annotator sees it
    member(project, Role.REVIEWER, "rita")
    other = browser.new_context(viewport={"width": 1360, "height": 900})
    rp = other.new_page()
    try:
        login(rp, "rita")
        open_editor(rp, live_server, song)
        set_cursor(rp, 6.6)
        rp.click("#btn-reject")
        rp.fill("#reject-text", "6.5-6.8 is a breath, not singing")
        rp.check("#reject-pin")
        rp.click('#reject-form button[value="ok"]')
        rp.wait_for_selector('#editor[data-revision="4"]')
        assert "draft" in rp.inner_text("#rev-badge")
        rp.wait_for_selector("#comments li:has-text('breath')")
    finally:
        other.close()
    current = Song.objects.get(pk=song.pk).current_revision
    assert current.state == "draft" and current.number == 4
    from annotations.models import ReviewComment

    note = ReviewComment.objects.get()
    assert note.decision == "rejected" and note.time == pytest.approx(6.6, abs=0.01)
