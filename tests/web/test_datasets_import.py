"""Bulk import: a folder (the layout of ../shared/data/jamendolyrics) or a zip of song folders
becomes songs with their labels as revisions import:<format>; bad archives are refused whole."""

import io
import zipfile
from pathlib import Path

import pytest
from annotations.models import AnnotationRevision
from audio_fixtures import sine, write_audio
from datasets import services
from django.core.management import call_command
from factories import ProjectFactory, member
from songs.models import Song

JAMENDO = Path(__file__).resolve().parents[3] / "shared" / "data" / "jamendolyrics"


pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def collection(tmp_path):
    """Four songs, labels in four formats, plus a lyrics csv that is not a label file."""
    root = tmp_path / "collection"
    specs = {
        "one": ("labels.lab", "0.500\t1.200\tsing\n2.000\t2.800\tsing\n"),
        "two": ("labels.csv", "start,end,label\n0,1,non-vocal\n1,2,vocal\n2,3,non-vocal\n"),
        "three": ("labels.txt", "0.25\t0.75\tvocal\n"),
        "four": ("labels.TextGrid", None),
    }
    for i, (name, (label_name, text)) in enumerate(specs.items()):
        folder = root / name
        folder.mkdir(parents=True)
        write_audio(folder / "audio.wav", sine(3.0, freq=200 + 50 * i, amplitude=0.2))
        if text is None:
            from detector.formats import write_segments
            from detector.labels import Segment

            text = write_segments([Segment(0, 1.5, "vocal"), Segment(1.5, 3.0, "non-vocal")], "textgrid", duration=3.0)
        (folder / label_name).write_text(text)
        (folder / "lines.csv").write_text("start_time,end_time,lyrics_line\n0.1,0.2,la la\n")
    (root / "songs.tsv").write_text("slug\tartist\ttitle\none\tAda\tFirst <b>song</b>\n")
    return root


@pytest.mark.django_db
def test_a_folder_imports_every_song_with_its_labels_as_an_import_revision(project, user, collection):
    result = services.dataset_import(project=project, root=collection, actor=user)

    assert [c["name"] for c in result["created"]] == ["four", "one", "three", "two"]
    assert result["failed"] == [] and result["skipped"] == []
    by_title = {s.title: s for s in Song.objects.filter(project=project)}
    assert len(by_title) == 4
    first = by_title["First <b>song</b>"]
    assert first.artist == "Ada"
    rev = first.current_revision
    assert rev.origin == "import:lab" and rev.author == user and rev.state == "draft"
    assert [(s["start"], s["end"], s["label"]) for s in rev.segments if s["label"] == "vocal"] == [(0.5, 1.2, "vocal"), (2.0, 2.8, "vocal")]
    assert rev.segments[-1]["end"] == pytest.approx(3.0)
    origins = sorted(AnnotationRevision.objects.filter(song__project=project).values_list("origin", flat=True))
    assert origins == ["import:audacity", "import:csv", "import:lab", "import:textgrid"]


@pytest.mark.django_db
def test_importing_twice_adds_nothing_and_says_so(project, user, collection):
    services.dataset_import(project=project, root=collection, actor=user)
    assert len(list(collection.glob("*/audio.wav"))) == 4  # the collection is read in place, never moved
    again = services.dataset_import(project=project, root=collection, actor=user)
    assert again["created"] == [] and len(again["skipped"]) == 4, again
    assert Song.objects.filter(project=project).count() == 4


@pytest.mark.django_db
def test_a_bad_label_file_fails_that_song_alone_and_leaves_no_file(project, user, collection, isolated_media):
    (collection / "two" / "labels.csv").write_text("start,end,label\n0,1,maybe\n")
    result = services.dataset_import(project=project, root=collection, actor=user)
    assert [f["name"] for f in result["failed"]] == ["two"]
    assert "maybe" in result["failed"][0]["reason"]
    assert Song.objects.filter(project=project).count() == 3
    stored = [p for p in Path(isolated_media).rglob("original.*")]
    assert len(stored) == 3


@pytest.mark.django_db
def test_verified_import_marks_revisions_verified(project, user, collection):
    services.dataset_import(project=project, root=collection, actor=user, state="verified", split="test")
    assert set(AnnotationRevision.objects.values_list("state", flat=True)) == {"verified"}
    assert set(Song.objects.values_list("split", flat=True)) == {"test"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_import_dataset_command_reads_jamendolyrics_in_place(project, user, capsys, monkeypatch):
    if not JAMENDO.is_dir():
        pytest.skip("../shared/data/jamendolyrics is not on this machine")
    # Record what would be sent to the workers instead of sending it: a worker left running by
    # another test on the same broker would otherwise process these songs from its own media folder.
    enqueued = []
    monkeypatch.setattr("jobs.services.job_enqueue", lambda *, job: enqueued.append(job))
    call_command("import_dataset", str(JAMENDO), "--project", str(project.pk))
    assert sorted(job.kind for job in enqueued) == ["process"] * 10

    folders = sorted(p for p in JAMENDO.iterdir() if p.is_dir())
    assert Song.objects.filter(project=project).count() == len(folders) == 10
    for folder in folders:
        expected = len([line for line in (folder / "labels.lab").read_text().splitlines() if line.strip()])
        song = Song.objects.get(project=project, original_name="audio.mp3", title=_title_of(folder))
        vocal = [s for s in song.current_revision.segments if s["label"] == "vocal"]
        assert len(vocal) == expected, folder.name
        assert song.current_revision.origin == "import:lab"
        assert song.status == "processing"  # queued for the worker
    assert all((folder / "audio.mp3").is_file() for folder in folders)  # read in place, never moved
    out = capsys.readouterr().out
    assert "Imported 10 songs" in out
    # Titles and artists come from songs.tsv.
    assert Song.objects.filter(project=project, title="Confession", artist="Quesabe").exists()


def _title_of(folder: Path) -> str:
    for line in (JAMENDO / "songs.tsv").read_text().splitlines()[1:]:
        slug, artist, title, *_ = line.split("\t")
        if slug == folder.name:
            return title
    raise AssertionError(folder)


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "C:/evil.txt"])
def test_zip_slip_names_are_refused_before_anything_is_written(tmp_path, name):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"song/audio.wav": b"x", name: b"owned"}))
    from common.errors import ApiError

    with pytest.raises(ApiError) as exc:
        services.zip_extract(path=archive, dest=tmp_path / "out")
    assert exc.value.code == "unsafe_zip"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()


