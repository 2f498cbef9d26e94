"""GET /healthz: database, broker, storage and worker heartbeat, 200 when all are healthy."""

import time
import uuid

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        transport = conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport.driver_name
    return {"ok": True, "transport": str(transport)}


def _check_storage() -> dict:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as fh:
            ok = fh.read() == b"ok"
    finally:
        default_storage.delete(name)
    return {"ok": ok}


def _check_worker() -> dict:
    from common.models import WorkerHeartbeat

    last = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if last is None:
        return {"ok": False, "error": "no worker has reported yet", "age_seconds": None}
    age = (timezone.now() - last.seen_at).total_seconds()
    limit = 3 * settings.WORKER_HEARTBEAT_SECONDS + 5
    return {"ok": age <= limit, "age_seconds": round(age, 1), "hostname": last.hostname, "limit_seconds": limit}


CHECKS = {"database": _check_database, "broker": _check_broker, "storage": _check_storage, "worker": _check_worker}


def health_report() -> dict:
    report: dict = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable status
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        report[name] = result
    report["status"] = "ok" if all(r["ok"] for r in report.values() if isinstance(r, dict)) else "unhealthy"
    return report
