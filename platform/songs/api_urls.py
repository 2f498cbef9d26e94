"""API routes of this app, mounted under /api/ (see api/urls.py). The song list, detail and bulk routes
show jobs data and are in jobs/api_urls.py."""

from django.urls import path

from songs import views

urlpatterns = [
    path("projects/<int:project_id>/assign", views.AssignView.as_view(), name="api-assign"),
    path("songs/<int:song_id>/audio", views.SongAudio.as_view(), name="api-song-audio"),
    path("songs/<int:song_id>/original", views.SongOriginal.as_view(), name="api-song-original"),
    path("songs/<int:song_id>/peaks", views.SongPeaks.as_view(), name="api-song-peaks"),
    path("songs/<int:song_id>/spectrogram", views.SongSpectrogram.as_view(), name="api-song-spectrogram"),
]
