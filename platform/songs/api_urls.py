"""API routes of this app, mounted under /api/ (see api/urls.py)."""

from django.urls import path

from songs import views

urlpatterns = [
    path("songs/", views.SongListCreate.as_view(), name="api-songs"),
    path("songs/bulk", views.SongBulk.as_view(), name="api-songs-bulk"),
    path("songs/<int:song_id>/", views.SongDetail.as_view(), name="api-song"),
    path("songs/<int:song_id>/audio", views.SongAudio.as_view(), name="api-song-audio"),
    path("songs/<int:song_id>/original", views.SongOriginal.as_view(), name="api-song-original"),
    path("songs/<int:song_id>/peaks", views.SongPeaks.as_view(), name="api-song-peaks"),
    path("songs/<int:song_id>/spectrogram", views.SongSpectrogram.as_view(), name="api-song-spectrogram"),
]
