"""`python manage.py models_register_shipped`: register the shipped default model (a global
ModelVersion, its checkpoint copied into storage) now, at start-up, so the models pages and API list
it from the first request and no request ever registers it. `make run` and the compose web service
run it after `migrate`; a worker meeting a database where nobody ran it still registers it once
(jobs.detection.default_model_version: the database's unique constraint decides between racers)."""

from django.core.management.base import BaseCommand

from jobs.detection import default_model_version


class Command(BaseCommand):
    help = "Register the shipped default model (once; nothing happens when it is registered or not installed)."

    def handle(self, *args, **options):
        mv = default_model_version()
        if mv is None:
            self.stdout.write("No shipped default model is installed; nothing registered.")
        else:
            self.stdout.write(f"Shipped default model {mv.name} (id {mv.pk}) is registered.")
