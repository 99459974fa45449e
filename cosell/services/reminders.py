"""Expiry reminders of unanswered referrals (spec §10): Action Center items 3 days and 1 day
before an inbound referral expires, resolved once it is answered or expired, and a notification
to the assignee (or the referral managers) at each threshold."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from accounts.services.action_center import action_item_raise, action_item_resolve
from cosell.choices import AWAITING_ANSWER, ReferralStatus
from cosell.models import Referral
from cosell.services.notices import referral_expiring_notify
from portal.roles import Role

__all__ = ("REMINDER_THRESHOLDS", "referral_reminders_settle", "referrals_remind")

#: spec §10: the assignee hears of an unanswered referral this long before it expires, as
#: (threshold name, time left, severity), the nearest threshold first.
REMINDER_THRESHOLDS: tuple[tuple[str, timedelta, str], ...] = (
    ("1d", timedelta(days=1), Severity.HIGH),
    ("3d", timedelta(days=3), Severity.MEDIUM),
)
_REMINDER_PREFIX = "cosell-referral-"


def _reminder_key(referral: Referral, threshold: str) -> str:
    return f"{_REMINDER_PREFIX}{referral.pk}-expiring-{threshold}"


def referral_reminders_settle(referral: Referral) -> None:
    """Resolve the referral's expiry reminders once it left New/Pending|Received (answered or expired)."""
    if referral.status == ReferralStatus.NEW and referral.substatus in AWAITING_ANSWER:
        return
    for threshold, _left, _severity in REMINDER_THRESHOLDS:
        action_item_resolve(
            organization_id=referral.organization_id, dedupe_key=_reminder_key(referral, threshold)
        )


def _threshold(referral: Referral, now: datetime) -> tuple[str, str] | None:
    """(threshold name, severity) the referral's expiration has crossed, or None."""
    if referral.expiration_at is None or referral.expiration_at <= now:
        return None
    for name, left, severity in REMINDER_THRESHOLDS:
        if referral.expiration_at - now <= left:
            return name, severity
    return None


def referrals_remind(*, now: datetime | None = None) -> int:
    """Raise an Action Center item for each unanswered referral 3 days and 1 day before it expires.

    One item per referral and threshold (the 1-day item supersedes the 3-day one, which is
    resolved), addressed to the assignee or, when nobody is assigned, to the Referrals admins; the
    same people are notified once per threshold (cosell.services.notices).
    Idempotent: a rerun refreshes the open item; one the user closed stays closed. Items of
    referrals that no longer qualify are resolved. Returns how many items this run raised or refreshed.
    """
    now = now or timezone.now()
    # Unscoped on purpose: the job runs for every organization.
    due = (
        Referral.objects.filter(
            status=ReferralStatus.NEW,
            substatus__in=AWAITING_ANSWER,
            is_draft=False,
            expiration_at__gt=now,
            expiration_at__lte=now + REMINDER_THRESHOLDS[-1][1],
        )
        .select_related("assigned_user")
        .order_by("pk")
    )
    wanted: dict[tuple[int, str], tuple[Referral, str]] = {}
    for referral in due:
        crossed = _threshold(referral, now)
        if crossed is not None:
            wanted[(referral.organization_id, _reminder_key(referral, crossed[0]))] = (referral, crossed[1])
            # The people who must answer hear of it once per threshold (notify's event key), whether
            # or not someone closed the Action Center item.
            referral_expiring_notify(referral, threshold=crossed[0])
    closed_by_user = set(
        ActionItem.objects.filter(
            dedupe_key__in=[key for _org, key in wanted],
            status__in=[ActionItemStatus.RESOLVED, ActionItemStatus.DISMISSED],
        )
        .exclude(status=ActionItemStatus.RESOLVED, resolved_by__isnull=True)
        .values_list("organization_id", "dedupe_key")
    )
    raised = 0
    for (organization_id, dedupe_key), (referral, severity) in wanted.items():
        if (organization_id, dedupe_key) in closed_by_user:
            continue
        _remind(referral, dedupe_key=dedupe_key, severity=severity)
        raised += 1
    stale = ActionItem.objects.filter(
        code=ActionItemCode.REFERRAL_EXPIRING,
        dedupe_key__startswith=_REMINDER_PREFIX,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).values_list("organization_id", "dedupe_key")
    for organization_id, dedupe_key in list(stale):
        if (organization_id, dedupe_key) not in wanted:
            action_item_resolve(organization_id=organization_id, dedupe_key=dedupe_key)
    return raised


def _remind(referral: Referral, *, dedupe_key: str, severity: str) -> None:
    expires = timezone.localtime(referral.expiration_at)
    assignee = referral.assigned_user
    whom = f"Assigned to {assignee.get_full_name()}." if assignee else "Nobody is assigned yet."
    action_item_raise(
        organization_id=referral.organization_id,
        code=ActionItemCode.REFERRAL_EXPIRING,
        dedupe_key=dedupe_key,
        title=f"Referral {referral.name} expires on {expires:%d %B %Y %H:%M}"[:200],
        body=f"{referral.customer_name}: accept or decline it before then, or it closes as Expired. {whom}",
        severity=severity,
        due_at=referral.expiration_at,
        target_url=reverse("cosell:referral-detail", kwargs={"pk": referral.pk}),
        # The Action Center addresses roles, not people: the assignee works as a Referrals user.
        audience_roles=[Role.REFERRALS_USER] if assignee else [Role.REFERRALS_ADMIN],
    )
