"""Security posture as pages and API read it: the tenant's settings, alerts and their response
time, customers' Azure subscriptions and budgets, and the score's daily history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organization, User
from security.choices import AlertStatus
from security.models import (
    CustomerAzureSubscription,
    SecurityAlert,
    SecurityScoreSnapshot,
    SecuritySettings,
    UserMfaPolicy,
)

__all__ = (
    "AzureBudgetSummary",
    "alerts",
    "alerts_average_response_hours",
    "alerts_open_count",
    "azure_budget_summary",
    "azure_subscriptions",
    "score_snapshots",
    "settings_or_default",
    "user_mfa_exceptions",
)


def settings_or_default(organization: Organization) -> SecuritySettings:
    """The settings row if there is one, else an unsaved default: for reads that must not write."""
    return SecuritySettings.objects.filter(organization=organization).first() or SecuritySettings(
        organization=organization
    )


def user_mfa_exceptions(user: User) -> QuerySet[UserMfaPolicy]:
    """People with per-user MFA or MFA by a third party: the exceptions to the tenant policies."""
    return (
        UserMfaPolicy.objects.visible_to(user)
        .select_related("user")
        .filter(Q(per_user_mfa_enabled=True) | Q(third_party_mfa=True))
        .order_by("user__email")
    )


# --- Alerts ---------------------------------------------------------------------------------------


def alerts(user: User) -> QuerySet[SecurityAlert]:
    """The alerts a user may see, newest first, with their customer and responder."""
    return (
        SecurityAlert.objects.visible_to(user)
        .select_related("customer", "responded_by")
        .order_by("-created_at", "-id")
    )


def alerts_open_count(user: User) -> int:
    return SecurityAlert.objects.visible_to(user).filter(status=AlertStatus.ACTIVE).count()


def alerts_average_response_hours(
    organization: Organization, *, now: datetime | None = None, days: int = 30
) -> float | None:
    """Average hours from alert to answer over alerts raised in the last `days` days.

    An alert not answered yet counts with the time it has waited until `now`, so ignoring an
    alert cannot improve the average. None when no alert was raised in the period.
    """
    now = now or timezone.now()
    waited = ExpressionWrapper(
        Coalesce(F("responded_at"), Value(now)) - F("created_at"), output_field=DurationField()
    )
    average = SecurityAlert.objects.filter(
        organization=organization, created_at__gt=now - timedelta(days=days), created_at__lte=now
    ).aggregate(average=Avg(waited))["average"]
    if average is None:
        return None
    return average / timedelta(hours=1)


# --- Azure budgets --------------------------------------------------------------------------------


def azure_subscriptions(user: User) -> QuerySet[CustomerAzureSubscription]:
    """Customers' Azure subscriptions a user may see, by customer and name."""
    return (
        CustomerAzureSubscription.objects.visible_to(user)
        .select_related("customer")
        .order_by("customer__name", "display_name", "id")
    )


@dataclass(frozen=True)
class AzureBudgetSummary:
    total: int
    with_budget: int


def azure_budget_summary(user: User) -> AzureBudgetSummary:
    counts = CustomerAzureSubscription.objects.visible_to(user).aggregate(
        total=Count("pk"), with_budget=Count("pk", filter=Q(budget_amount__isnull=False))
    )
    return AzureBudgetSummary(**counts)


# --- Score history --------------------------------------------------------------------------------


def score_snapshots(user: User, *, since: date) -> QuerySet[SecurityScoreSnapshot]:
    """The daily scores since `since`, oldest first (the history chart and the API's history)."""
    return (
        SecurityScoreSnapshot.objects.visible_to(user)
        .filter(taken_on__gte=since)
        .defer("requirements")
        .order_by("taken_on")
    )
