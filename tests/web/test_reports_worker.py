"""The "Evaluate" form on the reports page, run by a real Celery worker, as a user would do it."""

import time

import pytest
from reports_support import hand_made_project

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_finished(job_id: int, timeout: float = 90):
    from jobs.models import FINISHED_STATES, Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.state in FINISHED_STATES:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout} s: {job.message}")


def test_evaluate_form_runs_on_a_worker_and_the_report_appears(celery_worker_process, logged_in_client, project, user):
    from jobs.models import Job

    model, alpha, beta = hand_made_project(project=project, user=user)
    response = logged_in_client.post(f"/projects/{project.pk}/reports/", {"model": model.pk, "reference": "verified"}, follow=True)
    assert response.status_code == 200 and b"queued" in response.content
    job = wait_finished(Job.objects.get(kind="evaluate").pk)
    assert job.state == "succeeded", (job.error, celery_worker_process.log())
    report_id = job.result["report"]
    assert job.message.startswith(f"Report {report_id}: F1 78.4%")
    listing = logged_in_client.get(f"/projects/{project.pk}/reports/").content.decode()
    assert f"/projects/{project.pk}/reports/{report_id}/" in listing
    page = logged_in_client.get(f"/projects/{project.pk}/reports/{report_id}/").content.decode()
    assert 'data-metric="f1">78.4<' in page


def test_an_evaluation_with_nothing_to_evaluate_fails_with_a_readable_reason(celery_worker_process, logged_in_client, project, user):
    from jobs.services import job_create
    from reports.models import EvaluationReport

    model, alpha, beta = hand_made_project(project=project, user=user)
    alpha.split = beta.split = "train"
    alpha.save()
    beta.save()
    job = job_create(project=project, kind="evaluate", params={"model": model.pk}, created_by=user)
    job = wait_finished(job.pk)
    assert job.state == "failed" and "no songs in the test split" in job.error
    assert not EvaluationReport.objects.exists()
    page = logged_in_client.get(f"/projects/{project.pk}/reports/").content.decode()
    assert "no songs in the test split" in page
