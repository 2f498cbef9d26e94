import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))


@pytest.fixture(autouse=True)
def _media(request, settings):
    """Media files of each security test go to its own temporary folder (no worker shares them)."""
    if "live_server" in request.fixturenames or "live_api" in request.fixturenames:
        return settings.MEDIA_ROOT
    return request.getfixturevalue("isolated_media")


@pytest.fixture(autouse=True)
def _fast_passwords(fast_passwords):
    """Every security test hashes passwords with MD5 (the root conftest's fast_passwords)."""
