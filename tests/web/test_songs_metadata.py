"""Song titles and metadata: read from the file's own tags at upload (ID3, Vorbis comments, MP4 atoms,
RIFF INFO), the file name only as a fallback; edited through PATCH; export names use the title."""


import pytest
from audio_fixtures import audio_bytes
from django.core.files.uploadedfile import SimpleUploadedFile
from songs.models import Song
from songs_support import SR, tone, wav_bytes

pytestmark = pytest.mark.django_db

TAGS = {"title": "Ünder Pressure", "artist": "Queen & Bowie", "album": "Hot Space"}
# container -> (extension, ffmpeg codec arguments): what each tag system looks like in the wild
CONTAINERS = {
    "id3 (mp3)": ("mp3", ["-c:a", "libmp3lame", "-b:a", "96k", "-id3v2_version", "3"]),
    "vorbis comments (opus)": ("opus", ["-c:a", "libopus", "-b:a", "64k"]),
    "vorbis comments (flac)": ("flac", ["-c:a", "flac"]),
    "mp4 atoms (m4a)": ("m4a", ["-c:a", "aac", "-b:a", "96k"]),
    "riff info (wav)": ("wav", ["-c:a", "pcm_s16le"]),
}


def tagged(ext: str, codec: list[str], tags: dict) -> bytes:
    meta = [arg for k, v in tags.items() for arg in ("-metadata", f"{k}={v}")]
    return audio_bytes(tone(2.0), SR, ext, codec=[*codec, *meta])


def upload(client, project, name, data, **fields):
    return client.post("/api/songs/", {"project": project.pk, "file": SimpleUploadedFile(name, data), **fields})


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_title_artist_and_album_come_from_the_files_tags(logged_in_client, project, kind):
    ext, codec = CONTAINERS[kind]
    r = upload(logged_in_client, project, f"audio.{ext}", tagged(ext, codec, TAGS))
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["title"], body["artist"], body["album"]) == (TAGS["title"], TAGS["artist"], TAGS["album"]), kind
    assert body["original_name"] == f"audio.{ext}"


def test_a_file_without_tags_is_named_after_the_file(logged_in_client, project):
    body = upload(logged_in_client, project, "Morning_Song.wav", wav_bytes(1.0)).json()
    assert (body["title"], body["artist"], body["album"]) == ("Morning Song", "", "")


def test_titles_typed_at_upload_win_over_the_tags(logged_in_client, project):
    ext, codec = CONTAINERS["id3 (mp3)"]
    r = upload(logged_in_client, project, "audio.mp3", tagged(ext, codec, TAGS), title="My own title")
    body = r.json()
    assert body["title"] == "My own title" and body["artist"] == TAGS["artist"]


def test_tag_values_are_cleaned_of_control_characters(logged_in_client, project):
    ext, codec = CONTAINERS["vorbis comments (flac)"]
    body = upload(logged_in_client, project, "audio.flac",
                  tagged(ext, codec, {"title": "Line\tone\u0007 two", "artist": " x "})).json()
    assert body["title"] == "Line one two" and body["artist"] == "x"


def test_title_artist_and_album_are_edited_with_patch_and_exports_use_the_title(logged_in_client, project):
    song_id = upload(logged_in_client, project, "audio.wav", wav_bytes(1.0)).json()["id"]
    assert Song.objects.get(pk=song_id).title == "audio"
    r = logged_in_client.patch(f"/api/songs/{song_id}/", {"title": "Blue Moon", "artist": "Rodgers", "album": "Hits"},
                               content_type="application/json")
    assert r.status_code == 200, r.content
    assert (r.json()["title"], r.json()["artist"], r.json()["album"]) == ("Blue Moon", "Rodgers", "Hits")
    export = logged_in_client.get(f"/api/songs/{song_id}/annotation.lab")
    assert 'filename="Blue Moon.lab"' in export["Content-Disposition"]
    blank = logged_in_client.patch(f"/api/songs/{song_id}/", {"title": "  "}, content_type="application/json")
    assert blank.status_code == 400 and set(blank.json()) == {"error", "code"}
    assert Song.objects.get(pk=song_id).title == "Blue Moon"
