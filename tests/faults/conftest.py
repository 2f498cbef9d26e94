"""Fixtures of the fault tests; the helpers live in faults_support.py."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_support import ThrowawayRedis, free_port  # noqa: E402


@pytest.fixture
def throwaway_redis():
    if not shutil.which("redis-server"):
        if os.environ.get("SINGSCOPE_REQUIRE_SERVICES") == "1":
            pytest.fail("SINGSCOPE_REQUIRE_SERVICES=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = int(os.environ.get("SINGSCOPE_FAULT_REDIS_PORT") or free_port())
    redis = ThrowawayRedis(port)
    redis.start()
    yield redis
    redis.stop()
