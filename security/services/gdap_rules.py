"""The rules every GDAP writer shares (spec/security.md §3): Graph's field rules, the status table
and its one transition, and the relationship's history.

Graph's rules for `delegatedAdminRelationship` hold here: the display name is unique per partner,
at most 50 characters and set only while `created`; the duration is P1D..P2Y; the auto-extension
is PT0S or P180D, may change while `created` or live, and is refused with Global Administrator.
Every status change goes through `gdap_transition` (the table `GDAP_TRANSITIONS`): it writes the
audit row and emits "security.gdap.status_changed". `record_change` appends each status move, and
each change of the end date or the auto-extension, to the relationship's history (portal.history)
in the same transaction: that is what the relationship's page, API and admin show.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services.action_center import action_item_resolve
from portal.audit import audit_record
from portal.history import history_record
from portal.roles import Role
from portal.webhooks import register_event, webhook_emit
from security.choices import (
    GDAP_AUTO_EXTEND_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_DISPLAY_NAME_MAX,
    GDAP_FINAL_STATUSES,
    GDAP_LIVE_STATUSES,
    GDAP_MAX_DURATION,
    GDAP_MIN_DURATION,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.models import EntraRole, GdapRelationship
from security.services.notices import gdap_ended_notify

__all__ = (
    "EXPIRING_KEY",
    "GDAP_AUDIENCE",
    "GDAP_STATUS_CHANGED",
    "GDAP_TRANSITIONS",
    "RENEWABLE_STATUSES",
    "assignments_delete",
    "auto_extend_checked",
    "display_name_checked",
    "duration_checked",
    "entra_roles",
    "expiring_key",
    "expiring_warning_resolve",
    "gdap_transition",
    "has_global_admin",
    "iso_value",
    "record_change",
    "refuse",
    "role_ids_of",
    "touch",
    "tracked_values",
)

GDAP_STATUS_CHANGED = register_event(
    "security.gdap.status_changed",
    "A GDAP relationship moved to another status (e.g. approvalPending, active, expiring, terminated).",
)

S = GdapStatus
#: Where a relationship may go from each status (spec §3.1). Approval runs approved → activating →
#: active; expiry runs active → expiring → expired; termination runs through its three steps.
GDAP_TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.APPROVAL_PENDING}),
    S.APPROVAL_PENDING: frozenset({S.APPROVED, S.EXPIRED}),
    S.APPROVED: frozenset({S.ACTIVATING}),
    S.ACTIVATING: frozenset({S.ACTIVE}),
    S.ACTIVE: frozenset({S.EXPIRING, S.TERMINATION_REQUESTED}),
    S.EXPIRING: frozenset({S.ACTIVE, S.EXPIRED, S.TERMINATION_REQUESTED}),
    S.TERMINATION_REQUESTED: frozenset({S.TERMINATING}),
    S.TERMINATING: frozenset({S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.TERMINATED: frozenset(),
}
#: Statuses of a relationship that gives access: ending from one of them is news (a request that
#: expired unanswered never gave any).
_GAVE_ACCESS = GDAP_LIVE_STATUSES | {S.TERMINATION_REQUESTED, S.TERMINATING}
#: Relationships a renewal may start from: the live ones and the ended ones.
RENEWABLE_STATUSES = GDAP_LIVE_STATUSES | GDAP_FINAL_STATUSES
#: Who acts on GDAP and DAP items in the Action Center.
GDAP_AUDIENCE = [Role.ADMIN_AGENT, Role.GLOBAL_ADMIN]
EXPIRING_KEY = "gdap-expiring:"


def refuse(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def iso_value(value: Any) -> Any:
    """A date-time or duration as the audit rows and Graph write it (ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"P{value.days}D" if value else "PT0S"
    return value


def role_ids_of(relationship: GdapRelationship) -> set[str]:
    return {str(pk) for pk in relationship.roles.values_list("pk", flat=True)}


def has_global_admin(role_ids: Iterable[str]) -> bool:
    return GLOBAL_ADMINISTRATOR_ROLE_ID in {str(role_id) for role_id in role_ids}


def entra_roles(role_ids: Iterable[str], *, field: str = "role_ids") -> list[EntraRole]:
    """The Entra roles named by `role_ids` (template ids), refusing unknown or missing ones."""
    wanted: list[uuid.UUID] = []
    for role_id in role_ids or []:
        try:
            wanted.append(uuid.UUID(str(role_id)))
        except ValueError:
            raise refuse(field, f"{role_id!r} is not an Entra role template id.") from None
    if not wanted:
        raise refuse(field, "Choose at least one Entra role.", code="required")
    roles = list(EntraRole.objects.filter(pk__in=wanted))
    unknown = sorted({str(role_id) for role_id in wanted} - {str(role.pk) for role in roles})
    if unknown:
        raise refuse(field, f"Unknown Entra role(s): {', '.join(unknown)}.", code="unknown_role")
    return roles


def display_name_checked(organization_id: int, display_name: str, *, exclude_pk: int | None = None) -> str:
    name = (display_name or "").strip()
    if not name:
        raise refuse("display_name", "Enter a display name.", code="required")
    if len(name) > GDAP_DISPLAY_NAME_MAX:
        raise refuse(
            "display_name",
            f"The display name has {len(name)} characters; Graph allows at most {GDAP_DISPLAY_NAME_MAX}.",
            code="max_length",
        )
    taken = GdapRelationship.objects.filter(organization_id=organization_id, display_name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise refuse(
            "display_name",
            f"You already have a GDAP relationship named {name!r}; display names are unique per partner.",
            code="unique",
        )
    return name


def duration_checked(duration: Any) -> timedelta:
    if not isinstance(duration, timedelta):
        raise refuse("duration", "Give the duration as a length of time, e.g. P730D.")
    if not GDAP_MIN_DURATION <= duration <= GDAP_MAX_DURATION:
        raise refuse(
            "duration",
            f"The duration must be between P1D and P2Y (P730D); {iso_value(duration)} is outside.",
            code="range",
        )
    return duration


def auto_extend_checked(auto_extend_duration: Any, role_ids: Iterable[str]) -> timedelta:
    if auto_extend_duration not in (GDAP_AUTO_EXTEND_NONE, GDAP_AUTO_EXTEND_DAYS):
        raise refuse(
            "auto_extend_duration",
            "The auto-extension is either PT0S (off) or P180D (six months).",
            code="choice",
        )
    if auto_extend_duration and has_global_admin(role_ids):
        raise refuse(
            "auto_extend_duration",
            "Relationships that include the Global Administrator role cannot auto-extend; "
            "remove Global Administrator first.",
            code="global_admin",
        )
    return auto_extend_duration


def tracked_values(relationship: GdapRelationship) -> dict[str, Any]:
    """What each history event keeps besides the status: the end date and the auto-extension."""
    return {
        "end_at": relationship.end_at,
        "auto_extend_duration": iso_value(relationship.auto_extend_duration),
    }


def record_change(
    relationship: GdapRelationship, *, actor: Any, from_status: str, changed: Iterable[str]
) -> None:
    """Append a saved write to the relationship's history if it moved the status, the end date or
    the auto-extension; the note says which of the latter two changed, and to what."""
    notes = []
    if "end_at" in changed and relationship.end_at:
        notes.append(f"End date {relationship.end_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    if "auto_extend_duration" in changed:
        notes.append("Auto-extend on" if relationship.auto_extend_duration else "Auto-extend off")
    if from_status == relationship.status and not notes:
        return
    history_record(
        subject=relationship,
        actor=actor,
        from_status=from_status,
        to_status=relationship.status,
        note="; ".join(notes) or ("Created" if not from_status else ""),
        data=tracked_values(relationship),
    )


def expiring_key(relationship: GdapRelationship) -> str:
    return f"{EXPIRING_KEY}{relationship.relationship_id}"


def expiring_warning_resolve(relationship: GdapRelationship, actor: Any = None) -> int:
    return action_item_resolve(
        organization_id=relationship.organization_id, dedupe_key=expiring_key(relationship), actor=actor
    )


def touch(relationship: GdapRelationship, changes: dict[str, list[Any]], *, actor: Any, action: str) -> None:
    """Save a (locked) relationship's changed fields with its history event and audit row."""
    relationship.last_modified_at = timezone.now()
    relationship.save()
    record_change(relationship, actor=actor, from_status=relationship.status, changed=changes)
    audit_record(
        actor=actor,
        action=action,
        organization_id=relationship.organization_id,
        target=relationship,
        changes=changes,
    )


def gdap_transition(
    *, actor: Any, relationship: GdapRelationship, to_status: str, fields: dict[str, Any] | None = None
) -> GdapRelationship:
    """Move a (locked) relationship to `to_status` if `GDAP_TRANSITIONS` allows it, saving `fields`
    with the status; writes the audit row and emits the webhook."""
    from_status = relationship.status
    if to_status not in GDAP_TRANSITIONS.get(from_status, frozenset()):
        allowed = ", ".join(sorted(GDAP_TRANSITIONS.get(from_status, ()))) or "none (it has ended)"
        raise refuse(
            "status",
            f"A GDAP relationship in {from_status} cannot move to {to_status}; allowed: {allowed}.",
            code="transition",
        )
    now = timezone.now()
    changes: dict[str, Any] = {"status": [from_status, to_status]}
    for name, value in (fields or {}).items():
        changes[name] = [iso_value(getattr(relationship, name)), iso_value(value)]
        setattr(relationship, name, value)
    relationship.status = to_status
    relationship.last_modified_at = now
    with transaction.atomic(savepoint=False):
        relationship.save(update_fields=["status", "last_modified_at", *(fields or {})])
        record_change(relationship, actor=actor, from_status=from_status, changed=changes)
        audit_record(
            actor=actor,
            action="gdap.status_changed",
            organization_id=relationship.organization_id,
            target=relationship,
            changes=changes,
        )
        customer = relationship.customer
        webhook_emit(
            organization_id=relationship.organization_id,
            event=GDAP_STATUS_CHANGED,
            data={
                "id": relationship.relationship_id,
                "displayName": relationship.display_name,
                "customer": {"tenantId": str(customer.tenant_id), "displayName": customer.name},
                "fromStatus": from_status,
                "status": to_status,
                "endDateTime": iso_value(relationship.end_at),
                "lastModifiedDateTime": iso_value(now),
            },
        )
        if to_status in GDAP_FINAL_STATUSES and from_status in _GAVE_ACCESS:
            gdap_ended_notify(relationship, actor=actor)
    return relationship


def assignments_delete(relationship: GdapRelationship) -> int:
    """Mark every access assignment of the relationship deleted (its access ended)."""
    return relationship.access_assignments.exclude(status=AccessAssignmentStatus.DELETED).update(
        status=AccessAssignmentStatus.DELETED, last_modified_at=timezone.now()
    )
