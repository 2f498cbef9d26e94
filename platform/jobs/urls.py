"""Pages of the jobs app, mounted under /projects/<project_id>/ (see singscope/urls.py)."""

from django.urls import path

from jobs import song_views, views

urlpatterns = [
    path("assignments/", song_views.assignments_page, name="project-assignments"),
    path("jobs/", views.jobs_page, name="jobs"),
    path("jobs/train/new", views.train_form_page, name="job-train-new"),
    path("jobs/detect", views.detect_form_post, name="job-detect"),
    path("jobs/<int:job_id>/", views.job_page, name="job"),
    path("jobs/<int:job_id>/cancel", views.job_action_post, {"action": "cancel"}, name="job-cancel"),
    path("jobs/<int:job_id>/retry", views.job_action_post, {"action": "retry"}, name="job-retry"),
    path("models/", views.models_page, name="models"),
    path("models/policy", views.training_policy_post, name="models-policy"),
    path("models/<int:model_id>/activate", views.model_activate_post, name="model-activate"),
    path("models/<int:model_id>/checkpoint", views.model_checkpoint_page, name="model-checkpoint"),
]
