from rest_framework import serializers

from annotations.models import AnnotationRevision, ReviewComment


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class RevisionSummarySerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text="who made this revision (for verify / reject: the reviewer)")
    segments_by = serializers.SerializerMethodField(help_text="who made these segments (null: the model or unknown)")
    reviewed_by = serializers.SerializerMethodField(help_text="the reviewer of a verify / reject revision")
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    n_segments = serializers.SerializerMethodField()

    class Meta:
        model = AnnotationRevision
        fields = ["id", "number", "state", "origin", "author", "segments_by", "reviewed_by", "parent", "message",
                  "vocal_seconds", "n_segments", "created_at"]

    def get_author(self, obj) -> str | None:
        return _username(obj.author)

    def get_segments_by(self, obj) -> str | None:
        return _username(obj.segments_by)

    def get_reviewed_by(self, obj) -> str | None:
        return _username(obj.reviewed_by)

    def get_n_segments(self, obj) -> int:
        return len(obj.segments or [])


class RevisionSerializer(RevisionSummarySerializer):
    segments = serializers.JSONField()
    verify_refusal = serializers.SerializerMethodField(
        help_text="why you may not verify this revision under the project's review policy (null: you may, if "
                  "your role allows it)")

    class Meta(RevisionSummarySerializer.Meta):
        fields = [*RevisionSummarySerializer.Meta.fields, "segments", "verify_refusal"]

    def get_verify_refusal(self, obj) -> str | None:
        from annotations.services import verify_refusal

        request = self.context.get("request")
        if request is None:
            return None
        return verify_refusal(song=obj.song, revision=obj, reviewer=request.user)


class ReviewCommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    revision_number = serializers.IntegerField(source="revision.number", read_only=True)

    class Meta:
        model = ReviewComment
        fields = ["id", "revision", "revision_number", "author", "decision", "time", "text", "created_at"]

    def get_author(self, obj) -> str | None:
        return _username(obj.author)


class AnnotationSaveSerializer(serializers.Serializer):
    segments = serializers.JSONField(help_text="Full partition of [0, duration]: [{start, end, label}], label vocal|non-vocal.")
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AnnotationImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.CharField(required=False, allow_blank=True, default="")
    state = serializers.ChoiceField(
        choices=["draft", "verified"], required=False, default="draft",
        help_text="draft (default), or verified: a project admin imports a reference straight to verified "
                  "(one call, one revision; the admin is recorded as its author and reviewer)")


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["verify", "reject", "comment"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    time = serializers.FloatField(required=False, allow_null=True, default=None)


class ReviewResultSerializer(serializers.Serializer):
    """What POST .../annotation/review answers: the revision as it now is and the comment left."""

    revision = RevisionSerializer()
    comment = ReviewCommentSerializer()


class CurrentAnnotationSerializer(RevisionSerializer):
    """GET .../annotation: the current revision, or for a song without one id null, number 0 and one
    non-vocal segment over the whole song (documentation of that answer)."""

    id = serializers.IntegerField(allow_null=True)
    state = serializers.CharField(allow_null=True)
    origin = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)


class RevisionHistorySerializer(serializers.Serializer):
    """GET .../annotation/revisions: every revision (newest first), the current one's id, review comments."""

    current = serializers.IntegerField(allow_null=True)
    results = RevisionSummarySerializer(many=True)
    comments = ReviewCommentSerializer(many=True)


class AnnotationExportQuerySerializer(serializers.Serializer):
    revision = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="a revision id (default: the current one)")
