"""Which service function runs each job kind. Strings keep the import lazy (apps stay decoupled).

A handler is `fn(*, job, ctx) -> dict` (the result); it reports through `ctx` (jobs.runtime.JobContext).
"""

from django.utils.module_loading import import_string

HANDLERS: dict[str, str] = {
    "process": "songs.processing.song_process_handler",
    "detect": "jobs.detection.detect_handler",
    "train": "jobs.training.train_handler",
    "evaluate": "reports.services.evaluate_handler",
    "import": "datasets.services.import_handler",
}

QUEUES = {"train": "train"}  # everything else runs on "detect"

# Seconds (soft, hard) per kind; a job over its soft limit fails with a message saying so.
TIME_LIMITS = {"train": (3 * 3600, 3 * 3600 + 120), "import": (3600, 3720)}
DEFAULT_TIME_LIMITS = (1800, 1920)


def handler_for(kind: str):
    try:
        return import_string(HANDLERS[kind])
    except KeyError:
        raise LookupError(f"no handler for job kind {kind!r}") from None
