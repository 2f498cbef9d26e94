"""The whole loop in Debian chromium against a live server and a real Celery worker:

log in -> create a project -> add a reviewer -> upload three songs -> detection runs -> put them in
splits -> correct a segment in the editor -> save -> submit -> a reviewer (second browser context)
verifies -> start a short training job from the form -> see the new model in the registry and its
evaluation report -> make it active, which runs detection again with it by itself.

Each step is screenshotted into $ARTIFACTS_DIR/whole_loop/NN-step.png. The only thing not done
through the browser is registering the first (tiny, random-weight) model: the platform has no
"upload a checkpoint" page, an administrator ships models; this one is made in the test so that
detection and training take seconds.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from jobs_support import make_tiny_model, song_audio  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SONGS = {"alpha": ("train", [(1.0, 2.4), (3.1, 4.3)]), "bravo": ("validation", [(0.5, 2.0)]),
         "charlie": ("test", [(2.0, 4.5)])}


@pytest.fixture
def shots():
    folder = Path(os.environ.get("ARTIFACTS_DIR", "artifacts")) / "whole_loop"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def audio_files(tmp_path):
    paths = []
    for seed, (name, (_, spans)) in enumerate(SONGS.items(), start=1):
        path = tmp_path / f"{name}.wav"
        path.write_bytes(song_audio(seed, spans=spans))  # a drone + noise, a voice-like harmonic tone in `spans`
        paths.append(path)
    return paths


def wait_job(page, *, timeout: float = 240) -> str:
    """On a job page: wait until the live state is final; return it."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = page.inner_text('[data-field="state"]')
        if state in ("succeeded", "failed", "cancelled"):
            return state
        page.wait_for_timeout(300)
    return state


