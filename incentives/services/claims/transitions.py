"""`claim_transition`: the one way a claim changes status. It checks `TRANSITIONS`, records the
change in the claim's history, writes an audit row, emits "incentives.claim.status_changed",
settles the claim's Action Center items and updates the overview's `ClaimSummary`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from incentives.models import Claim
from incentives.services.claims.reminders import _reminders_settle
from incentives.services.claims.rules import TRANSITIONS, _refuse
from incentives.services.summary import claim_summary_rebuild_on_commit
from portal.audit import audit_record
from portal.history import history_record
from portal.webhooks import register_event, webhook_emit

__all__ = ("CLAIM_STATUS_CHANGED", "claim_transition")

CLAIM_STATUS_CHANGED = register_event(
    "incentives.claim.status_changed",
    "A claim moved to another status (e.g. Submitted, Approved, Partner action required).",
)


def _jsonable(value: Any) -> Any:
    """Dates, times and amounts as the audit log's JSON stores them."""
    if isinstance(value, date | Decimal):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def claim_transition(
    *, claim: Claim, to_status: str, actor: Any, note: str = "", fields: dict[str, Any] | None = None
) -> Claim:
    """Move a locked claim to `to_status` if spec §6 allows it, saving `fields` with the status.

    Writes the history event, the audit row and the webhook; closes the Action Center items the
    new status makes moot. Callers lock the claim (`portal.locks.lock`) before they check anything.
    """
    from_status = claim.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_status, ()))) or "none (the claim is closed)"
        raise _refuse(
            f"A claim in {from_status} cannot move to {to_status}; allowed: {allowed}.", code="transition"
        )
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        changes: dict[str, Any] = {"status": [from_status, to_status]}
        for name, value in (fields or {}).items():
            changes[name] = [_jsonable(getattr(claim, name)), _jsonable(value)]
            setattr(claim, name, value)
        claim.status = to_status
        claim.updated_at = now
        claim.save(update_fields=["status", "updated_at", *(fields or {})])
        history_record(subject=claim, actor=actor, from_status=from_status, to_status=to_status, note=note)
        audit_record(
            actor=actor,
            action="incentives.claim.status_changed",
            organization_id=claim.organization_id,
            target=claim,
            changes={**changes, "note": note} if note else changes,
        )
        webhook_emit(
            organization_id=claim.organization_id,
            event=CLAIM_STATUS_CHANGED,
            data={
                "claimId": claim.claim_id,
                "fromStatus": from_status,
                "status": to_status,
                "activityCode": claim.activity_type.code,
                "customerTenantId": str(claim.customer_tenant_id),
                "note": note,
            },
        )
        _reminders_settle(claim)
        claim_summary_rebuild_on_commit(organization_id=claim.organization_id, created=[claim.created_at])
    return claim
