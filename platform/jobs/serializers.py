from common.validation import ChoiceField, IdField, IdListField, ProjectFilterSerializer
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from songs.models import Song, SongStatus

from detector.config import ALL_TRANSFER_MODES
from jobs.models import FINISHED_STATES, Job, JobKind, JobState, ModelVersion
from jobs.priority import COMPONENTS
from jobs.selectors import job_as_seen
from jobs.training import DEFAULTS, INTS, LIMITS, OPTIONAL


class JobSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()
    can_retry = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "project", "kind", "kind_label", "state", "progress", "message", "params", "result", "error",
            "cancel_requested", "attempts", "worker", "retry_of", "created_by", "created_at", "started_at",
            "finished_at", "heartbeat_at", "duration_seconds", "can_cancel", "can_retry", "url",
        ]
        read_only_fields = fields

    def to_representation(self, job):
        return super().to_representation(job_as_seen(job))

    def get_created_by(self, job) -> str | None:
        return job.created_by.get_username() if job.created_by else None

    def get_duration_seconds(self, job) -> float | None:
        if not job.started_at:
            return None
        end = job.finished_at or timezone.now()
        return round((end - job.started_at).total_seconds(), 1)

    def get_can_cancel(self, job) -> bool:
        return job.state in (JobState.QUEUED, JobState.RUNNING) and not (
            job.state == JobState.RUNNING and job.cancel_requested)

    def get_can_retry(self, job) -> bool:
        return job.state in (JobState.FAILED, JobState.CANCELLED)

    def get_url(self, job) -> str:
        return reverse("job", kwargs={"project_id": job.project_id, "job_id": job.pk})


class JobDetailSerializer(JobSerializer):
    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "log"]
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    parent_name = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()
    checkpoint_url = serializers.SerializerMethodField()
    shipped = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id", "project", "name", "kind", "parent", "parent_name", "transfer_mode", "training_revisions",
            "validation_revisions", "hyperparameters", "seed", "metrics", "trainable_parameters",
            "checkpoint_sha256", "checkpoint_url", "created_by", "created_at", "active", "shipped",
        ]
        read_only_fields = fields

    def get_created_by(self, mv) -> str | None:
        return mv.created_by.get_username() if mv.created_by else None

    def get_parent_name(self, mv) -> str | None:
        return mv.parent.name if mv.parent_id and mv.parent else None

    def get_active(self, mv) -> bool:
        project = self.context.get("project")
        if project is None:
            project = mv.project
        return bool(project is not None and project.active_model_id == mv.pk)

    def get_checkpoint_url(self, mv) -> str:
        return reverse("api-model-checkpoint", kwargs={"model_id": mv.pk})

    def get_shipped(self, mv) -> bool:
        return mv.project_id is None


def job_is_finished(job: Job) -> bool:
    return job.state in FINISHED_STATES


@extend_schema_field({"oneOf": [{"type": "array", "items": {"type": "integer", "format": "int64", "minimum": 1}},
                                 {"type": "string", "enum": ["all"]}]})
class SongIdsField(serializers.Field):
    """A list of song ids, or "all" (every ready song of the project)."""

    def to_internal_value(self, data):
        if data == "all":
            return "all"
        return IdListField(min_length=1, max_length=10_000).run_validation(data)

    def to_representation(self, value):
        return value


def _training_number(key: str, help_text: str):
    lo, hi = LIMITS[key]
    field = serializers.IntegerField if key in INTS else serializers.FloatField
    default = DEFAULTS[key]
    said = "the recipe's own budget" if default is None else default
    kwargs = {"allow_null": True} if key in OPTIONAL else {}
    return field(required=False, min_value=lo, max_value=hi, default=default, **kwargs,
                 help_text=f"train: {help_text} (default: the project's training defaults, else {said}; "
                           "detector.adapt.DEFAULT_RECIPE)")


