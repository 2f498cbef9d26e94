"""The skeleton a new user meets: settings from the environment, login page, health, migrations."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deployment check.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, env=base | (env or {}),
    )


def settings_in_subprocess(env: dict, expr: str):
    code = f"import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({expr}))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "DEBUG", "SECRET_KEY", "MAX_UPLOAD_MB", "ALLOWED_HOSTS", "DETECTOR_DEVICE")}
        | {"PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}", "DJANGO_SETTINGS_MODULE": "singscope.settings"} | env,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_settings_default_to_embedded_sqlite_filesystem_broker_and_local_media(tmp_path):
    got = settings_in_subprocess(
        {"DEBUG": "1", "SINGSCOPE_VAR_DIR": str(tmp_path)},
        "[s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.CELERY_BROKER_URL, str(s.MEDIA_ROOT), s.MAX_UPLOAD_MB]",
    )
    assert got == ["django.db.backends.sqlite3", str(tmp_path / "singscope.sqlite3"), "filesystem://", str(tmp_path / "media"), 500]


def test_settings_read_every_documented_variable(tmp_path):
    got = settings_in_subprocess(
        {
            "DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "songs.example.org,10.0.0.5",
            "DATABASE_URL": "postgres://sing:pw@db.internal:5433/singscope", "CELERY_BROKER_URL": "redis://cache:6379/2",
            "MEDIA_ROOT": str(tmp_path / "m"), "MAX_UPLOAD_MB": "42", "DETECTOR_DEVICE": "cuda", "SINGSCOPE_VAR_DIR": str(tmp_path),
        },
        "[s.DEBUG, s.SECRET_KEY, s.ALLOWED_HOSTS, s.DATABASES['default']['HOST'], s.DATABASES['default']['PORT'], "
        "s.CELERY_BROKER_URL, str(s.MEDIA_ROOT), s.MAX_UPLOAD_MB, s.DETECTOR_DEVICE, s.SESSION_COOKIE_SECURE]",
    )
    assert got == [False, "x" * 60, ["songs.example.org", "10.0.0.5"], "db.internal", 5433,
                   "redis://cache:6379/2", str(tmp_path / "m"), 42, "cuda", True]


def test_debug_off_without_secret_key_refuses_to_start(tmp_path):
    out = manage("check", env={"DEBUG": "0", "SECRET_KEY": "", "SINGSCOPE_VAR_DIR": str(tmp_path)})
    assert out.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in out.stderr


def test_deploy_check_is_clean_with_debug_off(tmp_path):
    out = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        env={"DEBUG": "0", "SECRET_KEY": "k" * 64 + "-Zq9!", "ALLOWED_HOSTS": "singscope.example.org", "SINGSCOPE_VAR_DIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_migrations_match_the_models():
    out = manage("makemigrations", "--check", "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert b"Log in" in response.content
    assert b'name="password"' in response.content


@pytest.mark.django_db
def test_user_logs_in_and_out_and_sees_the_shared_page_chrome(client, user, project):
    response = client.post(reverse("login"), {"username": "ana", "password": "correct horse battery"}, follow=True)
    assert response.status_code == 200
    assert b"Pop songs" in response.content and b"Log out" in response.content
    response = client.post(reverse("logout"), follow=True)
    assert b'name="password"' in response.content


@pytest.mark.django_db
def test_wrong_password_is_answered_with_a_readable_message(client, user):
    response = client.post(reverse("login"), {"username": "ana", "password": "nope"})
    assert b"did not match" in response.content


@pytest.mark.django_db
def test_healthz_is_unhealthy_without_a_worker_and_says_why(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["database"]["ok"] and body["storage"]["ok"] and body["broker"]["ok"]
    assert body["worker"] == {**body["worker"], "ok": False, "error": "no worker has reported yet"}


@pytest.mark.django_db
def test_healthz_is_healthy_with_a_fresh_heartbeat_and_stale_one_is_reported(client):
    from datetime import timedelta

    from common.models import WorkerHeartbeat
    from django.utils import timezone

    beat = WorkerHeartbeat.objects.create(hostname="w1", seen_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"
    beat.seen_at = timezone.now() - timedelta(minutes=10)
    beat.save()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["age_seconds"] >= 600


def test_ci_runs_against_real_postgresql_and_redis_when_required(settings):
    """In CI (SINGSCOPE_REQUIRE_SERVICES=1) the suite must be on the real services, never silently embedded."""
    if os.environ.get("SINGSCOPE_REQUIRE_SERVICES") != "1":
        assert settings.DATABASES["default"]["ENGINE"].endswith(("sqlite3", "postgresql"))
        return
    import psycopg
    import redis

    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", connect_timeout=5) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5).ping()


def test_a_failed_job_keeps_sentences_written_for_people_verbatim():
    from common.errors import ApiError
    from jobs.services import _readable

    from detector.errors import AudioError

    assert _readable(ApiError("No song in the test split has a verified revision.", code="no_songs")) == \
        "No song in the test split has a verified revision."
    assert _readable(AudioError("song.mp3: not an audio file")) == "song.mp3: not an audio file"
    assert _readable(KeyError("model")) == "KeyError: 'model'"


@pytest.mark.django_db
def test_api_docs_page_loads_its_swagger_files_from_this_server_not_a_cdn(logged_in_client):
    page = logged_in_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
