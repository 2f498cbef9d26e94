"""python manage.py import_dataset DIR --project P [--user U] [--state draft|submitted|verified] [--split S]

Imports a folder of <song>/audio.* + labels (the layout of ../shared/data/jamendolyrics) in place:
each song is stored and queued for processing, each label file becomes a revision import:<format>.
"""

from pathlib import Path

from accounts.models import Membership, Project, Role
from annotations.models import RevisionState
from common.errors import ApiError
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Import a labelled song collection (folders of <song>/audio.* + labels) into a project."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="folder of <song>/audio.* + labels.lab|csv|txt|jams|TextGrid")
        parser.add_argument("--project", required=True, help="project id or exact name")
        parser.add_argument("--user", help="who the songs and revisions are attributed to (default: the project's first admin)")
        parser.add_argument("--state", default=RevisionState.DRAFT, choices=[s.value for s in RevisionState],
                            help="state of the imported revisions (verified = ground truth for reports and training)")
        parser.add_argument("--split", default="", choices=["", "unassigned", "train", "validation", "test"],
                            help="split for every imported song (default: from songs.tsv/manifest.json, else unassigned)")

    def handle(self, *args, directory, project, user, state, split, **options):
        root = Path(directory).expanduser()
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        qs = Project.objects.filter(pk=int(project)) if project.isdigit() else Project.objects.filter(name=project)
        target = qs.first()
        if target is None:
            raise CommandError(f"no project {project!r} (give its id or exact name)")
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user named {user!r}")
        else:
            admin = Membership.objects.filter(project=target, role=Role.ADMIN).select_related("user").order_by("pk").first()
            actor = admin.user if admin else target.created_by
        try:
            result = dataset_import_cli(project=target, root=root, actor=actor, state=state, split=split, out=self)
        except ApiError as exc:
            raise CommandError(str(exc.detail)) from None
        for problem in result["problems"]:
            self.stderr.write(f"note: {problem}")
        for item in result["skipped"]:
            self.stdout.write(f"skipped {item['name']}: {item['reason']}")
        for item in result["failed"]:
            self.stderr.write(self.style.ERROR(f"failed {item['name']}: {item['reason']}"))
        self.stdout.write(self.style.SUCCESS(
            f"{result['summary'][0].upper()}{result['summary'][1:]} into project {target.pk} ({target.name}); "
            "a worker processes each song (waveform, first detection)."))
        if result["failed"] and not result["created"]:
            raise CommandError("nothing was imported")


class _Progress:
    def __init__(self, out):
        self.out = out

    def progress(self, fraction, message="", *, force=False):
        pass

    def log(self, line):
        self.out.stdout.write(line)


def dataset_import_cli(*, project, root, actor, state, split, out):
    from datasets.services import dataset_import

    return dataset_import(project=project, root=root, actor=actor, state=state, split=split, ctx=_Progress(out))
