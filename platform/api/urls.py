"""The HTTP API of DESIGN.md: each app contributes its routes from <app>/api_urls.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a script file: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("songs.api_urls")),
    path("", include("annotations.api_urls")),
    path("", include("jobs.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("datasets.api_urls")),
]
