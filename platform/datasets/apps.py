from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "datasets"
    verbose_name = "Bulk import and export"

    def ready(self) -> None:
        from jobs.handlers import handler_register

        from datasets.services import import_handler

        handler_register("import", import_handler)
