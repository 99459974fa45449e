"""The nightly GDAP and DAP check (spec/security.md §3.4): approvals that were never given expire,
live relationships auto-extend or expire, expiring ones raise their Action Center warning, and
inactive DAP links raise theirs. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from accounts.services.action_center import action_item_raise, action_item_resolve
from portal.locks import lock
from security.choices import DAP_INACTIVE_DAYS, GDAP_APPROVAL_EXPIRY, GDAP_LIVE_STATUSES, GdapStatus
from security.models import DapRelationship, GdapRelationship
from security.services.dap import DAP_INACTIVE_KEY, dap_key
from security.services.gdap_rules import (
    EXPIRING_KEY,
    GDAP_AUDIENCE,
    assignments_delete,
    expiring_key,
    expiring_warning_resolve,
    gdap_transition,
    has_global_admin,
    iso_value,
    role_ids_of,
    touch,
)
from security.services.notices import gdap_expiring_notify

__all__ = ("gdap_daily",)

S = GdapStatus
#: The auto-extension happens on the relationship's last day (spec §3.1).
LAST_DAY = timedelta(days=1)
WARNING_HIGH_DAYS = 7
#: A request or relationship still on its way to (or holding) access: a renewal in one of these
#: statuses covers an expiring relationship, so no warning is raised for it.
_RENEWAL_STATUSES = frozenset({S.CREATED, S.APPROVAL_PENDING, S.APPROVED, S.ACTIVATING, S.ACTIVE})


def _renewal_pending(relationship: GdapRelationship) -> bool:
    """A newer request or relationship with the same customer covers at least these roles."""
    roles = role_ids_of(relationship)
    newer = (
        GdapRelationship.objects.filter(
            organization_id=relationship.organization_id,
            customer_id=relationship.customer_id,
            status__in=_RENEWAL_STATUSES,
            created_at__gte=relationship.created_at,
        )
        .exclude(pk=relationship.pk)
        .prefetch_related("roles")
    )
    return any(roles <= {str(role.pk) for role in other.roles.all()} for other in newer)


def _raise_if_changed(*, organization_id: int, dedupe_key: str, **fields: Any) -> bool:
    """`action_item_raise`, skipped when the item already says the same (so a rerun changes
    nothing); a dismissed item stays dismissed. True when something was written."""
    item = ActionItem.objects.filter(organization_id=organization_id, dedupe_key=dedupe_key).first()
    if item is not None and (
        item.status == ActionItemStatus.DISMISSED
        or (
            item.status != ActionItemStatus.RESOLVED
            and all(getattr(item, name) == value for name, value in fields.items())
        )
    ):
        return False
    action_item_raise(organization_id=organization_id, dedupe_key=dedupe_key, **fields)
    return True


def _days_left(relationship: GdapRelationship, now: datetime) -> int:
    """Whole days to the end, a part day counting as one."""
    left = relationship.end_at - now
    return max(0, left.days + (1 if left.seconds or left.microseconds else 0))


def expiring_notice_thresholds() -> list[int]:
    """Days before the end at which people are told (once each): when the warning window opens,
    a week before and the last day."""
    window = settings.SECURITY_GDAP_WARNING_DAYS
    return sorted({days for days in (window, WARNING_HIGH_DAYS, 1) if 1 <= days <= window})


def _notify_expiring(relationship: GdapRelationship, now: datetime) -> int:
    """Tell the GDAP managers at the nearest threshold the relationship has reached; a run that
    missed a night tells at the next one, and each threshold is told once."""
    days = _days_left(relationship, now)
    reached = [threshold for threshold in expiring_notice_thresholds() if days <= threshold]
    if not reached:
        return 0
    return gdap_expiring_notify(relationship, days=days, threshold=min(reached))


def _warn_expiring(relationship: GdapRelationship, now: datetime) -> bool:
    left = relationship.end_at - now
    days = _days_left(relationship, now)
    return _raise_if_changed(
        organization_id=relationship.organization_id,
        dedupe_key=expiring_key(relationship),
        code=ActionItemCode.GDAP_EXPIRING,
        title=f"GDAP relationship “{relationship.display_name}” with {relationship.customer.name} "
        f"ends on {relationship.end_at:%Y-%m-%d}",
        severity=Severity.HIGH if left <= timedelta(days=WARNING_HIGH_DAYS) else Severity.MEDIUM,
        body=(
            f"It ends in {days} day{'s' if days != 1 else ''} and does not auto-extend. Turn on the "
            "auto-extension (not possible while it includes Global Administrator) or renew it, or "
            "your access to the customer's tenant stops."
        )
        if days <= WARNING_HIGH_DAYS
        else (
            "It does not auto-extend. Turn on the auto-extension (not possible while it includes "
            "Global Administrator) or renew it, or your access to the customer's tenant stops."
        ),
        due_at=relationship.end_at,
        target_url=reverse("security:gdap-detail", args=[relationship.pk]),
        audience_roles=GDAP_AUDIENCE,
        location_id=None,
    )


def _expire(relationship: GdapRelationship) -> None:
    if relationship.status == S.ACTIVE:
        gdap_transition(actor=None, relationship=relationship, to_status=S.EXPIRING)
    assignments_delete(relationship)
    gdap_transition(actor=None, relationship=relationship, to_status=S.EXPIRED)


def _daily_relationship(
    relationship: GdapRelationship, now: datetime, warn_until: datetime
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with transaction.atomic():
        relationship = lock(relationship, "customer")
        if relationship.status not in GDAP_LIVE_STATUSES:
            return counts
        roles = role_ids_of(relationship)
        extends = relationship.auto_extends and not has_global_admin(roles)
        if extends:
            if relationship.end_at <= now + LAST_DAY:
                before = relationship.end_at
                while relationship.end_at <= now + LAST_DAY:
                    relationship.end_at += relationship.auto_extend_duration
                touch(
                    relationship,
                    {"end_at": [iso_value(before), iso_value(relationship.end_at)]},
                    actor=None,
                    action="gdap.auto_extended",
                )
                counts["extended"] = 1
            if relationship.status == S.EXPIRING:
                gdap_transition(actor=None, relationship=relationship, to_status=S.ACTIVE)
            counts["warnings_resolved"] = expiring_warning_resolve(relationship)
        elif relationship.end_at <= now:
            _expire(relationship)
            counts["expired"] = 1
            counts["warnings_resolved"] = expiring_warning_resolve(relationship)
        elif relationship.end_at <= warn_until:
            if relationship.status == S.ACTIVE:
                gdap_transition(actor=None, relationship=relationship, to_status=S.EXPIRING)
                counts["expiring"] = 1
            if _renewal_pending(relationship):
                counts["warnings_resolved"] = expiring_warning_resolve(relationship)
            else:
                counts["warnings_raised"] = int(_warn_expiring(relationship, now))
                _notify_expiring(relationship, now)
        elif relationship.status == S.EXPIRING:
            # The warning window shrank (setting changed): it is simply active again.
            gdap_transition(actor=None, relationship=relationship, to_status=S.ACTIVE)
            counts["warnings_resolved"] = expiring_warning_resolve(relationship)
    return counts


def _dap_daily(now: datetime) -> dict[str, int]:
    counts = {"dap_inactive_raised": 0, "dap_inactive_resolved": 0}
    quiet_since = now - timedelta(days=DAP_INACTIVE_DAYS)
    inactive_keys: set[tuple[int, str]] = set()
    for dap in DapRelationship.objects.filter(removed_at__isnull=True).select_related("customer"):
        last = dap.last_activity_at or dap.established_at
        if last > quiet_since:
            continue
        inactive_keys.add((dap.organization_id, dap_key(dap)))
        counts["dap_inactive_raised"] += _raise_if_changed(
            organization_id=dap.organization_id,
            dedupe_key=dap_key(dap),
            code=ActionItemCode.DAP_INACTIVE,
            title=f"Remove the inactive DAP relationship with {dap.customer.name}",
            severity=Severity.LOW,
            body=(
                f"No admin-on-behalf-of activity since {last:%Y-%m-%d}. DAP gives your Admin agents "
                "Global Administrator in the customer's tenant with no end date; remove it and use "
                "least-privileged GDAP roles instead. Removing it does not affect partner earned credit."
            ),
            due_at=None,
            target_url=reverse("security:dap-list"),
            audience_roles=GDAP_AUDIENCE,
            location_id=None,
        )
    for item in ActionItem.objects.filter(
        code=ActionItemCode.DAP_INACTIVE,
        dedupe_key__startswith=DAP_INACTIVE_KEY,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).only("organization_id", "dedupe_key"):
        if (item.organization_id, item.dedupe_key) not in inactive_keys:
            counts["dap_inactive_resolved"] += action_item_resolve(
                organization_id=item.organization_id, dedupe_key=item.dedupe_key
            )
    return counts


def gdap_daily(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly GDAP and DAP check (beat); running it twice changes nothing the second time.

    - requests waiting for approval more than 90 days expire;
    - live relationships on their last day auto-extend by 180 days when set to, else they expire
      at their end (access assignments deleted);
    - live relationships ending within SECURITY_GDAP_WARNING_DAYS that do not auto-extend become
      `expiring` and raise GDAP_EXPIRING (high at ≤ 7 days), unless a renewal covers them;
    - DAP links without activity for 90 days raise DAP_INACTIVE; removed or active ones resolve it.
    """
    now = now or timezone.now()
    warn_until = now + timedelta(days=settings.SECURITY_GDAP_WARNING_DAYS)
    counts = {
        "approvals_expired": 0,
        "extended": 0,
        "expiring": 0,
        "expired": 0,
        "warnings_raised": 0,
        "warnings_resolved": 0,
    }

    stale = GdapRelationship.objects.filter(
        status=S.APPROVAL_PENDING, locked_for_approval_at__lte=now - GDAP_APPROVAL_EXPIRY
    )
    for relationship in stale:
        with transaction.atomic():
            relationship = lock(relationship, "customer")
            if relationship.status != S.APPROVAL_PENDING:
                continue
            gdap_transition(
                actor=None, relationship=relationship, to_status=S.EXPIRED, fields={"end_at": now}
            )
            counts["approvals_expired"] += 1

    due = GdapRelationship.objects.filter(status__in=GDAP_LIVE_STATUSES, end_at__lte=warn_until)
    due_keys: set[tuple[int, str]] = set()
    for relationship in due.order_by("end_at", "pk"):
        for name, value in _daily_relationship(relationship, now, warn_until).items():
            counts[name] += value
    # Expiring relationships whose window shrank (the setting changed) go back to active.
    for relationship in GdapRelationship.objects.filter(status=S.EXPIRING, end_at__gt=warn_until):
        for name, value in _daily_relationship(relationship, now, warn_until).items():
            counts[name] += value
    for relationship in GdapRelationship.objects.filter(status=S.EXPIRING).only(
        "organization_id", "relationship_id"
    ):
        due_keys.add((relationship.organization_id, expiring_key(relationship)))
    # Items whose relationship stopped expiring some other way (a renewal, a change by hand).
    for item in ActionItem.objects.filter(
        code=ActionItemCode.GDAP_EXPIRING,
        dedupe_key__startswith=EXPIRING_KEY,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).only("organization_id", "dedupe_key"):
        if (item.organization_id, item.dedupe_key) not in due_keys:
            counts["warnings_resolved"] += action_item_resolve(
                organization_id=item.organization_id, dedupe_key=item.dedupe_key
            )
    counts |= _dap_daily(now)
    return counts
