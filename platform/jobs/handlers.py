"""Which service function runs each job kind: a registry each app fills in its ``AppConfig.ready``
(jobs: process, detect, train; reports: evaluate; datasets: import), so jobs never imports upward.

A handler is `fn(*, job, ctx) -> dict` (the result); it reports through `ctx` (jobs.services.JobContext).
"""

from collections.abc import Callable

_HANDLERS: dict[str, Callable] = {}

QUEUES = {"train": "train"}  # everything else runs on "detect"

# Seconds (soft, hard) per kind; a job over its soft limit fails with a message saying so.
TIME_LIMITS = {"train": (3 * 3600, 3 * 3600 + 120), "import": (3600, 3720)}
DEFAULT_TIME_LIMITS = (1800, 1920)


def handler_register(kind: str, fn: Callable) -> None:
    """Make ``fn`` the handler of job kind ``kind`` (called from an app's ``ready``)."""
    _HANDLERS[kind] = fn


def handler_for(kind: str) -> Callable:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no handler for job kind {kind!r}") from None
