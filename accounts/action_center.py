"""The Action Center: other apps raise and close items only through these functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.choices import ActionItemStatus, Severity
from accounts.models import ActionItem

SNOOZE_DAYS = 7


@transaction.atomic(savepoint=False)
def action_item_raise(
    *,
    organization_id: int,
    code: str,
    dedupe_key: str,
    title: str,
    severity: str = Severity.MEDIUM,
    body: str = "",
    due_at: datetime | None = None,
    target_url: str = "",
    audience_roles: list[str] | None = None,
    location_id: int | None = None,
) -> ActionItem:
    """Create or refresh the item for `dedupe_key`; idempotent, so checks may call it every run.

    A resolved item whose cause returns is reopened; a dismissed one stays dismissed.
    """
    defaults = {
        "code": code,
        "title": title,
        "severity": severity,
        "body": body,
        "due_at": due_at,
        "target_url": target_url,
        "audience_roles": audience_roles or [],
        "location_id": location_id,
    }
    item, created = ActionItem.objects.select_for_update().get_or_create(
        organization_id=organization_id, dedupe_key=dedupe_key, defaults=defaults
    )
    if created:
        return item
    for field, value in defaults.items():
        setattr(item, field, value)
    if item.status == ActionItemStatus.RESOLVED:
        item.status = ActionItemStatus.OPEN
        item.resolved_at = None
        item.resolved_by = None
    item.save()
    return item


def action_item_resolve(*, organization_id: int, dedupe_key: str, actor: Any = None) -> int:
    """Close the item because its cause went away (called by the check that owns it)."""
    return ActionItem.objects.filter(
        organization_id=organization_id,
        dedupe_key=dedupe_key,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).update(
        status=ActionItemStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolved_by=actor if getattr(actor, "pk", None) else None,
    )


def _close(item: ActionItem, *, actor: Any, status: str) -> ActionItem:
    if item.is_closed:
        raise ValidationError({"status": f"This item is already {item.get_status_display().lower()}."})
    before = item.status
    item.status = status
    item.resolved_at = timezone.now()
    item.resolved_by = actor
    item.save(update_fields=["status", "resolved_at", "resolved_by"])
    audit_record(
        actor=actor,
        action=f"action_item.{status}",
        organization_id=item.organization_id,
        target=item,
        changes={"status": [before, status]},
    )
    return item


@transaction.atomic
def action_item_mark_done(*, actor: Any, item: ActionItem) -> ActionItem:
    return _close(item, actor=actor, status=ActionItemStatus.RESOLVED)


@transaction.atomic
def action_item_dismiss(*, actor: Any, item: ActionItem) -> ActionItem:
    if item.severity == Severity.HIGH:
        raise ValidationError({"severity": "High-severity items cannot be dismissed; resolve them."})
    return _close(item, actor=actor, status=ActionItemStatus.DISMISSED)


@transaction.atomic
def action_item_snooze(*, actor: Any, item: ActionItem) -> ActionItem:
    if item.severity == Severity.HIGH:
        raise ValidationError({"severity": "High-severity items cannot be snoozed."})
    if item.is_closed:
        raise ValidationError({"status": "Only open items can be snoozed."})
    item.status = ActionItemStatus.SNOOZED
    item.snoozed_until = timezone.now() + timedelta(days=SNOOZE_DAYS)
    item.save(update_fields=["status", "snoozed_until"])
    audit_record(actor=actor, action="action_item.snoozed", organization_id=item.organization_id, target=item)
    return item


def action_items_wake_snoozed() -> int:
    """Reopen items whose snooze ended (run by beat)."""
    return ActionItem.objects.filter(
        status=ActionItemStatus.SNOOZED, snoozed_until__lte=timezone.now()
    ).update(status=ActionItemStatus.OPEN, snoozed_until=None)
