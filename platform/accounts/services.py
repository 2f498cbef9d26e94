"""Writes on projects, memberships, assignments and the activity log. Each is one transaction."""

from common.errors import ApiError
from common.hooks import hook_call
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts.digests import key_digest, password_digest
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


UNSET = object()  # an argument not given (None is a value: auto_activate_margin None = never)


@transaction.atomic
def project_update(*, project: Project, actor, name: str | None = None, description: str | None = None,
                   retrain_after_verified: int | None = None, auto_activate_margin=UNSET,
                   verifier_must_differ: bool | None = None) -> Project:
    """Change a project's settings (admins only; the caller checks the role). Records what changed;
    the training policy through ``project_training_policy_set``."""
    project_training_policy_set(project=project, actor=actor, retrain_after_verified=retrain_after_verified,
                                auto_activate_margin=auto_activate_margin)
    changed = []
    if name is not None and _clean_name(name) != project.name:
        project.name = _clean_name(name)
        changed.append("name")
    if description is not None and description.strip() != project.description:
        project.description = description.strip()
        changed.append("description")
    if verifier_must_differ is not None and bool(verifier_must_differ) != project.verifier_must_differ:
        project.verifier_must_differ = bool(verifier_must_differ)
        changed.append("verifier_must_differ")
    if changed:
        project.save(update_fields=changed)
        activity_record(project=project, actor=actor, verb="project.updated",
                        summary=f"changed {', '.join(c.replace('_', ' ') for c in changed)}", data={"fields": changed})
    return project


@transaction.atomic
def project_training_policy_set(*, project: Project, actor, retrain_after_verified: int | None = None,
                                auto_activate_margin=UNSET, default_training: dict | None = None) -> list[str]:
    """The one writer of a project's training policy: retrain after N newly verified songs (0 =
    never), auto-activate a better model by an F1 margin (None = never), default training parameters.
    Arguments left out are kept. Saves what changed and records one "project.training_policy" event;
    returns the changed fields. ApiError (400) for a value out of range."""
    changed = []
    if retrain_after_verified is not None and retrain_after_verified != project.retrain_after_verified:
        if not 0 <= int(retrain_after_verified) <= 100_000:
            raise ApiError("retrain_after_verified must be between 0 (never) and 100000.", code="invalid")
        project.retrain_after_verified = int(retrain_after_verified)
        changed.append("retrain_after_verified")
    if auto_activate_margin is not UNSET and auto_activate_margin != project.auto_activate_margin:
        if auto_activate_margin is not None and not -1.0 <= float(auto_activate_margin) <= 1.0:
            raise ApiError("auto_activate_margin is an F1 difference between -1 and 1 (or empty for never).",
                           code="invalid")
        project.auto_activate_margin = auto_activate_margin
        changed.append("auto_activate_margin")
    if default_training is not None and default_training != project.default_training:
        project.default_training = default_training
        changed.append("default_training")
    if changed:
        project.save(update_fields=changed)
        every = project.retrain_after_verified
        margin = "off" if project.auto_activate_margin is None else f"F1 margin {project.auto_activate_margin:g}"
        activity_record(project=project, actor=actor, verb="project.training_policy",
                        summary=f"training policy: retrain after {every or 'never'} verified songs, auto-activate {margin}",
                        data={"fields": changed})
    return changed


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
    """Remove a member (their assigned songs in this project become unassigned, through the
    ``member_removed`` hook: songs implements it); never the last admin."""
    membership = Membership.objects.select_for_update().select_related("user", "project").get(pk=membership.pk)
    if membership.role == Role.ADMIN and not _other_admins(membership):
        raise ApiError("A project needs at least one admin: make someone else admin before removing this one.",
                       code="last_admin", status_code=409)
    project, user = membership.project, membership.user
    unassigned = sum(hook_call("member_removed", project=project, user=user))
    membership.delete()
    activity_record(project=project, actor=actor, verb="member.removed",
                    summary=f"removed {user.get_username()}" + (f" ({unassigned} songs unassigned)" if unassigned else ""),
                    data={"user": user.pk, "unassigned": unassigned})


