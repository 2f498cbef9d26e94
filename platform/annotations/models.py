from django.conf import settings
from django.db import models


class RevisionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    VERIFIED = "verified", "Verified"


class AnnotationRevision(models.Model):
    """Immutable: a full-coverage partition of [0, duration] into vocal / non-vocal segments.

    `segments` is a list of {"start": s, "end": s, "label": "vocal"|"non-vocal"} (detector.labels.Segment.to_dict).
    A state change (submit, verify, reject) is a new revision with the same segments.
    """

    song = models.ForeignKey("songs.Song", on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()  # 1, 2, ... per song
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Who made these segments: the author of a save or import; a submit, verify or reject keeps the
    # segments and so keeps this (None: the model's, or made before this was recorded).
    segments_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # The reviewer of a verify / reject revision (its author, recorded as such).
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    origin = models.CharField(max_length=100)  # "model:<version>", "human", "import:<format>"
    state = models.CharField(max_length=16, choices=RevisionState.choices, default=RevisionState.DRAFT)
    segments = models.JSONField()
    vocal_seconds = models.FloatField(default=0.0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["song", "-number"]
        constraints = [models.UniqueConstraint(fields=["song", "number"], name="revision_number_per_song")]

    def __str__(self) -> str:
        return f"{self.song_id} r{self.number} ({self.origin}, {self.state})"


class ReviewComment(models.Model):
    """A reviewer's decision or remark, optionally pinned to a time in the song."""

    revision = models.ForeignKey(AnnotationRevision, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=16, blank=True)  # "", "verified", "rejected"
    time = models.FloatField(null=True, blank=True)  # seconds
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
