"""Job lifecycle: create + enqueue, claim, progress, cancel, finish, and failing jobs whose worker died.

The database row is the truth. A task only carries the job id; claiming is a guarded
`UPDATE ... WHERE state='queued'`, so a redelivered task finds nothing to claim and does nothing.
"""

import logging
import threading
from datetime import timedelta

from common.errors import ApiError, public_text
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from jobs.errors import JobCancelled
from jobs.handlers import DEFAULT_TIME_LIMITS, QUEUES, TIME_LIMITS, handler_for
from jobs.models import Job, JobState
from jobs.selectors import WORKER_LOST, worker_lost_error

log = logging.getLogger(__name__)

def job_create(*, project, kind: str, params: dict | None = None, created_by=None, retry_of=None) -> Job:
    """Create a queued job and send it to its queue once the surrounding transaction commits."""
    job = Job.objects.create(
        project=project, kind=kind, params=params or {}, created_by=created_by, retry_of=retry_of,
        message="Waiting for a worker",
    )
    transaction.on_commit(lambda: job_enqueue(job=job))
    return job


def job_enqueue(*, job: Job) -> None:
    from jobs.tasks import run_job

    soft, hard = TIME_LIMITS.get(job.kind, DEFAULT_TIME_LIMITS)
    try:
        run_job.apply_async(
            args=[job.pk], queue=QUEUES.get(job.kind, "detect"), soft_time_limit=soft, time_limit=hard
        )
    except Exception as exc:  # noqa: BLE001 - broker down: the job says so instead of waiting forever
        log.exception("could not enqueue job %s", job.pk)
        Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.FAILED, finished_at=timezone.now(),
            error=f"Could not reach the task queue ({type(exc).__name__}); retry when the broker is back.",
            message="Could not be queued",
        )


def job_claim(*, job_id: int, worker: str) -> Job | None:
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED, cancel_requested=False).update(
        state=JobState.RUNNING, started_at=now, heartbeat_at=now, worker=worker[:255],
        attempts=F("attempts") + 1, message="Started",
    )
    return Job.objects.get(pk=job_id) if claimed else None


def job_cancel(*, job: Job) -> Job:
    """Queued jobs are cancelled at once; running ones are asked to stop at their next check."""
    now = timezone.now()
    cancelled_queued = Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        state=JobState.CANCELLED, cancel_requested=True, finished_at=now, message="Cancelled before it started"
    )
    if not cancelled_queued:
        Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True, message="Cancelling...")
    job.refresh_from_db()
    return job


def job_retry(*, job: Job, created_by) -> Job:
    return job_create(project=job.project, kind=job.kind, params=job.params, created_by=created_by, retry_of=job)


class JobContext:
    """Handed to a handler: progress reports, log lines, cancellation checks. Throttles writes."""

    def __init__(self, job: Job):
        self.job = job
        self._last_write = 0.0

    def progress(self, fraction: float, message: str = "", *, force: bool = False) -> None:
        import time

        now = time.monotonic()
        if not force and now - self._last_write < 0.5:
            return
        self._last_write = now
        fields = {"progress": max(0.0, min(1.0, float(fraction))), "heartbeat_at": timezone.now()}
        if message:
            fields["message"] = message[:500]
        Job.objects.filter(pk=self.job.pk).update(**fields)
        self.check_cancelled()

    def log(self, line: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        # Concat, not F("log") + str: on SQLite "+" is numeric addition and turns the log into 0.
        Job.objects.filter(pk=self.job.pk).update(
            log=Concat(F("log"), Value(f"[{stamp}] {line}\n"), output_field=TextField())
        )

    def check_cancelled(self) -> None:
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled()

    def is_cancelled(self) -> bool:
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()


def _finish(job: Job, *, state: str, message: str, error: str = "", result: dict | None = None) -> None:
    fields = {"state": state, "message": message[:500], "error": error, "finished_at": timezone.now()}
    if result is not None:
        fields["result"] = result
    if state == JobState.SUCCEEDED:
        fields["progress"] = 1.0
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(**fields)


def _readable(exc: BaseException) -> str:
    """What members read about a failure: errors written for people (detector's, ApiError sentences)
    as they are, others with their type; either way one line without server paths (common.errors.public_text)."""

    from detector.errors import DetectorError

    if isinstance(exc, DetectorError | ApiError):
        return public_text(exc.detail if isinstance(exc, ApiError) else exc)
    text = public_text(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _JobHeartbeat:
    """Touches job.heartbeat_at from a thread while the handler runs, so a long step without
    progress reports is not mistaken for a dead worker, and a killed worker is noticed."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name=f"job-{job_id}-heartbeat")

    def _loop(self) -> None:
        while not self.stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                Job.objects.filter(pk=self.job_id, state=JobState.RUNNING).update(heartbeat_at=timezone.now())
            except Exception:  # noqa: BLE001
                log.warning("job heartbeat failed", exc_info=True)
            finally:
                close_old_connections()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


def job_run(*, job_id: int, worker: str) -> None:
    """Claim and run a job to a final state. Called by the Celery task; safe to call twice."""
    from celery.exceptions import SoftTimeLimitExceeded

    job = job_claim(job_id=job_id, worker=worker)
    if job is None:
        log.info("job %s was not queued (already claimed, cancelled or missing): nothing to do", job_id)
        return
    ctx = JobContext(job)
    try:
        with _JobHeartbeat(job.pk):
            handler = handler_for(job.kind)
            result = handler(job=job, ctx=ctx) or {}
    except JobCancelled:
        ctx.log("cancelled by user")
        _finish(job, state=JobState.CANCELLED, message="Cancelled")
    except SoftTimeLimitExceeded:
        soft, _ = TIME_LIMITS.get(job.kind, DEFAULT_TIME_LIMITS)
        _finish(job, state=JobState.FAILED, message="Timed out", error=f"The job ran longer than its {soft} s limit and was stopped.")
    except Exception as exc:  # noqa: BLE001 - every failure ends as a readable failed job
        log.exception("job %s failed", job.pk)  # the traceback: server log only
        error = _readable(exc)
        ctx.log(f"failed: {error}")
        _finish(job, state=JobState.FAILED, message="Failed", error=error)
    else:
        message = result.pop("message", "Done")
        _finish(job, state=JobState.SUCCEEDED, message=message, result=result)
    finally:
        close_old_connections()


def jobs_fail_stale() -> int:
    """Fail running jobs whose worker stopped touching them (killed, crashed, host lost)."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    return Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=cutoff).update(
        state=JobState.FAILED, finished_at=timezone.now(), message=WORKER_LOST, error=worker_lost_error(),
    )
