"""Login rate limiting: after LOGIN_MAX_FAILURES failed logins for one username from one address
within LOGIN_FAILURE_WINDOW seconds, further attempts are refused with HTTP 429 until the window ends.

Counts live in Django's cache (locmem by default; set CACHE_URL=redis://... so that several web
processes share them)."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _limits() -> tuple[int, int]:
    return (getattr(settings, "LOGIN_MAX_FAILURES", 5), getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60))


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(*, username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def login_blocked_for(*, username: str, address: str) -> int:
    """Seconds until this username may try again from this address (0 = not blocked)."""
    max_failures, _ = _limits()
    entry = cache.get(_key(username=username, address=address))
    if not entry or entry["count"] < max_failures:
        return 0
    return max(1, int(entry["until"] - time.time()))


def login_failure_record(*, username: str, address: str) -> None:
    _, window = _limits()
    key = _key(username=username, address=address)
    entry = cache.get(key)
    now = time.time()
    if not entry or entry["until"] <= now:
        entry = {"count": 0, "until": now + window}
    entry["count"] += 1
    cache.set(key, entry, timeout=max(1, int(entry["until"] - now)))


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_key(username=username, address=address))