def activity_record(*, project: Project, actor, verb: str, summary: str, data: dict | None = None) -> ActivityEvent:
    return ActivityEvent.objects.create(
        project=project, actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb, summary=summary[:500], data=data or {},
    )


# -- API tokens -------------------------------------------------------------------------------------

TOKEN_NAME_MAX = 100
TOKEN_TOUCH_SECONDS = 60  # last use is recorded at most once a minute per token (no write per request)


def api_token_create(*, user, name: str) -> tuple["ApiToken", str]:  # noqa: F821
    """A new named token for ``user``; returns (token, key). The key is not stored: show it once."""
    import secrets

    from accounts.models import ApiToken

    name = " ".join((name or "").split())
    if not name or len(name) > TOKEN_NAME_MAX:
        raise ApiError(f"Give the token a name of 1 to {TOKEN_NAME_MAX} characters (what will use it?).",
                       code="invalid")
    if ApiToken.objects.filter(user=user, name__iexact=name).exists():
        raise ApiError(f"You already have a token named {name!r}; choose another name or revoke that one.",
                       code="duplicate_name", status_code=409)
    key = secrets.token_hex(20)  # 40 hex characters, like DRF's keys
    token = ApiToken.objects.create(user=user, name=name, key_digest=key_digest(key), prefix=key[:6],
                                    password_digest=password_digest(user))
    return token, key


@transaction.atomic
def api_token_revoke(*, user, token_id) -> str:
    """Revoke one of the user's tokens (a mirrored drf_create_token one too); returns its name."""
    from rest_framework.authtoken.models import Token

    from accounts.models import ApiToken

    if str(token_id) == "drf":  # the command-line token, never used through the API yet (no row of ours)
        deleted, _ = Token.objects.filter(user=user).delete()
        if not deleted:
            raise ApiError("That token does not exist (any more).", code="not_found", status_code=404)
        return "drf_create_token"
    try:
        token = ApiToken.objects.get(user=user, pk=int(token_id))
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise ApiError("That token does not exist (any more).", code="not_found", status_code=404) from None
    if token.drf_token_id:
        Token.objects.filter(pk=token.drf_token_id).delete()  # cascades to the row of ours
    else:
        token.delete()
    return token.name


@transaction.atomic
def api_tokens_revoke_all(*, user) -> int:
    """Revoke every API token of the user (named ones and DRF's); returns how many there were."""
    from rest_framework.authtoken.models import Token

    from accounts.models import ApiToken

    own = ApiToken.objects.filter(user=user, drf_token__isnull=True).delete()[0]
    drf = Token.objects.filter(user=user).count()
    Token.objects.filter(user=user).delete()  # cascades to the rows recording their use
    return own + drf


def password_changed(*, user) -> int:
    """After a password change: every API token of the user stops working. Returns how many."""
    return api_tokens_revoke_all(user=user)


def api_token_authenticate(*, key: str):
    """(user, token row) for an API key, or None. Named tokens first, then DRF's table
    (``manage.py drf_create_token``), whose use is recorded on a row of ours made at first use. A
    token made before the user's last password change is deleted and refused."""
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.models import ApiToken

    now = timezone.now()
    token = ApiToken.objects.select_related("user").filter(key_digest=key_digest(key)).first()
    if token is None:
        drf = Token.objects.select_related("user").filter(key=key).first()
        if drf is None:
            return None
        defaults = {"user": drf.user, "name": "drf_create_token (command line)", "prefix": key[:6],
                    "password_digest": password_digest(drf.user)}
        try:
            with transaction.atomic():
                token, _ = ApiToken.objects.get_or_create(drf_token=drf, defaults=defaults)
        except IntegrityError:  # two first uses at once: the other request made the row
            token = ApiToken.objects.get(drf_token=drf)
        token.user = drf.user
    if token.password_digest and token.password_digest != password_digest(token.user):
        if token.drf_token_id:
            Token.objects.filter(pk=token.drf_token_id).delete()
        else:
            token.delete()
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


