"""Running detection again never buries work a person did: a model revision that a reviewer
verified (same origin `model:...`, but an author and state `verified`) stays the current revision."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from factories import RevisionFactory, SungSongFactory, TinyModelFactory, member, sung_segments

pytestmark = pytest.mark.django_db


def test_detection_after_a_reviewer_verified_the_model_revision_keeps_it_current(
        isolated_media, project, user, make_user):
    from accounts.models import Role
    from annotations.services import revision_review
    from jobs.detection import song_detect
    from jobs.models import Prediction

    rita = member(project, Role.REVIEWER, "rita")
    song = SungSongFactory(project=project, title="reviewed", verified=False)
    RevisionFactory(song=song, segments=sung_segments(), author=None, origin="model:first")
    verified, _ = revision_review(song=song, reviewer=rita, decision="verify")
    assert verified.origin == "model:first" and verified.state == "verified"

    second = TinyModelFactory(project=project, name="second")
    song_detect(song=song, model_version=second)

    song.refresh_from_db()
    assert Prediction.objects.filter(song=song, model_version=second).exists()
    assert song.current_revision_id == verified.pk, song.current_revision.origin


def test_detection_still_refreshes_a_song_only_the_model_has_touched(isolated_media, project):
    from jobs.detection import song_detect

    song = SungSongFactory(project=project, title="untouched", verified=False)
    first = RevisionFactory(song=song, segments=sung_segments(), author=None, origin="model:first")
    song_detect(song=song, model_version=TinyModelFactory(project=project, name="second"))
    song.refresh_from_db()
    assert song.current_revision.origin == "model:second" and song.current_revision.parent_id == first.pk
