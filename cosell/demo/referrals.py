"""Seeding the demo referrals through the real services, so routing, history, eTags and webhooks
are what the vendor, a partner and the jobs would produce.

Inbound referrals arrive from the vendor as Partner Center JSON (`referral_create`, routed on
arrival) and are accepted, declined, won or lost by the organization's Referrals admin;
partner-created deals (Private, Partner-led, Co-sell with its vendor-side referral, and a draft) go
through the deal services. The Expired referral is closed by the expiry job (`referrals_expire`);
the services give every new referral fourteen days, so the demo backdates that one referral's
creation and deadline first, in a direct update recorded in its history as "Demo data" — the only
write here that bypasses the services."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from accounts.models import Organization, User
from cosell.choices import DealKind, HistorySource, LeadTemperature, ReferralType
from cosell.demo.referral_data import (
    ACCEPTED,
    DECLINED,
    DRAFT,
    EXPIRED,
    LOST,
    OPEN,
    REFERRALS,
    WON,
    DemoReferral,
)
from cosell.models import Referral
from cosell.services.activity import referral_recorded
from cosell.services.referrals import (
    deal_draft_save,
    referral_accept,
    referral_close,
    referral_create,
    referral_decline,
    referral_update,
    referrals_expire,
)
from cosell.validation import VENDOR_ID
from portal.capabilities import Capability, can
from portal.roles import Role

if TYPE_CHECKING:
    from cosell.demo.seed import CosellSeedReport


#: Referrals the vendor sends arrive created this long ago at the latest (the Expired one).
EXPIRED_DAYS_AGO = 20

DEMO_NOTE = "Demo data: backdated so the expiry job closes this referral."


def _referrals_admin(organization: Organization) -> User | None:
    """The person who works the organization's referrals: its Referrals admin, else an owner."""
    users = User.objects.filter(organization=organization, is_active=True)
    candidates = [user for user in users.order_by("pk") if can(user, Capability.REFERRALS_MANAGE_ALL)]
    for user in candidates:
        if user.role_assignments.filter(role=Role.REFERRALS_ADMIN).exists():
            return user
    return candidates[0] if candidates else None


def _closing(rng: random.Random) -> str:
    """A closing date one to six months ahead, at midnight UTC, as the API writes it."""
    day = timezone.localdate() + timedelta(days=rng.randint(30, 180))
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _value(demo: DemoReferral, rng: random.Random) -> int:
    """The deal value, varied by the seed in steps of 1,000."""
    return int(round(demo.deal_value * rng.choice((0.9, 1.0, 1.1, 1.2)), -3))


def _document(demo: DemoReferral, organization: Organization, rng: random.Random) -> dict:
    """The referral as Partner Center JSON (spec §12)."""
    first, last = demo.contact
    customer_domain = demo.customer.lower().split(" ")[0].replace("'", "") + ".example"
    inbound = not demo.deal_kind
    document: dict = {
        "name": demo.name,
        "type": ReferralType.INDEPENDENT if demo.deal_kind == DealKind.PRIVATE else ReferralType.SHARED,
        "qualification": demo.qualification,
        "target": [{"type": "SolutionProfile", "id": demo.solution_id}] if demo.solution_id else [],
        "customerProfile": {
            "name": demo.customer,
            "address": {"city": demo.city, "country": demo.country},
            "size": demo.size,
            "team": [
                {
                    "firstName": first,
                    "lastName": last,
                    "email": f"{first.lower()}.{last.lower().replace(' ', '')}@{customer_domain}",
                }
            ],
        },
        "consent": {"consentToToShareInfoWithOthers": True, "consentToContact": True},
        "details": {
            "notes": f"{demo.customer} asks for help with {', '.join(demo.products)}.",
            "dealValue": _value(demo, rng),
            "currency": demo.currency,
            "closingDateTime": _closing(rng),
            "requirements": {
                "industries": [{"id": demo.industry}],
                "products": [{"id": product} for product in demo.products],
                "services": [{"id": service} for service in demo.services],
            },
        },
        "team": [],
    }
    if inbound:
        document["inviteContext"] = {
            "notes": "Please contact the customer this week.",
            "invitedBy": {"organizationId": VENDOR_ID, "organizationName": "Microsoft"},
        }
    else:
        document["inviteContext"] = {"invitedBy": {"organizationId": organization.partner_global_id}}
        document["dealKind"] = demo.deal_kind
        document["leadTemperature"] = LeadTemperature.WARM
        document["externalReferenceId"] = f"CRM-{organization.partner_global_id}-{rng.randint(1000, 9999)}"
        if demo.deal_kind != DealKind.PRIVATE:
            document["customerMarketplaceIntent"] = "Yes"
    return document


