"""Uploads the processing path used to trip over: a WAV/FLAC with more channels than FFmpeg has a
layout for (9, 17, 32, 64 ...), whose browser rendition failed with "ArgumentError: Invalid argument
returned 22" after the upload was accepted; and NUL characters in the upload's title or artist,
which PATCH refuses and the upload form stored."""

import io

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import audio_bytes, noise, sine
from django.core.files.uploadedfile import SimpleUploadedFile

SR = 16000


def _multichannel(channels: int, *, fmt: str = "WAV", seconds: float = 1.0) -> bytes:
    x = noise(seconds, amplitude=0.05, seed=channels, channels=channels) + sine(seconds, freq=220.0, amplitude=0.3)[:, None]
    return audio_bytes(x, SR, fmt)


@pytest.mark.django_db
@pytest.mark.parametrize(("channels", "fmt"), [(3, "WAV"), (9, "WAV"), (17, "WAV"), (32, "WAV"), (64, "WAV"),
                                               (8, "FLAC")])
def test_a_song_with_many_channels_is_processed_and_playable(logged_in_client, project, settings, channels, fmt):
    from jobs.models import JobState
    from songs.models import Song
    from test_songs_processing import run_process_job

    name = f"{channels}ch.{fmt.lower()}"
    r = logged_in_client.post("/api/songs/", {"project": project.pk,
                                              "file": SimpleUploadedFile(name, _multichannel(channels, fmt=fmt))})
    assert r.status_code == 201, r.content
    assert r.json()["channels"] == channels
    job = run_process_job(r.json()["id"])
    assert job.state == JobState.SUCCEEDED, job.error
    song = Song.objects.get(pk=r.json()["id"])
    assert song.status == "ready" and song.duration == pytest.approx(1.0, abs=1e-3)
    with song.playable.open("rb") as f:  # more than two channels: a rendition the browser plays
        rendition, rate = sf.read(io.BytesIO(f.read()))
    assert rate == SR and rendition.ndim == 1 and len(rendition) == SR
    assert np.abs(rendition).max() > 0.1  # the mix, not silence
    audio = logged_in_client.get(f"/api/songs/{song.pk}/audio")
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/flac"


@pytest.mark.django_db
def test_more_channels_than_the_decoder_reads_is_refused_at_upload_with_a_sentence(logged_in_client, project):
    from songs.models import Song

    from detector.audio import MAX_CHANNELS

    r = logged_in_client.post("/api/songs/", {"project": project.pk,
                                              "file": SimpleUploadedFile("many.wav", _multichannel(MAX_CHANNELS + 1))})
    assert r.status_code == 400 and r.json()["code"] == "not_audio"
    assert f"{MAX_CHANNELS + 1} channels" in r.json()["error"] and "many.wav" in r.json()["error"]
    assert not Song.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "artist"])
def test_a_nul_in_the_upload_title_or_artist_is_refused_like_patch(logged_in_client, project, field):
    from songs.models import Song
    from songs_support import wav_bytes

    r = logged_in_client.post("/api/songs/", {"project": project.pk, field: "Hey\x00Jude",
                                              "file": SimpleUploadedFile("a.wav", wav_bytes(0.5))})
    assert r.status_code == 400 and r.json()["code"] == "invalid" and field in r.json()["error"], r.content
    assert not Song.objects.exists()
    ok = logged_in_client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile("a.wav", wav_bytes(0.5))})
    patch = logged_in_client.patch(f"/api/songs/{ok.json()['id']}/", {field: "Hey\x00Jude"},
                                   content_type="application/json")
    assert patch.status_code == r.status_code and patch.json()["code"] == r.json()["code"]
