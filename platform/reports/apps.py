from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from common.hooks import hook_register
        from jobs.handlers import handler_register

        from reports.services import evaluate_handler, report_for_trained_model

        handler_register("evaluate", evaluate_handler)
        hook_register("model_registered", report_for_trained_model)
