"""Annotation revisions: immutable partitions of a song; the current one moves forward only from
the revision the author started from (optimistic locking, HTTP If-Match in the API)."""

from accounts.services import activity_record
from common.errors import ApiError
from common.hooks import hook_call
from django.db import transaction
from django.db.models import Max
from songs.models import Song

from annotations.errors import RevisionConflict
from annotations.models import AnnotationRevision, ReviewComment, RevisionState
from detector.errors import FormatError
from detector.labels import Segment, merge_adjacent, validate_partition


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
    based_on: AnnotationRevision | None | str = "current", message: str = "", segments_by="author",
    reviewed_by=None,
) -> AnnotationRevision:
    """Append a revision and make it the song's current one.

    based_on: the revision the author edited ("current" skips the check, for model and import
    revisions; None means "the song had no revision"). A mismatch raises RevisionConflict (409).
    segments_by: who made the segments ("author" = the author; a state change passes its parent's).
    """
    locked = Song.objects.select_for_update().get(pk=song.pk)
    current = locked.current_revision
    if based_on != "current" and (based_on.pk if based_on else None) != locked.current_revision_id:
        raise RevisionConflict(latest=current, based_on=based_on.number if based_on else 0)
    validate_partition(segments, duration=locked.duration or segments[-1].end)
    number = (AnnotationRevision.objects.filter(song=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    author = author if getattr(author, "is_authenticated", False) else None
    revision = AnnotationRevision.objects.create(
        song=locked, number=number, parent=current, author=author,
        segments_by=author if segments_by == "author" else segments_by, reviewed_by=reviewed_by,
        origin=origin, state=state, segments=[s.to_dict() for s in segments],
        vocal_seconds=round(sum(s.duration for s in segments if s.is_vocal), 3), message=message,
    )
    locked.current_revision = revision
    locked.save(update_fields=["current_revision", "updated_at"])
    song.current_revision = revision
    return revision


def revision_segments(revision: AnnotationRevision) -> list[Segment]:
    return [Segment.from_dict(item) for item in revision.segments]


# ------------------------------------------------------------------------------------------------
# The editor's writes: save, import, submit, review. Each is one transaction; a failure leaves
# nothing half-written (revision_create locks the song row and checks the base revision).

def _same_segments(a: list[Segment], b: list[Segment]) -> bool:
    return len(a) == len(b) and all(
        x.label == y.label and abs(x.start - y.start) < 1e-6 and abs(x.end - y.end) < 1e-6 for x, y in zip(a, b, strict=False)
    )


def annotation_save(
    *, song, raw_segments, author, based_on: AnnotationRevision | None | str, message: str = "",
) -> tuple[AnnotationRevision, bool]:
    """A person's edit: validate `raw_segments` (list of {start, end, label}) as a partition of the
    song and append it as a draft revision based on `based_on`. Returns (revision, created); saving
    the very segments of the current revision (and based on it) creates nothing."""
    segments = segments_parse(raw=raw_segments, duration=float(song.duration or 0))
    current = song.current_revision
    if (current is not None and based_on != "current" and based_on is not None and based_on.pk == current.pk
            and _same_segments(segments, revision_segments(current))):
        return current, False
    revision = revision_create(
        song=song, segments=segments, author=author, origin="human", state=RevisionState.DRAFT,
        based_on=based_on, message=message,
    )
    _activity(song=song, actor=author, verb="annotation.saved",
              summary=f"saved revision {revision.number} of {song.title}", revision=revision)
    return revision, True


def annotation_import(
    *, song, content: bytes, filename: str, fmt: str | None, author, based_on: AnnotationRevision | None | str,
    state: str = RevisionState.DRAFT,
) -> AnnotationRevision:
    """Read an annotation file (format from `fmt` or the file name) into a new revision, origin import:<format>.

    state "verified" imports a reference straight to verified (the caller checked the author is a
    project admin): one revision whose author, segment maker and reviewer is the importer; like a
    verification, it may complete the project's retraining quota."""
    from annotations import formats

    if state not in (RevisionState.DRAFT, RevisionState.VERIFIED):
        raise ApiError(f"state must be draft or verified, not {state!r}.", code="invalid")
    fmt = formats.format_for(filename=filename, fmt=fmt)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{filename!r} is not a UTF-8 text file") from None
    segments = formats.read(text=text, fmt=fmt, duration=float(song.duration or 0))
    verified = state == RevisionState.VERIFIED
    revision = revision_create(
        song=song, segments=segments, author=author, origin=f"import:{fmt}", state=state,
        based_on=based_on, message=f"imported from {filename[:200]}" + (" as a verified reference" if verified else ""),
        reviewed_by=author if verified and getattr(author, "is_authenticated", False) else None,
    )
    _activity(song=song, actor=author, verb="annotation.imported",
              summary=f"imported {fmt} file as {'verified ' if verified else ''}revision {revision.number} of "
                      f"{song.title}", revision=revision)
    if verified:
        transaction.on_commit(lambda: hook_call("revision_verified", project=song.project))
    return revision


def revision_submit(*, song, author, based_on: AnnotationRevision | None | str = "current") -> AnnotationRevision:
    """Mark the current revision as submitted for review (a new revision with the same segments)."""
    current = song.current_revision
    if current is None:
        raise ApiError("This song has no annotation to submit yet; save one first.", code="no_revision", status_code=400)
    if current.state == RevisionState.SUBMITTED:
        raise ApiError(f"Revision {current.number} is already submitted for review.", code="already_submitted",
                       status_code=400)
    revision = revision_create(
        song=song, segments=revision_segments(current), author=author, origin=current.origin,
        state=RevisionState.SUBMITTED, based_on=current if based_on == "current" else based_on,
        message="submitted for review", segments_by=current.segments_by,
    )
    _activity(song=song, actor=author, verb="annotation.submitted",
              summary=f"submitted revision {revision.number} of {song.title} for review", revision=revision)
    return revision


REVIEW_DECISIONS = ("verify", "reject", "comment")


def verify_refusal(*, song, revision: AnnotationRevision | None, reviewer) -> str | None:
    """Why ``reviewer`` may not verify ``revision`` under the project's review policy, or None.

    With the project setting "the verifier must differ from the author" (on by default), nobody
    verifies segments they made, nor a revision they submitted themselves. The one place this rule
    lives: the review service enforces it, the editor shows it."""
    if revision is None or not song.project.verifier_must_differ or not getattr(reviewer, "pk", None):
        return None
    if revision.segments_by_id == reviewer.pk:
        return (f"You made the segments of revision {revision.number}; this project needs someone else to verify "
                "them (project setting: the verifier must differ from the author).")
    if revision.state == RevisionState.SUBMITTED and revision.author_id == reviewer.pk:
        return (f"You submitted revision {revision.number} yourself; this project needs someone else to verify it "
                "(project setting: the verifier must differ from the author).")
    return None


def revision_review(
    *, song, reviewer, decision: str, comment: str = "", time: float | None = None,
    based_on: AnnotationRevision | None | str = "current",
) -> tuple[AnnotationRevision, ReviewComment]:
    """A reviewer's decision on the current revision. verify -> new `verified` revision; reject ->
    new `draft` revision (a comment is required); comment -> a remark only, no new revision. The
    comment is pinned to the reviewed revision and optionally to a time in the song."""
    from annotations.models import ReviewComment

    if decision not in REVIEW_DECISIONS:
        raise ApiError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}, not {decision!r}.", code="invalid")
    current = song.current_revision
    if current is None:
        raise ApiError("This song has no annotation to review yet.", code="no_revision", status_code=400)
    comment = (comment or "").strip()
    if decision in ("reject", "comment") and not comment:
        raise ApiError("Say what needs to change: a rejection or a remark needs a comment.", code="comment_required")
    if time is not None and not (0 <= time <= float(song.duration or 0) + 1e-6):
        raise ApiError(f"time {time} s is outside the song (0 to {float(song.duration or 0):.2f} s).", code="invalid")
    if decision == "verify" and current.state == RevisionState.VERIFIED:
        raise ApiError(f"Revision {current.number} is already verified.", code="already_verified")
    if decision == "verify" and (reason := verify_refusal(song=song, revision=current, reviewer=reviewer)):
        raise ApiError(reason, code="verifier_is_author", status_code=403)
    with transaction.atomic():
        new = current
        if decision != "comment":
            new = revision_create(
                song=song, segments=revision_segments(current), author=reviewer, origin=current.origin,
                state=RevisionState.VERIFIED if decision == "verify" else RevisionState.DRAFT,
                based_on=current if based_on == "current" else based_on,
                message=("verified" if decision == "verify" else "rejected") + (f": {comment}" if comment else ""),
                segments_by=current.segments_by, reviewed_by=reviewer,
            )
        note = ReviewComment.objects.create(
            revision=current, author=reviewer, time=time, text=comment,
            decision={"verify": "verified", "reject": "rejected"}.get(decision, ""),
        )
    verb = {"verify": "verified", "reject": "rejected", "comment": "commented on"}[decision]
    _activity(song=song, actor=reviewer, verb=f"annotation.{decision}",
              summary=f"{verb} revision {current.number} of {song.title}", revision=new)
    if decision == "verify":
        # A newly verified song may complete the project's retraining quota (Project.retrain_after_verified).
        transaction.on_commit(lambda: hook_call("revision_verified", project=song.project))
    return new, note


def _activity(*, song, actor, verb: str, summary: str, revision: AnnotationRevision) -> None:
    activity_record(project=song.project, actor=actor, verb=verb, summary=summary,
                    data={"song": song.pk, "revision": revision.pk, "number": revision.number})
