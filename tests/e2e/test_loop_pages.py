"""The learning loop as a labelling team sees it in chromium (issue 18): the training page draws the
learning curve while the job runs and compares the new model with the one in use; after activation it
lists the songs whose decision changed most, each opening the editor with both models' curves; the
report page plots what each corrected song bought; the editor's 'u' goes to the most uncertain region first."""

import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from factories import ModelVersionFactory, PredictionFactory, TinyModelFactory, songs_by_split

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.slow
def test_the_training_page_shows_the_curve_live_the_comparison_and_what_activation_changed(
        page, live_server, login, screenshot, celery_worker_process, project, user):
    from jobs.detection import song_detect
    from jobs.launch import job_start

    songs = songs_by_split(project, user)
    base = TinyModelFactory(project=project, name="in use")
    for split in songs.values():
        for song in split:
            song_detect(song=song, model_version=base)  # the model in use has predicted every song
    project.active_model = base
    project.save()
    job = job_start(project=project, user=user, kind="train",
                    data={"mode": "finetune:L1", "epochs": 6, "steps_per_epoch": 150, "batch_size": 4,
                          "crop_seconds": 1.5, "lr": 0.003, "seed": 2, "name": "corrected"})
    login(page, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/jobs/{job.pk}/")

    # The curve grows while the job runs (the page polls; no reload).
    seen = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        points = page.get_attribute("#curve", "data-points")
        seen.append(int(points) if points else 0)
        if page.inner_text('[data-field="state"]') in ("succeeded", "failed", "cancelled"):
            break
        page.wait_for_timeout(250)
    assert page.inner_text('[data-field="state"]') == "succeeded", page.inner_text('[data-field="log"]')
    job.refresh_from_db()
    epochs = len(job.result["curve"])  # early stopping on the development songs may end before 6
    assert epochs >= 2 and any(0 < n < epochs for n in seen), (seen, job.log)  # drawn while it ran
    page.wait_for_function(f"() => document.querySelector('#curve').dataset.points === '{epochs}'")
    assert page.locator("#curve svg circle.dot.loss").count() == epochs
    assert page.locator("#curve svg circle.dot.f1").count() == epochs
    assert page.locator("#curve svg circle.dot.accuracy").count() == epochs
    assert page.get_attribute("#curve", "data-judged") == "yes"

    # Before promotion: development and test figures of the new model and the model in use.
    comparison = page.locator("#comparison")
    comparison.wait_for()
    text = comparison.text_content()
    assert "Development songs" in text and "validation song 1" in text
    assert "Test songs" in text and "test song 1" in text and "start model (in use)" in text
    assert comparison.locator("tr.new").count() == 2 and comparison.locator("tr.old").count() == 2
    assert page.locator('[data-field="activation"]').inner_text().startswith("Not activated automatically")
    assert "train song 1, train song 2" in page.locator('[data-field="trained-on"]').inner_text()
    assert page.locator(".changes-card").is_hidden()  # nothing activated yet
    screenshot(page, "learning_loop_training_page")

    # Activate it on the models page: one detection job brings the songs up to date.
    page.click("text=Model: corrected")
    page.wait_for_url("**/models/*")
    page.once("dialog", lambda d: d.accept())
    page.locator("tr", has_text="corrected").locator("button", has_text="Activate").click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text(".active-name") == "corrected"
    assert "brings the project's songs up to date" in page.inner_text(".messages")

    # Back on the training page: the songs whose decision changed most, once the detection ran.
    page.goto(f"{live_server.url}/projects/{project.pk}/jobs/{job.pk}/")
    page.wait_for_selector(".changes-card:not([hidden])")
    page.wait_for_function("() => document.querySelector('[data-field=redetect]') && "
                           "document.querySelector('[data-field=redetect]').textContent.includes('succeeded')",
                           timeout=120000)
    items = page.locator(".changed-songs li")
    assert items.count() == 4
    changed = [float(items.nth(i).get_attribute("data-changed")) for i in range(4)]
    assert changed == sorted(changed, reverse=True)
    assert "in use → corrected" in items.first.inner_text()
    screenshot(page, "learning_loop_changed_songs")

    # Each link opens the editor with both models' probability curves.
    items.first.locator("a").click()
    page.wait_for_url(lambda url: url.endswith(f"/?compare={base.pk}"))
    page.wait_for_selector('#editor[data-state="ready"]', timeout=30000)
    page.wait_for_function("() => document.getElementById('editor').dataset.curves === '2'")
    legend = page.inner_text("#prob-legend")
    assert "corrected (active)" in legend and "in use" in legend
    screenshot(page, "learning_loop_editor_both_curves")


def test_the_report_page_plots_what_each_corrected_song_bought(page, live_server, login, screenshot, project, user,
                                                               isolated_media):
    from reports.services import report_create
    from reports_support import hand_made_project

    model, _alpha, _beta = hand_made_project(project=project, user=user)
    figures = [(2, 0, 0.80, 0.84, None, None), (3, 1, 0.85, 0.88, 0.83, 0.86), (5, 1, 0.90, 0.92, 0.88, 0.90)]
    made = []
    for k, (train, dev, acc, f1, tacc, tf1) in enumerate(figures):
        made.append(ModelVersionFactory(
            project=project, name=f"round {k + 1}", kind="target", checkpoint="x.pt",
            training_revisions=[{"song": i, "revision": i} for i in range(train)],
            validation_revisions=[{"song": 100 + i, "revision": 100 + i} for i in range(dev)],
            metrics={"development": {"accuracy": acc, "f1": f1},
                     "test": {"accuracy": tacc, "f1": tf1} if tacc else None}))
    report = report_create(project=project, model_version=model, created_by=user)
    login(page, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/reports/{report.pk}/")
    box = page.locator("#learning-curve")
    page.wait_for_function("() => document.querySelector('#learning-curve').dataset.points === '3'")
    dev_f1 = box.locator("circle.dot.f1:not(.test)")
    assert [int(dev_f1.nth(i).get_attribute("data-songs")) for i in range(3)] == [2, 4, 6]
    assert "round 3: 6 verified songs (5 trained on, 1 development); development F1 92.0%" in \
        dev_f1.nth(2).locator("title").text_content()
    assert box.locator("circle.dot.accuracy:not(.test)").count() == 3
    assert box.locator("circle.dot.f1.test").count() == 2  # test figures where there were test songs
    assert "verified songs used" in box.inner_text()
    screenshot(page, "learning_loop_report_plot")


def test_the_editors_u_key_goes_to_the_most_uncertain_region_first(page, live_server, login, project, user,
                                                                     isolated_media):
    from editor_support import make_song, open_editor

    song = make_song(project, title="three unsure spans", duration=20.0, user=user)
    probs = np.full(2000, 0.02, np.float16)
    probs[300:400] = 0.45    # 3-4 s: uncertainty 0.90
    probs[1000:1100] = 0.50  # 10-11 s: 1.00
    probs[1500:1600] = 0.60  # 15-16 s: 0.80
    model = ModelVersionFactory(project=project, name="unsure model", checkpoint="m.pt", active=True)
    PredictionFactory(song=song, model_version=model, probabilities=probs,
                      segments=[{"start": 0.0, "end": 20.0, "label": "non-vocal"}])
    login(page, "ana")
    open_editor(page, live_server, song)
    page.wait_for_function("() => document.getElementById('editor').dataset.curves === '1'")
    starts = []
    for _ in range(4):
        page.keyboard.press("u")
        page.wait_for_timeout(150)
        starts.append(round(page.evaluate("window.__ws.getCurrentTime()"), 2))
    assert starts == [10.0, 3.0, 15.0, 10.0]  # most uncertain first, then round again
