"""Many annotators at once against gunicorn + PostgreSQL + Redis on loopback.

Creates a throwaway PostgreSQL database (`singscope_bench` by default, dropped first), migrates it,
makes a project with --songs synthetic songs (original WAV, waveform peaks, a model prediction and
a first model revision, all made through the platform's own services), starts gunicorn (gthread)
on 127.0.0.1 and runs --users simulated annotators for --seconds. Each annotator loops:

  1. open a song: load the editor's page data, GET /api/songs/<id>/, .../annotation, .../peaks,
     .../prediction (in sequence, where the browser fetches some at once: "page_data" is the time
     of the four together, each is also reported alone);
  2. --saves-per-song times: think, move one boundary and PUT /api/songs/<id>/annotation with
     If-Match; on 409 it re-reads the annotation and re-applies its edit on top (conflicts are
     counted, they are not errors).

Thinking is a pause drawn uniformly from 0 to 2 x --think seconds, before opening a song too (so
the annotators do not all start in the same millisecond). Default mean 2 s: an eager annotator
(the editor saves only on Ctrl-S, so people save far less often). `--think 0` turns the
annotators into bots that never pause: a saturation test whose latencies measure queueing on this
machine's cores (clients included), not what a person waits.

Afterwards every save that was answered 2xx is looked up in the database ("lost" = missing), and
every song's current revision must be its newest. Prints one JSON document on stdout: throughput
and p50/p95/p99 latency per kind, errors, conflicts, lost revisions, and the targets (p95 save <=
150 ms, p95 page data <= 300 ms, zero errors, zero lost revisions). Progress goes to stderr.

    python benchmarks/load_annotators.py [--seconds 120] [--users 50] [--songs 20]
        [--workers 4] [--threads 8] [--think 2] [--saves-per-song 5] [--pg postgres://postgres@127.0.0.1:5432]
        [--db singscope_bench] [--broker redis://127.0.0.1:6379/13] [--keep-db]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SONG_SECONDS = 180.0
TARGETS = {"save_p95_ms": 150.0, "page_data_p95_ms": 300.0}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def loopback_only(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"error: {url} is not a loopback address; this benchmark only talks to loopback")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# -- setup, run inside a Django process on the bench database --------------------------------------


def setup_in_django(n_songs: int, n_users: int) -> dict:
    import hashlib
    import io

    import django

    django.setup()
    import numpy as np
    import soundfile as sf
    from accounts.models import Role
    from accounts.services import membership_set, project_create
    from annotations.services import revision_create
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from jobs.models import ModelKind, ModelVersion, Prediction
    from rest_framework.authtoken.models import Token
    from songs.models import Song, SongStatus
    from songs.peaks import PeakAccumulator, peaks_document, peaks_gzip

    from detector.labels import intervals_to_segments

    User = get_user_model()
    admin = User.objects.create_user("bench-admin", password="bench-" + "x" * 12)
    project = project_create(name="Load benchmark", created_by=admin)
    tokens = []
    for i in range(n_users):
        u = User.objects.create_user(f"annotator{i:02d}", password="bench-" + "x" * 12)
        membership_set(project=project, user=u, role=Role.ANNOTATOR)
        tokens.append(Token.objects.create(user=u).key)
    model = ModelVersion.objects.create(project=project, name="bench-model", kind=ModelKind.SOURCE,
                                        checkpoint="models/bench/none.pt")
    sr = 16000
    songs = []
    for i in range(n_songs):
        rng = np.random.default_rng(i)
        t = np.arange(int(SONG_SECONDS * sr)) / sr
        voiced = (t % 20) < 12
        y = 0.05 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 110 * t)
        y[voiced] += 0.3 * np.sin(2 * np.pi * (200 + 10 * i) * t[voiced])
        y = (y / np.abs(y).max() * 0.8).astype(np.float32)
        buf = io.BytesIO()
        sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
        data = buf.getvalue()
        song = Song(project=project, title=f"Load song {i + 1}", original_name=f"load-{i + 1}.wav", extension=".wav",
                    size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), duration=SONG_SECONDS,
                    sample_rate=sr, channels=1, codec="pcm_s16le", status=SongStatus.READY, created_by=admin)
        song.original.save(f"load-{i + 1}.wav", ContentFile(data), save=False)
        acc = PeakAccumulator()
        acc.push(y)
        song.peaks.save("peaks.json.gz", ContentFile(peaks_gzip(peaks_document(acc.finish(), duration=SONG_SECONDS))),
                        save=False)
        song.save()
        spans = [(a, a + 12.0) for a in np.arange(0, SONG_SECONDS, 20.0)]
        segments = intervals_to_segments(spans, duration=SONG_SECONDS)
        frames = int(SONG_SECONDS * 100)
        probs = np.where(voiced[:: sr // 100][:frames], 0.85, 0.1).astype(np.float16)
        npy = io.BytesIO()
        np.save(npy, probs)
        p = Prediction(song=song, model_version=model, hop=0.01, n_frames=frames, postprocess={"threshold": 0.5},
                       segments=[s.to_dict() for s in segments])
        p.probabilities.save("probs.npy", ContentFile(npy.getvalue()), save=False)
        p.save()
        revision_create(song=song, segments=segments, author=None, origin="model:bench-model", based_on="current")
        songs.append(song.pk)
    return {"project": project.pk, "songs": songs, "tokens": tokens}


# -- the annotators ------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.saved: list[int] = []
        self.conflicts = 0

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency.setdefault(kind, []).append(seconds * 1000)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def edit(segments: list[dict], rng: random.Random) -> list[dict]:
    """Move one inner boundary by up to +-0.3 s (on the 10 ms grid), keeping the partition valid."""
    segs = [dict(s) for s in segments]
    if len(segs) < 2:
        return segs
    b = rng.randrange(1, len(segs))
    lo, hi = segs[b - 1]["start"] + 0.05, segs[b]["end"] - 0.05
    new = round(min(hi, max(lo, segs[b]["start"] + rng.uniform(-0.3, 0.3))), 2)
    segs[b - 1]["end"] = segs[b]["start"] = new
    return segs


def annotator(i: int, *, base: str, token: str, songs: list[int], until: float, think: float, saves_per_song: int,
              rec: Recorder) -> None:
    import requests

    rng = random.Random(i)
    s = requests.Session()
    s.headers["Authorization"] = f"Token {token}"

    def get(kind: str, url: str):
        t0 = time.perf_counter()
        r = s.get(url, timeout=30)
        rec.add(kind, time.perf_counter() - t0)
        if r.status_code != 200:
            rec.error(f"GET {url} -> {r.status_code} {r.text[:120]}")
            return None
        return r

    def pause():
        if think:
            time.sleep(rng.uniform(0, 2 * think))

    while time.monotonic() < until:
        pause()  # also staggers the start: people do not all open a song in the same millisecond
        song = rng.choice(songs)
        api = f"{base}/api/songs/{song}"
        try:
            t0 = time.perf_counter()
            parts = [get("song", f"{api}/"), get("annotation", f"{api}/annotation"), get("peaks", f"{api}/peaks"),
                     get("prediction", f"{api}/prediction")]
            if any(p is None for p in parts):
                continue
            rec.add("page_data", time.perf_counter() - t0)
            annotation = parts[1]
            etag, segments = annotation.headers["ETag"], annotation.json()["segments"]
            for _save in range(saves_per_song):
                pause()
                if time.monotonic() >= until:
                    break
                for _attempt in range(10):
                    body = {"segments": edit(segments, rng)}
                    t0 = time.perf_counter()
                    r = s.put(f"{api}/annotation", json=body, headers={"If-Match": etag}, timeout=30)
                    rec.add("save", time.perf_counter() - t0)
                    if r.status_code in (200, 201):
                        with rec.lock:
                            rec.saved.append(r.json()["id"])
                        etag, segments = r.headers["ETag"], r.json()["segments"]
                        break
                    if r.status_code == 409:  # someone saved first: re-read, re-apply on top
                        with rec.lock:
                            rec.conflicts += 1
                        fresh = get("annotation", f"{api}/annotation")
                        if fresh is None:
                            break
                        etag, segments = fresh.headers["ETag"], fresh.json()["segments"]
                        continue
                    rec.error(f"PUT {api}/annotation -> {r.status_code} {r.text[:120]}")
                    break
        except Exception as exc:  # noqa: BLE001 - a benchmark counts every failure
            rec.error(f"{type(exc).__name__}: {exc}")


# -- orchestration -------------------------------------------------------------------------------


def recreate_database(pg: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(pg: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def verify(db_url: str, saved: list[int], songs: list[int]) -> dict:
    import psycopg

    with psycopg.connect(db_url) as conn:
        found = {row[0] for row in conn.execute("SELECT id FROM annotations_annotationrevision WHERE id = ANY(%s)",
                                                 (saved,))}
        stale = conn.execute(
            "SELECT count(*) FROM songs_song s WHERE s.id = ANY(%s) AND s.current_revision_id IS DISTINCT FROM "
            "(SELECT r.id FROM annotations_annotationrevision r WHERE r.song_id = s.id ORDER BY r.number DESC LIMIT 1)",
            (songs,)).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM annotations_annotationrevision r JOIN songs_song s "
                             "ON s.id = r.song_id WHERE s.id = ANY(%s)", (songs,)).fetchone()[0]
    return {"lost": len(set(saved) - found), "songs_not_at_newest_revision": stale, "revisions_in_db": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean pause before each save and after each song, seconds (default 2; 0 = saturation)")
    parser.add_argument("--saves-per-song", type=int, default=5, help="saves after opening a song (default 5)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="singscope_bench")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--_setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args._setup:  # the child process that fills the database through the platform's services
        print(json.dumps(setup_in_django(args.songs, min(args.users, 10))))
        return 0

    import requests

    loopback_only(args.pg)
    loopback_only(args.broker)
    db_url = f"{args.pg}/{args.db}"
    with tempfile.TemporaryDirectory(prefix="singscope-load-") as tmp:
        env = os.environ | {
            "DATABASE_URL": db_url, "CELERY_BROKER_URL": args.broker, "SINGSCOPE_VAR_DIR": str(Path(tmp) / "var"),
            "MEDIA_ROOT": str(Path(tmp) / "media"), "DEBUG": "0", "SECRET_KEY": "load-benchmark-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "DJANGO_SETTINGS_MODULE": "singscope.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
            "LOG_LEVEL": "ERROR",
        }
        log(f"recreating database {args.db} ...")
        recreate_database(args.pg, args.db)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        log(f"making {args.songs} songs of {SONG_SECONDS:.0f} s ...")
        out = subprocess.run([sys.executable, __file__, "--_setup", "--songs", str(args.songs), "--users",
                              str(args.users)], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        world = json.loads(out.stdout.strip().splitlines()[-1])

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log_path = Path(tmp) / "gunicorn.log"
        server_log = open(server_log_path, "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "singscope.wsgi:application", "-b", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
             "--timeout", "60", "--keep-alive", "10",  # longer than any think pause: no stale keep-alive races
             "--log-level", "warning"], cwd=ROOT / "platform", env=env,
            stdout=server_log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/login/", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("error: gunicorn did not start")
                time.sleep(0.3)
            # warm up: every gunicorn worker imports and connects before the clock starts
            for _ in range(args.workers * 4):
                requests.get(f"{base}/api/songs/{world['songs'][0]}/annotation",
                             headers={"Authorization": f"Token {world['tokens'][0]}"}, timeout=30)
            log(f"{args.users} annotators for {args.seconds:g} s against gunicorn "
                f"({args.workers} workers x {args.threads} threads) ...")
            rec = Recorder()
            started = time.monotonic()
            until = started + args.seconds
            threads = [threading.Thread(target=annotator, kwargs={
                "i": i, "base": base, "token": world["tokens"][i % len(world["tokens"])], "songs": world["songs"],
                "until": until, "think": args.think,
                "saves_per_song": args.saves_per_song, "rec": rec}) for i in range(args.users)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            server_log.close()
        server_text = server_log_path.read_text(errors="replace")
        tracebacks = server_text.count("Traceback (most recent call last)")
        check = verify(db_url, rec.saved, world["songs"])
        if not args.keep_db:
            drop_database(args.pg, args.db)

    kinds = {}
    for kind, values in sorted(rec.latency.items()):
        kinds[kind] = {"count": len(values), "per_second": round(len(values) / elapsed, 1),
                       **{f"p{q}_ms": round(percentile(values, q), 1) for q in (50, 95, 99)},
                       "max_ms": round(max(values), 1)}
    save_p95 = kinds.get("save", {}).get("p95_ms")
    page_p95 = kinds.get("page_data", {}).get("p95_ms")
    result = {
        "benchmark": "load_annotators",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_before_end": [round(x, 2) for x in os.getloadavg()]},
        "config": {"users": args.users, "songs": args.songs, "song_seconds": SONG_SECONDS, "seconds": args.seconds,
                   "think_seconds": args.think,
                   "saves_per_song": args.saves_per_song, "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
                   "database": "postgresql (loopback)", "broker": "redis (loopback)"},
        "elapsed_seconds": round(elapsed, 1),
        "songs_opened_per_second": round(kinds.get("page_data", {}).get("count", 0) / elapsed, 1),
        "saves": len(rec.saved), "saves_per_second": round(len(rec.saved) / elapsed, 1), "conflicts": rec.conflicts,
        "errors": len(rec.errors), "error_samples": rec.errors[:5], "server_tracebacks": tracebacks,
        "lost_revisions": check["lost"], "songs_not_at_newest_revision": check["songs_not_at_newest_revision"],
        "latency": kinds,
        "targets": {**TARGETS, "errors": 0, "lost_revisions": 0},
        "ok": bool(save_p95 is not None and save_p95 <= TARGETS["save_p95_ms"] and page_p95 is not None
                   and page_p95 <= TARGETS["page_data_p95_ms"] and not rec.errors and not tracebacks and check["lost"] == 0
                   and check["songs_not_at_newest_revision"] == 0),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
