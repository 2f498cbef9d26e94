"""The jobs app's exceptions."""

from common.errors import ApiError


class JobCancelled(Exception):
    """Raised inside a handler when the user cancelled the job."""


class NoModelInstalled(Exception):
    """Neither an active model nor a shipped default model exists."""


class NotRegistered(ApiError):
    """A training job was failed or cancelled before its model could be registered (409)."""

    def __init__(self, job):
        super().__init__(f"The job was {job.state} before its model could be registered; nothing was kept.",
                         code="not_registered", status_code=409)
