"""Smaller things a labelling team met on the other pages, in Debian chromium: the "job queued"
message follows the job to its end, the job page shows parameters as people read them, the compare
page names finetune:full, and the bulk split menu refuses to set nothing."""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from factories import SongFactory, songs_by_split
from reports_support import exact_on_alpha_model, hand_made_project  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_training_job_message_follows_the_job_and_its_parameters_read_as_words(page, live_server, login, user,
                                                                                   project, screenshot):
    from django.utils import timezone
    from jobs.models import Job

    songs_by_split(project, user)
    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/jobs/train/new")
    page.select_option('select[name="mode"]', "finetune:full")
    page.click("text=Start training")
    page.wait_for_url("**/jobs/*/")
    job = Job.objects.get(kind="train")
    banner = page.locator(f".messages li.job-{job.pk}")
    assert "Training job" in banner.inner_text() and str(job.pk) in banner.inner_text()
    params = page.inner_text(".job-facts.params")
    assert "base_model_id" not in params and "None" not in params
    assert "Base model" in params and "the shipped default model at the time the job ran" in params
    assert "Transfer mode\nfinetune:full" in params or "Transfer mode\tfinetune:full" in params
    # The job ends (here marked done the way a worker does it, if no worker has claimed it first).
    Job.objects.filter(pk=job.pk, state="queued").update(state="succeeded", progress=1.0, message="Done",
                                                          started_at=timezone.now(), finished_at=timezone.now())
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and page.inner_text('[data-field="state"]') not in ("succeeded", "failed",
                                                                                          "cancelled"):
        page.wait_for_timeout(300)
    final = page.inner_text('[data-field="state"]')
    assert final in ("succeeded", "failed", "cancelled")
    page.wait_for_function(f"() => document.querySelector('.messages li.job-{job.pk}').dataset.state === '{final}'")
    text = banner.inner_text()
    assert "queued" not in text and text.startswith(f"Training job {job.pk} ")
    assert {"succeeded": "succeeded.", "failed": "failed", "cancelled": "cancelled"}[final] in text
    screenshot(page, "job_banner_final")


def test_the_compare_page_names_finetune_full(page, live_server, login, user, project):
    from reports.services import report_create

    model, alpha, beta = hand_made_project(project=project, user=user)
    first = report_create(project=project, model_version=model, created_by=user)
    full = exact_on_alpha_model(project=project, alpha=alpha, beta=beta, name="whole-model",
                                transfer_mode="finetune:full", trainable_parameters=90000)
    second = report_create(project=project, model_version=full, created_by=user)
    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/reports/compare?ids={first.pk},{second.pk}")
    table = page.inner_text("#table1")
    assert "no transfer mode recorded" not in table
    row = page.locator("#table1 tr", has_text="whole source model").inner_text()
    assert "72.7" in row and "90.00K" in row
    assert "finetune:full" in page.inner_text("#compare-headline")


def test_the_bulk_split_menu_starts_empty_and_refuses_to_set_nothing(page, live_server, login, user, project):
    song = SongFactory(project=project, title="Only song", original_name="a.wav", duration=5.0, split="train")
    login(page, user.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.check('input[aria-label="Select Only song"]')
    assert page.input_value("#bulk-split") == ""
    assert page.inner_text("#bulk-split option:checked") == "Choose a split…"
    page.click("#bulk-set-split")
    assert "Choose a split" in page.inner_text("#flash")
    song.refresh_from_db()
    assert song.split == "train"
    page.select_option("#bulk-split", "test")
    page.click("#bulk-set-split")
    page.wait_for_selector(f'tr[data-song="{song.pk}"] >> text=test')
    song.refresh_from_db()
    assert song.split == "test"
