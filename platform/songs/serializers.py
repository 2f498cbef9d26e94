from common.validation import ChoiceField, IdField, IdListField, PageNumberField, id_value
from rest_framework import serializers

from songs import selectors
from songs.models import SongStatus, Split


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


class AssignSerializer(serializers.Serializer):
    song_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000)
    user = serializers.CharField(allow_null=True, help_text="A member's user id or username; null unassigns.")


class AssignmentsQuerySerializer(serializers.Serializer):
    """The query of the assignments page: whose songs, in which order, which page."""

    assignee = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text='"" = everyone\'s, "none" = unassigned, or a user id')
    order = ChoiceField(choices=["priority", "title"], required=False, default="priority")
    page = PageNumberField()

    def validate_assignee(self, value: str) -> str:
        value = value.strip()
        if value not in ("", "none") and id_value(value) is None:
            raise serializers.ValidationError('must be "none" or a user id (a whole number from 1).')
        return value
