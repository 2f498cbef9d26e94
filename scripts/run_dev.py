"""`make run`: migrate, make sure a first admin exists, then run the web server and a real Celery
worker (filesystem transport by default, with an embedded beat for the periodic tasks) side by side
until Ctrl-C stops both."""

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "singscope.settings")
os.environ.setdefault("DEBUG", "1")
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def ensure_first_admin() -> str:
    import django

    django.setup()
    from accounts.models import Project
    from accounts.services import project_create
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("models_register_shipped")  # before any request: no request registers it
    User = get_user_model()
    if User.objects.filter(is_superuser=True).exists():
        name = User.objects.filter(is_superuser=True).order_by("id").first().get_username()
        return f"log in as {name!r} (its password was printed when it was created; reset it with `.venv/bin/python manage.py changepassword {name}`)"
    password = secrets.token_urlsafe(12)
    admin = User.objects.create_superuser("admin", "", password)
    if not Project.objects.exists():
        project_create(name="My first project", created_by=admin)
    return f"log in as 'admin' with password {password}  (shown once; change it after logging in)"


def main() -> int:
    login = ensure_first_admin()
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "singscope", "worker", "-Q", "detect,train", "-c", "2",
         "--without-gossip", "--without-mingle", "-l", "WARNING",
         "-B"],  # embedded beat: jobs.housekeep and jobs.retrain_check (settings.CELERY_BEAT_SCHEDULE)
        cwd=ROOT, env=env,
    )
    web = subprocess.Popen([sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], cwd=ROOT, env=env)
    print(f"\n  Singscope is running at http://{HOST}:{PORT}/\n  {login}\n  Press Ctrl-C to stop.\n", flush=True)
    procs = [web, worker]
    try:
        while all(p.poll() is None for p in procs):
            try:
                procs[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    print("Singscope stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
