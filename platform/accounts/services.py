"""Writes on projects, memberships, assignments and the activity log. Each is one transaction."""

from common.errors import ApiError
from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import ActivityEvent, Membership, Project, Role

NAME_MAX = 200


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ApiError(f"A project name needs 1 to {NAME_MAX} characters.", code="invalid")
    return name


@transaction.atomic
def project_create(*, name: str, created_by, description: str = "") -> Project:
    """Create a project; its creator becomes its first admin."""
    project = Project.objects.create(name=_clean_name(name), description=(description or "").strip(),
                                     created_by=created_by)
    Membership.objects.create(project=project, user=created_by, role=Role.ADMIN)
    activity_record(project=project, actor=created_by, verb="project.created", summary=f"created project {project.name}")
    return project


@transaction.atomic
def project_update(*, project: Project, actor, name: str | None = None, description: str | None = None,
                   retrain_after_verified: int | None = None, auto_activate_margin: float | None | str = "unset") -> Project:
    """Change a project's settings (admins only; the caller checks the role). Records what changed."""
    changed = []
    if name is not None and _clean_name(name) != project.name:
        project.name = _clean_name(name)
        changed.append("name")
    if description is not None and description.strip() != project.description:
        project.description = description.strip()
        changed.append("description")
    if retrain_after_verified is not None and retrain_after_verified != project.retrain_after_verified:
        if not 0 <= int(retrain_after_verified) <= 100_000:
            raise ApiError("retrain_after_verified must be between 0 (never) and 100000.", code="invalid")
        project.retrain_after_verified = int(retrain_after_verified)
        changed.append("retrain_after_verified")
    if auto_activate_margin != "unset" and auto_activate_margin != project.auto_activate_margin:
        if auto_activate_margin is not None and not -1.0 <= float(auto_activate_margin) <= 1.0:
            raise ApiError("auto_activate_margin is an F1 difference between -1 and 1 (or empty for never).",
                           code="invalid")
        project.auto_activate_margin = auto_activate_margin
        changed.append("auto_activate_margin")
    if changed:
        project.save(update_fields=changed)
        activity_record(project=project, actor=actor, verb="project.updated",
                        summary=f"changed {', '.join(c.replace('_', ' ') for c in changed)}", data={"fields": changed})
    return project


def membership_set(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership


def _role(role: str) -> str:
    if role not in Role.values:
        raise ApiError(f"role must be one of {', '.join(Role.values)}, not {str(role)[:40]!r}.", code="invalid_role")
    return role


@transaction.atomic
def member_add(*, project: Project, actor, username: str, role: str) -> Membership:
    """Add an existing user to the project with ``role`` (400 if no such user, 409 if already a member)."""
    role = _role(role)
    username = (username or "").strip()
    user = get_user_model().objects.filter(username__iexact=username).first() if username else None
    if user is None:
        raise ApiError(f"There is no user named {username[:150]!r}. Ask them to get an account first.",
                       code="unknown_user")
    if Membership.objects.filter(project=project, user=user).exists():
        raise ApiError(f"{user.get_username()} is already a member; change their role instead.",
                       code="already_member", status_code=409)
    membership = Membership.objects.create(project=project, user=user, role=role)
    activity_record(project=project, actor=actor, verb="member.added",
                    summary=f"added {user.get_username()} as {role}", data={"user": user.pk, "role": role})
    return membership


def _other_admins(membership: Membership) -> bool:
    return Membership.objects.filter(project=membership.project, role=Role.ADMIN).exclude(pk=membership.pk).exists()


@transaction.atomic
def member_update(*, membership: Membership, actor, role: str) -> Membership:
    """Change a member's role; a project always keeps at least one admin."""
    role = _role(role)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if membership.role == Role.ADMIN and not _other_admins(membership):
        raise ApiError("A project needs at least one admin: make someone else admin first.", code="last_admin",
                       status_code=409)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    activity_record(project=membership.project, actor=actor, verb="member.role_changed",
                    summary=f"changed {membership.user.get_username()} from {old} to {role}",
                    data={"user": membership.user_id, "from": old, "to": role})
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor) -> None:
    """Remove a member (their assigned songs in this project become unassigned); never the last admin."""
    from songs.models import Song

    membership = Membership.objects.select_for_update().select_related("user", "project").get(pk=membership.pk)
    if membership.role == Role.ADMIN and not _other_admins(membership):
        raise ApiError("A project needs at least one admin: make someone else admin before removing this one.",
                       code="last_admin", status_code=409)
    project, user = membership.project, membership.user
    unassigned = Song.objects.filter(project=project, assigned_to=user).update(assigned_to=None)
    membership.delete()
    activity_record(project=project, actor=actor, verb="member.removed",
                    summary=f"removed {user.get_username()}" + (f" ({unassigned} songs unassigned)" if unassigned else ""),
                    data={"user": user.pk, "unassigned": unassigned})


@transaction.atomic
def songs_assign(*, project: Project, actor, song_ids: list[int], assignee) -> int:
    """Assign songs of ``project`` to a member (or unassign them with ``assignee=None``).

    Every id must name a song of this project (otherwise 404 and nothing changes: the answer is the
    same for songs of other projects and for ids that do not exist)."""
    from songs.models import Song

    ids = sorted({int(i) for i in song_ids})
    if not ids:
        raise ApiError("Choose at least one song to assign.", code="invalid")
    songs = Song.objects.filter(project=project, pk__in=ids)
    if songs.count() != len(ids):
        raise ApiError("Some of these songs are not in this project (or do not exist).", code="not_found",
                       status_code=404)
    if assignee is not None and not Membership.objects.filter(project=project, user=assignee).exists():
        raise ApiError(f"{assignee.get_username()} is not a member of this project.", code="not_member")
    n = songs.update(assigned_to=assignee)
    who = assignee.get_username() if assignee is not None else "nobody"
    activity_record(project=project, actor=actor, verb="song.assigned",
                    summary=f"assigned {n} song{'s' if n != 1 else ''} to {who}",
                    data={"songs": ids, "user": assignee.pk if assignee is not None else None})
    return n


def activity_record(*, project: Project, actor, verb: str, summary: str, data: dict | None = None) -> ActivityEvent:
    return ActivityEvent.objects.create(
        project=project, actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb, summary=summary[:500], data=data or {},
    )
