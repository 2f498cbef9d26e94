"""Bulk export: a zip of labels in the chosen format, splits and a manifest; with audio it imports back."""

import io
import json
import zipfile

import pytest
from annotations.models import AnnotationRevision
from audio_fixtures import sine, write_audio
from datasets import services
from factories import ProjectFactory
from songs.models import Song

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def imported(project, user, tmp_path):
    root = tmp_path / "c"
    for i, (name, lab) in enumerate({"alpha": "0.5\t1.5\tsing\n", "beta": "1.0\t2.0\tsing\n2.5\t2.9\tsing\n"}.items()):
        (root / name).mkdir(parents=True)
        write_audio(root / name / "audio.wav", sine(3.0, freq=300 + 90 * i, amplitude=0.1))
        (root / name / "labels.lab").write_text(lab)
    services.dataset_import(project=project, root=root, actor=user)
    Song.objects.filter(project=project, title="beta").update(split="test")
    return project


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", services.EXPORT_FORMATS)
def test_export_writes_one_label_file_per_song_in_the_chosen_format(logged_in_client, imported, fmt):
    response = logged_in_client.get(f"/projects/{imported.pk}/export.zip?format={fmt}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    zf = _zip(response)
    names = zf.namelist()
    labels = [n for n in names if "/labels." in n]
    assert len(labels) == 2
    manifest = json.loads(zf.read(next(n for n in names if n.endswith("manifest.json"))))
    assert manifest["annotation_format"] == fmt and manifest["counts"] == {"songs": 2, "annotated": 2}
    splits = json.loads(zf.read(next(n for n in names if n.endswith("splits.json"))))
    assert len(splits["test"]) == 1 and len(splits["unassigned"]) == 1
    from detector.formats import read_segments

    beta = next(s for s in manifest["songs"] if s["title"] == "beta")
    segments = read_segments(zf.read(next(n for n in labels if n.endswith(beta["labels"]))), fmt, duration=3.0)
    assert [(round(s.start, 3), round(s.end, 3)) for s in segments if s.is_vocal] == [(1.0, 2.0), (2.5, 2.9)]
    assert beta["revision"]["origin"] == "import:lab"


@pytest.mark.django_db
def test_the_api_export_uses_format_as_the_annotation_format(logged_in_client, imported):
    response = logged_in_client.get(f"/api/projects/{imported.pk}/export?format=csv&revision=verified")
    assert response.status_code == 200
    zf = _zip(response)
    manifest = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("manifest.json"))))
    # Nothing is verified yet: songs are listed, no labels are exported.
    assert manifest["counts"] == {"songs": 2, "annotated": 0}
    bad = logged_in_client.get(f"/api/projects/{imported.pk}/export?format=mp3")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


@pytest.mark.django_db
def test_an_export_with_audio_imports_back_into_another_project(logged_in_client, imported, user, tmp_path):
    response = logged_in_client.get(f"/projects/{imported.pk}/export.zip?format=textgrid&audio=1")
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"".join(response.streaming_content))
    out = services.zip_extract(path=archive, dest=tmp_path / "unpacked")
    copy = ProjectFactory(name="Copy", created_by=user)
    result = services.dataset_import(project=copy, root=out, actor=user)
    assert len(result["created"]) == 2 and not result["failed"]
    for song in Song.objects.filter(project=imported):
        twin = Song.objects.get(project=copy, sha256=song.sha256)
        assert twin.title == song.title and twin.split == song.split
        a = [(round(s["start"], 3), round(s["end"], 3), s["label"]) for s in song.current_revision.segments]
        b = [(round(s["start"], 3), round(s["end"], 3), s["label"]) for s in twin.current_revision.segments]
        assert a == b
        assert twin.current_revision.origin == "import:textgrid"
    assert AnnotationRevision.objects.filter(song__project=copy).count() == 2


@pytest.mark.django_db
def test_outsiders_cannot_export(client, imported, make_user):
    client.force_login(make_user("mallory"))
    assert client.get(f"/projects/{imported.pk}/export.zip").status_code == 404
    response = client.get(f"/api/projects/{imported.pk}/export")
    assert response.status_code == 404 and b"alpha" not in response.content
