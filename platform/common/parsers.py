"""DRF's JSON parser, answering a 400 for JSON nested too deeply for Python's parser (RecursionError
is not a ValueError, so DRF's own parser lets it through as a 500)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
