import pytest

WORKER_FIXTURES = {"celery_worker_process", "worker_factory", "live_stack"}


@pytest.fixture(autouse=True)
def _media(request, settings):
    """Web tests write media into their own temporary folder, except those that share files with a
    worker subprocess: they use the session's MEDIA_ROOT (var/test/media), which the worker sees too."""
    if WORKER_FIXTURES & set(request.fixturenames):
        return settings.MEDIA_ROOT
    return request.getfixturevalue("isolated_media")
