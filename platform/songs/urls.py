"""Pages of this app (mounted under /projects/<project_id>/ or at the site root, see singscope/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