def _draft(demo: DemoReferral, organization: Organization, actor: User) -> Referral:
    """A deal the partner started in the workflow: customer and kind only, saved as a draft."""
    return deal_draft_save(
        organization=organization,
        actor=actor,
        data={
            "name": demo.name,
            "dealKind": demo.deal_kind,
            "customerProfile": {
                "name": demo.customer,
                "address": {"city": demo.city, "country": demo.country},
            },
        },
    )


def _backdate_for_expiry(referral: Referral) -> None:
    """Demo only: move an unanswered referral's arrival and deadline into the past.

    The services give every inbound referral fourteen days from now; a demo that shows the
    expiry job's result needs one whose deadline has passed. The update is recorded in the
    referral's history under the system actor with a note saying it is demo data.
    """
    created = timezone.now() - timedelta(days=EXPIRED_DAYS_AGO)
    with referral_recorded(referral, actor="system", source=HistorySource.SYSTEM, note=DEMO_NOTE):
        Referral.objects.filter(pk=referral.pk).update(
            created_at=created,
            updated_at=created,
            expiration_at=created + (referral.expiration_at - referral.created_at),
        )


def _referral(demo: DemoReferral, organization: Organization, actor: User, rng: random.Random) -> Referral:
    """Create one demo referral through the services and take it to its outcome."""
    if demo.outcome == DRAFT:
        return _draft(demo, organization, actor)
    document = _document(demo, organization, rng)
    if demo.deal_kind:
        referral = referral_create(
            organization=organization, actor=actor, data=document, source=HistorySource.UI
        )
    else:
        referral = referral_create(
            organization=organization, actor=VENDOR_ID, data=document, source=HistorySource.API
        )
    if demo.outcome == EXPIRED:
        _backdate_for_expiry(referral)
        return referral
    if demo.outcome == DECLINED:
        return referral_decline(
            referral=referral, actor=actor, reason=demo.reason, loss_reason=demo.loss_reason
        )
    if not demo.deal_kind and demo.outcome in (ACCEPTED, WON, LOST):
        referral = referral_accept(referral=referral, actor=actor)
    if demo.deal_kind == DealKind.CO_SELL and demo.outcome == OPEN:
        # spec §12's worked history: the partner raises the deal value the day after.
        referral.refresh_from_db()
        value = referral.deal_value + Decimal("15000")
        referral = referral_update(
            referral=referral,
            actor=actor,
            data={"details": {"dealValue": str(value)}},
            if_match=referral.etag,
            partial=True,
            source=HistorySource.UI,
        )
    if demo.outcome in (WON, LOST):
        referral = referral_close(
            referral=referral,
            actor=actor,
            won=demo.outcome == WON,
            reason=demo.reason,
            loss_reason=demo.loss_reason,
        )
    return referral


def demo_referrals_seed(organizations: list[Organization], seed: int, report: CosellSeedReport) -> None:
    """Every demo referral, through the services, taken to its outcome; then the expiry job."""
    by_id = {organization.partner_global_id: organization for organization in organizations}
    actors = {organization.pk: _referrals_admin(organization) for organization in organizations}
    rng = random.Random(seed)
    for demo in REFERRALS:
        organization = by_id.get(demo.partner_global_id)
        actor = actors.get(organization.pk) if organization else None
        if actor is None:
            continue
        _referral(demo, organization, actor, rng)
        report.created_referrals += 1
    # What the beat job does: close what is overdue — here the backdated referral (and anything
    # else already past its deadline, which the next beat run would close anyway).
    report.expired = referrals_expire()
