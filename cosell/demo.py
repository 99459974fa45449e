"""Deterministic demo data of the Co-sell workspace: capability profiles, case studies, solutions,
inbound routing rules, and referrals and deals in every state a partner meets.

Each demo organization gets a capability profile (solution areas, industries, products and
services from spec §2's legacy tag catalogues, countries served, designations, certifications),
customer references and published solutions (`SOL-…`, some co-sell ready, some Azure IP co-sell
eligible), and routing rules; Fabrikam's are spec §5's example (DE+AT / SOL-ABC-001 → DACH Data
team, any country / SOL-ABC-001 → Global Data team, default → Inbound triage).

Referrals are driven through the real services, so routing, history, eTags and webhooks are
what the vendor, a partner and the jobs would produce: inbound referrals arrive from the vendor as
Partner Center JSON (`referral_create`, routed on arrival) and are accepted, declined, won or lost
by the organization's Referrals admin; partner-created deals (Private, Partner-led, Co-sell with its
vendor-side referral, and a draft) go through the deal services. The Expired referral is closed by
the expiry job (`referrals_expire`); the services give every new referral fourteen days, so the
demo backdates that one referral's creation and deadline first, in a direct update recorded in its
history as "Demo data" — the only write here that bypasses the services. Won deals are not
registration-eligible, so the 72-hour hold does not apply; the eligible co-sell deal stays open.

A second seed adds nothing: profiles, case studies, solutions and rules are upserted, referrals
are made only while the demo organizations have none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pghistory
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.capabilities import Capability, can
from accounts.choices import Role
from accounts.demo import ORGANIZATIONS
from accounts.models import Organization, User
from cosell.choices import (
    DealKind,
    HistorySource,
    LeadTemperature,
    LossReason,
    ReferralQualification,
    ReferralType,
)
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
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
from earnings.choices import SolutionArea

__all__ = (
    "CASE_STUDIES",
    "PROFILES",
    "REFERRALS",
    "ROUTING_RULES",
    "SOLUTIONS",
    "CosellSeedReport",
    "cosell_demo_catalogue",
    "cosell_demo_loaded",
    "cosell_demo_seed",
)

FABRIKAM, CONTOSO, NORTHWIND, TAILWIND = "4812345", "5230001", "7310001", "8420001"
#: Referrals the vendor sends arrive created this long ago at the latest (the Expired one).
EXPIRED_DAYS_AGO = 20
#: The demo organizations' e-mail domains (their users' and case study links').
DOMAINS = {demo.partner_global_id: demo.domain for demo in ORGANIZATIONS}
DEMO_NOTE = "Demo data: backdated so the expiry job closes this referral."


# --- Capability profiles, case studies, solutions (spec §6) ---------------------------------------


@dataclass(frozen=True)
class DemoProfile:
    solution_areas: tuple[str, ...]
    industries: tuple[str, ...]
    products: tuple[str, ...]
    services: tuple[str, ...]
    countries_served: tuple[str, ...]
    languages: tuple[str, ...]
    designations: tuple[str, ...]
    specializations: tuple[str, ...]
    certifications: dict[str, int]
    deal_size_band: str


PROFILES: dict[str, DemoProfile] = {
    FABRIKAM: DemoProfile(
        (SolutionArea.DATA_AI, SolutionArea.MODERN_WORK, SolutionArea.BUSINESS_APPS),
        ("Manufacturing", "Financial Services", "Retail & Consumer Goods"),
        ("Azure", "PowerBI", "SQL", "Microsoft365", "Teams", "Dynamics365Enterprise"),
        ("ConsultingAndProfessional", "DeploymentOrMigration", "Integration", "ManagedServices"),
        ("DE", "AT", "CH", "GB"),
        ("de", "en"),
        (SolutionArea.DATA_AI, SolutionArea.MODERN_WORK),
        ("Analytics on Microsoft Azure", "Data Warehouse Migration to Microsoft Azure"),
        {"DP-203": 6, "PL-300": 4, "MS-102": 3, "MB-240": 2},
        "50,000–250,000 USD",
    ),
    CONTOSO: DemoProfile(
        (SolutionArea.MODERN_WORK, SolutionArea.SECURITY),
        ("Education", "Healthcare", "Financial Services"),
        ("Microsoft365", "Teams", "Azure", "Surface"),
        ("LearningAndCertification", "Licensing", "ManagedServices", "DeploymentOrMigration"),
        ("GB", "IE"),
        ("en",),
        (SolutionArea.MODERN_WORK, SolutionArea.SECURITY),
        ("Teams Meetings and Meeting Rooms", "Identity and Access Management"),
        {"MS-102": 5, "SC-300": 3, "MS-700": 4},
        "10,000–100,000 USD",
    ),
    NORTHWIND: DemoProfile(
        (SolutionArea.DIGITAL_APPS, SolutionArea.DATA_AI),
        ("Retail & Consumer Goods", "Manufacturing"),
        ("Azure", "SQL", "PowerBI"),
        ("CustomSolution(ISV)", "IPServices(ISV)", "Integration"),
        ("US", "CA"),
        ("en", "fr"),
        (SolutionArea.DIGITAL_APPS,),
        ("Kubernetes on Microsoft Azure",),
        {"AZ-204": 7, "AZ-305": 2},
        "100,000–1,000,000 USD",
    ),
    TAILWIND: DemoProfile(
        (SolutionArea.AZURE_INFRA, SolutionArea.MODERN_WORK),
        ("Retail & Consumer Goods", "Education"),
        ("Azure", "Microsoft365", "Surface", "Teams"),
        ("Licensing", "Hardware", "ProjectServices"),
        ("US", "CA", "MX"),
        ("en", "es"),
        (SolutionArea.AZURE_INFRA,),
        ("Azure Virtual Desktop",),
        {"AZ-104": 5, "MS-900": 8},
        "5,000–50,000 USD",
    ),
}


@dataclass(frozen=True)
class DemoCaseStudy:
    partner_global_id: str
    title: str
    customer_name: str
    industry: str
    products: tuple[str, ...]
    outcome_text: str
    is_public: bool = True


CASE_STUDIES = [
    DemoCaseStudy(
        FABRIKAM,
        "Predictive maintenance for a machine builder",
        "Alpine Maschinenbau AG",
        "Manufacturing",
        ("Azure", "PowerBI"),
        "Unplanned downtime down 18 % within six months of moving sensor data to Azure.",
    ),
    DemoCaseStudy(
        FABRIKAM,
        "Data warehouse migration for a regional bank",
        "Woodgrove Bank Europe",
        "Financial Services",
        ("Azure", "SQL"),
        "An on-premises warehouse of 40 TB moved to Azure in twelve weeks; reports run four times faster.",
    ),
    DemoCaseStudy(
        FABRIKAM,
        "Store analytics for a fashion retailer",
        "VanArsdel Fashion GmbH",
        "Retail & Consumer Goods",
        ("PowerBI",),
        "Daily sell-through dashboards for 120 stores.",
        is_public=False,
    ),
    DemoCaseStudy(
        CONTOSO,
        "Hybrid classrooms for a university",
        "Lamna University",
        "Education",
        ("Teams", "Surface"),
        "Teams Rooms in 60 lecture halls; 9,000 students trained in the first term.",
    ),
    DemoCaseStudy(
        CONTOSO,
        "Zero-trust identity for a hospital group",
        "Humongous Health Trust",
        "Healthcare",
        ("Microsoft365",),
        "Phishing-resistant sign-in for 14,000 clinical staff.",
    ),
    DemoCaseStudy(
        NORTHWIND,
        "Inventory optimisation on Azure Kubernetes Service",
        "Wide World Importers",
        "Retail & Consumer Goods",
        ("Azure", "SQL"),
        "Stock-outs down 22 % across 300 stores.",
    ),
    DemoCaseStudy(
        TAILWIND,
        "Virtual desktops for a school district",
        "Tailspin School District",
        "Education",
        ("Azure", "Surface"),
        "4,000 Azure Virtual Desktop seats rolled out through 25 resellers.",
    ),
]


@dataclass(frozen=True)
class DemoSolution:
    partner_global_id: str
    solution_id: str
    name: str
    solution_area: str
    co_sell_ready: bool
    azure_ip_co_sell_eligible: bool


SOLUTIONS = [
    DemoSolution(FABRIKAM, "SOL-ABC-001", "Fabrikam Data Platform", SolutionArea.DATA_AI, True, True),
    DemoSolution(
        FABRIKAM, "SOL-ABC-002", "Copilot Adoption Accelerator", SolutionArea.MODERN_WORK, True, False
    ),
    DemoSolution(
        FABRIKAM, "SOL-ABC-003", "Field Service Quick Start", SolutionArea.BUSINESS_APPS, False, False
    ),
    DemoSolution(CONTOSO, "SOL-52300-CCS", "Contoso Secure Classroom", SolutionArea.MODERN_WORK, True, False),
    DemoSolution(CONTOSO, "SOL-52301-CCS", "Contoso Identity Guard", SolutionArea.SECURITY, False, False),
    DemoSolution(NORTHWIND, "SOL-73100-NWS", "Northwind Inventory AI", SolutionArea.DIGITAL_APPS, True, True),
    DemoSolution(
        TAILWIND, "SOL-84200-TWD", "Tailwind Desktop as a Service", SolutionArea.AZURE_INFRA, True, False
    ),
]


# --- Routing rules (spec §5) ----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRule:
    partner_global_id: str
    name: str
    priority: int
    team: str = ""
    #: Local part of the demo user the rule assigns to (the team when that user is missing).
    user: str = ""
    countries: tuple[str, ...] = ()
    solution_ids: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    min_deal_value: Decimal | None = None
    is_default: bool = False


ROUTING_RULES = [
    DemoRule(
        FABRIKAM,
        "DACH data platform",
        10,
        "DACH Data team",
        countries=("DE", "AT"),
        solution_ids=("SOL-ABC-001",),
    ),
    DemoRule(FABRIKAM, "Data platform, any country", 20, "Global Data team", solution_ids=("SOL-ABC-001",)),
    DemoRule(
        FABRIKAM,
        "Modern Work leads",
        30,
        "Modern Work team",
        user="referrals.user",
        products=("Microsoft365", "Teams"),
    ),
    DemoRule(FABRIKAM, "Default", 1000, "Inbound triage", is_default=True),
    DemoRule(CONTOSO, "Ireland desk", 10, "Dublin team", countries=("IE",)),
    DemoRule(CONTOSO, "Default", 1000, "Inbound triage", is_default=True),
    DemoRule(NORTHWIND, "Large deals", 10, "Enterprise sales", min_deal_value=Decimal("250000")),
    DemoRule(NORTHWIND, "Default", 1000, "Inbound triage", is_default=True),
    DemoRule(TAILWIND, "Canada", 10, "Toronto team", countries=("CA",)),
    DemoRule(TAILWIND, "Default", 1000, "Inbound triage", is_default=True),
]


# --- Referrals and deals --------------------------------------------------------------------------

#: What becomes of a referral: inbound outcomes, then the partner-created deal outcomes.
NEW, ACCEPTED, DECLINED, EXPIRED, WON, LOST = "new", "accepted", "declined", "expired", "won", "lost"
OPEN, DRAFT = "open", "draft"


@dataclass(frozen=True)
class DemoReferral:
    partner_global_id: str
    name: str
    customer: str
    country: str
    city: str
    size: str
    industry: str
    products: tuple[str, ...]
    services: tuple[str, ...]
    #: The SolutionProfile target ("" = none).
    solution_id: str
    deal_value: int
    currency: str
    outcome: str
    #: "" for referrals the vendor sends; the DealKind of a partner-created deal.
    deal_kind: str = ""
    qualification: str = ReferralQualification.SALES_QUALIFIED
    reason: str = ""
    loss_reason: str = ""
    contact: tuple[str, str] = ("Alex", "Meyer")


REFERRALS = [
    # Fabrikam (DE) — inbound from the vendor, routed by spec §5's rules.
    DemoReferral(
        FABRIKAM,
        "Northwind Traders - data platform modernisation",
        "Northwind Traders AG",
        "DE",
        "Munich",
        "1001to5000employees",
        "Manufacturing",
        ("Azure", "PowerBI"),
        ("DeploymentOrMigration",),
        "SOL-ABC-001",
        180_000,
        "EUR",
        NEW,
        contact=("Lena", "Vogt"),
    ),
    DemoReferral(
        FABRIKAM,
        "Lucerne Publishing - analytics on Azure",
        "Lucerne Publishing SA",
        "FR",
        "Lyon",
        "251to1000employees",
        "Retail & Consumer Goods",
        ("Azure", "PowerBI"),
        ("ConsultingAndProfessional",),
        "SOL-ABC-001",
        95_000,
        "EUR",
        ACCEPTED,
        contact=("Camille", "Durand"),
    ),
    DemoReferral(
        FABRIKAM,
        "Coho Winery - Copilot rollout",
        "Coho Winery GmbH",
        "AT",
        "Vienna",
        "51to250employees",
        "Retail & Consumer Goods",
        ("Microsoft365", "Teams"),
        ("DeploymentOrMigration",),
        "SOL-ABC-002",
        40_000,
        "EUR",
        NEW,
        qualification=ReferralQualification.MARKETING_QUALIFIED,
        contact=("Jakob", "Huber"),
    ),
    DemoReferral(
        FABRIKAM,
        "Alpine Ski House - warehouse migration",
        "Alpine Ski House GmbH",
        "AT",
        "Innsbruck",
        "251to1000employees",
        "Retail & Consumer Goods",
        ("Azure", "SQL"),
        ("DeploymentOrMigration",),
        "SOL-ABC-001",
        120_000,
        "EUR",
        DECLINED,
        reason="Both data architects are booked until the autumn.",
        loss_reason=LossReason.NO_CAPACITY,
        contact=("Sophie", "Gruber"),
    ),
    DemoReferral(
        FABRIKAM,
        "Trey Research - field service pilot",
        "Trey Research Ltd",
        "GB",
        "Leeds",
        "51to500employees",
        "Manufacturing",
        ("Dynamics365Enterprise",),
        ("ProjectServices",),
        "SOL-ABC-003",
        60_000,
        "GBP",
        EXPIRED,
        contact=("Oliver", "Hughes"),
    ),
    DemoReferral(
        FABRIKAM,
        "Woodgrove Bank - risk reporting",
        "Woodgrove Bank AG",
        "DE",
        "Frankfurt",
        "5001to10000employees",
        "Financial Services",
        ("Azure", "PowerBI", "SQL"),
        ("ConsultingAndProfessional",),
        "SOL-ABC-001",
        240_000,
        "EUR",
        WON,
        reason="Signed a two-year delivery contract.",
        contact=("Jonas", "Becker"),
    ),
    DemoReferral(
        FABRIKAM,
        "Fourth Coffee - store dashboards",
        "Fourth Coffee SE",
        "NL",
        "Utrecht",
        "Morethan500employees",
        "Retail & Consumer Goods",
        ("PowerBI",),
        ("ConsultingAndProfessional",),
        "SOL-ABC-001",
        35_000,
        "EUR",
        LOST,
        reason="The customer went with its incumbent integrator.",
        loss_reason=LossReason.COMPETITOR,
        contact=("Daan", "de Vries"),
    ),
    # Fabrikam — its own deals.
    DemoReferral(
        FABRIKAM,
        "Contoso Retail - Teams Rooms refresh",
        "Contoso Retail GmbH",
        "DE",
        "Hamburg",
        "251to1000employees",
        "Retail & Consumer Goods",
        ("Teams",),
        ("DeploymentOrMigration",),
        "",
        28_000,
        "EUR",
        OPEN,
        deal_kind=DealKind.PRIVATE,
        qualification=ReferralQualification.DIRECT,
        contact=("Mia", "Schulz"),
    ),
    DemoReferral(
        FABRIKAM,
        "Margie's Travel - Copilot adoption",
        "Margie's Travel AG",
        "CH",
        "Zurich",
        "51to250employees",
        "Retail & Consumer Goods",
        ("Microsoft365",),
        ("ConsultingAndProfessional",),
        "SOL-ABC-002",
        45_000,
        "CHF",
        WON,
        deal_kind=DealKind.PARTNER_LED,
        qualification=ReferralQualification.DIRECT,
        reason="Purchase order received.",
        contact=("Lukas", "Keller"),
    ),
    DemoReferral(
        FABRIKAM,
        "Contoso Retail - Dynamics 365 field service rollout",
        "Contoso Retail Ltd",
        "GB",
        "London",
        "251to1000employees",
        "Retail & Consumer Goods",
        ("Dynamics365Enterprise", "Azure"),
        ("DeploymentOrMigration",),
        "SOL-ABC-001",
        50_000,
        "GBP",
        OPEN,
        deal_kind=DealKind.CO_SELL,
        contact=("Sue", "Smith"),
    ),
    DemoReferral(
        FABRIKAM,
        "Litware - analytics workshop",
        "Litware GmbH",
        "DE",
        "Berlin",
        "",
        "",
        (),
        (),
        "",
        0,
        "",
        DRAFT,
        deal_kind=DealKind.CO_SELL,
    ),
    # The other organizations: one of each kind of arrival and a co-sell deal.
    DemoReferral(
        CONTOSO,
        "Lamna Healthcare - secure hybrid work",
        "Lamna Healthcare",
        "IE",
        "Dublin",
        "1001to5000employees",
        "Healthcare",
        ("Microsoft365",),
        ("DeploymentOrMigration",),
        "SOL-52301-CCS",
        75_000,
        "EUR",
        NEW,
        contact=("Aoife", "Byrne"),
    ),
    DemoReferral(
        CONTOSO,
        "Graphic Design Institute - classroom devices",
        "Graphic Design Institute",
        "GB",
        "Manchester",
        "51to500employees",
        "Education",
        ("Surface", "Teams"),
        ("Licensing",),
        "SOL-52300-CCS",
        32_000,
        "GBP",
        WON,
        contact=("Harriet", "Clarke"),
    ),
    DemoReferral(
        CONTOSO,
        "Proseware - Teams Phone migration",
        "Proseware Ltd",
        "GB",
        "Bristol",
        "251to1000employees",
        "Financial Services",
        ("Teams",),
        ("DeploymentOrMigration",),
        "SOL-52300-CCS",
        22_000,
        "GBP",
        OPEN,
        deal_kind=DealKind.CO_SELL,
        contact=("George", "Patel"),
    ),
    DemoReferral(
        NORTHWIND,
        "Relecloud - demand forecasting",
        "Relecloud Inc",
        "US",
        "Seattle",
        "Morethan20000employees",
        "Retail & Consumer Goods",
        ("Azure", "SQL"),
        ("CustomSolution(ISV)",),
        "SOL-73100-NWS",
        420_000,
        "USD",
        ACCEPTED,
        contact=("Jordan", "Lee"),
    ),
    DemoReferral(
        NORTHWIND,
        "Munson's Pickles - inventory AI",
        "Munson's Pickles and Preserves Farm",
        "CA",
        "Toronto",
        "51to250employees",
        "Manufacturing",
        ("Azure",),
        ("IPServices(ISV)",),
        "SOL-73100-NWS",
        60_000,
        "CAD",
        NEW,
        contact=("Emma", "Tremblay"),
    ),
    DemoReferral(
        TAILWIND,
        "Blue Yonder Airlines - virtual desktops",
        "Blue Yonder Airlines",
        "CA",
        "Montreal",
        "1001to5000employees",
        "Retail & Consumer Goods",
        ("Azure",),
        ("Licensing",),
        "SOL-84200-TWD",
        88_000,
        "CAD",
        ACCEPTED,
        contact=("Louis", "Gagnon"),
    ),
    DemoReferral(
        TAILWIND,
        "Southridge Video - device refresh",
        "Southridge Video LLC",
        "US",
        "Austin",
        "251to1000employees",
        "Education",
        ("Surface",),
        ("Hardware",),
        "SOL-84200-TWD",
        54_000,
        "USD",
        LOST,
        reason="The budget was moved to next fiscal year.",
        loss_reason=LossReason.BUDGET,
        contact=("Taylor", "Brooks"),
    ),
]


@dataclass
class CosellSeedReport:
    profiles: int = 0
    case_studies: int = 0
    solutions: int = 0
    routing_rules: int = 0
    referrals: int = 0
    created_referrals: int = 0
    expired: int = 0
    #: "Draft" or "Status/Substatus" → how many referrals of the demo organizations are in it.
    states: dict[str, int] = field(default_factory=dict)


def _demo_organizations() -> list[Organization]:
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    return list(Organization.objects.filter(partner_global_id__in=ids).order_by("partner_global_id"))


def cosell_demo_loaded() -> bool:
    """True once the demo organizations have referrals."""
    return Referral.objects.filter(organization__in=_demo_organizations()).exists()


def cosell_demo_catalogue(organizations: list[Organization]) -> None:
    """Profiles, case studies, solutions and routing rules of the demo organizations; idempotent."""
    by_id = {organization.partner_global_id: organization for organization in organizations}
    for partner_global_id, demo in PROFILES.items():
        organization = by_id.get(partner_global_id)
        if organization is None:
            continue
        CapabilityProfile.objects.update_or_create(
            organization=organization,
            defaults={
                "solution_areas": list(demo.solution_areas),
                "industries": list(demo.industries),
                "products": list(demo.products),
                "services": list(demo.services),
                "countries_served": list(demo.countries_served),
                "languages": list(demo.languages),
                "designations": list(demo.designations),
                "specializations": list(demo.specializations),
                "certifications": dict(demo.certifications),
                "deal_size_band": demo.deal_size_band,
            },
        )
    for study in CASE_STUDIES:
        organization = by_id.get(study.partner_global_id)
        if organization is None:
            continue
        slug = study.customer_name.lower().replace(" ", "-").replace("'", "")
        CaseStudy.objects.update_or_create(
            organization=organization,
            title=study.title,
            defaults={
                "customer_name": study.customer_name,
                "industry": study.industry,
                "products": list(study.products),
                "outcome_text": study.outcome_text,
                "url": f"https://{DOMAINS[study.partner_global_id]}/customers/{slug}"
                if study.is_public
                else "",
                "is_public": study.is_public,
            },
        )
    for solution in SOLUTIONS:
        organization = by_id.get(solution.partner_global_id)
        if organization is None:
            continue
        Solution.objects.update_or_create(
            organization=organization,
            solution_id=solution.solution_id,
            defaults={
                "name": solution.name,
                "solution_area": solution.solution_area,
                "co_sell_ready": solution.co_sell_ready,
                "azure_ip_co_sell_eligible": solution.azure_ip_co_sell_eligible,
            },
        )
    for rule in ROUTING_RULES:
        organization = by_id.get(rule.partner_global_id)
        if organization is None:
            continue
        _rule_upsert(organization, rule)


def _rule_upsert(organization: Organization, rule: DemoRule) -> None:
    if rule.is_default:
        other_default = RoutingRule.objects.filter(organization=organization, is_default=True).exclude(
            name=rule.name
        )
        if other_default.exists():
            # The organization chose its own default rule; the demo leaves it alone.
            return
    user = None
    if rule.user:
        user = User.objects.filter(
            email=f"{rule.user}@{DOMAINS[rule.partner_global_id]}", is_active=True
        ).first()
    RoutingRule.objects.update_or_create(
        organization=organization,
        name=rule.name,
        defaults={
            "priority": rule.priority,
            "is_active": True,
            "is_default": rule.is_default,
            "match_countries": list(rule.countries),
            "match_solution_ids": list(rule.solution_ids),
            "match_products": list(rule.products),
            "match_min_deal_value": rule.min_deal_value,
            "assign_to_team": "" if user else rule.team,
            "assign_to_user": user,
        },
    )


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
    with pghistory.context(actor="system", actor_type="system", source=HistorySource.SYSTEM, note=DEMO_NOTE):
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


def _referrals(organizations: list[Organization], seed: int, report: CosellSeedReport) -> None:
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


def _state(is_draft: bool, status: str, substatus: str) -> str:
    return "Draft" if is_draft else f"{status}/{substatus}"


def cosell_demo_seed(*, seed: int = 7) -> CosellSeedReport:
    """Profiles, case studies, solutions and routing rules; then referrals in every state.

    Idempotent: the catalogue is upserted and referrals are made only while the demo
    organizations have none. The same seed gives the same deal values and closing dates.
    """
    report = CosellSeedReport()
    organizations = _demo_organizations()
    with transaction.atomic():
        cosell_demo_catalogue(organizations)
        if organizations and not cosell_demo_loaded():
            _referrals(organizations, seed, report)
    scope = Q(organization__in=organizations)
    report.profiles = CapabilityProfile.objects.filter(scope).count()
    report.case_studies = CaseStudy.objects.filter(scope).count()
    report.solutions = Solution.objects.filter(scope).count()
    report.routing_rules = RoutingRule.objects.filter(scope).count()
    report.referrals = Referral.objects.filter(scope).count()
    for is_draft, status, substatus in Referral.objects.filter(scope).values_list(
        "is_draft", "status", "substatus"
    ):
        state = _state(is_draft, status, substatus)
        report.states[state] = report.states.get(state, 0) + 1
    return report
