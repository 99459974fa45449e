"""Legacy DAP links (spec/security.md §3): mirrored so they can be reported and removed, never created.

Partner Center stopped creating DAP at the end of November 2023; `dap_legacy_import` only mirrors
links established before (the database check backs it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Organization
from accounts.services.action_center import action_item_resolve
from portal.audit import audit_record
from portal.locks import lock, lock_many
from security.choices import DAP_CREATION_ENDED
from security.models import DapRelationship
from security.services.gdap_rules import iso_value, refuse

__all__ = ("DAP_INACTIVE_KEY", "dap_key", "dap_legacy_import", "dap_remove")

DAP_INACTIVE_KEY = "dap-inactive:"


def dap_key(dap: DapRelationship) -> str:
    """The dedupe key of the DAP_INACTIVE Action Center item of one link."""
    return f"{DAP_INACTIVE_KEY}{dap.pk}"


@transaction.atomic
def dap_legacy_import(
    *,
    organization: Organization,
    customer: Customer,
    established_at: datetime,
    last_activity_at: datetime | None = None,
) -> DapRelationship:
    """Mirror a DAP link that already exists in the customer's tenant — the ONLY writer of DAP rows.

    Partner Center stopped creating DAP at the end of November 2023, so a link established on or
    after DAP_CREATION_ENDED is refused (the database check refuses it too). Importing the same
    link again refreshes its last activity.
    """
    if customer.organization_id != organization.pk:
        raise refuse("customer", "This customer does not belong to your organization.")
    if timezone.is_naive(established_at):
        established_at = timezone.make_aware(established_at, UTC)
    if established_at >= DAP_CREATION_ENDED:
        raise refuse(
            "established_at",
            f"DAP relationships can no longer be created (Partner Center stopped on "
            f"{DAP_CREATION_ENDED:%Y-%m-%d}); a link established on {established_at:%Y-%m-%d} cannot be "
            "DAP. Use GDAP.",
            code="dap_ended",
        )
    if last_activity_at is not None and last_activity_at < established_at:
        raise refuse("last_activity_at", "The last activity cannot be before the link was established.")
    existing = lock_many(DapRelationship.objects.filter(customer=customer)).first()
    if existing is not None:
        if existing.removed_at is not None:
            raise refuse(
                "customer",
                f"This customer's DAP relationship was removed on {existing.removed_at:%Y-%m-%d}; "
                "a removed DAP cannot come back. Use GDAP.",
                code="removed",
            )
        if last_activity_at and (
            existing.last_activity_at is None or last_activity_at > existing.last_activity_at
        ):
            existing.last_activity_at = last_activity_at
            existing.save(update_fields=["last_activity_at"])
        return existing
    dap = DapRelationship(
        organization=organization,
        customer=customer,
        established_at=established_at,
        last_activity_at=last_activity_at,
        detected_at=timezone.now(),
    )
    dap.save()
    audit_record(
        actor=None,
        action="dap.imported",
        organization_id=organization.pk,
        target=dap,
        changes={"customer": customer.pk, "established_at": iso_value(established_at)},
    )
    return dap


@transaction.atomic
def dap_remove(*, actor: Any, dap: DapRelationship) -> DapRelationship:
    """Remove a legacy DAP link (the recommended step once GDAP covers the customer)."""
    dap = lock(dap)
    if dap.removed_at is not None:
        raise refuse("removed_at", f"This DAP relationship was already removed on {dap.removed_at:%Y-%m-%d}.")
    dap.removed_at = timezone.now()
    dap.removed_by = actor if getattr(actor, "pk", None) else None
    dap.save(update_fields=["removed_at", "removed_by"])
    audit_record(
        actor=actor,
        action="dap.removed",
        organization_id=dap.organization_id,
        target=dap,
        changes={"customer": dap.customer_id},
    )
    action_item_resolve(organization_id=dap.organization_id, dedupe_key=dap_key(dap), actor=actor)
    return dap
