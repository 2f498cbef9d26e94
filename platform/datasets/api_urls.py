"""API routes of this app, mounted under /api/ (see api/urls.py)."""

from django.urls import path

from datasets import views

urlpatterns = [
    path("projects/<int:project_id>/import", views.ImportApi.as_view(), name="api-project-import"),
    path("projects/<int:project_id>/export", views.ExportApi.as_view(), name="api-project-export"),
]
