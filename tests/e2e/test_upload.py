"""A user drags two songs onto the project page in Debian chromium and watches them become ready."""

import base64
import re

import pytest
from audio_fixtures import audio_bytes, sine
from factories import ActiveModelFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


DROP_JS = """(files) => {
  const dt = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name, { type: f.type }));
  }
  return dt;
}"""


@pytest.mark.django_db(transaction=True)
def test_dropping_two_files_uploads_them_and_they_become_ready(
        celery_worker_process, live_server, page, login, screenshot, user, project):
    from songs.models import Song

    ActiveModelFactory(project=project, name="tiny-e2e")
    login(page, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.wait_for_selector("text=No songs yet")
    files = [
        {"name": "Première chanson.wav", "type": "audio/wav", "data": base64.b64encode(audio_bytes(sine(3.0, sr=44100, freq=220, amplitude=0.3, channels=2), 44100, "wav")).decode()},
        {"name": "second take.aiff", "type": "audio/aiff", "data": base64.b64encode(audio_bytes(sine(4.0, sr=44100, freq=330, amplitude=0.3, channels=2), 44100, "aiff")).decode()},
    ]
    data_transfer = page.evaluate_handle(DROP_JS, files)
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": data_transfer})
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": data_transfer})

    # Each file gets its own progress row, then a table row that turns ready without a reload.
    page.wait_for_selector('#uploads li.done >> nth=1', timeout=30_000)
    rows = page.locator("#songs-body tr[data-song]")
    rows.nth(1).wait_for(timeout=30_000)
    page.wait_for_function(
        "() => { const r = [...document.querySelectorAll('#songs-body tr[data-song]')];"
        " return r.length === 2 && r.every((tr) => tr.dataset.status === 'ready'); }", timeout=120_000)
    assert page.locator("#uploads li .note").all_inner_texts() == ["Ready", "Ready"]
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
    text = page.locator("#songs-table").inner_text()
    assert "Première chanson" in text and "second take" in text
    assert "0:03" in text and "0:04" in text and "tiny-e2e" in text
    assert re.search(r"r1 draft \(model\)", text)
    screenshot(page, "test_dropping_two_files_uploads_them_and_they_become_ready")

    songs = {s.original_name: s for s in Song.objects.filter(project=project)}
    assert set(songs) == {"Première chanson.wav", "second take.aiff"}
    assert all(s.status == "ready" for s in songs.values())
    assert songs["second take.aiff"].playable.name  # AIFF got a browser-playable rendition

    # The browser can play what /audio serves (AIFF -> FLAC rendition), seeking with Range requests.
    duration = page.evaluate("""async (url) => {
        const a = new Audio(url); a.preload = 'auto';
        await new Promise((ok, bad) => { a.onloadedmetadata = ok; a.onerror = () => bad(new Error('cannot play')); });
        return a.duration; }""", f"/api/songs/{songs['second take.aiff'].pk}/audio")
    assert abs(duration - 4.0) < 0.05
