"""API routes of the jobs app, mounted under /api/ (see api/urls.py)."""

from django.urls import path

from jobs import song_views, views

urlpatterns = [
    path("songs/", song_views.SongListCreate.as_view(), name="api-songs"),
    path("me/queue", song_views.MyQueue.as_view(), name="api-my-queue"),
    path("songs/bulk", song_views.SongBulk.as_view(), name="api-songs-bulk"),
    path("songs/<int:song_id>/", song_views.SongDetail.as_view(), name="api-song"),
    path("jobs/", views.api_jobs, name="api-jobs"),
    path("jobs/<int:job_id>/", views.api_job, name="api-job"),
    path("jobs/<int:job_id>/cancel", views.api_job_cancel, name="api-job-cancel"),
    path("jobs/<int:job_id>/retry", views.api_job_retry, name="api-job-retry"),
    path("songs/<int:song_id>/prediction", views.PredictionView.as_view(), name="api-prediction"),
    path("songs/<int:song_id>/predictions", views.api_song_predictions, name="api-song-predictions"),
    path("projects/<int:project_id>/queue", views.api_project_queue, name="api-project-queue"),
    path("models/", views.api_models, name="api-models"),
    path("models/<int:model_id>/", views.api_model, name="api-model"),
    path("models/<int:model_id>/checkpoint", views.api_model_checkpoint, name="api-model-checkpoint"),
    path("models/<int:model_id>/activate", views.api_model_activate, name="api-model-activate"),
    path("models/<int:model_id>/changes", views.api_model_changes, name="api-model-changes"),
]
