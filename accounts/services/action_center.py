"""The Action Center: other apps raise and close items only through these functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.choices import ActionItemStatus, Severity
from accounts.models import ActionItem
from portal.audit import audit_record

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
    assignee_id: int | None = None,
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
        "assignee_id": assignee_id,
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


_RAISED_FIELDS = (
    "code",
    "title",
    "severity",
    "body",
    "due_at",
    "target_url",
    "audience_roles",
    "location_id",
    "assignee_id",
)


@transaction.atomic(savepoint=False)
def action_items_raise(items: list[dict[str, Any]]) -> int:
    """`action_item_raise` for many items at once, in a few queries whatever their number; each
    dict holds that function's arguments. Same rules: new items are created, existing ones
    refreshed, resolved ones reopened, dismissed ones left dismissed. Returns how many were created."""
    if not items:
        return 0
    wanted = {
        (item["organization_id"], item["dedupe_key"]): {
            "code": item["code"],
            "title": item["title"],
            "severity": item.get("severity", Severity.MEDIUM),
            "body": item.get("body", ""),
            "due_at": item.get("due_at"),
            "target_url": item.get("target_url", ""),
            "audience_roles": item.get("audience_roles") or [],
            "location_id": item.get("location_id"),
            "assignee_id": item.get("assignee_id"),
        }
        for item in items
    }
    organization_ids = {organization_id for organization_id, _ in wanted}
    keys = {key for _, key in wanted}
    existing = list(
        ActionItem.objects.select_for_update().filter(
            organization_id__in=organization_ids, dedupe_key__in=keys
        )
    )
    refreshed = []
    for item in existing:
        values = wanted.pop((item.organization_id, item.dedupe_key), None)
        if values is None:
            continue  # same organization and key, but not one of the pairs asked for
        for field, value in values.items():
            setattr(item, field, value)
        if item.status == ActionItemStatus.RESOLVED:
            item.status, item.resolved_at, item.resolved_by = ActionItemStatus.OPEN, None, None
        refreshed.append(item)
    ActionItem.objects.bulk_update(
        refreshed, [*_RAISED_FIELDS, "status", "resolved_at", "resolved_by"], batch_size=1000
    )
    ActionItem.objects.bulk_create(
        [
            ActionItem(organization_id=organization_id, dedupe_key=key, **values)
            for (organization_id, key), values in wanted.items()
        ],
        batch_size=1000,
    )
    return len(wanted)


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


@transaction.atomic
def action_item_assign(*, actor: Any, item: ActionItem, assignee: Any | None) -> ActionItem:
    """Give the item to one person of its organization (None: back to the roles it addresses)."""
    if assignee is not None and (assignee.organization_id != item.organization_id or not assignee.is_active):
        raise ValidationError({"assignee": "Choose an active member of your organization."})
    before = item.assignee_id
    item.assignee = assignee
    item.save(update_fields=["assignee"])
    audit_record(
        actor=actor,
        action="action_item.assigned",
        organization_id=item.organization_id,
        target=item,
        changes={"assignee": [before, assignee.pk if assignee else None]},
    )
    return item


def action_items_wake_snoozed() -> int:
    """Reopen items whose snooze ended (run by beat)."""
    return ActionItem.objects.filter(
        status=ActionItemStatus.SNOOZED, snoozed_until__lte=timezone.now()
    ).update(status=ActionItemStatus.OPEN, snoozed_until=None)