class JobCreateRequestSerializer(serializers.Serializer):
    """The body of POST /api/jobs/: every value checked here (types, ids, ranges); jobs.launch then
    checks what needs the database (songs ready, models of this project, training data)."""

    kind = ChoiceField(choices=["detect", "train", "evaluate"])
    project = IdField()
    song_ids = SongIdsField(required=False, help_text='detect/evaluate: song ids, or "all" (detect)')
    songs = SongIdsField(required=False, help_text="the same as song_ids")
    model_id = IdField(required=False, allow_null=True, help_text="detect: model to use (default: the active one); "
                                                                  "evaluate: the model to evaluate")
    model = IdField(required=False, allow_null=True, help_text="the same as model_id")
    reference = serializers.CharField(required=False, max_length=20,
                                      help_text="evaluate: the revisions scored against, verified (default) or current")
    base_model_id = IdField(required=False, allow_null=True, help_text="train: base model (default: the active one)")
    mode = ChoiceField(
        choices=list(ALL_TRANSFER_MODES), required=False, default=DEFAULTS["mode"],
        help_text=f"train: transfer mode, one of {', '.join(ALL_TRANSFER_MODES)} (default: the project's "
                  f"training defaults, else {DEFAULTS['mode']}, detector.adapt.DEFAULT_RECIPE's)")
    epochs = _training_number("epochs", "most passes over the training songs (early stopping may end sooner)")
    lr = _training_number("lr", "learning rate")
    anchor = _training_number("anchor", "L2-SP pull of the weights toward the start model's (0 = off)")
    seed = _training_number("seed", "random seed (also draws the development songs when none are named)")
    steps_per_epoch = _training_number("steps_per_epoch", "batches per epoch")
    batch_size = _training_number("batch_size", "crops per batch")
    crop_seconds = _training_number("crop_seconds", "length of a training crop in seconds")
    name = serializers.CharField(required=False, allow_blank=True, max_length=120, help_text="train: model name")

    error_codes = {"kind": "invalid_kind", "mode": "invalid_mode", "song_ids": "invalid_songs", "songs": "invalid_songs",
                   "model_id": "unknown_model", "model": "unknown_model", "base_model_id": "unknown_model",
                   **{key: "invalid_parameter" for key in LIMITS}}

    def sent(self) -> dict:
        """The validated values of the fields the client sent (the documented defaults are the project's
        business: jobs.training applies them)."""
        return {k: v for k, v in self.validated_data.items() if k in self.initial_data}


class ActivateRequestSerializer(serializers.Serializer):
    project = IdField(required=False, help_text="needed for a shipped model (no project of its own)")


class ModelActivatedSerializer(ModelVersionSerializer):
    """POST /api/models/<id>/activate: the model, and the one detect job the activation queued to bring
    the project's songs up to date (null when the model was already in use or no song is ready)."""

    redetect_job = serializers.SerializerMethodField()

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "redetect_job"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "id": {"type": "integer"}, "state": {"type": "string"}, "url": {"type": "string"}}})
    def get_redetect_job(self, mv):
        job = self.context.get("redetect_job")
        return {"id": job.pk, "state": job.state, "url": reverse("job", kwargs={"project_id": job.project_id, "job_id": job.pk})} if job else None


class ModelChangesQuerySerializer(serializers.Serializer):
    project = IdField(required=False, help_text="needed for a shipped model (no project of its own)")


class JobListQuerySerializer(ProjectFilterSerializer):
    kind = ChoiceField(choices=JobKind.choices, required=False, allow_blank=True)  # empty: no filter
    state = ChoiceField(choices=JobState.choices, required=False, allow_blank=True)


class SongSerializer(serializers.ModelSerializer):
    """A song as the API and the song list show it, with its process job and its latest prediction's model
    (jobs data: this serializer lives here, above songs). Context: ``jobs`` {song id: latest process job}."""

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
        ids = {"song_id": song.pk}
        return {"audio": reverse("api-song-audio", kwargs=ids), "peaks": reverse("api-song-peaks", kwargs=ids),
                "spectrogram": reverse("api-song-spectrogram", kwargs=ids),
                "original": reverse("api-song-original", kwargs=ids),
                "editor": reverse("song-editor", kwargs={"project_id": song.project_id, **ids})}


class QueueSongSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    title = serializers.CharField()
    state = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField(
        help_text="to annotate: why this song comes first (priority = uncertainty + disagreement + "
                  "detector.priority.NOVELTY_WEIGHT x novelty); null without a model prediction")

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        k: {"type": "number"} for k in COMPONENTS}})
    def get_priority(self, song):
        p = getattr(song, "priority", None)
        return {k: p[k] for k in COMPONENTS} if p else None

    def get_state(self, song) -> str | None:
        return song.current_revision.state if song.current_revision_id else None

    def get_url(self, song) -> str:
        return reverse("song-editor", kwargs={"project_id": song.project_id, "song_id": song.pk})


class QueueSerializer(serializers.Serializer):
    to_annotate = QueueSongSerializer(many=True)
    to_review = QueueSongSerializer(many=True)


class PredictionQuerySerializer(serializers.Serializer):
    """The query of GET /api/songs/<id>/prediction."""

    model = serializers.CharField(required=False, allow_blank=True, default="",
                                  help_text="model version id (default: the latest prediction)")
    encoding = ChoiceField(choices=["base64", "list"], default="base64",
                           error_messages={"invalid_choice": "must be base64 or list."},
                           help_text="base64 (default): little-endian float16 bytes; list: floats")
