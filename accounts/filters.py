"""FilterSets shared by the accounts pages and the API (one definition, same parameter names)."""

import django_filters
from django import forms
from django.db.models import Q

from accounts.choices import ActionItemStatus, CustomerSegment, Severity
from accounts.models import ActionItem, Customer, User
from portal.filters import IsoDateTimeFilter, SearchFilterSet
from portal.models import AuditEvent
from portal.roles import Role


class UserFilter(SearchFilterSet):
    search_fields = ("email", "display_name")
    role = django_filters.ChoiceFilter(
        choices=Role.choices, field_name="role_assignments__role", distinct=True
    )
    is_active = django_filters.BooleanFilter()
    is_service_account = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "is_active", "is_service_account"]


class CustomerFilter(SearchFilterSet):
    search_fields = ("name", "domain")
    country = django_filters.CharFilter(lookup_expr="iexact")
    segment = django_filters.ChoiceFilter(choices=CustomerSegment.choices)

    class Meta:
        model = Customer
        fields = ["country", "segment"]


class ActionItemFilter(SearchFilterSet):
    search_fields = ("title", "body")
    # Plain columns, no join: no DISTINCT (which would sort every open item of a large partner).
    status = django_filters.MultipleChoiceFilter(choices=ActionItemStatus.choices, distinct=False)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    code = django_filters.CharFilter()
    due_before = IsoDateTimeFilter(field_name="due_at", lookup_expr="lte", label="Due before")
    mine = django_filters.BooleanFilter(
        method="filter_mine",
        label="Mine",
        widget=forms.CheckboxInput,
        help_text="Items assigned to you, and unassigned items addressed to one of your roles.",
    )

    class Meta:
        model = ActionItem
        fields = ["status", "severity", "code", "mine"]

    def filter_mine(self, queryset, name, value):
        if not value or self.request is None:
            return queryset
        user = self.request.user
        everyone = Q(audience_roles=[]) | Q(audience_roles__overlap=sorted(user.role_codes))
        addressed = Q(assignee__isnull=True) & everyone
        return queryset.filter(Q(assignee=user) | addressed)


class AuditEventFilter(SearchFilterSet):
    search_fields = ("actor_label", "action", "target_label")
    action = django_filters.CharFilter(lookup_expr="istartswith")
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    since = IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="at", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "since", "until"]
