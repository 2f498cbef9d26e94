"""A report on songs the model has not run on yet runs detection (jobs.detection.song_detect) first,
and a second report reuses those predictions."""

import pytest
from factories import SungSongFactory, TinyModelFactory

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_report_runs_missing_predictions_then_reuses_them(project, user):
    from jobs.models import Prediction
    from reports.services import report_create

    songs = [SungSongFactory(project=project, title=f"test song {i}", split="test", created_by=user, seed=i) for i in (1, 2)]
    model = TinyModelFactory(project=project, name="tiny")
    assert not Prediction.objects.exists()
    first = report_create(project=project, model_version=model, created_by=user)
    predictions = {p.song_id: p.pk for p in Prediction.objects.filter(model_version=model)}
    assert set(predictions) == {s.pk for s in songs}
    assert [row["prediction"] for row in first.songs] == [predictions[s.pk] for s in songs]
    assert first.pooled["frames"] == 1000 and first.pooled["vocal_frames"] == 520  # 2 songs x (1.4 + 1.2 s) vocal
    assert first.pooled["tp"] + first.pooled["fp"] + first.pooled["tn"] + first.pooled["fn"] == 1000
    second = report_create(project=project, model_version=model, created_by=user)
    assert {p.song_id: p.pk for p in Prediction.objects.filter(model_version=model)} == predictions
    assert second.pooled == first.pooled


@pytest.mark.slow
def test_a_song_the_model_cannot_read_is_skipped_with_the_reason(project, user):
    from django.core.files.base import ContentFile
    from reports.services import report_create

    good = SungSongFactory(project=project, title="good", split="test", created_by=user, seed=1)
    bad = SungSongFactory(project=project, title="broken", split="test", created_by=user, seed=2)
    bad.original.save("broken.wav", ContentFile(b"RIFF not really a wave file" * 10), save=True)
    report = report_create(project=project, model_version=TinyModelFactory(project=project), created_by=user)
    assert [s["song"] for s in report.songs] == [good.pk]
    assert [s["title"] for s in report.skipped] == ["broken"]
    assert report.skipped[0]["reason"].startswith("the model could not run on it:")
