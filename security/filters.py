"""FilterSets of the security workspace, shared by the API (and the pages where the names fit).

Parameter names are camelCase like the API's fields; `q` searches the obvious text columns.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone

from portal.filters import SearchFilterSet
from security.choices import (
    AlertStatus,
    AlertType,
    CheckKind,
    CheckStatus,
    GdapStatus,
    Likelihood,
    MfaMechanism,
    Program,
    ReviewerDecision,
    TrainingStatus,
)
from security.models import (
    CustomerMfaStat,
    DapRelationship,
    GdapRelationship,
    ProgramEnrollment,
    SecurityAlert,
    TrainingAssignment,
    VerificationCheck,
    VerificationDocument,
)

_BOOLEAN_CHOICES = (("true", "Yes"), ("false", "No"))


class MfaUserFilterForm(forms.Form):
    """The partner's people (`security.services.mfa.mfa_user_rows` is a computed list, not a query)."""

    registered = forms.NullBooleanField(required=False, help_text="true: registered for MFA; false: not.")
    admin = forms.NullBooleanField(required=False, help_text="true: admin roles only; false: others only.")
    mechanism = forms.ChoiceField(choices=[("", "Any"), *MfaMechanism.choices], required=False)
    search = forms.CharField(max_length=100, required=False, help_text="E-mail address or name.")

    def clean_search(self) -> str:
        value = self.cleaned_data["search"].strip()
        if "\x00" in value:
            raise forms.ValidationError("The search contains a NUL character.")
        return value


class CustomerMfaFilterSet(SearchFilterSet):
    search_fields = ("customer__name", "customer__domain")

    compliant = django_filters.BooleanFilter(method="filter_compliant", label="All admins use MFA")

    class Meta:
        model = CustomerMfaStat
        fields: list[str] = []

    def filter_compliant(self, queryset, name, value):
        from django.db.models import F  # noqa: PLC0415 - only this filter needs it

        matching = queryset.filter(admins_with_mfa=F("admins_total"))
        return matching if value else queryset.exclude(pk__in=matching.values("pk"))


class AlertFilterSet(SearchFilterSet):
    search_fields = ("title", "customer__name")

    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, label="Status")
    alertType = django_filters.ChoiceFilter(field_name="alert_type", choices=AlertType.choices, label="Type")  # noqa: N815
    customerTenantId = django_filters.UUIDFilter(field_name="customer__tenant_id", label="Customer tenant ID")  # noqa: N815

    class Meta:
        model = SecurityAlert
        fields: list[str] = []


class GdapRelationshipFilterSet(SearchFilterSet):
    search_fields = ("display_name", "customer__name")

    status = django_filters.ChoiceFilter(choices=GdapStatus.choices, label="Status")
    customerTenantId = django_filters.UUIDFilter(field_name="customer__tenant_id", label="Customer tenant ID")  # noqa: N815
    autoExtend = django_filters.BooleanFilter(method="filter_auto_extend", label="Auto-extends")  # noqa: N815

    class Meta:
        model = GdapRelationship
        fields: list[str] = []

    def filter_auto_extend(self, queryset, name, value):
        from datetime import timedelta  # noqa: PLC0415

        if value:
            return queryset.filter(auto_extend_duration__gt=timedelta(0))
        return queryset.filter(auto_extend_duration=timedelta(0))


class DapFilterSet(SearchFilterSet):
    search_fields = ("customer__name", "customer__domain")

    removed = django_filters.BooleanFilter(field_name="removed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = DapRelationship
        fields: list[str] = []


class EnrollmentFilterSet(django_filters.FilterSet):
    program = django_filters.ChoiceFilter(choices=Program.choices, label="Program")

    class Meta:
        model = ProgramEnrollment
        fields: list[str] = []


class CheckFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CheckStatus.choices, label="Status")
    kind = django_filters.ChoiceFilter(choices=CheckKind.choices, label="Check")
    program = django_filters.ChoiceFilter(field_name="enrollment__program", choices=Program.choices)

    class Meta:
        model = VerificationCheck
        fields: list[str] = []


class DocumentFilterSet(django_filters.FilterSet):
    checkId = django_filters.NumberFilter(field_name="check_ref_id", label="Check id")  # noqa: N815
    band = django_filters.ChoiceFilter(field_name="assist_band", choices=Likelihood.choices)
    reviewerDecision = django_filters.ChoiceFilter(  # noqa: N815
        field_name="reviewer_decision", choices=ReviewerDecision.choices
    )

    class Meta:
        model = VerificationDocument
        fields: list[str] = []


class TrainingFilterSet(SearchFilterSet):
    search_fields = ("course__title", "user__email", "user__display_name")

    status = django_filters.ChoiceFilter(method="filter_status", choices=TrainingStatus.choices)
    courseCode = django_filters.CharFilter(field_name="course__code", max_length=40)  # noqa: N815
    userId = django_filters.NumberFilter(field_name="user_id")  # noqa: N815

    class Meta:
        model = TrainingAssignment
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        today = timezone.localdate()
        if value == TrainingStatus.CANCELED:
            return queryset.filter(canceled_at__isnull=False)
        if value == TrainingStatus.COMPLETED:
            return queryset.filter(completed_at__isnull=False)
        open_rows = queryset.filter(canceled_at__isnull=True, completed_at__isnull=True)
        if value == TrainingStatus.OVERDUE:
            return open_rows.filter(due_on__lt=today)
        return open_rows.filter(due_on__gte=today)
