"""The editor as a labelling team meets it, in Debian chromium: shortcuts after clicking controls,
Ctrl+S from anywhere, typed times refused with a sentence, a warning before leaving unsaved work, a
restored draft that can be discarded, the hover readout, labels that never overlap, one time format,
titles from tags and edited on the page, and a second pair of eyes for verification."""

import re
import sys
import tempfile
from pathlib import Path

import pytest
from audio_fixtures import audio_bytes, sine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from editor_support import make_song, open_editor, seconds, wave_geometry, x_of  # noqa: E402
from factories import member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def segments(page):
    return page.evaluate("() => window.__editor.hist.present.map(s => [s.start, s.end, s.label])")


def labels(page):
    return [s[2] for s in segments(page)]


@pytest.fixture
def song(project, user):
    return make_song(project, user=user, duration=10.0, tone=None, spectrogram=False)


def test_shortcuts_work_after_clicking_controls_and_ctrl_s_always_saves(page, live_server, login, user, song):
    login(page, user.username)
    open_editor(page, live_server, song)
    page.evaluate("""() => { window.__prevented = []
        window.addEventListener('keydown', (e) => { if (e.key === 's' || e.key === 'S') window.__prevented.push(e.defaultPrevented) }) }""")
    page.evaluate("() => window.__ws.setTime(3)")
    expected = ["non-vocal", "vocal", "non-vocal"]
    # after the Loop checkbox, the Spectrogram checkbox, the Rate menu and a toolbar button had focus
    for focus in ("#chk-loop", "#chk-spec", "#sel-rate", "#btn-zoom-fit"):
        if focus == "#sel-rate":
            page.focus(focus)
        else:
            page.click(focus)
        assert page.evaluate("() => document.activeElement.id") == focus[1:]
        page.keyboard.press("t")
        expected[1] = "non-vocal" if expected[1] == "vocal" else "vocal"
        assert labels(page) == expected, focus
    assert page.is_checked("#chk-loop") and page.input_value("#sel-rate") == "1"  # t did not change them
    # Ctrl+S with the Loop checkbox focused: saved, and the browser's own "Save page" was prevented
    page.keyboard.press("t")  # four toggles undid themselves: one more, to have something to save
    assert page.get_attribute("#editor", "data-dirty") == "1"
    page.click("#chk-loop")
    page.keyboard.press("Control+s")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="2"]')
    # Ctrl+S while typing a comment (a text field keeps t and s, but not Ctrl+S)
    page.keyboard.press("t")
    page.click("#comment-text")
    page.keyboard.type("ts")
    assert page.input_value("#comment-text") == "ts" and page.get_attribute("#editor", "data-dirty") == "1"
    page.keyboard.press("Control+s")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="3"]')
    assert page.evaluate("() => window.__prevented.slice(-1)[0]") is True
    assert page.evaluate("() => window.__prevented.filter((p) => p === false).length") == 1  # only the typed "s"


def test_apply_times_refuses_start_after_end_and_times_out_of_range(page, live_server, login, user, song):
    login(page, user.username)
    open_editor(page, live_server, song)
    page.locator('.seg[data-index="1"]').click(position={"x": 30, "y": 60})
    assert page.input_value("#sel-start") == "0:02.000" and page.input_value("#sel-end") == "0:06.000"
    before = segments(page)
    for start, end, message in (("0:05", "0:03", "must be before the end"), ("3", "12", "inside the song"),
                                ("0:00.005", "5", "previous segment keeps"), ("0:03", "0:09.995", "next segment keeps"), ("abc", "5", "Type the times")):
        page.fill("#sel-start", start)
        page.fill("#sel-end", end)
        page.click("#sel-form button[type=submit]")
        assert message in page.inner_text("#sel-error"), (start, end)
        assert segments(page) == before  # nothing changed ...
        assert page.evaluate("() => window.__editor.hist.past.length") == 0  # ... and no edit was recorded
        assert page.get_attribute("#editor", "data-dirty") == "0"
    page.fill("#sel-start", "0:01.500")
    page.fill("#sel-end", "7.25")  # plain seconds are understood too
    page.click("#sel-form button[type=submit]")
    assert page.inner_text("#sel-error") == ""
    assert segments(page) == [[0, 1.5, "non-vocal"], [1.5, 7.25, "vocal"], [7.25, 10, "non-vocal"]]
    assert page.input_value("#sel-end") == "0:07.250"


