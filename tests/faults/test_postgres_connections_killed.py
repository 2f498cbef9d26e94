"""PostgreSQL drops every connection under use (what a restart or failover does to the web
processes): gunicorn workers keep persistent connections (CONN_MAX_AGE) and have health checks on,
so after `pg_terminate_backend` of all of them, the following requests succeed, and nothing is
half-written: every save that answered 2xx is in the database, every revision is a full partition,
the song points at its newest revision.

The shared cluster is never restarted; only this test database's connections are terminated.
Skipped (with the reason) when the tests do not run on PostgreSQL, and FAILS then instead when
SINGSCOPE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
import requests
from factories import SungSongFactory
from faults_support import Gunicorn, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SETTLE = 0.5  # seconds after pg_terminate_backend returns during which a request may still meet a dying backend


@pytest.fixture
def on_postgres():
    from django.db import connection

    if connection.vendor != "postgresql":
        if os.environ.get("SINGSCOPE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"SINGSCOPE_REQUIRE_SERVICES=1 but the tests run on {connection.vendor}, not PostgreSQL")
        pytest.skip(f"needs PostgreSQL (tests run on {connection.vendor}); pg_terminate_backend is PostgreSQL's")


def terminate_other_backends() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cur.fetchone()[0]


def segments_for_round(n: int, duration: float = 5.0) -> list[dict]:
    cut = round(0.5 + (n % 40) * 0.1, 2)
    return [{"start": 0.0, "end": cut, "label": "vocal"}, {"start": cut, "end": duration, "label": "non-vocal"}]


def test_requests_after_all_connections_are_terminated_succeed_and_nothing_is_half_written(
        on_postgres, isolated_media, project, user):
    from annotations.models import AnnotationRevision
    from songs.models import Song

    from detector.labels import Segment, validate_partition

    songs = [SungSongFactory(project=project, title=f"pg {i}", created_by=user, seed=i) for i in range(4)]
    token = token_for(user)
    server = Gunicorn(workers=2, threads=4, extra_env={"MEDIA_ROOT": str(isolated_media)})
    records: list[tuple[float, float, str, int, int | None]] = []  # (started, ended, kind, status, revision id)
    stop = threading.Event()
    lock = threading.Lock()

    def annotator(i: int) -> None:
        s = requests.Session()
        s.headers["Authorization"] = f"Token {token}"
        rng = random.Random(i)
        n = 0
        while not stop.is_set():
            song = rng.choice(songs)
            url = f"{server.url}/api/songs/{song.pk}/annotation"
            t0 = time.monotonic()
            try:
                r = s.get(url, timeout=20)
                with lock:
                    records.append((t0, time.monotonic(), "get", r.status_code, None))
                if not r.ok:
                    continue
                n += 1
                t1 = time.monotonic()
                w = s.put(url, json={"segments": segments_for_round(n + i)}, headers={"If-Match": r.headers["ETag"]},
                          timeout=20)
                with lock:
                    records.append((t1, time.monotonic(), "put", w.status_code, w.json().get("id") if w.ok else None))
            except requests.RequestException:
                with lock:
                    records.append((t0, time.monotonic(), "get", 599, None))

    threads = [threading.Thread(target=annotator, args=(i,)) for i in range(6)]
    try:
        for t in threads:
            t.start()
        time.sleep(3)
        windows = []  # (called, returned + SETTLE): pg_terminate_backend only signals; backends exit a moment later
        t0 = time.monotonic()
        killed = terminate_other_backends()
        windows.append((t0, time.monotonic() + SETTLE))
        time.sleep(4)
        t0 = time.monotonic()
        second = terminate_other_backends()
        windows.append((t0, time.monotonic() + SETTLE))
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        stop.set()
        server.stop()

    assert killed >= 1, "gunicorn held no database connection to terminate"
    assert second >= 1
    def overlaps(r) -> bool:
        return any(r[0] <= end and r[1] >= start for start, end in windows)

    in_flight = [r for r in records if overlaps(r)]
    after = [r for r in records if not overlaps(r)]
    bad_after = [r for r in after if r[3] not in (200, 201, 409)]
    assert len(after) > 50 and any(r[0] > windows[1][1] for r in after)
    assert bad_after == [], f"{len(bad_after)} requests failed outside the moment of termination: {bad_after[:5]}\n" \
                            f"{server.log()}"
    assert sum(1 for r in in_flight if r[3] >= 500) <= 2 * len(threads)  # at most the requests cut mid-flight

    saved = {r[4] for r in records if r[2] == "put" and r[3] in (200, 201)}
    stored = set(AnnotationRevision.objects.filter(song__project=project).values_list("pk", flat=True))
    assert saved <= stored, f"lost saves: {saved - stored}"
    for song in Song.objects.filter(project=project):
        revs = list(AnnotationRevision.objects.filter(song=song).order_by("number"))
        assert song.current_revision_id == revs[-1].pk
        assert [r.number for r in revs] == list(range(1, len(revs) + 1))
        for rev in revs:
            validate_partition([Segment.from_dict(s) for s in rev.segments], duration=song.duration)
    # every stored revision beyond the initial ones came from a save that may have been cut mid-flight
    assert len(stored) - len(songs) >= len(saved)
    print(f"\n{len(records)} requests; terminated {killed} + {second} connections; "
          f"{sum(1 for r in in_flight if r[3] >= 500)} of {len(in_flight)} in-flight requests failed; "
          f"{len(saved)} saves")
