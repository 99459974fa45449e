"""The audit log writer: services call `audit_record` for every change a person or client makes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import models

from portal import context
from portal.history import actor_label
from portal.models import AuditEvent


def _event(
    *,
    actor: Any,
    action: str,
    organization_id: int | None,
    target: models.Model | None,
    changes: dict[str, Any] | None,
) -> AuditEvent:
    request = context.current()
    return AuditEvent(
        organization_id=organization_id,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:254] if target is not None else "",
        changes=changes or {},
        ip_address=request.ip_address,
        user_agent=request.user_agent,
        request_id=request.request_id,
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    organization_id: int | None,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    event = _event(
        actor=actor, action=action, organization_id=organization_id, target=target, changes=changes
    )
    event.save()
    return event


def audit_record_each(
    *,
    actor: Any,
    action: str,
    organization_id: int | None,
    targets: Sequence[models.Model],
    changes: Callable[[models.Model], dict[str, Any]] | None = None,
) -> list[AuditEvent]:
    """One audit row per target, written in one INSERT (set-based jobs audit thousands at once)."""
    return AuditEvent.objects.bulk_create(
        [
            _event(
                actor=actor,
                action=action,
                organization_id=organization_id,
                target=target,
                changes=changes(target) if changes else None,
            )
            for target in targets
        ]
    )


def apply_changes(obj: models.Model, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set `values` on `obj` (unsaved) and return the audit diff: {field: [before, after]} for each
    field whose value differed."""
    changes = {
        name: [getattr(obj, name), value] for name, value in values.items() if getattr(obj, name) != value
    }
    for name, (_, value) in changes.items():
        setattr(obj, name, value)
    return changes
