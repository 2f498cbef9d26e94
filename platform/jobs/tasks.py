from celery import shared_task

from jobs.services import job_run


@shared_task(name="jobs.run_job", bind=True, acks_late=True)
def run_job(self, job_id: int) -> None:
    """Thin by design: the job row says what to do; jobs.services.job_run does it."""
    job_run(job_id=job_id, worker=self.request.hostname or "worker")
