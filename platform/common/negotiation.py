"""Content negotiation for endpoints that answer one kind of body whatever the client asks for."""

from rest_framework.negotiation import BaseContentNegotiation


class FirstRenderer(BaseContentNegotiation):
    """Always the view's first parser and renderer: audio elements send ``Accept: audio/*`` to the
    media endpoints, and the export's ``?format=`` names an annotation format, not DRF's renderer
    override (errors are JSON either way)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
