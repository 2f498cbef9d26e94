"""A reviewer starts a training job from the form in chromium and watches its progress, message and
loss / F1 curve update live until the job succeeds; the new model appears in the registry."""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from factories import TinyModelFactory, songs_by_split

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_start_a_training_job_from_the_form_and_watch_it_reach_the_end(
        page, live_server, login, screenshot, celery_worker_process, project, user):
    from jobs.models import Job, ModelVersion

    songs_by_split(project, user)
    base = TinyModelFactory(project=project, name="tiny source")
    login(page, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/jobs/")
    page.click("text=Train a model")
    page.wait_for_url("**/jobs/train/new")
    assert "2 verified training songs" in page.inner_text(".data-summary").replace("\n", " ")
    page.select_option('select[name="base_model_id"]', str(base.pk))
    page.select_option('select[name="mode"]', "finetune:L1")
    page.fill('input[name="lr"]', "0.003")
    page.fill('input[name="seed"]', "3")
    page.click("text=More settings")
    page.fill('input[name="epochs"]', "4")
    page.fill('input[name="steps_per_epoch"]', "4")
    page.fill('input[name="batch_size"]', "2")
    page.fill('input[name="crop_seconds"]', "1.5")
    page.fill('input[name="name"]', "browser-trained")
    page.click("text=Start training")
    page.wait_for_url("**/jobs/*/")
    job = Job.objects.get(kind="train")
    assert page.url.endswith(f"/jobs/{job.pk}/")

    # Watch the page (no reload): the progress bar only moves forward and ends at 100 %.
    seen, messages = [], set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        seen.append(int(page.get_attribute('[data-field="progressbar"]', "aria-valuenow")))
        messages.add(page.inner_text('[data-field="message"]'))
        if page.inner_text('[data-field="state"]') in ("succeeded", "failed", "cancelled"):
            break
        page.wait_for_timeout(300)
    state = page.inner_text('[data-field="state"]')
    assert state == "succeeded", (page.inner_text('[data-field="error"]'), page.inner_text('[data-field="log"]'))
    page.wait_for_function("() => document.querySelector('[data-field=\"percent\"]').textContent === '100%'")
    assert seen == sorted(seen) and seen[-1] <= 100
    assert len(set(seen)) >= 2, seen  # it moved while we watched
    assert any("Epoch" in m or "Reading" in m or "Waiting" in m or "Started" in m for m in messages), messages
    # The live curve: one loss and one F1 point per epoch.
    assert page.locator("#curve svg circle.dot.f1").count() == 4
    assert page.locator("#curve svg circle.dot.loss").count() == 4
    assert "epoch 4/4" in page.inner_text('[data-field="log"]')
    assert page.locator("[data-button=cancel]").is_hidden()
    model_link = page.locator(".job-links a", has_text="Model: browser-trained")
    assert model_link.is_visible()
    screenshot(page, "test_start_a_training_job_from_the_form_and_watch_it_reach_the_end")

    mv = ModelVersion.objects.get(name="browser-trained")
    assert mv.parent == base and mv.transfer_mode == "finetune:L1" and mv.created_by == user
    model_link.click()
    page.wait_for_url("**/models/*")
    row = page.locator(f"#model-{mv.pk}")
    assert "tiny source" in row.inner_text() and "finetune:L1" in row.inner_text()
    page.once("dialog", lambda d: d.accept())
    row.locator("button", has_text="Activate").click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text(".active-name") == "browser-trained"
    assert page.locator(f"#model-{mv.pk} .badge.active").is_visible()
    screenshot(page, "test_training_models_page_after_activation")

    page.goto(f"{live_server.url}/projects/{project.pk}/jobs/")
    row = page.locator(f'#jobs-table tr[data-job="{job.pk}"]')
    row.wait_for()
    assert "succeeded" in row.inner_text() and "ana" in row.inner_text()
    screenshot(page, "test_training_jobs_list")
