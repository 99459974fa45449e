"""FilterSets shared by the Incentives pages and the API (one definition each).

Parameter names follow the Earnings workspace (camelCase, Partner Center's), so a URL copied from
a page works on the API with the same meaning.
"""

from __future__ import annotations

from datetime import date

import django_filters
from django.db.models import Q
from django.utils import timezone

from earnings.choices import SolutionArea
from earnings.filters import MonthFilter
from earnings.periods import add_months
from incentives.choices import (
    OPEN_STAGES,
    ActivityAvailability,
    ClaimStatus,
    OpportunityStage,
    PayPattern,
)
from incentives.models import ActivityType, Claim, Opportunity
from incentives.selectors import customer_condition
from portal.filters import SearchFilterSet


def fiscal_year_bounds(year: int) -> tuple[date, date]:
    """Microsoft's fiscal year `year` runs from 1 July of year − 1 to 30 June of `year` (end exclusive)."""
    return date(year - 1, 7, 1), date(year, 7, 1)


class CustomerFilter(django_filters.CharFilter):
    """The customer by id, tenant ID, or part of its name or domain: a text box, because an
    organization may have tens of thousands of customers (`selectors.customer_condition`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Customer")
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", "Name, domain, tenant ID or customer ID.")
        super().__init__(**kwargs)

    def filter(self, qs, value):
        condition = customer_condition(value, prefix="customer__")
        return qs if condition is None else qs.filter(condition)


def _activity_types(request):
    if request is None:
        return ActivityType.objects.none()
    return ActivityType.objects.visible_to(request.user).order_by("name")


class ClaimFilterSet(SearchFilterSet):
    """Claims: status, pay pattern, solution area, activity, customer, period and `q`."""

    search_fields = ("claim_id", "friendly_name", "customer__name")

    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices, label="Status")
    payPattern = django_filters.ChoiceFilter(
        field_name="activity_type__pay_pattern", choices=PayPattern.choices, label="Pay pattern"
    )
    solutionArea = django_filters.ChoiceFilter(
        field_name="activity_type__engagement__solution_area",
        choices=SolutionArea.choices,
        label="Solution area",
    )
    activity = django_filters.ModelChoiceFilter(
        field_name="activity_type", queryset=_activity_types, label="Activity"
    )
    customer = CustomerFilter()
    createdMonth = MonthFilter(method="filter_created_month", label="Created in (YYYY-MM)")
    fiscalYear = django_filters.NumberFilter(
        method="filter_fiscal_year", label="Fiscal year", min_value=2000, max_value=2100
    )

    class Meta:
        model = Claim
        fields: list[str] = []

    def filter_created_month(self, queryset, name, value):
        return queryset.filter(created_at__date__gte=value, created_at__date__lt=add_months(value, 1))

    def filter_fiscal_year(self, queryset, name, value):
        start, end = fiscal_year_bounds(int(value))
        return queryset.filter(created_at__date__gte=start, created_at__date__lt=end)


class OpportunityFilterSet(SearchFilterSet):
    """Seller opportunities shared with the organization; `open` keeps the stages one may claim on."""

    search_fields = ("msx_opportunity_id", "name", "customer__name", "seller_name")

    solutionArea = django_filters.ChoiceFilter(
        field_name="solution_area", choices=SolutionArea.choices, label="Solution area"
    )
    stage = django_filters.ChoiceFilter(choices=OpportunityStage.choices, label="Stage")
    customer = CustomerFilter()
    open = django_filters.BooleanFilter(method="filter_open", label="Open to claim")

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        condition = Q(stage__in=sorted(OPEN_STAGES))
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ActivityTypeFilterSet(SearchFilterSet):
    """The catalogue: solution area, pay pattern and availability on a day (today by default)."""

    search_fields = ("code", "name", "description")

    solutionArea = django_filters.ChoiceFilter(
        field_name="engagement__solution_area", choices=SolutionArea.choices, label="Solution area"
    )
    payPattern = django_filters.ChoiceFilter(
        field_name="pay_pattern", choices=PayPattern.choices, label="Pay pattern"
    )
    availability = django_filters.ChoiceFilter(
        method="filter_availability", choices=ActivityAvailability.choices, label="Availability"
    )

    class Meta:
        model = ActivityType
        fields: list[str] = []

    def filter_availability(self, queryset, name, value):
        today = timezone.localdate()
        if value == ActivityAvailability.UPCOMING:
            return queryset.filter(starts_on__gt=today)
        if value == ActivityAvailability.EXPIRED:
            return queryset.filter(ends_on__lt=today)
        return queryset.filter(starts_on__lte=today, ends_on__gte=today)
