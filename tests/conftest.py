"""Shared fixtures: users and projects, fast password hashing, a real Celery worker process.

Test data has one home each, importable from every test folder (tests/ is on sys.path):
factories.py builds the platform's rows (factory_boy), audio_fixtures.py makes signals and encodes
them in every format, model_fixtures.py gives random-weight CRNNs. Use them rather than a new builder.

Tests run against DATABASE_URL / CELERY_BROKER_URL when set (CI: PostgreSQL + Redis), otherwise
against the embedded defaults (SQLite file + kombu filesystem transport) under var/test/.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # factories, audio_fixtures, model_fixtures
sys.path.insert(0, str(ROOT / "tests" / "web"))
from jobs_support import database_url, stop_process  # noqa: E402

SERVICES_REQUIRED = os.environ.get("SINGSCOPE_REQUIRE_SERVICES") == "1"


def pytest_report_header(config):
    if not config.pluginmanager.has_plugin("django"):
        return []
    from django.conf import settings

    db = settings.DATABASES["default"]
    broker = settings.CELERY_BROKER_URL
    return [
        f"singscope database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or db['NAME']}",
        f"singscope broker: {broker.split('@')[-1] if '@' in broker else broker}",
    ]


def _purge_broker() -> None:
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        shutil.rmtree(settings.BROKER_DIR, ignore_errors=True)
        for sub in ("queue", "processed", "control"):
            (settings.BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    else:
        from singscope.celery import app

        with app.connection_for_write() as conn:
            for queue in ("detect", "train"):
                conn.default_channel.queue_purge(queue) if _queue_exists(conn, queue) else None


def _queue_exists(conn, queue: str) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:  # noqa: BLE001
        return False


class WorkerProcess:
    """A real `celery -A singscope worker` subprocess on the test database and broker."""

    def __init__(self, *, queues: str = "detect,train", extra_env: dict | None = None):
        self.queues = queues
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        from django.conf import settings

        self.log_path = settings.VAR_DIR / f"worker-{uuid.uuid4().hex[:8]}.log"

    def start(self) -> "WorkerProcess":
        env = os.environ | {
            "DATABASE_URL": database_url(),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
            "WORKER_HEARTBEAT_SECONDS": os.environ.get("WORKER_HEARTBEAT_SECONDS", "1"),
            "TORCH_THREADS": "1",
        } | self.extra_env
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "singscope", "worker", "-Q", self.queues, "-c", "1",
             "--without-gossip", "--without-mingle", "-n", f"test-{uuid.uuid4().hex[:6]}@%h", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc, getattr(self, "log_file", None))


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """One real worker for the session (tests using it need django_db(transaction=True))."""
    with django_db_blocker.unblock():
        _purge_broker()
    worker = WorkerProcess().start()
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def worker_factory(django_db_setup, django_db_blocker):
    """Start extra workers a test controls itself (kill them, restart them)."""
    started: list[WorkerProcess] = []

    def make(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(**kwargs).start()
        started.append(worker)
        worker.wait_ready()
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture
def isolated_media(settings, tmp_path):
    """Media files of one test go to its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}}}
    return settings.MEDIA_ROOT


@pytest.fixture
def fast_passwords(settings):
    """MD5 password hashing, for tests that create or log in many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    from factories import PASSWORD, UserFactory

    def make(username: str = "ana", *, password: str = PASSWORD, **extra):
        return UserFactory(username=username, password=password, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("ana")


@pytest.fixture
def project(user):
    from factories import ProjectFactory

    return ProjectFactory(name="Pop songs", created_by=user)


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client
