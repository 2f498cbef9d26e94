from common.validation import id_or_404, id_value
from django.db.models import QuerySet

from accounts.models import Project


def projects_for_user(*, user) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def project_get(*, user, project_id) -> Project:
    """The project if the user is a member; Http404 otherwise (same answer for 'missing' and 'not yours')."""
    from django.http import Http404

    try:
        return projects_for_user(user=user).get(pk=id_or_404(project_id))
    except Project.DoesNotExist:
        raise Http404("Not found, or you do not have access to it.") from None


def members_list(*, project: Project) -> QuerySet:
    from accounts.models import Membership

    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


def membership_get(*, project: Project, user_id) -> "Membership":  # noqa: F821
    """A member of the project by user id; Http404 when that user is not a member."""
    from django.http import Http404

    from accounts.models import Membership

    try:
        return Membership.objects.select_related("user").get(project=project, user_id=id_or_404(user_id))
    except Membership.DoesNotExist:
        raise Http404("That user is not a member of this project.") from None


def activity_list(*, project: Project, verb: str = "") -> QuerySet:
    from accounts.models import ActivityEvent

    qs = ActivityEvent.objects.filter(project=project).select_related("actor")
    if verb:
        qs = qs.filter(verb__startswith=verb)
    return qs


def queue_for_user(*, user) -> dict:
    """What waits for this user across their projects: songs assigned to them that are not yet
    submitted or verified, and (for reviewers and admins) songs submitted for review."""
    from annotations.models import RevisionState
    from songs.models import Song

    from accounts.models import ROLE_RANK, Membership, Role

    if not user.is_authenticated:
        return {"to_annotate": Song.objects.none(), "to_review": Song.objects.none()}
    visible = Song.objects.filter(project__in=projects_for_user(user=user)).select_related(
        "project", "current_revision", "assigned_to")
    to_annotate = visible.filter(assigned_to=user).exclude(
        current_revision__state__in=[RevisionState.SUBMITTED, RevisionState.VERIFIED]).order_by("project__name", "title", "id")
    if user.is_superuser:
        review_projects = Project.objects.all()
    else:
        roles = Membership.objects.filter(user=user).values_list("project_id", "role")
        review_projects = [pid for pid, role in roles if ROLE_RANK[Role(role)] >= ROLE_RANK[Role.REVIEWER]]
    to_review = visible.filter(project__in=review_projects, current_revision__state=RevisionState.SUBMITTED).order_by(
        "project__name", "title", "id")
    return {"to_annotate": to_annotate, "to_review": to_review}


def assignable_songs(*, project: Project, assignee: str = "") -> QuerySet:
    """The project's songs for the assignment page; assignee "" = all, "none" = unassigned, or a user id."""
    from songs.models import Song

    qs = Song.objects.filter(project=project).select_related("assigned_to", "current_revision").order_by("title", "id")
    if assignee == "none":
        qs = qs.filter(assigned_to__isnull=True)
    elif id_value(assignee) is not None:
        qs = qs.filter(assigned_to_id=id_value(assignee))
    return qs


def api_tokens_for_user(*, user) -> list[dict]:
    """The user's API tokens for the profile page, newest first: named ones, and the one
    ``manage.py drf_create_token`` made (shown even before its first use)."""
    from rest_framework.authtoken.models import Token

    from accounts.models import ApiToken

    rows = [{"id": t.pk, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
             "last_used_at": t.last_used_at, "command_line": bool(t.drf_token_id)}
            for t in ApiToken.objects.filter(user=user)]
    drf = Token.objects.filter(user=user).first()
    if drf is not None and not ApiToken.objects.filter(drf_token=drf).exists():
        rows.append({"id": "drf", "name": "drf_create_token (command line)", "prefix": drf.key[:6],
                     "created_at": drf.created, "last_used_at": None, "command_line": True})
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


def invitations_open(*, project: Project) -> QuerySet:
    """Invitations of the project that can still be used (not used, revoked or expired)."""
    from django.utils import timezone

    from accounts.models import Invitation

    return (Invitation.objects.filter(project=project, used_at__isnull=True, revoked_at__isnull=True,
                                      expires_at__gt=timezone.now()).select_related("created_by"))


def invitation_for_key(*, key: str):
    """The invitation a link's key names (used, revoked and expired ones too), or None."""
    from accounts.digests import key_digest
    from accounts.models import Invitation

    return Invitation.objects.select_related("project", "created_by").filter(key_digest=key_digest(key)).first()
