"""Two editors press Save at the same moment with the same If-Match against a live server:
exactly one wins, the other gets 409 with the latest revision, and both contents are recoverable
(the loser re-applies on top of the winner; both partitions are in the history)."""

from __future__ import annotations

import threading

import pytest
import requests
from factories import SungSongFactory, member
from faults_support import token_for

pytestmark = [pytest.mark.django_db(transaction=True)]

MINE = [{"start": 0.0, "end": 2.0, "label": "vocal"}, {"start": 2.0, "end": 5.0, "label": "non-vocal"}]
THEIRS = [{"start": 0.0, "end": 3.5, "label": "non-vocal"}, {"start": 3.5, "end": 5.0, "label": "vocal"}]


@pytest.mark.parametrize("round_", range(3))
def test_two_simultaneous_saves_one_wins_one_gets_409_both_recoverable(
        live_server, isolated_media, project, user, make_user, round_):
    from accounts.models import Role
    from annotations.models import AnnotationRevision

    bob = member(project, Role.ANNOTATOR, "bob")
    song = SungSongFactory(project=project, title="contested", created_by=user)
    base = song.current_revision
    url = f"{live_server.url}/api/songs/{song.pk}/annotation"
    sessions = {}
    for who, u in (("ana", user), ("bob", bob)):
        s = requests.Session()
        s.headers["Authorization"] = f"Token {token_for(u)}"
        sessions[who] = s
    etag = sessions["ana"].get(url, timeout=10).headers["ETag"]
    assert etag == f'"{base.pk}"'
    barrier = threading.Barrier(2)
    results = {}

    def save(who, segments):
        barrier.wait()
        results[who] = sessions[who].put(url, json={"segments": segments}, headers={"If-Match": etag}, timeout=30)

    threads = [threading.Thread(target=save, args=("ana", MINE)), threading.Thread(target=save, args=("bob", THEIRS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses[1] == 409 and 200 <= statuses[0] < 300, {k: (r.status_code, r.text[:300]) for k, r in results.items()}
    winner = next(k for k, r in results.items() if r.ok)
    loser = "bob" if winner == "ana" else "ana"
    conflict = results[loser].json()
    assert conflict["code"] == "revision_conflict" and conflict["latest"]["segments"]
    mine = {"ana": MINE, "bob": THEIRS}
    assert conflict["latest"]["segments"] == mine[winner]

    # the loser re-applies their edit on top of the winner's revision
    again = sessions[loser].put(url, json={"segments": mine[loser]},
                                headers={"If-Match": f'"{conflict["latest"]["id"]}"'}, timeout=30)
    assert again.ok, again.text
    history = list(AnnotationRevision.objects.filter(song=song).order_by("number").values_list("segments", flat=True))
    assert history[-2:] == [mine[winner], mine[loser]]
    assert len(history) == 3  # base + winner + loser's re-apply; the refused save wrote nothing
    song.refresh_from_db()
    assert song.current_revision.segments == mine[loser]
