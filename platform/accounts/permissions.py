"""Every access decision in one place: pages, API endpoints and media URLs all call these.

Outsiders get 404 (they learn nothing, not even that an object exists); members whose role is too
low get 403.
"""

from functools import wraps
from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from rest_framework.permissions import BasePermission

from accounts.models import ROLE_RANK, Membership, Project, Role
from accounts.selectors import project_get


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
    if not role_at_least(actual, role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in project {project.name!r}.")
    return actual


def role_at_least(actual: str | None, role: str) -> bool:
    """Whether a member whose role is ``actual`` (None: not a member) holds at least ``role``."""
    return actual is not None and ROLE_RANK[Role(actual)] >= ROLE_RANK[Role(role)]


def has_role(*, user, project: Project, role: str = Role.ANNOTATOR) -> bool:
    return role_at_least(role_in(user=user, project=project), role)


class ProjectAccess(NamedTuple):
    project: Project
    role: str


def project_access(*, user, project_id, role: str = Role.ANNOTATOR) -> ProjectAccess:
    """The one project check: the project by id and the user's role in it, if that role is at least
    ``role``. Http404 for outsiders (and for ids that do not exist: the same answer), PermissionDenied
    for members whose role is too low. Pages use it through ``project_required``, API views whose URL
    carries the project through ``ProjectRolePermission``, and views that get the project id from the
    query or the body call it directly."""
    project = project_get(user=user, project_id=project_id)
    return ProjectAccess(project, require_role(user=user, project=project, role=role))


def project_required(role: str = Role.ANNOTATOR, *, roles: dict[str, str] | None = None,
                     methods: list[str] | None = None):
    """Decorator for pages whose URL carries ``project_id`` (Healthchecks' ``@authorize``): login
    required (redirect to the login page), then the HTTP method (405 unless in ``methods``), then
    ``project_access`` with ``role``, or the stricter one ``roles`` names for the request's method.
    The view finds the project and the user's role on ``request.project`` and ``request.role``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, project_id, *args, **kwargs):
            if methods is not None and request.method not in methods:
                return HttpResponseNotAllowed(methods)
            needed = (roles or {}).get(request.method, role)
            request.project, request.role = project_access(user=request.user, project_id=project_id, role=needed)
            return view(request, project_id, *args, **kwargs)

        return login_required(wrapper)

    return decorator


class ProjectRolePermission(BasePermission):
    """DRF permission for views whose URL carries ``project_id``, built on ``project_access``.

    The view names the role each HTTP method needs in ``project_roles`` (default: annotator to read,
    admin to write). Outsiders get 404, members with too low a role 403 (via the API error handler).
    The project and the user's role are left on ``request.project`` and ``request.role``.
    """

    default_roles = {"GET": Role.ANNOTATOR, "HEAD": Role.ANNOTATOR, "OPTIONS": Role.ANNOTATOR}

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        project_id = view.kwargs.get("project_id")
        if project_id is None:
            return True
        roles = {**self.default_roles, **getattr(view, "project_roles", {})}
        request.project, request.role = project_access(user=request.user, project_id=project_id,
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
