"""FilterSets of the Membership insights reports (spec/membership.md §6), shared by the pages, the
downloads and the API (one definition each).

Parameter names are camelCase like the API's fields; `q` searches the obvious text columns. The
offer and plan choices come from the rows the FilterSet is given (the viewer's own), so an unknown
value is a clear form error rather than an empty report.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from earnings.filters import MonthFilter
from earnings.periods import add_months
from membership.choices import (
    AssessmentStatus,
    CertificationLevel,
    Designation,
    LicenseStatus,
    OsType,
)
from membership.models import MarketplaceLicense, PersonCertification, SurfaceAssessment, VmImageUsage
from portal.filters import SearchFilterSet


class SurfaceView:
    NEW = "new"
    HISTORICAL = "historical"
    CHOICES = ((NEW, "New (completed in the month)"), (HISTORICAL, "Historical (all time)"))


class SkillingStatus:
    ACTIVE = "active"
    EXPIRED = "expired"
    CHOICES = ((ACTIVE, "Active"), (EXPIRED, "Expired"))


class CountryField(forms.CharField):
    """A two-letter country/region code, upper-cased."""

    def to_python(self, value):
        value = (super().to_python(value) or "").strip().upper()
        if not value:
            return None
        if len(value) != 2 or not value.isalpha() or not value.isascii():
            raise forms.ValidationError(
                "Enter a two-letter country/region code, e.g. US or DE.", code="invalid"
            )
        return value


class CountryFilter(django_filters.Filter):
    field_class = CountryField


class RangeForm(forms.Form):
    """Refuses a range whose start lies after its end (the FilterSet names the pair in `ranges`)."""

    ranges: tuple[tuple[str, str, str], ...] = ()

    def clean(self):
        cleaned = super().clean()
        for start, end, what in self.ranges:
            first, last = cleaned.get(start), cleaned.get(end)
            if first and last and first > last:
                self.add_error(end, f"The end of the {what} range is before its start.")
        return cleaned


class LicenseFilterForm(RangeForm):
    ranges = (("dateFrom", "dateTo", "date"),)


class VmImageFilterForm(RangeForm):
    ranges = (("monthFrom", "monthTo", "month"),)


def _distinct_choices(queryset, value_field: str, label_field: str) -> Callable[[], list[tuple[str, str]]]:
    """The distinct (value, label) pairs of the rows, read only when the choices are used: to
    render the form, or to check a value given (a request without one reads nothing)."""

    def choices() -> list[tuple[str, str]]:
        pairs = queryset.order_by(label_field, value_field).values_list(value_field, label_field).distinct()
        return [(value, label if label == value else f"{label} ({value})") for value, label in pairs]

    return choices


class LicenseFilterSet(SearchFilterSet):
    """Marketplace API license report: date range, offer, plan, customer, country, license status."""

    search_fields = ("customer_name", "offer_name", "offer_id", "plan_name", "plan_id")

    dateFrom = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    dateTo = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    offerId = django_filters.ChoiceFilter(field_name="offer_id", label="Offer", choices=[])
    planId = django_filters.ChoiceFilter(field_name="plan_id", label="Plan", choices=[])
    customer = django_filters.CharFilter(method="filter_customer", label="Customer", max_length=200)
    country = CountryFilter(field_name="country", label="Country/region")
    licenseStatus = django_filters.ChoiceFilter(
        field_name="license_status", choices=LicenseStatus.choices, label="License status"
    )

    class Meta:
        model = MarketplaceLicense
        fields: list[str] = []
        form = LicenseFilterForm

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        self.filters["offerId"].extra["choices"] = _distinct_choices(self.queryset, "offer_id", "offer_name")
        self.filters["planId"].extra["choices"] = _distinct_choices(self.queryset, "plan_id", "plan_name")

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(customer_name__icontains=value) | Q(customer_tenant_id__iexact=value)
            if _is_uuid(value)
            else Q(customer_name__icontains=value)
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class VmImageFilterSet(SearchFilterSet):
    """VM image version report: month range, offer, plan, OS type, country, latest version only."""

    search_fields = ("offer_name", "plan_sku", "image_version")

    monthFrom = MonthFilter(field_name="month", lookup_expr="gte", label="From month (YYYY-MM)")
    monthTo = MonthFilter(field_name="month", lookup_expr="lte", label="To month (YYYY-MM)")
    offer = django_filters.ChoiceFilter(field_name="offer_name", label="Offer", choices=[])
    plan = django_filters.ChoiceFilter(field_name="plan_sku", label="Plan (SKU)", choices=[])
    osType = django_filters.ChoiceFilter(field_name="os_type", choices=OsType.choices, label="OS type")
    country = CountryFilter(field_name="country", label="Country/region")
    latestOnly = django_filters.BooleanFilter(
        method="filter_latest",
        label="Latest version only",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = VmImageUsage
        fields: list[str] = []
        form = VmImageFilterForm

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        self.filters["offer"].extra["choices"] = _distinct_choices(self.queryset, "offer_name", "offer_name")
        self.filters["plan"].extra["choices"] = _distinct_choices(self.queryset, "plan_sku", "plan_sku")

    def filter_latest(self, queryset, name, value):
        return queryset.filter(is_latest_version=True) if value else queryset


class SurfaceFilterSet(SearchFilterSet):
    """Surface insights: the New view (completed in `month`, default this month) or the Historical
    view (all time), narrowed by location, country and status."""

    search_fields = ("learner_name", "email", "assessment_name")

    view = django_filters.ChoiceFilter(
        choices=SurfaceView.CHOICES, method="filter_nothing", label="View", empty_label=None
    )
    month = MonthFilter(method="filter_nothing", label="Month (YYYY-MM)")
    location = django_filters.CharFilter(
        field_name="location__partner_id", label="Partner location (PartnerID)", max_length=7
    )
    country = CountryFilter(field_name="country", label="Country")
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices, label="Status")

    class Meta:
        model = SurfaceAssessment
        fields: list[str] = []

    def filter_nothing(self, queryset, name, value):
        # `view` and `month` act together in `filter_queryset`.
        return queryset

    @property
    def selected_view(self) -> str:
        data = getattr(self.form, "cleaned_data", {})
        return data.get("view") or SurfaceView.NEW

    @property
    def selected_month(self):
        data = getattr(self.form, "cleaned_data", {})
        return data.get("month") or timezone.localdate().replace(day=1)

    def without_period(self):
        """The rows of every filter except the view and month (the KPI tiles' population)."""
        return super().filter_queryset(self.queryset.all())

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.selected_view == SurfaceView.NEW:
            month = self.selected_month
            queryset = queryset.filter(completed_on__gte=month, completed_on__lt=add_months(month, 1))
        return queryset


class SkillingFilterSet(SearchFilterSet):
    """Certifications of the partner's people: solution area, level, location and whether current."""

    search_fields = ("learner_name", "email", "certification__code", "certification__name")

    designation = django_filters.ChoiceFilter(
        field_name="certification__designation", choices=Designation.choices, label="Solution area"
    )
    level = django_filters.ChoiceFilter(
        field_name="certification__level", choices=CertificationLevel.choices, label="Level"
    )
    location = django_filters.CharFilter(
        field_name="location__partner_id", label="Partner location (PartnerID)", max_length=7
    )
    status = django_filters.ChoiceFilter(
        choices=SkillingStatus.CHOICES, method="filter_status", label="Certification status"
    )

    class Meta:
        model = PersonCertification
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        today = timezone.localdate()
        if value == SkillingStatus.ACTIVE:
            return queryset.filter(active_on(today))
        return queryset.filter(expires_on__lte=today)


def active_on(day) -> Q:
    """A certification counts on `day` when earned by then and not expired (spec §2.3)."""
    return Q(earned_on__lte=day) & (Q(expires_on__isnull=True) | Q(expires_on__gt=day))
