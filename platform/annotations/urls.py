"""Pages of this app, mounted under /projects/<project_id>/ (see singscope/urls.py)."""

from django.urls import path

from annotations import views

urlpatterns = [
    path("songs/<int:song_id>/", views.song_editor, name="song-editor"),
]
