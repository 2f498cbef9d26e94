"""The editor's time axis in Debian chromium: what the ruler says at a pixel is the time the waveform
puts there, at several zoom levels and scroll positions; the spectrogram and the probability lanes
draw a feature of a synthetic song at the pixel of its time; three model curves and the reference
revision are drawn where they belong; dragging across the waveform makes a segment; the view
exports as a PNG of what is on screen."""

import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from editor_support import (  # noqa: E402
    add_prediction,
    as_array,
    canvas_pixels,
    make_song,
    open_editor,
    seconds,
    time_at,
    wave_geometry,
    x_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def zoom(page, pps):
    page.evaluate(f"() => window.__ws.zoom({pps})")
    page.wait_for_timeout(150)


def scroll_to(page, t):
    page.evaluate(f"() => window.__ws.setScrollTime({t})")
    page.wait_for_timeout(150)


def ruler_labels(page):
    return page.evaluate("""() => {
        const ruler = document.getElementById('ruler').getBoundingClientRect()
        return [...document.querySelectorAll('#ruler .rl')].map((el) => {
            const r = el.getBoundingClientRect()
            return {text: el.textContent, left: r.left, right: r.right, inside: r.left >= ruler.left - 0.5 && r.left <= ruler.right}
        })
    }""")


def hover(page, x, y):
    page.mouse.move(x, y)
    page.wait_for_timeout(30)
    return page.inner_text("#t-hover"), page.inner_text('[part="hover-label"]')


@pytest.fixture
def minute_song(project, user):
    """75 s: long enough for the ruler to cross a minute."""
    return make_song(project, user=user, duration=75.0, tone=(31.3, 36.9, 1000.0),
                     segments=[(0.0, 31.3, "non-vocal"), (31.3, 36.9, "vocal"), (36.9, 75.0, "non-vocal")])


def test_the_ruler_says_what_the_waveform_means_at_every_zoom_and_scroll_position(page, live_server, login, user,
                                                                                 minute_song, screenshot):
    login(page, user.username)
    open_editor(page, live_server, minute_song)
    page.evaluate("() => window.__ws.zoom(0)")
    checked = 0
    # fit, the 29.8 px/s, the 60 px/s where it went blank, and deep zooms
    for pps in (None, 29.8, 60, 300, 2000):
        if pps:
            zoom(page, pps)
        for where in (0.0, 0.5, 1.0):
            geo = wave_geometry(page)
            visible = geo["width"] / geo["pps"]
            scroll_to(page, where * max(0.0, geo["duration"] - visible))
            geo = wave_geometry(page)
            labels = [lab for lab in ruler_labels(page) if lab["inside"]]
            assert len(labels) >= 3, (pps, where, labels)  # never blank
            times = [seconds(lab["text"]) for lab in labels]  # one format: m:ss[.f] everywhere
            assert times == sorted(times)
            tol = 1.5 / geo["pps"] + 0.0011  # a pixel and a half, and the readout's millisecond
            t0, t1 = time_at(geo, geo["left"]), time_at(geo, geo["left"] + geo["width"])
            assert t0 - tol <= times[0] and times[-1] <= t1 + tol, (times, t0, t1)  # it scrolled with the waveform
            inside = [(lab, t) for lab, t in zip(labels, times, strict=True)
                      if geo["left"] <= lab["left"] <= geo["left"] + geo["width"] - 2]  # the mouse can go there
            for lab, t in inside[:: max(1, len(inside) // 3)]:
                # wavesurfer's own px/s and scroll put this time at the label's tick ...
                assert abs(time_at(geo, lab["left"]) - t) <= tol, (pps, where, lab, t)
                # ... and so do the editor's hover readout and wavesurfer's hover label under the mouse
                readout, ws_label = hover(page, lab["left"] + 0.5, geo["top"] + geo["height"] / 2)
                assert abs(seconds(readout) - t) <= tol, (pps, where, lab["text"], readout)
                assert abs(seconds(ws_label) - t) <= tol, (pps, where, lab["text"], ws_label)
                checked += 1
        if pps == 29.8:
            screenshot(page, "editor_ruler_29px")
    assert checked >= 30
    # the segment of the issue (31.3-36.9 s) sits under the ruler's 0:31-0:37, not "20-25"
    zoom(page, 29.8)
    scroll_to(page, 20)
    geo = wave_geometry(page)
    box = page.locator('.seg[data-index="1"]').bounding_box()
    assert abs(time_at(geo, box["x"]) - 31.3) <= 0.05 and abs(time_at(geo, box["x"] + box["width"]) - 36.9) <= 0.05
    under = [seconds(lab["text"]) for lab in ruler_labels(page) if box["x"] <= lab["left"] <= box["x"] + box["width"]]
    assert under and all(31.3 <= t <= 36.9 for t in under), under


def test_the_spectrogram_and_probability_lanes_draw_features_at_their_time(page, live_server, login, user, project,
                                                                          screenshot):
    song = make_song(project, user=user, duration=20.0, tone=(7.0, 9.0, 2000.0))
    add_prediction(song, name="active-model", high=(12.0, 15.0), project=project)
    login(page, user.username)
    open_editor(page, live_server, song)
    page.wait_for_function("() => window.__editor.curves.active")
    page.click("#chk-spec")
    page.wait_for_selector('#editor[data-spec="drawn"]', timeout=10000)
    # the frequency axis says "2k" where the 2 kHz tone is drawn
    axis = page.evaluate("""() => [...document.querySelectorAll('#spec-axis .hz')].map((el) => {
        const r = el.getBoundingClientRect(); return {hz: +el.dataset.hz, text: el.textContent, y: (r.top + r.bottom) / 2}})""")
    assert {a["text"] for a in axis} >= {"500", "1k", "2k", "4k"}
    two_k = next(a for a in axis if a["hz"] == 2000)
    for pps, scroll in ((None, 0), (120, 5.5), (900, 6.7), (4000, 6.95), (900, 8.6)):
        if pps:
            zoom(page, pps)
        scroll_to(page, scroll)
        page.wait_for_timeout(250)
        page.wait_for_function("() => !document.getElementById('spec-status').textContent")
        geo = wave_geometry(page)
        spec = canvas_pixels(page, "#spec-canvas")
        assert abs(spec["width"] - geo["width"]) <= 1 and abs(spec["left"] - geo["left"]) <= 1  # the waveform's box
        img = as_array(spec).astype(int)
        scale = spec["w"] / spec["width"]
        brightness = img[:, :, :3].sum(axis=2)
        row = int((two_k["y"] - spec["top"]) * scale)
        band = brightness[max(0, row - 2): row + 3].max(axis=0)  # the 2 kHz row, +- 2 px
        on = np.flatnonzero(band > 350)
        t_lo, t_hi = time_at(geo, geo["left"]), time_at(geo, geo["left"] + geo["width"])
        tol = max(2.5 / geo["pps"], 0.035)  # 2 px, or the 50 ms analysis window's spread
        if 7.0 > t_lo + tol and 7.0 < t_hi - tol:
            assert on.size, (pps, scroll)
            assert abs(time_at(geo, spec["left"] + on[0] / scale) - 7.0) <= tol, (pps, scroll)
        if 9.0 > t_lo + tol and 9.0 < t_hi - tol:
            assert abs(time_at(geo, spec["left"] + (on[-1] + 1) / scale) - 9.0) <= tol, (pps, scroll)
        if t_lo < 8.0 < t_hi:  # during the tone the loudest row is the 2k label's row
            col = int((x_of(geo, 8.0) - spec["left"]) * scale)
            assert abs(int(np.argmax(brightness[:, col])) - (two_k["y"] - spec["top"]) * scale) <= 3 * scale
        # the probability lane: the active model's curve rises at 12 s
        prob = canvas_pixels(page, "#prob-lane")
        pimg = as_array(prob).astype(int)
        pscale = prob["w"] / prob["width"]
        y_high = int((56 - 6 - 0.7 * 46) * pscale)  # p = 0.7: inside the curve only where p = 0.9
        filled = np.flatnonzero(pimg[y_high, :, 3] > 0)
        if t_lo + tol < 12.0 < t_hi - tol:
            assert filled.size and abs(time_at(geo, prob["left"] + filled[0] / pscale) - 12.0) <= tol, (pps, scroll)
        elif not (t_lo < 15 and t_hi > 12):
            assert not filled.size, (pps, scroll)  # nothing drawn where the model says 0.05
    zoom(page, 60)
    scroll_to(page, 4)
    screenshot(page, "editor_spectrogram_aligned")
    # the deepest zoom reads the full-resolution level, the whole song a coarser one
    assert page.get_attribute("#spec-canvas", "data-level") == "0"


def test_three_model_curves_and_the_reference_revision_beside_the_working_one(page, live_server, login, user, project,
                                                                              screenshot):
    from accounts.services import activity_record
    from factories import RevisionFactory

    song = make_song(project, user=user, duration=10.0, tone=None, spectrogram=False)
    previous = add_prediction(song, name="model-previous", high=(4.0, 6.0), project=project)
    active = add_prediction(song, name="model-active", high=(2.0, 4.0), project=project)
    add_prediction(song, name="model-other", high=(6.0, 8.0), project=project)
    activity_record(project=project, actor=user, verb="model.activated", summary="x", data={"model": previous.pk})
    activity_record(project=project, actor=user, verb="model.activated", summary="y", data={"model": active.pk})
    project.active_model = active
    project.save()
    RevisionFactory(song=song, segments=[(0, 5, "non-vocal"), (5, 10, "vocal")], author=user, state="verified")
    RevisionFactory(song=song, segments=[(0, 2, "non-vocal"), (2, 10, "vocal")], author=user)
    login(page, user.username)
    open_editor(page, live_server, song)
    page.wait_for_function("() => window.__editor.curves.active && window.__editor.ref")
    assert "model-active (active)" in page.inner_text(".ed-layers")
    page.check("#chk-curve-previous")
    page.select_option("#sel-curve-other", label="model-other")
    page.wait_for_function("() => document.getElementById('editor').dataset.curves === '3'")
    page.wait_for_timeout(200)
    geo = wave_geometry(page)
    prob = canvas_pixels(page, "#prob-lane")
    img = as_array(prob).astype(int)
    scale = prob["w"] / prob["width"]
    y09 = int(round((56 - 6 - 0.9 * 46) * scale))

    def colour_at(t):
        col = int((x_of(geo, t) - prob["left"]) * scale)
        near_p = img[max(0, y09 - 2): y09 + 3, col - 4: col + 5, :].reshape(-1, 4)  # dashed lines have gaps
        return near_p[np.argmax(near_p[:, 3])][:3]  # the most opaque pixel near p = 0.9

    def near(rgb, target, tol=60):
        return np.abs(np.array(rgb) - np.array(target)).max() <= tol

    assert near(colour_at(3.0), (240, 140, 0)), colour_at(3.0)  # active: orange, 2-4 s
    assert near(colour_at(5.0), (112, 72, 232)), colour_at(5.0)  # previous: purple, 4-6 s
    assert near(colour_at(7.0), (12, 133, 153)), colour_at(7.0)  # other: teal, 6-8 s
    # the reference (latest verified revision: vocal from 5 s) under the working one (vocal from 2 s)
    assert page.inner_text("#ref-label") == "r2 verified · ana"  # r1: the model's, r3: the working draft
    ref = canvas_pixels(page, "#ref-canvas")
    rimg = as_array(ref).astype(int)
    rscale = ref["w"] / ref["width"]

    def ref_at(t, y):
        return rimg[int(y * rscale), int((x_of(geo, t) - ref["left"]) * rscale), :3]

    assert near(ref_at(7.0, 8), (240, 140, 0), 30) and near(ref_at(1.0, 8), (92, 124, 250), 90)
    assert near(ref_at(3.5, 16), (224, 49, 49), 30)  # working says vocal, reference not: marked red
    assert not near(ref_at(7.0, 16), (224, 49, 49), 30) and not near(ref_at(1.0, 16), (224, 49, 49), 30)
    screenshot(page, "editor_layers")
    page.select_option("#sel-ref", "")
    page.wait_for_function("() => document.getElementById('ref-lane').hidden")


def test_dragging_across_the_waveform_makes_a_segment_of_the_chosen_label(page, live_server, login, user, project):
    song = make_song(project, user=user, duration=10.0, tone=None, spectrogram=False)
    login(page, user.username)
    open_editor(page, live_server, song)
    geo = wave_geometry(page)
    y = geo["top"] + geo["height"] * 0.6
    page.select_option("#sel-paint", "vocal")
    page.mouse.move(x_of(geo, 0.5), y)
    page.mouse.down()
    page.mouse.move(x_of(geo, 1.0), y, steps=4)
    page.mouse.move(x_of(geo, 7.5), y, steps=8)
    page.mouse.up()
    segs = page.evaluate("() => window.__editor.hist.present.map(s => [s.start, s.end, s.label])")
    assert [lab for *_, lab in segs] == ["non-vocal", "vocal", "non-vocal"]  # 2-6 s was covered whole
    assert segs[1][0] == pytest.approx(0.5, abs=0.02) and segs[1][1] == pytest.approx(7.5, abs=0.02)
    assert all(round(a * 100) == pytest.approx(a * 100, abs=1e-6) for a, *_ in segs)  # on the 10 ms grid
    assert all(abs(segs[i][1] - segs[i + 1][0]) < 1e-9 for i in range(len(segs) - 1))  # no gap, no overlap
    assert segs[0][0] == 0 and segs[-1][1] == 10.0
    assert page.get_attribute("#editor", "data-dirty") == "1"
    # non-vocal, right to left, inside the vocal segment
    page.select_option("#sel-paint", "non-vocal")
    page.mouse.move(x_of(geo, 4.0), y)
    page.mouse.down()
    page.mouse.move(x_of(geo, 3.0), y, steps=6)
    page.mouse.up()
    segs = page.evaluate("() => window.__editor.hist.present.map(s => [s.start, s.end, s.label])")
    assert [round(a, 2) for a, *_ in segs] == [0.0, 0.5, 3.0, 4.0, 7.5]
    assert [lab for *_, lab in segs] == ["non-vocal", "vocal", "non-vocal", "vocal", "non-vocal"]
    # a click (no drag) still only selects
    n = len(segs)
    page.mouse.click(x_of(geo, 9.0), y)
    assert len(page.evaluate("() => window.__editor.hist.present")) == n
    assert page.evaluate("() => window.__editor.sel.index") == n - 1
    page.keyboard.press("z")
    assert len(page.evaluate("() => window.__editor.hist.present")) == 3


def test_the_current_view_exports_as_a_png_of_what_is_on_screen(page, live_server, login, user, project):
    from PIL import Image

    song = make_song(project, user=user, duration=10.0, tone=(6.5, 8.0, 1000.0))
    add_prediction(song, name="m", high=(2.0, 6.0), project=project)
    login(page, user.username)
    open_editor(page, live_server, song)
    page.wait_for_function("() => window.__editor.curves.active")
    page.click("#chk-spec")
    page.wait_for_selector('#editor[data-spec="drawn"]')
    geo = wave_geometry(page)
    page.click(".ed-actions summary")
    with page.expect_download() as info:
        page.click("#btn-png")
    download = info.value
    assert download.suggested_filename == "Lanes song 0.0-10.0 s.png"
    image = Image.open(io.BytesIO(Path(download.path()).read_bytes())).convert("RGB")
    dpr = page.evaluate("window.devicePixelRatio")
    assert image.size == (round(geo["width"] * dpr), round((150 + 22 + 56 + 128) * dpr))
    px = np.array(image).astype(int)

    def at(t, y):
        return px[int(y * dpr), int((x_of(geo, t) - geo["left"]) * dpr)]

    assert np.abs(at(4.0, 2) - (240, 140, 0)).max() < 40  # vocal 2-6 s: orange bar on top
    assert np.abs(at(1.0, 2) - (92, 124, 250)).max() < 40  # non-vocal: blue
    assert np.abs(at(4.0, 150 + 22 + 30) - (251, 226, 191)).max() < 40  # inside the p = 0.9 curve
    assert np.abs(at(8.5, 150 + 22 + 30) - (255, 255, 255)).max() < 10  # above p = 0.05
