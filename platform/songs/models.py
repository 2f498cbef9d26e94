from django.conf import settings
from django.db import models


class SongStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Split(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned"
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


def song_upload_to(song: "Song", filename: str) -> str:
    # The stored name never uses the user's file name (path traversal, unicode): only the extension.
    return f"projects/{song.project_id}/songs/{song.sha256[:2]}/{song.sha256}/original{song.extension}"


class Song(models.Model):
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="songs")
    title = models.CharField(max_length=300)
    artist = models.CharField(max_length=300, blank=True)
    album = models.CharField(max_length=300, blank=True)
    original = models.FileField(upload_to=song_upload_to, max_length=500)
    original_name = models.CharField(max_length=300)  # the uploader's file name, for display and download
    extension = models.CharField(max_length=16, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    duration = models.FloatField(null=True, blank=True)  # seconds
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=SongStatus.choices, default=SongStatus.PROCESSING)
    error = models.TextField(blank=True)
    split = models.CharField(max_length=16, choices=Split.choices, default=Split.UNASSIGNED)
    peaks = models.FileField(max_length=500, blank=True)  # JSON/binary min-max pairs, see songs.peaks
    playable = models.FileField(max_length=500, blank=True)  # browser-playable rendition when needed
    spectrogram = models.FileField(max_length=500, blank=True)  # log-mel pyramid, see songs.spectrogram
    # The song's sound in 2 x n_mels floats (detector.priority.signature: mean and spread of each log-mel
    # band), stored by the process job; the novelty part of the order in which songs are corrected.
    signature = models.JSONField(null=True, blank=True)
    current_revision = models.ForeignKey(
        "annotations.AnnotationRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_songs"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="one_copy_per_project")]

    def __str__(self) -> str:
        return self.title
