from django.db import transaction

from accounts.models import ActivityEvent, Membership, Project, Role


@transaction.atomic
def project_create(*, name: str, created_by, description: str = "") -> Project:
    project = Project.objects.create(name=name.strip(), description=description, created_by=created_by)
    Membership.objects.create(project=project, user=created_by, role=Role.ADMIN)
    activity_record(project=project, actor=created_by, verb="project.created", summary=f"created project {project.name}")
    return project


def membership_set(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership


def activity_record(*, project: Project, actor, verb: str, summary: str, data: dict | None = None) -> ActivityEvent:
    return ActivityEvent.objects.create(
        project=project, actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb, summary=summary[:500], data=data or {},
    )
