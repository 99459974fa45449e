"""FilterSets of the security workspace: one per list, used by its page and its API alike, so the
same parameters give the same rows in both.

Parameter names are camelCase like the API's fields; `q` searches the obvious text columns.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from portal.filters import SearchFilterSet
from security.choices import (
    GLOBAL_ADMINISTRATOR_ROLE_ID,
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
    CustomerAzureSubscription,
    CustomerMfaStat,
    DapRelationship,
    GdapRelationship,
    ProgramEnrollment,
    SecurityAlert,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)


class MfaUserFilterSet(django_filters.FilterSet):
    """The partner's people and their MFA, on `security.selectors.mfa.mfa_people` (whose columns
    the filters read)."""

    registered = django_filters.BooleanFilter(
        field_name="mfa_registered", label="Registered for MFA", help_text="true: registered; false: not."
    )
    admin = django_filters.BooleanFilter(
        field_name="is_admin_role",
        label="Admin roles",
        help_text="true: admin roles only; false: others only.",
    )
    mechanism = django_filters.ChoiceFilter(
        field_name="enforcement_mechanism", choices=MfaMechanism.choices, label="Mechanism"
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, label="Search", help_text="E-mail address or name."
    )

    class Meta:
        model = User
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(email__icontains=value) | Q(display_name__icontains=value))


class CustomerMfaFilterSet(SearchFilterSet):
    search_fields = ("customer__name", "customer__domain")

    compliant = django_filters.BooleanFilter(method="filter_compliant", label="All admins use MFA")

    class Meta:
        model = CustomerMfaStat
        fields: list[str] = []

    def filter_compliant(self, queryset, name, value):
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
    globalAdmin = django_filters.BooleanFilter(  # noqa: N815
        method="filter_global_admin", label="With Global Administrator"
    )

    class Meta:
        model = GdapRelationship
        fields: list[str] = []

    def filter_auto_extend(self, queryset, name, value):
        if value:
            return queryset.filter(auto_extend_duration__gt=timedelta(0))
        return queryset.filter(auto_extend_duration=timedelta(0))

    def filter_global_admin(self, queryset, name, value):
        granted = Exists(
            GdapRelationship.roles.through.objects.filter(
                gdaprelationship_id=OuterRef("pk"), entrarole_id=GLOBAL_ADMINISTRATOR_ROLE_ID
            )
        )
        return queryset.filter(granted if value else ~granted)


class DapFilterSet(SearchFilterSet):
    search_fields = ("customer__name", "customer__domain")

    removed = django_filters.BooleanFilter(
        field_name="removed_at", lookup_expr="isnull", exclude=True, label="Removed"
    )

    class Meta:
        model = DapRelationship
        fields: list[str] = []


class AzureSubscriptionFilterSet(SearchFilterSet):
    """Customers' Azure subscriptions (a page of their own; the API has no such list)."""

    search_fields = ("customer__name", "display_name", "subscription_id")

    budget = django_filters.BooleanFilter(
        field_name="budget_amount", lookup_expr="isnull", exclude=True, label="Has a budget"
    )

    class Meta:
        model = CustomerAzureSubscription
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # How the page shows the same parameters: a course picker, the person only in the URL.
        user = getattr(self.request, "user", None)

        def courses() -> list[tuple[str, str]]:
            offered = TrainingCourse.objects.visible_to(user).values_list("code", "title") if user else []
            return [("", "Any course"), *offered]

        self.filters["q"].label = "Person or course"
        self.filters["status"].extra["empty_label"] = "Any status"
        self.filters["courseCode"].label = "Course"
        self.filters["courseCode"].extra["widget"] = forms.Select(choices=courses)
        self.filters["userId"].label = "Person"
        self.filters["userId"].extra["widget"] = forms.HiddenInput

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
