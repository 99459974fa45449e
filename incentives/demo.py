"""Deterministic demo data of the Incentives workspace: the activity catalogue of spec §3, market
tiers, seller opportunities of the demo organizations' customers, and claims in every status.

Runs after the Earnings demo: each activity type is an engagement of the MCI program that
earnings.demo creates (with its Build-intent lever), and the demo locations' MCI enrollments make
them eligible to claim. Claims are driven through the real services (claim_create, consent,
proof_attach, claim_submit, claim_review, claim_cancel), so their history, reviews, audit rows
and webhooks are what a partner and a reviewer would produce; the Expired one is closed by the
scheduler's transition.

Approved claims become earnings through the payout engine: the claims approved now are decided
in the current month, so the seed ends with a payout run of the current month (the Earnings
demo's runs cover the twelve months before it), whose "claims" step writes their Rebate/Co-op
earnings (incentives.services.payouts.claim_earnings_write). A second seed adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import resolve
from django.utils import timezone

from accounts.choices import CustomerSegment
from accounts.demo import ORGANIZATIONS, STAFF_EMAIL
from accounts.models import Customer, Organization, PartnerLocation, User
from earnings.choices import EarningType, PartnerRole, SolutionArea
from earnings.models import Earning, Engagement, Lever, Program
from earnings.periods import month_start
from earnings.services.engine import payout_run_create, payout_run_execute
from incentives.choices import (
    ClaimStatus,
    MarketTier,
    OpportunityStage,
    PayPattern,
    ProofKind,
    ReviewDecision,
)
from incentives.models import ActivityRate, ActivityType, Claim, CountryMarketTier, Opportunity
from incentives.services.claims.closing import claim_cancel
from incentives.services.claims.consent import consent_record, consent_request
from incentives.services.claims.creation import claim_create
from incentives.services.claims.proof import proof_attach
from incentives.services.claims.review import claim_review, claim_review_start
from incentives.services.claims.submission import claim_submit
from incentives.services.claims.transitions import claim_transition
from incentives.services.eligibility import customer_eligibility
from portal.capabilities import Capability, can

__all__ = (
    "IncentivesSeedReport",
    "incentives_demo_catalogue",
    "incentives_demo_loaded",
    "incentives_demo_seed",
)

MCI = "MCI"
CATALOGUE_FROM = date(2024, 7, 1)
CATALOGUE_TO = date(2027, 6, 30)
#: Market B pays 75 % of Market A's fee or cap, Market C 50 % (E3: 6,000 in A, 4,500 in B).
TIER_SHARE = {MarketTier.A: Decimal("1"), MarketTier.B: Decimal("0.75"), MarketTier.C: Decimal("0.5")}
MARKET_TIERS = {
    "IE": MarketTier.B,
    "IN": MarketTier.B,
    "BR": MarketTier.B,
    "ZA": MarketTier.C,
    "EG": MarketTier.C,
}


@dataclass(frozen=True)
class DemoActivity:
    code: str
    name: str
    solution_area: str
    pay_pattern: str
    #: FIXED: the Market A fee; VARIABLE: (rate, Market A cap per claim).
    fee_usd: Decimal | None
    rate: tuple[str, str] | None
    proof: tuple[str, ...]
    description: str
    segments: tuple[str, ...] = ()
    min_employees: int | None = None
    prerequisite: str = ""


INVOICE, FINDINGS, POE, REPORT = ProofKind.INVOICE, ProofKind.FINDINGS, ProofKind.POE, ProofKind.REPORT
ACTIVITIES = [
    DemoActivity(
        "MW-WS-COPILOT",
        "Copilot readiness workshop",
        SolutionArea.MODERN_WORK,
        PayPattern.FIXED,
        Decimal("5000"),
        None,
        (INVOICE, FINDINGS),
        "A one-day workshop assessing the customer's readiness for Microsoft 365 Copilot.",
    ),
    DemoActivity(
        "MW-PILOT",
        "Modern Work pilot (deployment to ≥ 50 users)",
        SolutionArea.MODERN_WORK,
        PayPattern.FIXED,
        Decimal("7500"),
        None,
        (INVOICE, POE),
        "A pilot deployment to at least 50 users after a readiness workshop.",
        min_employees=50,
        prerequisite="MW-WS-COPILOT",
    ),
    DemoActivity(
        "SEC-TPE",
        "Threat protection engagement",
        SolutionArea.SECURITY,
        PayPattern.FIXED,
        Decimal("6000"),
        None,
        (INVOICE, FINDINGS),
        "An assessment of the customer's threat protection with Microsoft Defender and Sentinel.",
        min_employees=50,
    ),
    DemoActivity(
        "SEC-DSE",
        "Data security engagement",
        SolutionArea.SECURITY,
        PayPattern.FIXED,
        Decimal("6000"),
        None,
        (INVOICE, FINDINGS),
        "An assessment of the customer's data security risks with Microsoft Purview.",
    ),
    DemoActivity(
        "AZ-MIG-ASSESS",
        "Azure migration assessment",
        SolutionArea.AZURE_INFRA,
        PayPattern.VARIABLE,
        None,
        ("0.04", "20000"),
        (INVOICE, REPORT),
        "An assessment of the workloads the customer plans to move to Azure.",
    ),
    DemoActivity(
        "AZ-MIG-EXEC",
        "Azure migration execution",
        SolutionArea.AZURE_INFRA,
        PayPattern.VARIABLE,
        None,
        ("0.05", "50000"),
        (INVOICE, REPORT),
        "The migration of the assessed workloads to Azure.",
    ),
    DemoActivity(
        "AZ-INNOV-POC",
        "Azure AI / app proof of concept",
        SolutionArea.DATA_AI,
        PayPattern.VARIABLE,
        None,
        ("0.06", "40000"),
        (INVOICE, REPORT),
        "A proof of concept of an AI or data solution on Azure.",
    ),
    DemoActivity(
        "AZ-APP-MOD",
        "App modernization",
        SolutionArea.DIGITAL_APPS,
        PayPattern.VARIABLE,
        None,
        ("0.05", "30000"),
        (INVOICE, POE),
        "Modernizing one of the customer's applications on Azure (architecture document as proof).",
    ),
    DemoActivity(
        "BA-PRESALES",
        "Biz Apps presales advisor (envisioning)",
        SolutionArea.BUSINESS_APPS,
        PayPattern.FIXED,
        Decimal("3000"),
        None,
        (INVOICE, FINDINGS),
        "An envisioning session for Dynamics 365 and the Power Platform.",
        segments=(CustomerSegment.COMMERCIAL,),
    ),
    DemoActivity(
        "BA-DEPLOY",
        "Dynamics 365 deployment accelerator",
        SolutionArea.BUSINESS_APPS,
        PayPattern.VARIABLE,
        None,
        ("0.03", "25000"),
        (INVOICE, POE),
        "A Dynamics 365 deployment to go-live (go-live evidence as proof).",
    ),
]

#: (organization's partner_global_id, activity code, status the claim is taken to, location index).
CLAIMS = [
    ("4812345", "MW-WS-COPILOT", ClaimStatus.APPROVED, 0),
    ("4812345", "AZ-MIG-EXEC", ClaimStatus.APPROVED, 0),
    ("4812345", "SEC-TPE", ClaimStatus.PARTNER_ACTION_REQUIRED, 0),
    ("4812345", "SEC-DSE", ClaimStatus.SUBMITTED, 1),
    ("4812345", "AZ-MIG-ASSESS", ClaimStatus.UNDER_REVIEW, 0),
    ("4812345", "AZ-INNOV-POC", ClaimStatus.PENDING_POE, 0),
    ("4812345", "AZ-APP-MOD", ClaimStatus.IN_PROGRESS, 0),
    ("4812345", "BA-DEPLOY", ClaimStatus.DRAFT, 0),
    ("4812345", "BA-PRESALES", ClaimStatus.REJECTED, 0),
    ("4812345", "BA-PRESALES", ClaimStatus.FINAL_REJECTED, 1),
    ("4812345", "MW-WS-COPILOT", ClaimStatus.PENDING_CONSENT, 1),
    ("4812345", "SEC-TPE", ClaimStatus.CONSENT_DECLINED, 1),
    ("4812345", "SEC-DSE", ClaimStatus.CANCELED, 0),
    ("4812345", "MW-WS-COPILOT", ClaimStatus.EXPIRED, 0),
    ("5230001", "MW-WS-COPILOT", ClaimStatus.APPROVED, 0),
    ("5230001", "SEC-TPE", ClaimStatus.APPROVED, 1),  # the IE location: Market B
    ("5230001", "AZ-INNOV-POC", ClaimStatus.DRAFT, 0),
    ("7310001", "AZ-MIG-EXEC", ClaimStatus.SUBMITTED, 0),
    ("7310001", "SEC-DSE", ClaimStatus.IN_PROGRESS, 0),
]
#: Opportunity values (USD) given to the first customers of each organization, by solution area.
OPPORTUNITY_VALUES = {
    SolutionArea.AZURE_INFRA: ("1200000", "450000", "80000"),
    SolutionArea.DATA_AI: ("600000", "150000"),
    SolutionArea.DIGITAL_APPS: ("400000", "90000"),
    SolutionArea.BUSINESS_APPS: ("900000", "220000"),
}
SELLERS = ("Sam Seller", "Priya Account-Exec", "Jonas Specialist")
DELIVERED_DAYS_AGO = 12
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@dataclass
class IncentivesSeedReport:
    activity_types: int = 0
    opportunities: int = 0
    claims: int = 0
    created_claims: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    claim_earnings: int = 0


def _demo_organizations() -> list[Organization]:
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    return list(Organization.objects.filter(partner_global_id__in=ids).order_by("partner_global_id"))


def incentives_demo_loaded() -> bool:
    """True once the demo organizations have claims."""
    return Claim.objects.filter(organization__in=_demo_organizations()).exists()


# --- The catalogue (vendor data) ------------------------------------------------------------------


def incentives_demo_catalogue() -> dict[str, ActivityType]:
    """The ten activity types of spec §3 with their MCI engagements, levers and rates; idempotent."""
    program = Program.objects.get(code=MCI)
    activities: dict[str, ActivityType] = {}
    for demo in ACTIVITIES:
        engagement, _ = Engagement.objects.update_or_create(
            engagement_id=f"MCI-PA-{demo.code}",
            defaults={
                "program": program,
                "name": demo.name,
                "solution_area": demo.solution_area,
                "starts_on": CATALOGUE_FROM,
                "ends_on": CATALOGUE_TO,
            },
        )
        lever, _ = Lever.objects.update_or_create(
            engagement=engagement,
            partner_role=PartnerRole.BUILD_INTENT,
            defaults={"name": demo.code, "partner_association": "", "earning_type": EarningType.REBATE},
        )
        activity, _ = ActivityType.objects.update_or_create(
            code=demo.code,
            defaults={
                "name": demo.name,
                "description": demo.description,
                "engagement": engagement,
                "lever": lever,
                "pay_pattern": demo.pay_pattern,
                "starts_on": CATALOGUE_FROM,
                "ends_on": CATALOGUE_TO,
                "customer_segments": list(demo.segments),
                "min_customer_employees": demo.min_employees,
                "prerequisite": activities.get(demo.prerequisite),
                "required_proof": list(demo.proof),
            },
        )
        for tier, share in TIER_SHARE.items():
            if demo.fee_usd is not None:
                values = {"fixed_fee_usd": demo.fee_usd * share, "rate": None, "cap_per_claim_usd": None}
            else:
                rate, cap = demo.rate
                values = {
                    "fixed_fee_usd": None,
                    "rate": Decimal(rate),
                    "cap_per_claim_usd": Decimal(cap) * share,
                }
            ActivityRate.objects.update_or_create(
                activity_type=activity, market_tier=tier, valid_from=CATALOGUE_FROM, defaults=values
            )
        activities[demo.code] = activity
    for country, tier in MARKET_TIERS.items():
        CountryMarketTier.objects.update_or_create(country=country, defaults={"market_tier": tier})
    return activities


# --- Opportunities --------------------------------------------------------------------------------


def _opportunities(organization: Organization) -> None:
    """Open opportunities (and one lost) for the first customers of the organization, by solution area."""
    customers = list(
        Customer.objects.filter(organization=organization, segment=CustomerSegment.COMMERCIAL).order_by("pk")
    )
    number = 0
    for area, values in OPPORTUNITY_VALUES.items():
        for value in values:
            if number >= len(customers):
                return
            customer = customers[number]
            Opportunity.objects.update_or_create(
                msx_opportunity_id=f"7-{organization.partner_global_id}{number:02d}",
                defaults={
                    "organization": organization,
                    "name": f"{customer.name} – {area}",
                    "customer": customer,
                    "solution_area": area,
                    "estimated_value_usd": Decimal(value),
                    "stage": OpportunityStage.LOST
                    if number == 6
                    else (OpportunityStage.DEVELOP, OpportunityStage.PROPOSE)[number % 2],
                    "seller_name": SELLERS[number % len(SELLERS)],
                    "seller_email": f"seller{number % len(SELLERS)}@vendor.example",
                    "close_date": month_start(timezone.localdate()) + timedelta(days=90 + 30 * number),
                },
            )
            number += 1


# --- Claims ---------------------------------------------------------------------------------------


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _candidate(
    activity: ActivityType, organization: Organization, location: PartnerLocation, taken: set[tuple[int, str]]
) -> tuple[Customer, Opportunity | None] | None:
    """The first customer (and open opportunity, for VARIABLE) the location may claim the activity for."""
    if activity.pay_pattern == PayPattern.VARIABLE:
        pairs = [
            (opportunity.customer, opportunity)
            for opportunity in Opportunity.objects.filter(
                organization=organization, solution_area=activity.engagement.solution_area
            )
            .exclude(stage__in=[OpportunityStage.WON, OpportunityStage.LOST])
            .select_related("customer")
            .order_by("msx_opportunity_id")
        ]
    else:
        pairs = [
            (customer, None) for customer in Customer.objects.filter(organization=organization).order_by("pk")
        ]
    for customer, opportunity in pairs:
        if (activity.pk, str(customer.tenant_id)) in taken:
            continue
        check = customer_eligibility(
            activity_type=activity, customer=customer, location=location, opportunity=opportunity
        )
        if check.eligible:
            return customer, opportunity
    return None


def _drive(claim: Claim, target: str, *, actor: User, reviewer: User) -> Claim:
    """Take a new Draft claim to `target` the way partner, customer and reviewer would."""
    if target == ClaimStatus.DRAFT:
        return claim
    if target == ClaimStatus.CANCELED:
        return claim_cancel(claim=claim, actor=actor, note="The customer postponed the project.")
    link = consent_request(claim=claim, actor=actor)
    if target == ClaimStatus.PENDING_CONSENT:
        return claim
    token = resolve(link).kwargs["token"]
    if target == ClaimStatus.CONSENT_DECLINED:
        return consent_record(token=token, accept=False, note="We are working with another partner.")
    claim = consent_record(token=token, accept=True)
    if target == ClaimStatus.IN_PROGRESS:
        return claim
    if target == ClaimStatus.EXPIRED:
        return claim_transition(
            claim=claim, to_status=ClaimStatus.EXPIRED, actor=None, note="Claim window passed."
        )
    kinds = list(claim.activity_type.required_proof)
    if target == ClaimStatus.PENDING_POE:
        proof_attach(claim=claim, kind=kinds[0], file=_pdf(f"{kinds[0].lower()}.pdf"), actor=actor)
        return claim
    for kind in kinds:
        proof_attach(claim=claim, kind=kind, file=_pdf(f"{kind.lower()}.pdf"), actor=actor)
    delivered = timezone.localdate() - timedelta(days=DELIVERED_DAYS_AGO)
    claim = claim_submit(claim=claim, actor=actor, delivered_on=delivered)
    if target == ClaimStatus.SUBMITTED:
        return claim
    claim = claim_review_start(claim=claim, reviewer=reviewer)
    decisions = {
        ClaimStatus.APPROVED: (ReviewDecision.APPROVE, "", "Proof complete and specific to the customer."),
        ClaimStatus.PARTNER_ACTION_REQUIRED: (
            ReviewDecision.REQUEST_INFO,
            "GENERIC_CONTENT",
            "The findings read like a template; add the customer's own results.",
        ),
        ClaimStatus.REJECTED: (ReviewDecision.REJECT, "SURVEY_MISSING", "The customer survey is missing."),
        ClaimStatus.FINAL_REJECTED: (
            ReviewDecision.FINAL_REJECT,
            "DATES_OUTSIDE_WINDOW",
            "The invoice dates the workshop before the engagement started.",
        ),
    }
    if target not in decisions:
        return claim
    decision, reason, comment = decisions[target]
    return claim_review(
        claim=claim, reviewer=reviewer, decision=decision, reason_code=reason, comment=comment
    )


def _claimant(organization: Organization) -> User | None:
    for user in User.objects.filter(organization=organization, is_active=True).order_by("pk"):
        if can(user, Capability.INCENTIVES_CLAIMS):
            return user
    return None


def _claims(activities: dict[str, ActivityType], report: IncentivesSeedReport) -> None:
    reviewer = User.objects.get(email=STAFF_EMAIL)
    organizations = {organization.partner_global_id: organization for organization in _demo_organizations()}
    taken = {
        (activity_id, str(tenant_id))
        for activity_id, tenant_id in Claim.objects.values_list("activity_type_id", "customer_tenant_id")
    }
    for number, (partner_global_id, code, target, location_index) in enumerate(CLAIMS):
        organization = organizations.get(partner_global_id)
        actor = _claimant(organization) if organization else None
        if actor is None:
            continue
        locations = list(
            PartnerLocation.objects.filter(organization=organization).order_by("-is_headquarters", "pk")
        )
        location = locations[min(location_index, len(locations) - 1)]
        activity = activities[code]
        candidate = _candidate(activity, organization, location, taken)
        if candidate is None:
            continue
        customer, opportunity = candidate
        claim = claim_create(
            actor=actor,
            activity_type=activity,
            location=location,
            customer=customer,
            friendly_name=f"{customer.name} – {activity.name}"[:120],
            opportunity=opportunity,
            contact_name=f"IT lead of {customer.name}"[:150],
            contact_email=f"it.lead{number}@{customer.domain}"[:254],
            estimated_deal_size_usd=opportunity.estimated_value_usd if opportunity else Decimal("25000"),
        )
        taken.add((activity.pk, str(customer.tenant_id)))
        _drive(claim, target, actor=actor, reviewer=reviewer)
        report.created_claims += 1


# --- The seed -------------------------------------------------------------------------------------


def incentives_demo_seed(*, seed: int = 7) -> IncentivesSeedReport:
    """Catalogue, market tiers, opportunities and claims; then the current month's payout run.

    Idempotent: the catalogue and opportunities are upserted, claims are made only while the demo
    organizations have none, and the payout run writes claim earnings once (a re-run is a no-op).
    `seed` is accepted for symmetry with the other demos: everything here is fixed data.
    """
    report = IncentivesSeedReport()
    with transaction.atomic():
        activities = incentives_demo_catalogue()
        organizations = _demo_organizations()
        for organization in organizations:
            _opportunities(organization)
        if not incentives_demo_loaded():
            _claims(activities, report)
    if report.created_claims:
        # The approvals above are dated today: this month's run turns them into earnings.
        payout_run_execute(payout_run_create(period=month_start(timezone.localdate()), actor=None))
    scope = {"organization__in": organizations}
    report.activity_types = ActivityType.objects.filter(code__in=[a.code for a in ACTIVITIES]).count()
    report.opportunities = Opportunity.objects.filter(**scope).count()
    report.claims = Claim.objects.filter(**scope).count()
    for status in Claim.objects.filter(**scope).values_list("status", flat=True):
        report.statuses[status] = report.statuses.get(status, 0) + 1
    report.claim_earnings = Earning.objects.filter(**scope).exclude(claim_id="").count()
    return report
