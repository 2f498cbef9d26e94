"""Upload a 60-minute WAV (44.1 kHz stereo 16-bit, ~635 MB) to a real gunicorn web process and
measure that process's memory while it streams the upload to disk, hashes it and validates it.

Prints one JSON document; `ok` is true when the web process's peak RSS stays under 200 MB.
Options: --minutes N (default 60).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 200


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def write_wav(path: Path, minutes: float, sr: int = 44100) -> int:
    import soundfile as sf

    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, format="WAV", subtype="PCM_16") as f:
        for start in range(0, int(minutes * 60), 10):
            t = (np.arange(10 * sr) + start * sr) / sr
            y = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size)
            f.write(np.stack([y, y], 1).astype(np.float32))
    return path.stat().st_size


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart_stream(path: Path, fields: dict, boundary: str, chunk: int = 1 << 20):
    head = b""
    for k, v in fields.items():
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
             "Content-Type: audio/wav\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)

    class Body:  # iterable with a length: requests sends Content-Length and streams it
        def __len__(self):
            return length

        def __iter__(self):
            yield head
            with open(path, "rb") as f:
                while data := f.read(chunk):
                    yield data
            yield tail

    return Body(), length


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    import requests

    with tempfile.TemporaryDirectory(prefix="singscope-upload-bench-") as tmp:
        tmp = Path(tmp)
        env = os.environ | {
            "SINGSCOPE_VAR_DIR": str(tmp / "var"), "DEBUG": "1", "MAX_UPLOAD_MB": "2048",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]), "LOG_LEVEL": "WARNING",
        }
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        py = sys.executable
        subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        setup = ("from django.contrib.auth import get_user_model;from accounts.services import project_create;"
                 "from rest_framework.authtoken.models import Token;"
                 "u=get_user_model().objects.create_user('bench', password='x'*12);"
                 "p=project_create(name='bench', created_by=u);"
                 "print(p.pk, Token.objects.create(user=u).key)")
        out = subprocess.run([py, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        project_id, token = out[-2], out[-1]

        wav = tmp / "sixty-minutes.wav"
        log(f"writing a {args.minutes:g}-minute WAV ...")
        size = write_wav(wav, args.minutes)

        port = free_port()
        server = subprocess.Popen(
            [py, "-m", "gunicorn", "singscope.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "600",
             "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    requests.get(f"http://127.0.0.1:{port}/login/", timeout=10)
                    break
                except requests.RequestException:
                    time.sleep(0.3)
            workers = children(server.pid)
            watched = [server.pid, *workers]
            baseline = max(rss_mb(p) for p in watched)
            samples: list[float] = []
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    samples.append(max(rss_mb(p) for p in watched))
                    time.sleep(0.05)

            thread = threading.Thread(target=sample, daemon=True)
            thread.start()
            boundary = uuid.uuid4().hex
            body, length = multipart_stream(wav, {"project": project_id, "title": "Sixty minutes"}, boundary)
            t0 = time.perf_counter()
            r = requests.post(f"http://127.0.0.1:{port}/api/songs/", data=body, timeout=600, headers={
                "Authorization": f"Token {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
            seconds = time.perf_counter() - t0
            stop.set()
            thread.join()
            peak_hwm = max(rss_mb(p, "VmHWM") for p in watched)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result = {
            "file_mb": round(size / 2**20, 1), "audio_minutes": args.minutes, "http_status": r.status_code,
            "song_duration_s": r.json().get("duration") if r.headers.get("Content-Type", "").startswith("application/json") else None,
            "upload_seconds": round(seconds, 2), "upload_mb_per_s": round(size / 2**20 / seconds, 1),
            "web_rss_baseline_mb": round(baseline, 1), "web_rss_peak_sampled_mb": round(max(samples or [0]), 1),
            "web_rss_peak_hwm_mb": round(peak_hwm, 1), "limit_mb": LIMIT_MB, "server": "gunicorn, 1 sync worker",
        }
        result["ok"] = r.status_code == 201 and result["web_rss_peak_hwm_mb"] < LIMIT_MB
        print(json.dumps(result, indent=2))
        return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