# -- invitations ------------------------------------------------------------------------------------

INVITE_DAYS_MAX = 30


def invitation_create(*, project: Project, actor, role: str, note: str = "", days: int = 7):
    """An invitation link to join ``project`` as ``role``; returns (invitation, key). The key is
    shown once (only its digest is stored)."""
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Invitation

    role = _role(role)
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= INVITE_DAYS_MAX:
        raise ApiError(f"An invitation is valid for 1 to {INVITE_DAYS_MAX} days.", code="invalid")
    note = " ".join((note or "").split())[:200]
    key = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(project=project, role=role, note=note, key_digest=key_digest(key),
                                           created_by=actor, expires_at=timezone.now() + timedelta(days=days))
    activity_record(project=project, actor=actor, verb="member.invited",
                    summary=f"created an invitation link for a new {role}" + (f" ({note})" if note else ""),
                    data={"invitation": invitation.pk, "role": role})
    return invitation, key


@transaction.atomic
def invitation_revoke(*, project: Project, actor, invitation_id) -> None:
    from django.utils import timezone

    from accounts.models import Invitation

    try:
        invitation = Invitation.objects.select_for_update().get(project=project, pk=int(invitation_id))
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise ApiError("That invitation does not exist.", code="not_found", status_code=404) from None
    if invitation.used_at or invitation.revoked_at:
        raise ApiError("That invitation was already used or revoked.", code="invitation_closed", status_code=409)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    activity_record(project=project, actor=actor, verb="member.invitation_revoked",
                    summary=f"revoked an invitation link for a {invitation.role}", data={"invitation": invitation.pk})


def invitation_problem(invitation) -> str | None:
    """Why an invitation cannot be used any more (a sentence), or None when it can."""
    from django.utils import timezone

    if invitation is None:
        return "This invitation link is not valid. Check that you copied all of it, or ask for a new one."
    if invitation.revoked_at:
        return "This invitation was revoked by a project admin. Ask them for a new one."
    if invitation.used_at:
        return "This invitation link was already used; each link works once. Ask a project admin for a new one."
    if invitation.expires_at <= timezone.now():
        return "This invitation link has expired. Ask a project admin for a new one."
    return None


@transaction.atomic
def invitation_accept(*, key: str, user=None, username: str = "", password: str = ""):
    """Use an invitation: join its project with its role, as ``user`` (signed in) or as a new user
    made from ``username`` + ``password`` (validated by the caller's form). Single use: the row is
    locked, checked and marked used in one transaction. Returns the membership."""
    from django.utils import timezone

    from accounts.models import Invitation

    invitation = Invitation.objects.select_for_update().select_related("project").filter(
        key_digest=key_digest(key)).first()
    if problem := invitation_problem(invitation):
        raise ApiError(problem, code="invitation_invalid", status_code=410 if invitation else 404)
    project = invitation.project
    if user is None:
        User = get_user_model()
        if User.objects.filter(username__iexact=username).exists():
            raise ApiError(f"The username {username!r} is taken; choose another.", code="username_taken",
                           status_code=409)
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=username, password=password)
        except IntegrityError:
            raise ApiError(f"The username {username!r} is taken; choose another.", code="username_taken",
                           status_code=409) from None
    elif Membership.objects.filter(project=project, user=user).exists():
        raise ApiError(f"You are already a member of {project.name}; the invitation is left for someone else.",
                       code="already_member", status_code=409)
    membership = Membership.objects.create(project=project, user=user, role=invitation.role)
    invitation.used_at = timezone.now()
    invitation.used_by = user
    invitation.save(update_fields=["used_at", "used_by"])
    activity_record(project=project, actor=user, verb="member.joined",
                    summary=f"{user.get_username()} joined as {invitation.role} through an invitation link",
                    data={"user": user.pk, "role": invitation.role, "invitation": invitation.pk})
    return membership
