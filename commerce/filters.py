"""FilterSets shared by the Commerce pages and the API (one definition, same parameter names)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from commerce.choices import (
    BillingCycle,
    MigrationInitiator,
    MigrationStatus,
    ScheduleStatus,
    Segment,
    SubscriptionStatus,
    TermDuration,
)
from commerce.models import (
    LegacySubscription,
    Migration,
    MigrationSchedule,
    NceSubscription,
    PriceList,
    PriceListRow,
)
from portal.filters import SearchFilterSet

# --- Price lists ---------------------------------------------------------------------------------


class PriceListFilter(django_filters.FilterSet):
    market = django_filters.CharFilter(lookup_expr="iexact", label="Market")
    is_preview = django_filters.BooleanFilter(label="Preview")

    class Meta:
        model = PriceList
        fields = ["market", "is_preview"]


class PriceListRowFilter(SearchFilterSet):
    search_fields = ("product_title", "product_id", "sku_title")
    product_id = django_filters.CharFilter(lookup_expr="iexact", label="ProductId")
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    term_duration = django_filters.ChoiceFilter(choices=TermDuration.choices, label="Term")
    billing_plan = django_filters.ChoiceFilter(choices=BillingCycle.choices, label="Billing plan")

    class Meta:
        model = PriceListRow
        fields = ["product_id", "segment", "term_duration", "billing_plan"]


# --- End of price lists --------------------------------------------------------------------------


# --- Subscriptions and migrations -----------------------------------------------------------------


class LegacySubscriptionFilter(SearchFilterSet):
    search_fields = ("customer__name", "offer__name", "friendly_name")
    customer = django_filters.NumberFilter(field_name="customer_id")
    customer_tenant_id = django_filters.UUIDFilter(
        field_name="customer__tenant_id", label="Customer tenant ID"
    )
    segment = django_filters.ChoiceFilter(field_name="offer__segment", choices=Segment.choices)
    country = django_filters.CharFilter(field_name="customer__country", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=SubscriptionStatus.choices)
    term_duration = django_filters.ChoiceFilter(choices=TermDuration.choices)
    billing_cycle = django_filters.ChoiceFilter(choices=BillingCycle.choices)
    renews_before = django_filters.DateFilter(field_name="term_end", lookup_expr="lte", label="Renews before")
    migrated = django_filters.BooleanFilter(method="filter_migrated", label="Migrated")

    class Meta:
        model = LegacySubscription
        fields = ["status", "term_duration", "billing_cycle"]

    def filter_migrated(self, queryset, name, value):
        done = Q(migrations__status=MigrationStatus.COMPLETED)
        return queryset.filter(done).distinct() if value else queryset.exclude(done)


class MigrationFilter(SearchFilterSet):
    search_fields = ("customer__name", "external_reference_id", "catalog_item_id")
    status = django_filters.ChoiceFilter(choices=MigrationStatus.choices)
    initiated_by = django_filters.ChoiceFilter(choices=MigrationInitiator.choices)
    external_reference_id = django_filters.CharFilter(label="Batch ID")
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = Migration
        fields = ["status", "initiated_by", "external_reference_id"]


class NceSubscriptionFilter(SearchFilterSet):
    search_fields = ("customer__name", "catalog_item_id")
    customer = django_filters.NumberFilter(field_name="customer_id")
    customer_tenant_id = django_filters.UUIDFilter(
        field_name="customer__tenant_id", label="Customer tenant ID"
    )
    status = django_filters.ChoiceFilter(choices=SubscriptionStatus.choices)
    term_duration = django_filters.ChoiceFilter(choices=TermDuration.choices)
    billing_cycle = django_filters.ChoiceFilter(choices=BillingCycle.choices)
    migrated = django_filters.BooleanFilter(field_name="migrated_from", lookup_expr="isnull", exclude=True)

    class Meta:
        model = NceSubscription
        fields = ["status", "term_duration", "billing_cycle"]


class MigrationScheduleFilter(SearchFilterSet):
    """The schedules page and the schedules API (whose Partner Center query names map onto these)."""

    search_fields = ("customer__name", "external_reference_id")
    status = django_filters.ChoiceFilter(choices=ScheduleStatus.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")
    customer_tenant_id = django_filters.UUIDFilter(
        field_name="customer__tenant_id", label="Customer tenant ID"
    )
    current_subscription_id = django_filters.UUIDFilter(
        field_name="current_subscription__subscription_id", label="Legacy subscription ID"
    )
    external_reference_id = django_filters.CharFilter(label="Batch ID")
    migrate_on_renewal = django_filters.BooleanFilter(label="On renewal")

    class Meta:
        model = MigrationSchedule
        fields = ["status", "external_reference_id", "migrate_on_renewal"]