def test_leaving_with_unsaved_edits_warns_and_a_restored_draft_can_be_discarded(browser, live_server, login, user,
                                                                                song):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        login(page, user.username)
        open_editor(page, live_server, song)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
        page.locator('.seg[data-index="2"]').click(position={"x": 30, "y": 60})
        page.keyboard.press("t")
        page.close(run_before_unload=True)
        page.wait_for_event("close") if not page.is_closed() else None
        assert dialogs == ["beforeunload"]

        page = context.new_page()
        open_editor(page, live_server, song)
        assert labels(page) == ["non-vocal", "vocal", "vocal"]  # the draft came back
        assert "Restored your unsaved edits" in page.inner_text("#banner")
        page.click("#banner [data-action=discard-draft]")
        assert labels(page) == ["non-vocal", "vocal", "non-vocal"]
        assert page.get_attribute("#editor", "data-dirty") == "0"
        page.reload()
        page.wait_for_selector('#editor[data-state="ready"]')
        assert labels(page) == ["non-vocal", "vocal", "non-vocal"] and page.is_hidden("#banner")
        # nothing unsaved: leaving asks nothing
        quiet = []
        page.on("dialog", lambda d: (quiet.append(d.type), d.accept()))
        page.close(run_before_unload=True)
        assert quiet == []
    finally:
        context.close()


def test_hover_readout_one_time_format_and_labels_that_never_overlap(page, live_server, login, user, project,
                                                                   screenshot):
    import numpy as np

    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(50, 17950), size=159, replace=False)) / 100  # 160 segments in 3 minutes
    edges = [0.0, *cuts.tolist(), 180.0]
    segs = [(a, b, "vocal" if k % 2 else "non-vocal") for k, (a, b) in enumerate(zip(edges[:-1], edges[1:],
                                                                                     strict=True))]
    song = make_song(project, user=user, duration=180.0, tone=None, spectrogram=False, segments=segs)
    login(page, user.username)
    open_editor(page, live_server, song)
    geo = wave_geometry(page)
    y = geo["top"] + geo["height"] / 2
    for t in (12.34, 95.0, 171.5):
        page.mouse.move(x_of(geo, t), y)
        assert abs(seconds(page.inner_text("#t-hover")) - t) <= 1 / geo["pps"] + 0.001
    assert page.inner_text("#t-hover") == "2:51.500" or seconds(page.inner_text("#t-hover")) > 171
    page.mouse.move(x_of(geo, 50), geo["top"] + geo["height"] + 30)  # over the lanes too
    assert abs(seconds(page.inner_text("#t-hover")) - 50) <= 1 / geo["pps"] + 0.001

    def overlaps():
        boxes = page.evaluate("""() => [...window.__ws.getWrapper().querySelectorAll('.seg')].map((seg) => {
            const lab = seg.querySelector('.lab'), s = seg.getBoundingClientRect()
            if (!lab) return null
            const l = lab.getBoundingClientRect()
            return {text: lab.textContent, l: l.left, r: l.right, sl: s.left, sr: s.right, visible: l.width > 0}
        }).filter(Boolean)""")
        shown = [b for b in boxes if b["visible"]]
        clash = [(a["text"], b["text"]) for a, b in zip(shown, shown[1:], strict=False) if a["r"] > b["l"]]
        outside = [b for b in shown if b["r"] > b["sr"] + 0.5 or b["l"] < b["sl"]]
        return shown, clash, outside

    shown, clash, outside = overlaps()  # the whole song on screen: many segments are a few px wide
    assert len(shown) >= 10, len(shown)  # labels where they fit, none where they would collide
    assert not clash and not outside, (clash[:3], outside[:3])
    assert {b["text"] for b in shown} <= {"vocal", "non-vocal", "v", "nv"}
    screenshot(page, "editor_labels_fit")
    page.evaluate("() => window.__ws.zoom(200)")
    page.wait_for_timeout(300)
    shown_zoomed, clash, outside = overlaps()
    assert not clash and not outside
    assert sum(b["text"] in ("vocal", "non-vocal") for b in shown_zoomed) > sum(
        b["text"] in ("vocal", "non-vocal") for b in shown)  # zoomed in, the words fit
    # one time format on the page: the cursor, the hover readout, ruler, tooltips, the inspector
    page.evaluate("() => window.__ws.setTime(65.25)")
    page.wait_for_function("() => document.getElementById('t-cursor').textContent === '1:05.250'")
    texts = [page.inner_text("#t-cursor"), page.inner_text("#t-hover")]
    texts += page.eval_on_selector_all("#ruler .rl", "els => els.map(e => e.textContent)")
    page.locator('.seg[data-index="40"]').click(position={"x": 1, "y": 60}, force=True)
    texts += [page.input_value("#sel-start"), page.input_value("#sel-end")]
    title = page.get_attribute('.seg[data-index="40"]', "title")
    texts += re.findall(r"[\d:.]+(?=–)|(?<=–)[\d:.]+", title)
    for text in texts:
        seconds(text)  # m:ss[.fff] and nothing else ("60" or "42.97 s" fail here)


