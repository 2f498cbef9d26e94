"""`python manage.py spectrograms_compute [--project ID] [--song ID ...]`: store the spectrogram of
ready songs processed before Singscope stored spectrograms (the editor says "not computed yet" for
them). Songs that already have one are skipped unless named with --song."""

from django.core.management.base import BaseCommand
from songs.models import Song, SongStatus

from jobs.processing import spectrogram_compute


class Command(BaseCommand):
    help = "Compute the stored spectrogram of ready songs that have none (or of the songs named)."

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, help="only songs of this project")
        parser.add_argument("--song", type=int, action="append", help="this song (again, even if it has one)")

    def handle(self, *args, project=None, song=None, **options):
        qs = Song.objects.filter(status=SongStatus.READY).select_related("project").order_by("id")
        if project:
            qs = qs.filter(project_id=project)
        qs = qs.filter(pk__in=song) if song else qs.filter(spectrogram="")
        done = 0
        for s in qs.iterator():
            spectrogram_compute(song=s)
            done += 1
            self.stdout.write(f"song {s.pk} ({s.title}): spectrogram stored")
        self.stdout.write(f"{done} spectrogram{'s' if done != 1 else ''} computed.")
