"""Filter pieces every workspace's FilterSets share."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 date-time, normalised to UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("The date is out of range.", code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class SearchFilterSet(django_filters.FilterSet):
    """Adds `q`, a case-insensitive search over `search_fields`."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="filter_search", label="Search")

    def filter_search(self, queryset, name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)
