"""The factories build rows the platform itself would make (tests/factories.py)."""

import numpy as np
import pytest
from audio_fixtures import song, wav_bytes
from factories import (
    JobFactory,
    MembershipFactory,
    ModelVersionFactory,
    PredictionFactory,
    ProjectFactory,
    ReportFactory,
    RevisionFactory,
    SongFactory,
    spans_to_segments,
)

pytestmark = pytest.mark.django_db


def test_a_project_has_its_creator_as_admin_and_members_with_roles():
    from accounts.models import Membership

    project = ProjectFactory()
    bo = MembershipFactory(project=project, role="reviewer", user__username="bo").user
    roles = dict(Membership.objects.filter(project=project).values_list("user__username", "role"))
    assert roles == {project.created_by.username: "admin", "bo": "reviewer"}
    assert bo.check_password("correct horse battery")


def test_a_song_with_audio_stores_it_and_gets_a_current_revision():
    from django.core.files.storage import default_storage

    data = wav_bytes(song(2.0, spans=[(0.5, 1.5)]))
    s = SongFactory(audio=data, duration=2.0, revision=spans_to_segments([(0.5, 1.5)], duration=2.0),
                    revision__state="verified")
    with default_storage.open(s.original.name, "rb") as f:
        assert f.read() == data
    assert s.size_bytes == len(data) and s.current_revision.state == "verified" and s.current_revision.number == 1
    second = RevisionFactory(song=s, segments=[(0, 2.0, "vocal")])
    s.refresh_from_db()
    assert s.current_revision == second and second.parent.number == 1


def test_models_predictions_jobs_and_reports_belong_to_one_project():
    s = SongFactory(duration=3.0)
    tiny = ModelVersionFactory(project=s.project, weights="tiny", active=True)
    s.project.refresh_from_db()
    assert s.project.active_model == tiny and tiny.checkpoint_sha256 and tiny.trainable_parameters > 0
    probs = np.r_[np.zeros(100), np.ones(200)].astype(np.float16)
    p = PredictionFactory(song=s, probabilities=probs)
    assert p.model_version.project == s.project and p.n_frames == 300
    assert [x["label"] for x in p.segments] == ["non-vocal", "vocal"]
    assert np.array_equal(np.load(p.probabilities.open("rb")), probs)
    assert JobFactory(project=s.project).state == "queued"
    assert ReportFactory(model_version=tiny).project == s.project
