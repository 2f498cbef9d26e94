"""Worker process set-up: warm the heavy libraries once, and publish a heartbeat row."""

import logging
import os
import threading

from django.conf import settings

log = logging.getLogger(__name__)
_stop = threading.Event()


def warm_detector_process() -> None:
    """Run once in each worker child: pin torch threads and compile librosa's numba kernels now,
    so the first real job does not pay 10-15 s of JIT compilation."""
    import numpy as np

    threads = int(os.environ.get("TORCH_THREADS", "0")) or max(1, (os.cpu_count() or 2) // 2)
    import torch

    torch.set_num_threads(threads)
    try:
        import librosa

        librosa.feature.melspectrogram(y=np.zeros(16000, dtype=np.float32), sr=16000, n_mels=80, hop_length=160)
    except Exception:  # noqa: BLE001 - warming is best-effort, a real job will surface real errors
        log.warning("librosa warm-up failed", exc_info=True)


def beat_once(hostname: str) -> None:
    from django.db import close_old_connections
    from django.utils import timezone

    from common.models import WorkerHeartbeat

    close_old_connections()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": timezone.now(), "pid": os.getpid()}
    )


def start_heartbeat(*, hostname: str, on_beat=None) -> None:
    """Touch WorkerHeartbeat every WORKER_HEARTBEAT_SECONDS from a daemon thread; /healthz reads it.
    ``on_beat()`` runs after each beat (singscope.celery passes jobs.services.jobs_fail_stale)."""
    _stop.clear()

    def loop() -> None:
        while not _stop.is_set():
            try:
                beat_once(hostname)
                if on_beat is not None:
                    on_beat()
            except Exception:  # noqa: BLE001 - a missed beat must never kill the worker
                log.warning("worker heartbeat failed", exc_info=True)
            _stop.wait(settings.WORKER_HEARTBEAT_SECONDS)

    threading.Thread(target=loop, name="singscope-heartbeat", daemon=True).start()


def stop_heartbeat() -> None:
    _stop.set()
