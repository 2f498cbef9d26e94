from celery import shared_task

from jobs.housekeeping import jobs_housekeep, retrain_check
from jobs.services import job_run


@shared_task(name="jobs.run_job", bind=True, acks_late=True)
def run_job(self, job_id: int) -> None:
    """Thin by design: the job row says what to do; jobs.services.job_run does it."""
    job_run(job_id=job_id, worker=self.request.hostname or "worker")


@shared_task(name="jobs.housekeep", ignore_result=True)
def housekeep() -> None:
    """Beat, every JOBS_HOUSEKEEP_SECONDS: jobs.housekeeping.jobs_housekeep."""
    jobs_housekeep()


@shared_task(name="jobs.retrain_check", ignore_result=True)
def retrain_check_task() -> None:
    """Beat, every RETRAIN_CHECK_SECONDS: jobs.housekeeping.retrain_check."""
    retrain_check()
