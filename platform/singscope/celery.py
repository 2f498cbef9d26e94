"""The Celery app `singscope`: queues `detect` (process/detect/evaluate/import) and `train`.

Run with `celery -A singscope worker -Q detect,train` from platform/ (or PYTHONPATH=platform).
"""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "singscope.settings")

app = Celery("singscope")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Explicit exchanges: a bare Queue("train") would inherit the default exchange and routing key
# ("detect") and training messages would land on the detection queue.
app.conf.task_queues = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in ("detect", "train"))
app.autodiscover_tasks()


@app.task(name="singscope.ping", ignore_result=False)
def ping(payload: str) -> dict:
    """Round-trip probe used by tests and operators: returns the payload and the worker's pid."""
    return {"payload": payload, "pid": os.getpid()}


@worker_process_init.connect
def _warm_child(**_kwargs) -> None:
    from common.worker import warm_detector_process

    warm_detector_process()


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    from common.worker import start_heartbeat
    from jobs.services import jobs_fail_stale

    start_heartbeat(hostname=getattr(sender, "hostname", None) or "worker", on_beat=jobs_fail_stale)


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs) -> None:
    from common.worker import stop_heartbeat

    stop_heartbeat()
