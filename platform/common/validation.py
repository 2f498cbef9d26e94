"""The one rule for numbers that name database rows, used by serializers, selectors, pages and services.

An id is a whole number from 1 to ID_MAX (the signed 64-bit BigAutoField column). Anything else -- a
25-digit number, `1e400` (infinity to a JSON parser), `"²"` (str.isdigit() is true, int() fails),
`true`, `5.5` -- is not an id: selectors answer 404, request validation answers 400 with a sentence.
"""

from __future__ import annotations

import functools
import math

from django.http import Http404
from django.shortcuts import render
from rest_framework import serializers

from common.errors import ApiError, error_sentence

ID_MAX = 2**63 - 1  # BigAutoField
INT32_MAX = 2**31 - 1  # IntegerField columns (seed, ...)


def id_value(raw) -> int | None:
    """``raw`` as a row id, or None when it is not one (never raises)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            return None
        value = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        # ASCII digits only: "²".isdigit() is True; "١٢" would parse, but no client sends it on purpose.
        if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 19:
            return None
        value = int(text)
    else:
        return None
    return value if 1 <= value <= ID_MAX else None


def ids_values(raw) -> list[int] | None:
    """A list (or "1,2,3" string) of ids, in order without repeats; None if any item is not an id."""
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list | tuple):
        return None
    values = [id_value(item) for item in raw]
    if any(v is None for v in values):
        return None
    return list(dict.fromkeys(values))


class IdField(serializers.IntegerField):
    """A row id in a request: 1..ID_MAX, never a float, a bool or a non-ASCII digit."""

    default_error_messages = {"invalid": "must be an id (a whole number from 1 to {max_value})."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = id_value(data)
        if value is None:
            self.fail("invalid", max_value=ID_MAX)
        return value


class IdListField(serializers.ListField):
    """Ids as a JSON list, or as one comma-separated query value ("?ids=1,2,3")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", IdField())
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and "," in value[0]:
            return [part for part in value[0].split(",") if part.strip()]
        return value

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [part for part in data.split(",") if part.strip()]
        return list(dict.fromkeys(super().to_internal_value(data)))


def id_or_404(raw) -> int:
    """For selectors: ``raw`` as a row id; Http404 (the answer for a missing row) when it is not one."""
    value = id_value(raw)
    if value is None:
        raise Http404("Not found, or you do not have access to it.")
    return value


class ChoiceField(serializers.ChoiceField):
    """DRF's ChoiceField whose error lists the choices ("status must be one of ready, failed ...")."""

    default_error_messages = {"invalid_choice": "must be one of {choices}, not {input}."}

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            self.fail("invalid_choice", choices=", ".join(self.choice_strings_to_values), input=repr(str(data)[:40]))


class ProjectFilterSerializer(serializers.Serializer):
    """?project=<id> of the list endpoints (jobs, models, reports)."""

    project = IdField(required=False, help_text="only this project's")


def validated(serializer):
    """``serializer`` validated, or an ApiError (400) whose sentence names each bad field and whose
    code is the serializer's ``error_codes[<first bad field>]`` (default "invalid")."""
    if not serializer.is_valid():
        errors = serializer.errors
        first = next(iter(errors), "") if isinstance(errors, dict) else ""
        code = getattr(serializer, "error_codes", {}).get(first, "invalid")
        raise ApiError(error_sentence(errors), code=code)
    return serializer


def query_validated(serializer_class, request) -> dict:
    """The request's query string through ``serializer_class``; a 400 naming the bad parameter otherwise."""
    return validated(serializer_class(data=request.query_params)).validated_data


class PageNumberField(serializers.Field):
    """?page= of a paginated page: a whole number from 1 (past the last page shows the last one, as
    Django's Paginator.get_page does) or "last"; the first page when absent."""

    default_error_messages = {"invalid": 'must be a page number (a whole number from 1) or "last".'}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data == "last":
            return data
        text = str(data).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            self.fail("invalid")
        return min(int(text), ID_MAX)

    def to_representation(self, value):
        return value


def page_query(serializer_class):
    """Decorator for a page view: its query string (``request.GET``) through ``serializer_class`` into
    ``request.query`` (the validated data); on a bad value, a 400 page that says which parameter was
    wrong and why (never a 500, never a silently different page). Put it under the access decorator
    (``@project_required``), so a stranger still gets 404 first."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            serializer = serializer_class(data=request.GET)
            if not serializer.is_valid():
                return render(request, "common/bad_request.html", {
                    "error": error_sentence(serializer.errors), "project": getattr(request, "project", None),
                }, status=400)
            request.query = serializer.validated_data
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
