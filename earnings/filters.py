"""FilterSets shared by the Earnings pages, the downloads and the API (one definition each).

Parameter names are Partner Center's (spec/earnings.md §1.3), so a URL copied from the page
works on the API and the export endpoint.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema_field

from earnings.choices import (
    EarningKind,
    EarningType,
    IneligibleReason,
    PartnerAssociation,
    PartnerRole,
    PaymentStatus,
    SolutionArea,
    TransactionType,
)
from earnings.models import Earning, IneligibleTransaction, Payment, Transaction
from earnings.periods import add_months, parse_month
from portal.filters import SearchFilterSet


class MonthField(forms.CharField):
    """`YYYY-MM` → the first day of that month."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-05"})
class MonthFilter(django_filters.Filter):
    field_class = MonthField


class EarningsFilterSet(SearchFilterSet):
    """Filters of the earnings ledger and, through the same names, of its summaries."""

    search_fields = (
        "customer_name",
        "product_name",
        "product_id",
        "earning_id",
        "transaction__transaction_id",
    )

    solutionArea = django_filters.ChoiceFilter(
        field_name="solution_area", choices=SolutionArea.choices, label="Solution area"
    )
    partnerRole = django_filters.ChoiceFilter(
        field_name="partner_role", choices=PartnerRole.choices, label="Partner role"
    )
    partnerAssociation = django_filters.ChoiceFilter(
        field_name="partner_association", choices=PartnerAssociation.choices, label="Partner association"
    )
    estimatedPaymentMonth = MonthFilter(field_name="estimated_payment_month", label="Payment month")
    programName = django_filters.CharFilter(field_name="program__name", label="Program")
    engagementName = django_filters.CharFilter(field_name="engagement__name", label="Engagement")
    lever = django_filters.CharFilter(field_name="lever__name", label="Lever")
    earningType = django_filters.ChoiceFilter(
        field_name="earning_type", choices=EarningType.choices, label="Earning type"
    )
    paymentStatus = django_filters.ChoiceFilter(
        field_name="payment_status", choices=PaymentStatus.choices, label="Payment status"
    )
    paymentId = django_filters.CharFilter(field_name="payment__payment_id", label="Payment ID")
    participantId = django_filters.CharFilter(field_name="enrollment__participant_id", label="Enrollment ID")
    customerName = django_filters.CharFilter(
        field_name="customer_name", lookup_expr="icontains", label="Customer"
    )
    productId = django_filters.CharFilter(field_name="product_id", lookup_expr="iexact", label="Product ID")
    kind = django_filters.ChoiceFilter(choices=EarningKind.choices, label="Row type")
    earningDateFrom = django_filters.DateFilter(
        field_name="earning_date", lookup_expr="gte", label="Earned from"
    )
    earningDateTo = django_filters.DateFilter(field_name="earning_date", lookup_expr="lte", label="Earned to")

    class Meta:
        model = Earning
        fields: list[str] = []


class TransactionFilterSet(SearchFilterSet):
    search_fields = ("customer_name", "product_name", "product_id", "transaction_id", "invoice_number")

    solutionArea = django_filters.ChoiceFilter(
        field_name="solution_area", choices=SolutionArea.choices, label="Solution area"
    )
    partnerRole = django_filters.ChoiceFilter(
        field_name="partner_role", choices=PartnerRole.choices, label="Partner role"
    )
    partnerAssociation = django_filters.ChoiceFilter(
        field_name="partner_association", choices=PartnerAssociation.choices, label="Partner association"
    )
    transactionType = django_filters.ChoiceFilter(
        field_name="transaction_type", choices=TransactionType.choices, label="Transaction type"
    )
    transactionMonth = MonthFilter(method="filter_month", label="Transaction month")
    customerName = django_filters.CharFilter(
        field_name="customer_name", lookup_expr="icontains", label="Customer"
    )
    productId = django_filters.CharFilter(field_name="product_id", lookup_expr="iexact", label="Product ID")
    eligible = django_filters.BooleanFilter(method="filter_eligible", label="Earned anything")

    class Meta:
        model = Transaction
        fields: list[str] = []

    def filter_month(self, queryset, name, value):
        return queryset.filter(transaction_date__gte=value, transaction_date__lt=add_months(value, 1))

    def filter_eligible(self, queryset, name, value):
        earned = Earning.objects.filter(transaction_id=OuterRef("pk"))
        return queryset.filter(Exists(earned)) if value else queryset.exclude(Exists(earned))


class IneligibleFilterSet(SearchFilterSet):
    search_fields = (
        "transaction__customer_name",
        "transaction__product_name",
        "transaction__product_id",
        "transaction__transaction_id",
    )

    reasonCode = django_filters.ChoiceFilter(
        field_name="reason_code", choices=IneligibleReason.choices, label="Reason"
    )
    solutionArea = django_filters.ChoiceFilter(
        field_name="engagement__solution_area", choices=SolutionArea.choices, label="Solution area"
    )
    partnerRole = django_filters.ChoiceFilter(
        field_name="transaction__partner_role", choices=PartnerRole.choices, label="Partner role"
    )
    programName = django_filters.CharFilter(field_name="program__name", label="Program")
    engagementName = django_filters.CharFilter(field_name="engagement__name", label="Engagement")
    transactionMonth = MonthFilter(method="filter_month", label="Transaction month")
    customerName = django_filters.CharFilter(
        field_name="transaction__customer_name", lookup_expr="icontains", label="Customer"
    )
    productId = django_filters.CharFilter(
        field_name="transaction__product_id", lookup_expr="iexact", label="Product ID"
    )

    class Meta:
        model = IneligibleTransaction
        fields: list[str] = []

    def filter_month(self, queryset, name, value):
        return queryset.filter(transaction_date__gte=value, transaction_date__lt=add_months(value, 1))


class PaymentFilterSet(SearchFilterSet):
    """spec §1.1: only enrollment, program, payment status and payment ID apply to payments."""

    search_fields = ("payment_id", "ci_reference_number")

    paymentStatus = django_filters.ChoiceFilter(
        field_name="status", choices=PaymentStatus.choices, label="Payment status"
    )
    paymentId = django_filters.CharFilter(field_name="payment_id", label="Payment ID")
    programName = django_filters.CharFilter(field_name="program__name", label="Program")
    participantId = django_filters.CharFilter(field_name="enrollment__participant_id", label="Enrollment ID")
    paymentMonth = MonthFilter(field_name="payment_month", label="Payment month")

    class Meta:
        model = Payment
        fields: list[str] = []
