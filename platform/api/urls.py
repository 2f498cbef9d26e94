"""The HTTP API of DESIGN.md: each app contributes its routes from <app>/api_urls.py."""

from django.urls import include, path

from api.views import DocsView, SchemaView

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("songs.api_urls")),
    path("", include("annotations.api_urls")),
    path("", include("jobs.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("datasets.api_urls")),
]
