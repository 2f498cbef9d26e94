from common.validation import id_or_404, id_value
from django.contrib.auth import get_user_model
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


def projects_search(*, user, search: str = "") -> QuerySet[Project]:
    """The user's projects whose name contains ``search`` (its first 100 characters; "" = all)."""
    qs = projects_for_user(user=user)
    return qs.filter(name__icontains=search[:100]) if search else qs


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
    verb = verb[:40]
    if verb:
        qs = qs.filter(verb__startswith=verb)
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


def memberships_for_user(*, user) -> QuerySet:
    """The user's memberships with their projects, by project name (the profile page)."""
    from accounts.models import Membership

    return Membership.objects.filter(user=user).select_related("project").order_by("project__name")


def username_taken(*, username: str) -> bool:
    return get_user_model().objects.filter(username__iexact=username).exists()


def member_find(*, project: Project, who):
    """The member of ``project`` that ``who`` names (a user id, or a username in any case), or None."""
    from accounts.models import Membership

    User = get_user_model()
    pk = id_value(who)
    user = User.objects.filter(pk=pk).first() if pk is not None else User.objects.filter(username__iexact=str(who)).first()
    if user is None or not Membership.objects.filter(project=project, user=user).exists():
        return None
    return user
