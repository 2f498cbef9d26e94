"""drf-spectacular postprocessing: every operation documents the API's one error shape for its 4xx
answers, {"error": "<sentence>", "code": "<stable_code>"} (common.errors), so a client -- and the
schema-driven fuzzing in tests/security -- can rely on it."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx answer: a sentence a person understands and a stable code for scripts.",
    "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
    "required": ["error", "code"],
}


def error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"description": "Refused: why, as a sentence, and a stable code.",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            operation.setdefault("responses", {}).setdefault("4XX", error)
    return result


def paginated(serializer_class, *, extra: dict | None = None):
    """The schema of a ?limit/?offset page of ``serializer_class`` items (common.pagination.Pagination)."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(name=f"Paginated{name}List", fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer_class(many=True),
        **(extra or {}),
    })
