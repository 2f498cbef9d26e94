"""The API's one pagination: ?limit (at most 500) and ?offset, both whole numbers that fit the database."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from common.validation import INT32_MAX


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def _bounded(self, request, name: str, default):
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > INT32_MAX:
            raise ValidationError({name: [f"must be a whole number from 0 to {INT32_MAX}."]})
        return int(text)

    def get_limit(self, request):
        limit = self._bounded(request, self.limit_query_param, None)
        if limit is None or limit == 0:
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request):
        return self._bounded(request, self.offset_query_param, 0)
