from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self) -> None:
        from common.hooks import hook_register

        from jobs.detection import detect_handler
        from jobs.handlers import handler_register
        from jobs.processing import song_process_handler
        from jobs.retrain import retrain_maybe_trigger
        from jobs.training import train_handler

        handler_register("process", song_process_handler)
        handler_register("detect", detect_handler)
        handler_register("train", train_handler)
        hook_register("revision_verified", retrain_maybe_trigger)
