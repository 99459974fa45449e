"""Creating a Draft claim (spec §6): the partner's ownership of location, customer and
opportunity, the eligibility rules, a unique claim ID, and the last-line duplicate guard."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Customer, PartnerLocation
from incentives.choices import CustomerIdType
from incentives.models import ActivityType, Claim, Opportunity
from incentives.services.claims.rules import ClaimRefused, _refuse
from incentives.services.eligibility import EligibilityCode, RuleFailure, customer_eligibility, market_tier_of
from incentives.services.payouts import potential_payout
from incentives.services.summary import claim_summary_rebuild_on_commit
from portal.audit import audit_record
from portal.capabilities import Capability, locations_granting
from portal.history import history_record

__all__ = ("claim_create",)

DUPLICATE_MESSAGE = (
    "This customer already has a live claim for this activity, by your organization or another partner."
)


def _claim_id_next(year: int) -> str:
    """The next "CLM-<year>-<6 digits>", under a transaction-scoped advisory lock: no two equal."""
    prefix = f"CLM-{year}-"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"incentives.claim_id.{year}"])
    last = Claim.objects.filter(claim_id__startswith=prefix).aggregate(last=Max("claim_id"))["last"]
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _lock_customer_activity(activity_type: ActivityType, tenant_id: uuid.UUID) -> None:
    """Serialise claim creation per activity and customer tenant, so R1 and R2 are checked on
    committed data: a second partner waits here until the first claim is in the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"incentives.claim.{activity_type.pk}.{tenant_id}"]
        )


def _check_owner(actor: Any, location: PartnerLocation, customer: Customer, opportunity: Opportunity | None):
    errors: dict[str, str] = {}
    if location.organization_id != actor.organization_id:
        errors["location"] = "This location does not belong to your organization."
    else:
        granted = locations_granting(actor, Capability.INCENTIVES_CLAIMS)
        if granted is not None and location.pk not in granted:
            errors["location"] = "Your incentives role does not cover this location."
    if customer.organization_id != actor.organization_id:
        errors["customer"] = "This customer is not one of your organization's customers."
    if opportunity is not None:
        if opportunity.organization_id != actor.organization_id:
            errors["opportunity"] = "This opportunity is not shared with your organization."
        elif opportunity.customer_id != customer.pk:
            errors["opportunity"] = f"This opportunity belongs to another customer, not {customer.name}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def claim_create(
    *,
    actor: Any,
    activity_type: ActivityType,
    location: PartnerLocation,
    customer: Customer,
    friendly_name: str,
    opportunity: Opportunity | None = None,
    contact_name: str = "",
    contact_email: str = "",
    estimated_deal_size_usd: Decimal | None = None,
    customer_id_type: str | None = None,
) -> Claim:
    """Create a Draft claim, or raise `ClaimRefused` naming every eligibility rule it fails.

    The customer ID type defaults to the MSX opportunity ID for a claim on an opportunity and to
    the tenant ID otherwise. The potential payout shown before the partner committed is recorded.
    """
    _check_owner(actor, location, customer, opportunity)
    if customer_id_type is None:
        customer_id_type = CustomerIdType.MSX_OPPORTUNITY if opportunity else CustomerIdType.TENANT_ID
    if customer_id_type not in CustomerIdType.values:
        raise _refuse(f"Unknown customer ID type {customer_id_type!r}.", field="customer_id_type")
    if estimated_deal_size_usd is not None and Decimal(estimated_deal_size_usd) < 0:
        raise _refuse("The estimated deal size cannot be negative.", field="estimated_deal_size_usd")

    _lock_customer_activity(activity_type, customer.tenant_id)
    eligibility = customer_eligibility(
        activity_type=activity_type, customer=customer, location=location, opportunity=opportunity
    )
    if not eligibility.eligible:
        raise ClaimRefused(eligibility.failures)
    payout = potential_payout(activity_type=activity_type, location=location, opportunity=opportunity)
    now = timezone.now()
    claim = Claim(
        organization_id=actor.organization_id,
        claim_id=_claim_id_next(timezone.localdate().year),
        activity_type=activity_type,
        location=location,
        customer=customer,
        customer_tenant_id=customer.tenant_id,
        customer_id_type=customer_id_type,
        opportunity=opportunity,
        friendly_name=friendly_name.strip(),
        market_tier=market_tier_of(location),
        estimated_deal_size_usd=estimated_deal_size_usd,
        potential_payout_usd=payout.amount_usd,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    claim.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # The partial unique index (R1) is the last line of defence should anything bypass the lock.
        with transaction.atomic():
            claim.save(force_insert=True)
    except IntegrityError as exc:
        if "incentives_one_live_claim_per_customer" not in str(exc):
            raise
        raise ClaimRefused([RuleFailure(EligibilityCode.DUPLICATE_CLAIM, DUPLICATE_MESSAGE)]) from exc
    history_record(subject=claim, actor=actor, to_status=claim.status, note="Claim created.")
    claim_summary_rebuild_on_commit(organization_id=claim.organization_id, created=[claim.created_at])
    audit_record(
        actor=actor,
        action="incentives.claim.created",
        organization_id=claim.organization_id,
        target=claim,
        changes={
            "activity": activity_type.code,
            "customer": customer.name,
            "potential_payout_usd": str(claim.potential_payout_usd),
        },
    )
    return claim
