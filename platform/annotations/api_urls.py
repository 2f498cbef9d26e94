"""API routes of this app, mounted under /api/ (see api/urls.py). The contract is in annotations/views.py."""

from django.urls import path

from annotations import views

urlpatterns = [
    path("songs/<int:song_id>/annotation", views.AnnotationView.as_view(), name="api-annotation"),
    path("songs/<int:song_id>/annotation.<str:fmt>", views.AnnotationExportView.as_view(), name="api-annotation-export"),
    path("songs/<int:song_id>/annotation/revisions", views.RevisionListView.as_view(), name="api-revisions"),
    path("songs/<int:song_id>/annotation/revisions/<int:revision_id>", views.RevisionDetailView.as_view(),
         name="api-revision"),
    path("songs/<int:song_id>/annotation/diff", views.RevisionDiffView.as_view(), name="api-revision-diff"),
    path("songs/<int:song_id>/annotation/submit", views.SubmitView.as_view(), name="api-annotation-submit"),
    path("songs/<int:song_id>/annotation/review", views.ReviewView.as_view(), name="api-annotation-review"),
]
