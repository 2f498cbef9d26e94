"""Every access decision in one place: pages, API endpoints and media URLs all call these.

Outsiders get 404 (they learn nothing, not even that an object exists); members whose role is too
low get 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.permissions import BasePermission

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


def project_for(*, user, project_id, role: str = Role.ANNOTATOR) -> Project:
    """The project by id if the user holds at least ``role`` in it: Http404 for outsiders (and for ids
    that do not exist: the same answer), PermissionDenied for members whose role is too low."""
    from accounts.selectors import project_get

    project = project_get(user=user, project_id=project_id)
    require_role(user=user, project=project, role=role)
    return project


class ProjectRolePermission(BasePermission):
    """DRF permission for views whose URL carries ``project_id``: membership is checked in one place.

    The view names the role each HTTP method needs in ``project_roles`` (default: annotator to read,
    admin to write). Outsiders get 404, members with too low a role 403 (via the API error handler).
    The project is left on ``request.project`` for the view.
    """

    default_roles = {"GET": Role.ANNOTATOR, "HEAD": Role.ANNOTATOR, "OPTIONS": Role.ANNOTATOR}

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        project_id = view.kwargs.get("project_id")
        if project_id is None:
            return True
        roles = {**self.default_roles, **getattr(view, "project_roles", {})}
        request.project = project_for(user=request.user, project_id=project_id,
                                      role=roles.get(request.method, Role.ADMIN))
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        return True


def require_song_editable(*, user, song) -> str:
    """Annotators edit and submit the songs assigned to them or open to all (assigned to nobody);
    reviewers and admins edit any song of their project. Http404 for outsiders, PermissionDenied
    (with the assignee's name) otherwise."""
    role = require_role(user=user, project=song.project, role=Role.ANNOTATOR)
    if role == Role.ANNOTATOR and song.assigned_to_id not in (None, user.pk):
        who = song.assigned_to.get_username() if song.assigned_to else "someone else"
        raise PermissionDenied(f"This song is assigned to {who}; ask a reviewer to reassign it to you.")
    return role
