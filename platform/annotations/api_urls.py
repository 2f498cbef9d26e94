"""API routes of this app, mounted under /api/ (see api/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
