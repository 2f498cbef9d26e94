"""Pages of this app (mounted under /projects/<project_id>/, see singscope/urls.py)."""

from django.urls import path

from songs import views

urlpatterns = [
    path("", views.song_list_page, name="song-list"),
]
