"""Every access decision in one place: pages, API endpoints and media URLs all call these.

Outsiders get 404 (they learn nothing, not even that an object exists); members whose role is too
low get 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import ROLE_RANK, Membership, Project, Role


def role_in(*, user, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    membership = Membership.objects.filter(project=project, user=user).only("role").first()
    return membership.role if membership else None


def require_role(*, user, project: Project, role: str = Role.ANNOTATOR) -> str:
    """Return the user's role in the project, or raise Http404 (not a member) / PermissionDenied."""
    actual = role_in(user=user, project=project)
    if actual is None:
        raise Http404("Not found, or you do not have access to it.")
    if ROLE_RANK[Role(actual)] < ROLE_RANK[Role(role)]:
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in project {project.name!r}.")
    return actual


def has_role(*, user, project: Project, role: str = Role.ANNOTATOR) -> bool:
    actual = role_in(user=user, project=project)
    return actual is not None and ROLE_RANK[Role(actual)] >= ROLE_RANK[Role(role)]
