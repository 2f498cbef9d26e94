from common.validation import PageNumberField
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


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ActivityEvent
        fields = ["id", "actor", "verb", "summary", "data", "created_at"]


class ProjectListQuerySerializer(serializers.Serializer):
    """The query of GET /api/projects/ (limit and offset are the pagination's)."""

    search = serializers.CharField(required=False, allow_blank=True, default="", help_text="part of the name")


class ActivityQuerySerializer(serializers.Serializer):
    """The query of the activity log (page and API)."""

    verb = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                 help_text="a verb prefix (project, song, annotation.verified ...)")


class ActivityPageQuerySerializer(ActivityQuerySerializer):
    """The query of the activity page: the log's filter and the page number."""

    page = PageNumberField()
