from django.apps import AppConfig


class SongsConfig(AppConfig):
    name = "songs"

    def ready(self) -> None:
        from common.hooks import hook_register

        from songs.services import songs_unassign

        hook_register("member_removed", songs_unassign)
