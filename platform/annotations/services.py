"""Annotation revisions: immutable partitions of a song; the current one moves forward only from
the revision the author started from (optimistic locking, HTTP If-Match in the API)."""

from django.db import transaction
from django.db.models import Max

from annotations.models import AnnotationRevision, RevisionState
from common.errors import ApiError
from detector.errors import FormatError
from detector.labels import Segment, merge_adjacent, validate_partition


class RevisionConflict(ApiError):
    """Someone saved a newer revision since the author loaded theirs. Carries the latest one."""

    def __init__(self, *, latest: AnnotationRevision | None, based_on):
        self.latest = latest
        who = (latest.author.get_username() if latest and latest.author else "the model") if latest else "nobody"
        when = latest.created_at.strftime("%Y-%m-%d %H:%M UTC") if latest else ""
        super().__init__(
            f"This song changed since you loaded it: revision {latest.number if latest else 0} was saved by {who}"
            f"{' at ' + when if when else ''}, but your edits are based on revision {based_on}. "
            "Reload, or re-apply your edits on top of the latest revision.",
            code="revision_conflict", status_code=409,
        )


def segments_parse(*, raw, duration: float) -> list[Segment]:
    """Validate user-supplied segments (list of dicts) into a full partition; FormatError explains."""
    if not isinstance(raw, list):
        raise FormatError("segments must be a list of {start, end, label} objects")
    segments = [Segment.from_dict(item) if isinstance(item, dict) else _bad(item) for item in raw]
    validate_partition(segments, duration=duration)
    # Snap the last boundary to the exact duration and join same-label neighbours.
    segments[-1] = Segment(segments[-1].start, duration, segments[-1].label)
    return merge_adjacent(segments)


def _bad(item):
    raise FormatError(f"segment {item!r} is not an object with start, end and label")


@transaction.atomic
def revision_create(
    *, song, segments: list[Segment], author, origin: str, state: str = RevisionState.DRAFT,
    based_on: AnnotationRevision | None | str = "current", message: str = "",
) -> AnnotationRevision:
    """Append a revision and make it the song's current one.

    based_on: the revision the author edited ("current" skips the check, for model and import
    revisions; None means "the song had no revision"). A mismatch raises RevisionConflict (409).
    """
    from songs.models import Song

    locked = Song.objects.select_for_update().get(pk=song.pk)
    current = locked.current_revision
    if based_on != "current" and (based_on.pk if based_on else None) != locked.current_revision_id:
        raise RevisionConflict(latest=current, based_on=based_on.number if based_on else 0)
    validate_partition(segments, duration=locked.duration or segments[-1].end)
    number = (AnnotationRevision.objects.filter(song=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    revision = AnnotationRevision.objects.create(
        song=locked, number=number, parent=current, author=author if getattr(author, "is_authenticated", False) else None,
        origin=origin, state=state, segments=[s.to_dict() for s in segments],
        vocal_seconds=round(sum(s.duration for s in segments if s.is_vocal), 3), message=message,
    )
    locked.current_revision = revision
    locked.save(update_fields=["current_revision", "updated_at"])
    song.current_revision = revision
    return revision


def revision_segments(revision: AnnotationRevision) -> list[Segment]:
    return [Segment.from_dict(item) for item in revision.segments]