def _tagged_mp3(tmp: Path) -> Path:
    dst = tmp / "audio.mp3"
    dst.write_bytes(audio_bytes(sine(3.0, freq=440.0, amplitude=0.125), 44100, "mp3", codec=[
        "-c:a", "libmp3lame", "-metadata", "title=Blue Moon", "-metadata", "artist=The Marcels",
        "-metadata", "album=Doo-Wop"]))
    return dst


def test_titles_come_from_tags_and_are_edited_on_the_song_page(page, live_server, login, user, project, screenshot):
    from songs.models import Song

    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    with tempfile.TemporaryDirectory() as d:
        page.set_input_files("#file-input", str(_tagged_mp3(Path(d))))
        page.wait_for_selector("#songs-body a:has-text('Blue Moon')", timeout=30000)
    row = page.inner_text("#songs-body tr[data-song]")
    assert "The Marcels · Doo-Wop" in row and "audio.mp3" in row
    song = Song.objects.get(project=project)
    Song.objects.filter(pk=song.pk).update(status="ready", duration=3.0)
    page.goto(f"{live_server.url}/projects/{project.pk}/songs/{song.pk}/")
    page.wait_for_selector('#editor[data-state="ready"]', timeout=30000)
    assert page.inner_text("#song-title") == "Blue Moon"
    page.click("#btn-details")
    page.fill("#in-title", "")
    page.click("#details-form button[type=submit]")
    assert page.is_visible("#details-form")  # the browser or the server refuses an empty title
    page.fill("#in-title", "Blue Moon (live)")
    page.fill("#in-album", "Live at the Apollo")
    page.click("#details-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('song-title').textContent === 'Blue Moon (live)'")
    assert "Live at the Apollo" in page.inner_text("#song-byline")
    assert Song.objects.get(pk=song.pk).album == "Live at the Apollo"
    page.click(".ed-actions summary")
    with page.expect_download() as info:
        page.click('.menu-body a[data-format="lab"]')
    assert info.value.suggested_filename == "Blue Moon (live).lab"
    screenshot(page, "editor_title_edited")


def test_nobody_verifies_their_own_work_and_the_badge_names_the_author(browser, page, live_server, login, user,
                                                                       make_user, project, song):
    from accounts.models import Role

    login(page, user.username)  # ana, the project's admin
    open_editor(page, live_server, song)
    page.locator('.seg[data-index="2"]').click(position={"x": 30, "y": 60})
    page.keyboard.press("t")
    page.click("#btn-save")
    page.wait_for_selector('#editor[data-dirty="0"][data-revision="2"]')
    page.click("#btn-submit")
    page.wait_for_selector('#editor[data-revision="3"]')
    assert page.is_disabled("#btn-verify")
    assert "someone else to verify" in page.inner_text("#verify-note")
    assert "by ana" in page.inner_text("#rev-badge")

    member(project, Role.REVIEWER, "rita")
    other = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        rp = other.new_page()
        login(rp, "rita")
        open_editor(rp, live_server, song)
        assert rp.is_enabled("#btn-verify") and rp.is_hidden("#verify-note")
        rp.click("#btn-verify")
        rp.wait_for_selector('#editor[data-revision="4"]')
        badge = rp.inner_text("#rev-badge")
        assert "verified" in badge and "by ana" in badge and "rita" not in badge  # the author, not the reviewer
        assert rp.inner_text("#rev-reviewer") == "verified by rita"
    finally:
        other.close()
    page.reload()
    page.wait_for_selector('#editor[data-state="ready"]')
    assert "by ana" in page.inner_text("#rev-badge") and page.inner_text("#rev-reviewer") == "verified by rita"
