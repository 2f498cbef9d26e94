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
        return projects_for_user(user=user).get(pk=int(project_id))
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found, or you do not have access to it.") from None
