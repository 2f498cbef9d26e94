from django.utils import timezone
from rest_framework import serializers

from jobs.models import FINISHED_STATES, Job, JobState, ModelVersion


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
        return f"/projects/{job.project_id}/jobs/{job.pk}/"


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
        return f"/api/models/{mv.pk}/checkpoint"

    def get_shipped(self, mv) -> bool:
        return mv.project_id is None


def job_is_finished(job: Job) -> bool:
    return job.state in FINISHED_STATES


class JobCreateRequestSerializer(serializers.Serializer):
    """The body of POST /api/jobs/ (documentation; jobs.launch validates it)."""

    kind = serializers.ChoiceField(choices=["detect", "train", "evaluate"])
    project = serializers.IntegerField()
    song_ids = serializers.JSONField(required=False, help_text='detect/evaluate: list of song ids, or "all" (detect)')
    model_id = serializers.IntegerField(required=False, help_text="detect: model to use (default: the active one); "
                                                                  "evaluate: the model to evaluate (also as `model`)")
    base_model_id = serializers.IntegerField(required=False, help_text="train: base model (default: the active one)")
    mode = serializers.CharField(required=False, help_text="train: baseline, fixed:L1|L2|L3|all, finetune:L1|L2|L3|all")
    epochs = serializers.IntegerField(required=False)
    lr = serializers.FloatField(required=False)
    seed = serializers.IntegerField(required=False)
    steps_per_epoch = serializers.IntegerField(required=False)
    batch_size = serializers.IntegerField(required=False)
    crop_seconds = serializers.FloatField(required=False)
    median_s = serializers.FloatField(required=False)
    name = serializers.CharField(required=False)


class ActivateRequestSerializer(serializers.Serializer):
    project = serializers.IntegerField(required=False, help_text="needed for a shipped model (no project of its own)")
