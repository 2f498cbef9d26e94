from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ActivityEvent, Membership, Project, Role


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    songs = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "role", "songs", "retrain_after_verified", "auto_activate_margin",
                  "verifier_must_differ", "active_model", "created_at"]
        read_only_fields = ["id", "role", "songs", "active_model", "created_at"]

    def get_role(self, project) -> str | None:
        from accounts.permissions import role_in

        request = self.context.get("request")
        return role_in(user=request.user, project=project) if request else None

    def get_songs(self, project) -> int:
        return project.songs.count()


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    retrain_after_verified = serializers.IntegerField(required=False, min_value=0, max_value=100_000)
    auto_activate_margin = serializers.FloatField(required=False, allow_null=True, min_value=-1, max_value=1)
    verifier_must_differ = serializers.BooleanField(
        required=False, help_text="nobody verifies a revision they made or submitted (default true)")


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "username", "role", "created_at"]


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class AssignSerializer(serializers.Serializer):
    song_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000)
    user = serializers.CharField(allow_null=True, help_text="A member's user id or username; null unassigns.")


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ActivityEvent
        fields = ["id", "actor", "verb", "summary", "data", "created_at"]


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
        k: {"type": "number"} for k in ("priority", "uncertainty", "disagreement", "novelty")}})
    def get_priority(self, song):
        p = getattr(song, "priority", None)
        return {k: p[k] for k in ("priority", "uncertainty", "disagreement", "novelty")} if p else None

    def get_state(self, song) -> str | None:
        return song.current_revision.state if song.current_revision_id else None

    def get_url(self, song) -> str:
        return f"/projects/{song.project_id}/songs/{song.pk}/"


class QueueSerializer(serializers.Serializer):
    to_annotate = QueueSongSerializer(many=True)
    to_review = QueueSongSerializer(many=True)
