"""The OpenAPI schema and its Swagger UI, for signed-in members only, refusing others in the API's
JSON error shape (the schema view's own renderers are YAML and HTML)."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer


class _JsonErrors:
    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return response


class SchemaView(_JsonErrors, SpectacularAPIView):
    pass


class DocsView(_JsonErrors, SpectacularSwaggerSplitView):
    """Swagger UI; its start-up code is served as a script file (no inline script for the CSP)."""
