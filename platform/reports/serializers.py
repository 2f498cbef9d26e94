"""Request shapes of the reports pages."""

from common.validation import IdListField
from rest_framework import serializers


class _IdsQueryField(IdListField):
    """Report ids in a query string: one or more values, each an id or a comma-separated list of them."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if isinstance(value, list):
            return [part for item in value for part in str(item).split(",") if part.strip()]
        return value


class ReportCompareQuerySerializer(serializers.Serializer):
    """The query of the compare page and its plots: ``?ids=1,2,3`` (also ``?with=2&id=3``); ``ids`` is
    all of them, in order, without repeats."""

    ids = _IdsQueryField(required=False, default=list)
    id = _IdsQueryField(required=False, default=list)

    def get_fields(self):
        fields = super().get_fields()
        fields["with"] = _IdsQueryField(required=False, default=list)  # a Python keyword: not a class attribute
        return fields

    def validate(self, attrs):
        merged = [*attrs.pop("ids", []), *attrs.pop("with", []), *attrs.pop("id", [])]
        return {"ids": list(dict.fromkeys(merged))}
