from common.validation import ChoiceField, IdField, IdListField
from jobs.models import JobState
from rest_framework import serializers

from songs import selectors
from songs.models import Song, SongStatus, Split


class SongSerializer(serializers.ModelSerializer):
    """A song as the API and the song list show it. Context: ``jobs`` {song id: latest process job}."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    annotation = serializers.SerializerMethodField()
    vocal_share = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Song
        fields = [
            "id", "project", "title", "artist", "album", "original_name", "extension", "size_bytes", "sha256", "duration",
            "sample_rate", "channels", "codec", "status", "error", "split", "job", "annotation", "vocal_share",
            "model", "urls", "created_by", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def _job(self, song):
        return (self.context.get("jobs") or {}).get(song.pk)

    def get_status(self, song) -> str:
        job = self._job(song)
        # A process job that died (worker killed, cancelled) leaves the song failed, not "processing" forever.
        if song.status == SongStatus.PROCESSING and job and job.state in (JobState.FAILED, JobState.CANCELLED):
            return SongStatus.FAILED
        return song.status

    def get_error(self, song) -> str:
        job = self._job(song)
        if song.status == SongStatus.PROCESSING and job and job.state in (JobState.FAILED, JobState.CANCELLED):
            return job.error or "Processing was cancelled."
        return song.error

    def get_job(self, song) -> dict | None:
        job = self._job(song)
        if not job:
            return None
        return {"id": job.pk, "state": job.state, "progress": round(job.progress, 3), "message": job.message}

    def get_annotation(self, song) -> dict | None:
        rev = song.current_revision
        if rev is None:
            return None
        return {"revision": rev.pk, "number": rev.number, "state": rev.state, "origin": rev.origin,
                "vocal_seconds": rev.vocal_seconds}

    def get_vocal_share(self, song) -> float | None:
        rev = song.current_revision
        if rev is None or not song.duration:
            return None
        return round(min(1.0, rev.vocal_seconds / song.duration), 4)

    def get_model(self, song) -> dict | None:
        predictions = list(song.predictions.all())
        if not predictions:
            return None
        mv = predictions[0].model_version
        return {"id": mv.pk, "name": mv.name, "kind": mv.kind}

    def get_urls(self, song) -> dict[str, str]:
        base = f"/api/songs/{song.pk}"
        return {"audio": f"{base}/audio", "peaks": f"{base}/peaks", "spectrogram": f"{base}/spectrogram",
                "original": f"{base}/original",
                "editor": f"/projects/{song.project_id}/songs/{song.pk}/"}


class SongListQuerySerializer(serializers.Serializer):
    """The query of GET /api/songs/ (limit and offset are the pagination's); an empty filter is no filter,
    as a form sends it."""

    project = IdField(required=False, help_text="only this project's songs")
    ids = IdListField(required=False, max_length=1000, help_text="comma-separated song ids")
    status = ChoiceField(choices=SongStatus.choices, required=False, allow_blank=True)
    split = ChoiceField(choices=Split.choices, required=False, allow_blank=True)
    ordering = ChoiceField(allow_blank=True,
        choices=[f"{sign}{key}" for key in selectors.ORDERINGS for sign in ("", "-")], required=False,
        help_text="a field name, prefix - to reverse")
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, trim_whitespace=True)


class SongUploadSerializer(serializers.Serializer):
    """The fields of POST /api/songs/ beside the file (multipart): the file itself is checked by the view
    (one, in the 'file' field) and by decoding it."""

    file = serializers.FileField(allow_empty_file=True,  # song_create says "empty (0 bytes)" itself
                                 help_text="the audio file (WAV, FLAC, Ogg, Opus, MP3, M4A or AIFF)")
    project = IdField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                  help_text="default: from the file name")
    artist = serializers.CharField(required=False, allow_blank=True, max_length=300)
    album = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SongUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=False, max_length=300)
    artist = serializers.CharField(required=False, allow_blank=True, max_length=300)
    album = serializers.CharField(required=False, allow_blank=True, max_length=300)
    split = serializers.CharField(required=False)


class SongBulkSerializer(serializers.Serializer):
    ids = IdListField(min_length=1, max_length=1000)
    action = ChoiceField(choices=["set_split", "detect", "delete"])
    split = ChoiceField(choices=Split.choices, required=False, help_text="set_split: the split")
    model_id = IdField(required=False, help_text="detect: the model (default: the project's active one)")
