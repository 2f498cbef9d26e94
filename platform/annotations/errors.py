"""The annotations app's exceptions."""

from common.errors import ApiError

from annotations.models import AnnotationRevision


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
