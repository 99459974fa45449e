"""Shared pieces of the Membership API: error mapping, query-parameter docs of the FilterSets."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from portal.api import PortalAutoSchema
from portal.api import service_errors as portal_service_errors
from portal.api_policy import CursorPagination
from portal.capabilities import Capability

C = Capability

#: Service field names whose API name is not simply their camelCase.
_ERROR_FIELDS = {
    "changes": "deltas",
    "benefit": "id",
}


def service_errors():
    return portal_service_errors(_ERROR_FIELDS)


def decimal(source: str | None = None, **kwargs) -> serializers.DecimalField:
    """A read-only decimal, rendered as a string like the other workspaces' amounts."""
    if source is not None:
        kwargs["source"] = source
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, **kwargs)


def envelope(serializer) -> type[serializers.Serializer]:
    """Graph's collection envelope `{"value": [...]}`, for lists that are not pages of a table."""
    name = serializer.__name__.removesuffix("Serializer") + "ListSerializer"
    return type(name, (serializers.Serializer,), {"value": serializer(many=True)})


_FILTER_TYPES = (
    (django_filters.DateFilter, OpenApiTypes.DATE),
    (django_filters.BooleanFilter, OpenApiTypes.BOOL),
    (django_filters.NumberFilter, OpenApiTypes.NUMBER),
)


def filterset_parameters(filterset_class) -> list[OpenApiParameter]:
    """The query parameters of a FilterSet, for the schema (the insights services apply it)."""
    parameters = []
    for name, field in filterset_class.base_filters.items():
        kind = next((kind for cls, kind in _FILTER_TYPES if isinstance(field, cls)), OpenApiTypes.STR)
        choices = field.extra.get("choices") if isinstance(field, django_filters.ChoiceFilter) else None
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                enum=[str(value) for value, _ in choices] if choices and not callable(choices) else None,
                description=str(field.label or name),
            )
        )
    return parameters


def cursor_ordered(*ordering: str) -> type[CursorPagination]:
    """The portal's cursor pagination, ordered by `ordering` (the last field must be unique)."""
    return type("OrderedCursorPagination", (CursorPagination,), {"ordering": ordering})


class EnvelopeSchema(PortalAutoSchema):
    """For a `list` action answering one `{"value": [...]}` object rather than a bare array."""

    def _is_list_view(self, serializer=None) -> bool:
        return False
