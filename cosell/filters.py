"""FilterSets of the Co-sell pages, shared with the API where the names fit (one definition each).

Parameter names are Partner Center's where it has one (status, substatus, type), camelCase otherwise,
so a list URL copied from a page means the same on the API.
"""

from __future__ import annotations

import django_filters

from cosell.choices import DealKind, MicrosoftStatus, ReferralStatus, ReferralSubstatus, ReferralType
from cosell.models import Referral
from earnings.filters import MonthFilter
from earnings.periods import add_months
from portal.filters import SearchFilterSet

DIRECTIONS = (("inbound", "Inbound (received)"), ("outbound", "Outbound (created by us)"))


class ReferralFilterSet(SearchFilterSet):
    """Referrals and deals: status, substatus, type, deal kind, direction, country, Microsoft status,
    created month and `q` over the name, the customer and the external reference."""

    search_fields = ("name", "customer_name", "external_reference_id")

    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices, label="Status")
    substatus = django_filters.ChoiceFilter(choices=ReferralSubstatus.choices, label="Substatus")
    type = django_filters.ChoiceFilter(choices=ReferralType.choices, label="Type")
    dealKind = django_filters.ChoiceFilter(
        field_name="deal_kind", choices=DealKind.choices, label="Deal kind"
    )
    direction = django_filters.ChoiceFilter(method="filter_direction", choices=DIRECTIONS, label="Direction")
    country = django_filters.CharFilter(method="filter_country", label="Customer country", max_length=2)
    microsoftStatus = django_filters.ChoiceFilter(
        field_name="microsoft_status",
        choices=[(value, label) for value, label in MicrosoftStatus.choices if value],
        label="Microsoft status",
    )
    createdMonth = MonthFilter(method="filter_created_month", label="Created in (YYYY-MM)")

    class Meta:
        model = Referral
        fields: list[str] = []

    def filter_direction(self, queryset, name, value):
        return queryset.filter(is_inbound=value == "inbound")

    def filter_country(self, queryset, name, value):
        return queryset.filter(customer_country=value.strip().upper())

    def filter_created_month(self, queryset, name, value):
        return queryset.filter(created_at__date__gte=value, created_at__date__lt=add_months(value, 1))
