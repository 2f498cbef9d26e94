from django.conf import settings
from django.db import models


class ModelKind(models.TextChoices):
    SOURCE = "source", "Source (speech + music)"
    TARGET = "target", "Target (transfer to songs)"
    BASELINE = "baseline", "Baseline (songs only)"


class ModelVersion(models.Model):
    """A registered detector checkpoint. project=None marks a model shipped with Singscope."""

    project = models.ForeignKey("accounts.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="models")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    transfer_mode = models.CharField(max_length=32, blank=True)  # baseline, fixed:L1..all, finetune:L1..all
    training_revisions = models.JSONField(default=list, blank=True)  # [{"song": id, "revision": id}, ...]
    validation_revisions = models.JSONField(default=list, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    seed = models.IntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    trainable_parameters = models.PositiveIntegerField(default=0)
    checkpoint = models.FileField(max_length=500)
    checkpoint_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A shipped checkpoint is registered once, however many workers meet a fresh database at once.
            models.UniqueConstraint(fields=["checkpoint_sha256"], condition=models.Q(project__isnull=True),
                                    name="one_row_per_shipped_checkpoint"),
        ]

    def __str__(self) -> str:
        return self.name


class Prediction(models.Model):
    """Frame probabilities of one model on one song (float16 .npy, hop in seconds) and its segments."""

    song = models.ForeignKey("songs.Song", on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    probabilities = models.FileField(max_length=500)
    hop = models.FloatField(default=0.01)
    n_frames = models.PositiveIntegerField(default=0)
    postprocess = models.JSONField(default=dict)
    segments = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["song", "model_version"], name="one_prediction_per_model")]


class JobKind(models.TextChoices):
    PROCESS = "process", "Process upload"
    DETECT = "detect", "Detect"
    TRAIN = "train", "Train"
    EVALUATE = "evaluate", "Evaluate"
    IMPORT = "import", "Import"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class Job(models.Model):
    """The database row is the truth about background work; Celery only carries its id."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)  # 0..1
    message = models.CharField(max_length=500, blank=True)
    log = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.state})"
