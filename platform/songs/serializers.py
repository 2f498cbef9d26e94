from jobs.models import JobState
from rest_framework import serializers

from songs.models import Song, SongStatus


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


class SongUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=False, max_length=300)
    artist = serializers.CharField(required=False, allow_blank=True, max_length=300)
    album = serializers.CharField(required=False, allow_blank=True, max_length=300)
    split = serializers.CharField(required=False)


class SongBulkSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000)
    action = serializers.ChoiceField(choices=["set_split", "detect", "delete"])
    split = serializers.CharField(required=False)
    model_id = serializers.IntegerField(required=False, min_value=1)