def open_editor(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('#editor[data-state="ready"]', timeout=30_000)


def test_the_whole_loop(browser, live_server, celery_worker_process, user, make_user, login, shots, audio_files):
    from accounts.models import Project
    from annotations.models import AnnotationRevision
    from jobs.models import Job, ModelVersion, Prediction
    from songs.models import Song

    rita = make_user("rita")
    ana_ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    rita_ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    page = ana_ctx.new_page()
    try:
        # 1. log in, create a project
        login(page, "ana")
        shots(page, "logged-in")
        page.goto(f"{live_server.url}/projects/new")
        page.fill('input[name="name"]', "Whole loop")
        page.fill('textarea[name="description"]', "Three songs, one correction, one training run.")
        page.click('form.stack button[type="submit"]')
        page.wait_for_selector("#dropzone")
        project = Project.objects.get(name="Whole loop")
        assert page.url.rstrip("/").endswith(f"/projects/{project.pk}")
        shots(page, "project-created")

        # the administrator's first model: tiny and random, so detection takes a moment
        first = make_tiny_model(project, name="tiny-start")
        project.active_model = first
        project.save(update_fields=["active_model"])

        # 2. add rita as a reviewer through the members page
        page.goto(f"{live_server.url}/projects/{project.pk}/members/")
        page.fill('input[name="username"]', "rita")
        page.select_option('form.row-form select[name="role"]', "reviewer")
        page.click('form.row-form button[type="submit"]')
        page.wait_for_selector("text=rita")
        assert project.memberships.get(user=rita).role == "reviewer"
        shots(page, "reviewer-added")

        # 3. upload three songs with the file picker; processing + first detection by the worker
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.set_input_files("#file-input", [str(p) for p in audio_files])
        page.wait_for_function(
            "() => { const r = [...document.querySelectorAll('#songs-body tr[data-song]')];"
            " return r.length === 3 && r.every((tr) => tr.dataset.status === 'ready'); }", timeout=180_000)
        shots(page, "three-songs-detected")
        songs = {s.title: s for s in Song.objects.filter(project=project)}
        assert set(songs) == set(SONGS), songs
        for s in songs.values():
            assert s.status == "ready" and abs(s.duration - 5.0) < 0.01
            assert Prediction.objects.filter(song=s, model_version=first).exists()
            assert s.current_revision and s.current_revision.origin.startswith("model:")

        # 4. splits through the bulk action of the song list
        for title, (split, _) in SONGS.items():
            page.check(f'input[aria-label="Select {title}"]')
            page.select_option("#bulk-split", split)
            page.click("#bulk-set-split")
            page.wait_for_selector(f'tr[data-song="{songs[title].pk}"] >> text={split}', timeout=10_000)
        assert {s.title: s.split for s in Song.objects.filter(project=project)} == {t: v[0] for t, v in SONGS.items()}
        shots(page, "splits-set")

        # 5. correct a segment of "alpha": split at 0.5 s and flip the label of [0, 0.5)
        alpha = songs["alpha"]
        model_rev = alpha.current_revision
        editor_url = f"{live_server.url}/projects/{project.pk}/songs/{alpha.pk}/"
        open_editor(page, editor_url)
        shots(page, "editor-model-revision")
        page.evaluate("() => window.__ws.setTime(0.5)")
        page.keyboard.press("s")
        page.evaluate("() => { window.__editor.sel = {kind: 'segment', index: 0} }")
        before = page.evaluate("() => window.__editor.hist.present[0].label")
        page.keyboard.press("t")
        after = page.evaluate("() => window.__editor.hist.present[0].label")
        assert {before, after} == {"vocal", "non-vocal"}
        page.click("#btn-save")
        page.wait_for_selector('#editor[data-dirty="0"]')
        page.click("#btn-submit")
        page.wait_for_function("() => document.querySelector('#rev-badge').textContent.includes('submitted')")
        shots(page, "corrected-and-submitted")
        alpha.refresh_from_db()
        submitted = alpha.current_revision
        assert submitted.state == "submitted" and submitted.author == user
        assert submitted.segments[0]["label"] == after and submitted.segments[0]["end"] == pytest.approx(0.5)
        assert submitted.segments != model_rev.segments

        # 5b. the other two get their true labels from .lab files imported in the editor, then submitted
        for title in ("bravo", "charlie"):
            lab = audio_files[0].parent / f"{title}.lab"
            lab.write_text("".join(f"{a:.3f}\t{b:.3f}\tsing\n" for a, b in SONGS[title][1]))
            open_editor(page, f"{live_server.url}/projects/{project.pk}/songs/{songs[title].pk}/")
            page.set_input_files("#import-file", str(lab))
            page.wait_for_function("() => document.querySelector('#rev-badge').textContent.includes('import')")
            page.click("#btn-submit")
            page.wait_for_function("() => document.querySelector('#rev-badge').textContent.includes('submitted')")
            if title == "charlie":
                shots(page, "labels-imported-and-submitted")
            song = Song.objects.get(pk=songs[title].pk)
            vocal = [(s["start"], s["end"]) for s in song.current_revision.segments if s["label"] == "vocal"]
            assert vocal == SONGS[title][1] and song.current_revision.origin.startswith("import:")

        # 6. rita verifies the three songs in her own browser
        rp = rita_ctx.new_page()
        login(rp, "rita")
        for title in SONGS:
            open_editor(rp, f"{live_server.url}/projects/{project.pk}/songs/{songs[title].pk}/")
            rp.click("#btn-verify")
            rp.wait_for_function("() => document.querySelector('#rev-badge').textContent.includes('verified')")
            if title == "alpha":
                shots(rp, "reviewer-verified")
        for s in Song.objects.filter(project=project):
            assert s.current_revision.state == "verified" and s.current_revision.author == rita
        alpha.refresh_from_db()
        assert alpha.current_revision.segments == submitted.segments  # the correction is what got verified

        # 7. a short training job from the form
        page.goto(f"{live_server.url}/projects/{project.pk}/jobs/")
        page.click("text=Train a model")
        page.wait_for_url("**/jobs/train/new")
        page.select_option('select[name="base_model_id"]', str(first.pk))
        page.select_option('select[name="mode"]', "finetune:L1")
        page.fill('input[name="lr"]', "0.003")
        page.fill('input[name="seed"]', "5")
        page.click("text=More settings")
        page.fill('input[name="epochs"]', "2")
        page.fill('input[name="steps_per_epoch"]', "3")
        page.fill('input[name="batch_size"]', "2")
        page.fill('input[name="crop_seconds"]', "1.5")
        page.fill('input[name="name"]', "loop-trained")
        shots(page, "training-form")
        page.click("text=Start training")
        page.wait_for_url("**/jobs/*/")
        state = wait_job(page)
        assert state == "succeeded", page.inner_text('[data-field="log"]')
        page.wait_for_selector(".job-links a:has-text('Evaluation report')")
        shots(page, "training-succeeded")
        trained = ModelVersion.objects.get(name="loop-trained")
        assert trained.parent == first and trained.transfer_mode == "finetune:L1"
        used = {r["revision"] for r in trained.training_revisions}
        assert used == {alpha.current_revision_id}

        # 8. its evaluation report
        page.click(".job-links a:has-text('Evaluation report')")
        page.wait_for_url("**/reports/*/")
        assert "loop-trained" in page.inner_text("body") and "charlie" in page.inner_text("body")
        page.wait_for_function("() => [...document.querySelectorAll('img[data-plot]')]"
                               ".every((i) => i.complete && i.naturalWidth > 0)", timeout=60_000)
        shots(page, "evaluation-report")

        # 9. the registry, make it active
        page.goto(f"{live_server.url}/projects/{project.pk}/models/")
        row = page.locator(f"#model-{trained.pk}")
        assert "tiny-start" in row.inner_text() and "finetune:L1" in row.inner_text()
        shots(page, "registry-before-activation")
        page.once("dialog", lambda d: d.accept())
        row.locator("button", has_text="Activate").click()
        page.wait_for_load_state("networkidle")
        assert page.inner_text(".active-name") == "loop-trained"
        project.refresh_from_db()
        assert project.active_model_id == trained.pk
        shots(page, "new-model-active")

        # 10. the activation queued detection again, with the active (new) model, on every song
        redetect = Job.objects.get(project=project, kind="detect", params__trigger="activation")
        assert redetect.params["model_id"] == trained.pk
        page.goto(f"{live_server.url}/projects/{project.pk}/jobs/{redetect.pk}/")
        assert wait_job(page) == "succeeded", page.inner_text('[data-field="log"]')
        page.wait_for_selector("#detect-songs tr[data-outcome]")
        assert page.locator('#detect-songs tr[data-outcome="beside_human_work"]').count() == 3  # all verified
        shots(page, "detection-with-new-model")
        for s in Song.objects.filter(project=project):
            assert Prediction.objects.filter(song=s, model_version=trained).exists(), s.title
            assert s.current_revision.state == "verified"  # a new detection never buries a verified revision
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.wait_for_selector('#songs-body tr[data-song]')
        page.wait_for_selector("#songs-body >> text=loop-trained")
        shots(page, "song-list-at-the-end")
        assert Job.objects.filter(project=project, state="failed").count() == 0
        assert AnnotationRevision.objects.filter(song__project=project, state="verified").count() == 3
    finally:
        ana_ctx.close()
        rita_ctx.close()
