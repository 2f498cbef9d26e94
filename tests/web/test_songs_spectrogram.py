"""The stored spectrogram: the model's log-mel view computed by the process job, a zoom pyramid of
uint8 tiles served gzip-encoded as stored, "not computed yet" for older songs, and a command that
computes it for them."""

import gzip
import io

import numpy as np
import pytest
from audio_fixtures import noise, sine, wav_bytes
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from songs.models import Song
from songs.spectrogram import TOP_MAX_FRAMES, spectrogram_bytes, spectrogram_header, spectrogram_tile
from test_songs_processing import run_process_job

from detector.config import DEFAULT_FEATURES
from detector.features import hz_to_mel

pytestmark = pytest.mark.django_db
SR = 16000


def tone_burst_wav(*, seconds=6.0, start=2.0, end=3.5, freq=2000.0) -> bytes:
    """Quiet noise, and a loud `freq` Hz tone between `start` and `end` seconds."""
    y = noise(seconds, amplitude=0.002) + sine(seconds, freq=freq, amplitude=0.5, spans=[(start, end)])
    return wav_bytes(y)


def band_of(freq: float) -> int:
    """The mel band whose centre is nearest to `freq` (bands equally spaced in mel)."""
    c = DEFAULT_FEATURES
    edges = np.linspace(hz_to_mel(c.fmin), hz_to_mel(c.fmax), c.n_mels + 2)
    return int(np.argmin(np.abs(edges[1:-1] - hz_to_mel(freq))))


def tile_rows(client, song_id, level, tile, *, n_mels=80, gzip_ok=True):
    headers = {"HTTP_ACCEPT_ENCODING": "gzip, deflate"} if gzip_ok else {}
    r = client.get(f"/api/songs/{song_id}/spectrogram?level={level}&tile={tile}", **headers)
    assert r.status_code == 200, r.content
    raw = gzip.decompress(r.content) if r.get("Content-Encoding") == "gzip" else r.content
    return r, np.frombuffer(raw, dtype=np.uint8).reshape(-1, n_mels)


def test_the_pyramid_halves_the_frame_rate_per_level_and_tiles_hold_the_quantised_rows():
    rng = np.random.default_rng(1)
    n = 3 * TOP_MAX_FRAMES + 77
    features = rng.normal(-5, 3, size=(n, 80)).astype(np.float32)
    data = spectrogram_bytes(features, config=DEFAULT_FEATURES, duration=n / 100)
    f = io.BytesIO(data)
    header, base = spectrogram_header(f)
    assert header["n_frames"] == n and header["n_mels"] == 80 and header["frame_rate"] == 100
    assert [lv["n_frames"] for lv in header["levels"]] == [n, -(-n // 2), -(-n // 4)]
    assert header["levels"][-1]["n_frames"] <= TOP_MAX_FRAMES
    level0 = np.concatenate([np.frombuffer(gzip.decompress(spectrogram_tile(f, header=header, base=base, level=0,
                                                                            tile=i)), np.uint8).reshape(-1, 80)
                             for i in range(len(header["levels"][0]["tiles"]))])
    expected = np.clip(np.rint((features - header["log_lo"]) * 255 / (header["log_hi"] - header["log_lo"])), 0, 255)
    assert np.abs(level0.astype(int) - expected).max() <= 1  # float rounding at the .5 edges only
    level1 = np.frombuffer(gzip.decompress(spectrogram_tile(f, header=header, base=base, level=1, tile=0)),
                           np.uint8).reshape(-1, 80)
    pair = (level0[10].astype(int) + level0[11] + 1) // 2
    assert np.array_equal(level1[5], pair)
    assert header["band_hz"][0] > DEFAULT_FEATURES.fmin and header["band_hz"][-1] < DEFAULT_FEATURES.fmax


def test_processing_stores_the_spectrogram_and_the_api_serves_the_tone_where_it_is(logged_in_client, project):
    r = logged_in_client.post("/api/songs/", {"project": project.pk,
                                              "file": SimpleUploadedFile("burst.wav", tone_burst_wav())})
    song_id = r.json()["id"]
    job = run_process_job(song_id)
    assert job.state == "succeeded", job.error
    song = Song.objects.get(pk=song_id)
    assert song.spectrogram.name.endswith("spectrogram.bin")

    header = logged_in_client.get(f"/api/songs/{song_id}/spectrogram").json()
    assert header["n_frames"] == 600 and header["n_mels"] == 80 and header["fmax"] == 8000
    assert len(header["levels"]) == 1 and header["levels"][0]["frame_rate"] == 100
    r, rows = tile_rows(logged_in_client, song_id, 0, 0)
    assert r["Content-Encoding"] == "gzip" and r["Content-Type"] == "application/octet-stream"
    assert rows.shape == (600, 80)
    band = band_of(2000)
    assert abs(int(np.argmax(rows[250])) - band) <= 1  # during the tone: the 2 kHz band is the loudest
    assert rows[250, band] > 200 and rows[100, band] < 120 and rows[450, band] < 120  # and only then
    loud = np.flatnonzero(rows[:, band] > 160)
    assert abs(loud[0] - 200) <= 3 and abs(loud[-1] + 1 - 350) <= 3  # frame i = [i/100, (i+1)/100) s
    _, plain = tile_rows(logged_in_client, song_id, 0, 0, gzip_ok=False)
    assert np.array_equal(plain, rows)


def test_bad_tile_requests_are_clear_4xx(logged_in_client, project):
    song_id = logged_in_client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile(
        "b.wav", tone_burst_wav(seconds=2.0, start=0.5, end=1.0))}).json()["id"]
    assert logged_in_client.get(f"/api/songs/{song_id}/spectrogram").json()["code"] == "not_ready"
    run_process_job(song_id)
    for query, status in (("level=9&tile=0", 404), ("level=0&tile=5", 404), ("level=0", 400),
                          ("level=x&tile=0", 400), ("level=1e400&tile=0", 400), ("level=0&tile=" + "9" * 30, 400)):
        r = logged_in_client.get(f"/api/songs/{song_id}/spectrogram?{query}")
        assert r.status_code == status, (query, r.content)
        assert set(r.json()) == {"error", "code"}


def test_a_song_processed_before_spectrograms_says_not_computed_and_the_command_computes_it(
        logged_in_client, project):
    song_id = logged_in_client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile(
        "old.wav", tone_burst_wav(seconds=3.0, start=1.0, end=2.0))}).json()["id"]
    run_process_job(song_id)
    Song.objects.filter(pk=song_id).update(spectrogram="")  # as songs processed before this existed
    r = logged_in_client.get(f"/api/songs/{song_id}/spectrogram")
    assert r.status_code == 404 and r.json()["code"] == "no_spectrogram"
    assert "not been computed yet" in r.json()["error"]
    out = io.StringIO()
    call_command("spectrograms_compute", stdout=out)
    assert "1 spectrogram computed" in out.getvalue()
    _, rows = tile_rows(logged_in_client, song_id, 0, 0)
    assert rows.shape == (300, 80) and rows[150, band_of(2000)] > 200


def test_outsiders_get_404(client, project, make_user, logged_in_client):
    song_id = logged_in_client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile(
        "s.wav", tone_burst_wav(seconds=1.0, start=0.2, end=0.5))}).json()["id"]
    run_process_job(song_id)
    client.force_login(make_user("mallory"))
    assert client.get(f"/api/songs/{song_id}/spectrogram").status_code == 404
    assert client.get(f"/api/songs/{song_id}/spectrogram?level=0&tile=0").status_code == 404
