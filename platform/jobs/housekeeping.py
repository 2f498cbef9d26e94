"""Background upkeep of jobs: run by Celery beat (jobs.tasks: `jobs.housekeep` every
JOBS_HOUSEKEEP_SECONDS, `jobs.retrain_check` every RETRAIN_CHECK_SECONDS) and by
`manage.py jobs_housekeep`; never by a request (pages and the API only read)."""

from __future__ import annotations

from songs.services import song_signatures_store_missing

from jobs.retrain import retrain_check_all
from jobs.services import jobs_fail_stale
from jobs.training import training_leftovers_sweep


def jobs_housekeep() -> dict[str, int]:
    """Fail running jobs whose worker died (so a lone killed worker is noticed even with no other
    worker alive), remove what killed training jobs left behind and store the signature of songs
    processed before signatures were stored (the priority pages compute those without saving).
    Returns what was done."""
    return {"failed_stale": jobs_fail_stale(), "swept": training_leftovers_sweep(),
            "signatures": song_signatures_store_missing()}


def retrain_check() -> int:
    """Queue the training job of every project whose retraining policy says so; the number queued."""
    return retrain_check_all()