def test_a_zip_that_unpacks_past_the_limit_is_refused(tmp_path, settings):
    settings.MAX_IMPORT_MB = 1
    archive = tmp_path / "bomb.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("song/audio.wav", b"\0" * (3 * 1024 * 1024))
    archive.write_bytes(buf.getvalue())
    assert archive.stat().st_size < 100_000
    from common.errors import ApiError

    with pytest.raises(ApiError) as exc:
        services.zip_extract(path=archive, dest=tmp_path / "out")
    assert exc.value.status_code == 413


@pytest.fixture
def collection_zip(collection, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(collection.rglob("*")):
            if path.is_file():
                zf.write(path, f"wrapper/{path.relative_to(collection)}")
    return buf.getvalue()


@pytest.mark.django_db
def test_the_browser_upload_queues_an_import_job_that_imports_the_zip(logged_in_client, project, collection_zip,
                                                                       django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from jobs.models import Job, JobKind
    from jobs.services import JobContext

    upload = SimpleUploadedFile("my songs.zip", collection_zip, content_type="application/zip")
    with django_capture_on_commit_callbacks(execute=False):
        response = logged_in_client.post(f"/projects/{project.pk}/import/", {"archive": upload, "verified": "on"})
    assert response.status_code == 302
    job = Job.objects.get(project=project, kind=JobKind.IMPORT)
    assert job.params["state"] == "verified"

    result = services.import_handler(job=job, ctx=JobContext(job))
    assert len(result["created"]) == 4
    assert Song.objects.filter(project=project).count() == 4
    assert set(AnnotationRevision.objects.values_list("state", flat=True)) == {"verified"}
    from django.core.files.storage import default_storage

    assert not default_storage.exists(job.params["archive"])  # the uploaded zip is not kept


@pytest.mark.django_db
def test_the_upload_page_explains_a_file_that_is_not_a_zip(logged_in_client, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = logged_in_client.post(f"/projects/{project.pk}/import/",
                                     {"archive": SimpleUploadedFile("songs.zip", b"not a zip at all")})
    assert response.status_code == 400
    assert "not a zip archive" in response.content.decode()


@pytest.mark.django_db
def test_the_upload_page_refuses_an_archive_over_the_limit(logged_in_client, project, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MAX_IMPORT_MB = 1
    big = SimpleUploadedFile("big.zip", b"\0" * (2 * 1024 * 1024))
    response = logged_in_client.post(f"/projects/{project.pk}/import/", {"archive": big})
    assert response.status_code == 413
    assert "1 MB import limit" in response.content.decode()


@pytest.mark.django_db
def test_annotators_cannot_import(client, project, make_user, collection_zip):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bea = member(project, "annotator", "bea")
    client.force_login(bea)
    response = client.post(f"/projects/{project.pk}/import/", {"archive": SimpleUploadedFile("a.zip", collection_zip)})
    assert response.status_code == 403
    api = client.post(f"/api/projects/{project.pk}/import", {"archive": SimpleUploadedFile("a.zip", collection_zip)})
    assert api.status_code == 403 and api.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_the_api_import_answers_202_with_the_job(logged_in_client, project, collection_zip):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = logged_in_client.post(f"/api/projects/{project.pk}/import",
                                     {"archive": SimpleUploadedFile("a.zip", collection_zip)})
    assert response.status_code == 202, response.content
    assert response.json()["url"] == f"/api/jobs/{response.json()['job']}/"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_zip_imported_through_the_api_is_unpacked_and_processed_by_a_real_worker(
        celery_worker_process, client, make_user, collection_zip):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile
    from jobs.models import Job

    owner = make_user("importer")
    project = ProjectFactory(name="Worker import", created_by=owner)
    client.force_login(owner)
    response = client.post(f"/api/projects/{project.pk}/import",
                           {"archive": SimpleUploadedFile("c.zip", collection_zip), "state": "verified"})
    assert response.status_code == 202
    job_id = response.json()["job"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        songs = Song.objects.filter(project=project)
        if job.state in ("failed", "cancelled"):
            break
        if job.state == "succeeded" and songs.count() == 4 and all(s.status != "processing" for s in songs):
            break
        time.sleep(0.5)
    job = Job.objects.get(pk=job_id)
    assert job.state == "succeeded", (job.error, celery_worker_process.log())
    assert job.result["summary"] == "imported 4 songs"
    assert sorted(s.status for s in Song.objects.filter(project=project)) == ["ready"] * 4
    # The imported (human) labels stay current: detection never overwrites them.
    assert all(s.current_revision.origin.startswith("import:") and s.current_revision.state == "verified"
               for s in Song.objects.filter(project=project))
