"""Deterministic demo data of the Membership workspace, made through the services where there is one.

For each demo organization: an active program membership (member since, next anniversary), an
employee count for any customer without one (so both tracks of the tracked areas have customers),
person certifications across the six areas and levels (some expired, some earned in the last weeks
so the score history moves) held by people spread over the partner locations, Surface assessment
completions (this month and historical, passes and fails), and a Partner Success Core purchase
package. Then, per organization:

* Fabrikam — qualifies for Modern Work and enrolls (the designation package: 25 Microsoft 365 E5
  seats, 19 assigned; USD 4,000 Azure credits, USD 2,950 used — spec §5), and sits at 60–69 for
  Infrastructure with advanced certifications as the blocking metric (its only AZ-305 expired).
* Contoso — a training services partner: two Microsoft Certified Trainers (one recent) and a year of
  course deliveries, so it qualifies for Training Services; an ISV Success application in draft.
* Northwind — an ISV: 24 months of Marketplace billed sales (Tier 0 in its first rewards year, Tier 2
  now with progress to Tier 3; the years come from `rewards_anniversaries`), Marketplace license and
  VM image version rows, and a submitted ISV Success application (the vendor completes its
  AI Cloud Partner Program verification first, which ISV Success requires).

Scores come from `scoring.recalculate_capability_scores` for today and each of the eight weeks
before (oldest first), over the transactions of the earnings demo and the certifications and
deliveries above. A second seed adds nothing: each part is made only while the organization has none
of it; the scores of the same days are recomputed in place.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.demo import ORGANIZATIONS
from accounts.models import Customer, Organization, PartnerLocation, User
from earnings.periods import add_months, month_start
from membership.choices import (
    ActivationStatus,
    AssessmentStatus,
    CertificationLevel,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    LicenseStatus,
    MembershipStatus,
    OsType,
    PackageSource,
)
from membership.models import (
    Benefit,
    BenefitPackage,
    Certification,
    DesignationEnrollment,
    IsvSuccessApplication,
    MarketplaceBilledSale,
    MarketplaceLicense,
    Membership,
    PersonCertification,
    RewardsYear,
    ScoreSnapshot,
    SurfaceAssessment,
    TrainingDelivery,
    VmImageUsage,
)
from membership.services import benefits, designations, isv, rewards, scoring
from security.choices import CheckStatus, Program
from security.models import ProgramEnrollment, VerificationCheck
from security.services.compliance import check_transition

__all__ = ("MembershipSeedReport", "membership_demo_loaded", "membership_demo_seed")

FABRIKAM, CONTOSO, NORTHWIND, TAILWIND = "4812345", "5230001", "7310001", "8420001"
DOMAINS = {demo.partner_global_id: demo.domain for demo in ORGANIZATIONS}

#: Program members since (the anniversary is the next return of this day).
MEMBER_SINCE = {
    FABRIKAM: date(2012, 5, 14),
    CONTOSO: date(2016, 9, 1),
    NORTHWIND: date(2019, 2, 11),
    TAILWIND: date(2010, 12, 12),
}

DAI, INFRA, APPS = Designation.DATA_AI, Designation.AZURE_INFRA, Designation.DIGITAL_APPS
BA, MW, SEC = Designation.BUSINESS_APPS, Designation.MODERN_WORK, Designation.SECURITY


@dataclass(frozen=True)
class Skilling:
    """People certified in one area: intermediate and advanced holders (the advanced ones hold an
    intermediate certification too), of whom `recent` earned theirs within the last eight weeks, and
    people whose certification of the area has expired."""

    intermediate: int
    advanced: int = 0
    expired: int = 0
    recent: int = 0


SKILLING: dict[str, dict[str, Skilling]] = {
    # Fabrikam's Modern Work: intermediate complete (Enterprise threshold 12), 3 of 4 advanced.
    # Its Infrastructure: 3 of 10 intermediate and no advanced (its one AZ-305 expired) — the
    # blocking metric that keeps it under 70.
    FABRIKAM: {
        MW: Skilling(12, 3, expired=1, recent=3),
        INFRA: Skilling(3, 0, expired=1, recent=1),
        SEC: Skilling(6, 1, recent=1),
        BA: Skilling(2, 1),
        DAI: Skilling(1),
        APPS: Skilling(1),
    },
    CONTOSO: {
        MW: Skilling(5, 1, expired=1),
        BA: Skilling(4, 1),
        DAI: Skilling(3, 1, recent=1),
        SEC: Skilling(2),
    },
    NORTHWIND: {APPS: Skilling(5, 2, recent=1), DAI: Skilling(4, 1, expired=1), INFRA: Skilling(2)},
    TAILWIND: {MW: Skilling(8, 2, recent=1), SEC: Skilling(3, expired=1), INFRA: Skilling(4, 1)},
}
#: Microsoft Certified Trainers (earned days ago) and people with Azure Fundamentals only.
TRAINERS = {CONTOSO: [900, 30]}
FUNDAMENTALS = {FABRIKAM: 3, CONTOSO: 2, NORTHWIND: 2, TAILWIND: 1}
PEOPLE = 20

FIRST_NAMES = [
    "Anna", "Ben", "Chloé", "Dmitri", "Elif", "Finn", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
    "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yara",
]  # fmt: skip
LAST_NAMES = [
    "Schmidt", "Okafor", "Dubois", "Ivanova", "Yilmaz", "Murphy", "Tanaka", "García", "Novak", "Berg",
    "Patel", "Rossi", "Kowalski", "Andersson", "Silva", "Nguyen", "Fischer", "O'Brien", "Haddad", "Lund",
]  # fmt: skip

#: Contoso's courses (training services, spec §2.6).
COURSES = [
    "AZ-104 Microsoft Azure Administrator",
    "AZ-305 Designing Microsoft Azure Infrastructure Solutions",
    "PL-200 Power Platform Functional Consultant",
    "MS-102 Microsoft 365 Administrator",
    "SC-200 Security Operations Analyst",
    "DP-100 Designing and Implementing a Data Science Solution on Azure",
    "AI-102 Designing and Implementing an Azure AI Solution",
]
DELIVERIES = 14

SURFACE_ASSESSMENTS = [
    "Surface for Business Sales Fundamentals",
    "Surface Hub 2S Technical Assessment",
    "Surface Device Deployment and Management",
    "Surface Copilot+ PC Sales Specialist",
]
#: Surface completions per organization: (historical, this month).
SURFACE = {FABRIKAM: (18, 6), TAILWIND: (12, 4), CONTOSO: (5, 2), NORTHWIND: (2, 1)}
SURFACE_PASS_MARK = 70

#: Northwind's Marketplace offers: (offer id, name, share of the billed sales).
OFFERS = [
    ("northwind.inventory-cloud", "Northwind Inventory Cloud", Decimal("0.78")),
    ("northwind.analytics-server", "Northwind Analytics Server", Decimal("0.22")),
]
#: Monthly billed sales (USD) of the first and the last of MBS_MONTHS months: the twelve months before
#: the last anniversary reach Tier 2 (~USD 167,000), the last twelve ~USD 328,000 (57 % to Tier 3).
MBS_FIRST, MBS_LAST, MBS_MONTHS = 6_000, 34_000, 24
LICENSE_PLANS = [
    ("northwind.inventory-cloud", "Northwind Inventory Cloud", "standard", "Standard"),
    ("northwind.inventory-cloud", "Northwind Inventory Cloud", "professional", "Professional"),
    ("northwind.inventory-cloud", "Northwind Inventory Cloud", "enterprise", "Enterprise"),
    ("northwind.field-service", "Northwind Field Service Add-in", "per-user", "Per user"),
]
LICENSE_CUSTOMERS, LICENSE_MONTHS = 12, 4
#: VM offer plans: (plan SKU, OS, countries); versions with the month (of six) they were released.
VM_OFFER = "Northwind Analytics Server"
VM_PLANS = [
    ("nas-ubuntu-22-04", OsType.LINUX, ["US", "CA", "GB", "DE"]),
    ("nas-windows-2022", OsType.WINDOWS, ["US", "GB"]),
]
VM_VERSIONS = [("1.4.2", 0), ("1.5.0", 2), ("2.0.1", 4)]
VM_LATEST = "2.0.1"
VM_MONTHS = 6

ISV_DRAFT = {
    CONTOSO: {
        "app_name": "Contoso Learning Hub",
        "app_description": "A learning-path and lab platform for Microsoft certification courses, "
        "built on Azure OpenAI and Azure Container Apps.",
        "designation": DAI,
        "is_published": False,
        "marketplace_offer_id": "",
    },
}
ISV_SUBMITTED = {
    NORTHWIND: {
        "app_name": "Northwind Inventory Cloud",
        "app_description": "Multi-warehouse inventory and order management as a SaaS on Azure, "
        "transactable in the commercial marketplace.",
        "designation": APPS,
        "is_published": True,
        "marketplace_offer_id": OFFERS[0][0],
        "expected_release_date": None,
    },
}
ISV_RELEASE_IN_DAYS = 150

#: Partner Success Core (purchased): benefit product -> consumed quantity, per organization;
#: benefits not listed stay not activated.
CORE_USE = {
    FABRIKAM: {"Microsoft 365 E3": Decimal(4), "Product support incidents": Decimal(2)},
    CONTOSO: {"Azure credits": Decimal("640")},
    TAILWIND: {"Microsoft 365 E3": Decimal(5)},
}
#: Fabrikam's Modern Work designation package, used as in spec §5.
DESIGNATION_USE = {"Microsoft 365 E5 (internal use)": Decimal(19), "Azure credits": Decimal("2950")}
ENROLL = {FABRIKAM: MW}

HISTORY_WEEKS = 8


@dataclass
class MembershipSeedReport:
    memberships: int = 0
    customers_sized: int = 0
    certifications: int = 0
    created_certifications: int = 0
    training_deliveries: int = 0
    billed_sales: int = 0
    rewards_years: int = 0
    licenses: int = 0
    vm_image_rows: int = 0
    surface_assessments: int = 0
    packages: int = 0
    activated_benefits: int = 0
    isv_applications: int = 0
    score_snapshots: int = 0
    qualified: int = 0


def membership_demo_loaded() -> bool:
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    members = set(
        Membership.objects.filter(organization__partner_global_id__in=ids).values_list(
            "organization__partner_global_id", flat=True
        )
    )
    return members == set(ids)


def _owner(organization: Organization) -> User:
    return User.objects.get(email=f"owner@{DOMAINS[organization.partner_global_id]}")


def _next_anniversary(since: date, today: date) -> date:
    candidate = since.replace(year=today.year)
    return candidate if candidate >= today else since.replace(year=today.year + 1)


def _membership(organization: Organization, today: date) -> None:
    since = MEMBER_SINCE[organization.partner_global_id]
    Membership.objects.get_or_create(
        organization=organization,
        defaults={
            "status": MembershipStatus.ACTIVE,
            "member_since": since,
            "anniversary_date": _next_anniversary(since, today),
        },
    )


def _customer_sizes(organization: Organization, rng: random.Random) -> int:
    """Customers without an employee count get one, alternating the Enterprise and SMB tracks."""
    customers = list(
        Customer.objects.filter(organization=organization, employee_count__isnull=True).order_by("pk")
    )
    for index, customer in enumerate(customers):
        customer.employee_count = rng.choice([1200, 5000, 30000] if index % 2 else [15, 60, 240])
    Customer.objects.bulk_update(customers, ["employee_count"])
    return len(customers)


@dataclass(frozen=True)
class _Person:
    name: str
    email: str
    location: PartnerLocation


def _people(organization: Organization, seed: int) -> list[_Person]:
    """The organization's certified people, spread over its locations (the same on every call)."""
    rng = random.Random(f"{seed}:people:{organization.partner_global_id}")
    locations = list(
        PartnerLocation.objects.filter(organization=organization).order_by("-is_headquarters", "pk")
    )
    domain = DOMAINS[organization.partner_global_id]
    pairs = rng.sample([(first, last) for first in FIRST_NAMES for last in LAST_NAMES], PEOPLE)
    people = []
    for index, (first, last) in enumerate(pairs):
        local = f"{first}.{last}".lower().replace("'", "").replace("é", "e").replace("í", "i")
        people.append(_Person(f"{first} {last}", f"{local}@{domain}", locations[index % len(locations)]))
    return people


def _certifications(organization: Organization, today: date, rng: random.Random, seed: int) -> int:
    if PersonCertification.objects.filter(organization=organization).exists():
        return 0
    catalogue: dict[tuple[str, str], list[Certification]] = {}
    for certification in Certification.objects.order_by("code"):
        catalogue.setdefault((certification.designation, certification.level), []).append(certification)
    people = _people(organization, seed)
    rows: list[PersonCertification] = []

    def award(
        person: _Person, certification: Certification, earned_days_ago: int, expired: bool = False
    ) -> None:
        earned_on = today - timedelta(days=earned_days_ago)
        if expired:
            expires_on = today - timedelta(days=rng.randint(120, 400))
        else:
            expires_on = today + timedelta(days=rng.randint(40, 360))
        rows.append(
            PersonCertification(
                organization=organization,
                location=person.location,
                learner_name=person.name,
                email=person.email,
                certification=certification,
                earned_on=earned_on,
                expires_on=expires_on,
            )
        )

    plan = SKILLING[organization.partner_global_id]
    for number, (designation, skilling) in enumerate(plan.items()):
        offset = number * 7
        intermediate = catalogue[designation, CertificationLevel.INTERMEDIATE]
        advanced = catalogue.get((designation, CertificationLevel.ADVANCED), [])
        for k in range(skilling.intermediate):
            person = people[(offset + k) % PEOPLE]
            # The last `recent` intermediate holders earned theirs within the history weeks.
            recent = k >= skilling.intermediate - skilling.recent
            days_ago = rng.randint(10, 7 * HISTORY_WEEKS - 10) if recent else rng.randint(90, 1400)
            award(person, intermediate[k % len(intermediate)], days_ago)
        for k in range(skilling.advanced):
            award(people[(offset + k) % PEOPLE], advanced[k % len(advanced)], rng.randint(90, 900))
        for k in range(skilling.expired):
            person = people[(offset + skilling.intermediate + k) % PEOPLE]
            certification = (advanced or intermediate)[0]
            award(person, certification, rng.randint(800, 1400), expired=True)
    for index, days_ago in enumerate(TRAINERS.get(organization.partner_global_id, [])):
        award(
            people[(PEOPLE - 1 - index)],
            catalogue[Designation.TRAINING_SERVICES, CertificationLevel.TRAINER][0],
            days_ago,
        )
    fundamentals = catalogue[INFRA, CertificationLevel.FUNDAMENTALS][0]
    for k in range(FUNDAMENTALS.get(organization.partner_global_id, 0)):
        award(people[(PEOPLE - 5 - k)], fundamentals, rng.randint(30, 700))
    created = PersonCertification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def _training_deliveries(organization: Organization, today: date, rng: random.Random) -> None:
    if (
        organization.partner_global_id != CONTOSO
        or TrainingDelivery.objects.filter(organization=organization).exists()
    ):
        return
    rows = []
    for index in range(DELIVERIES):
        rows.append(
            TrainingDelivery(
                organization=organization,
                course_name=COURSES[index % len(COURSES)],
                delivered_on=today - timedelta(days=5 + index * 25 + rng.randint(0, 6)),
                learners=rng.randint(6, 24),
                satisfaction=rng.randint(78, 96),
            )
        )
    TrainingDelivery.objects.bulk_create(rows)


def _surface(organization: Organization, today: date, rng: random.Random, seed: int) -> None:
    historical, this_month = SURFACE.get(organization.partner_global_id, (0, 0))
    if not historical + this_month or SurfaceAssessment.objects.filter(organization=organization).exists():
        return
    people = _people(organization, seed)
    first_of_month = month_start(today)
    rows = []
    for index in range(historical + this_month):
        person = people[index % PEOPLE]
        if index < historical:
            completed_on = first_of_month - timedelta(days=rng.randint(1, 700))
        else:
            completed_on = first_of_month + timedelta(days=rng.randint(0, today.day - 1))
        score = rng.randint(48, 99)
        rows.append(
            SurfaceAssessment(
                organization=organization,
                location=person.location,
                learner_name=person.name,
                email=person.email,
                country=person.location.country,
                assessment_name=SURFACE_ASSESSMENTS[index % len(SURFACE_ASSESSMENTS)],
                completed_on=completed_on,
                score=score,
                status=AssessmentStatus.PASSED if score >= SURFACE_PASS_MARK else AssessmentStatus.FAILED,
            )
        )
    SurfaceAssessment.objects.bulk_create(rows)


def _billed_sales(organization: Organization, today: date, rng: random.Random) -> None:
    """MBS of the 24 months before this one, growing from MBS_FIRST to MBS_LAST a month (spec §4)."""
    if (
        organization.partner_global_id != NORTHWIND
        or MarketplaceBilledSale.objects.filter(organization=organization).exists()
    ):
        return
    first = add_months(month_start(today), -MBS_MONTHS)
    rows = []
    for index in range(MBS_MONTHS):
        monthly = MBS_FIRST + (MBS_LAST - MBS_FIRST) * index / (MBS_MONTHS - 1)
        monthly = Decimal(monthly * rng.uniform(0.94, 1.06)).quantize(Decimal("0.01"))
        for offer_id, offer_name, share in OFFERS:
            rows.append(
                MarketplaceBilledSale(
                    organization=organization,
                    billed_on=add_months(first, index),
                    offer_id=offer_id,
                    offer_name=offer_name,
                    amount_usd=(monthly * share).quantize(Decimal("0.01")),
                )
            )
    MarketplaceBilledSale.objects.bulk_create(rows)


def _rewards_years(organization: Organization, today: date) -> None:
    """The anniversary job as it ran on the two anniversaries so far: the first is the month after
    the first billed month (its year got Tier 0), the second a year later (Tier 2)."""
    if (
        organization.partner_global_id != NORTHWIND
        or RewardsYear.objects.filter(organization=organization).exists()
    ):
        return
    for months_ago in (MBS_MONTHS - 1, MBS_MONTHS - 13):
        rewards.rewards_anniversaries(day=add_months(month_start(today), -months_ago))


def _licenses(organization: Organization, today: date, rng: random.Random) -> None:
    if (
        organization.partner_global_id != NORTHWIND
        or MarketplaceLicense.objects.filter(organization=organization).exists()
    ):
        return
    customers = list(Customer.objects.filter(organization=organization).order_by("pk")[:LICENSE_CUSTOMERS])
    latest = add_months(month_start(today), -1)
    rows = []
    for number, customer in enumerate(customers):
        offer_id, offer_name, plan_id, plan_name = LICENSE_PLANS[number % len(LICENSE_PLANS)]
        purchased = rng.choice([10, 25, 50, 100, 250])
        term_start = add_months(latest, -rng.randint(1, 10))
        subscription = uuid.uuid5(uuid.NAMESPACE_URL, f"demo-license:{customer.tenant_id}:{plan_id}")
        for months_ago in range(LICENSE_MONTHS - 1, -1, -1):
            day = add_months(latest, -months_ago)
            if day < month_start(term_start):
                continue
            status = LicenseStatus.ACTIVE
            if months_ago == 0 and number % 6 == 3:
                status = LicenseStatus.SUSPENDED
            elif months_ago == 0 and number % 6 == 5:
                status = LicenseStatus.CANCELLED
            elif months_ago == 0 and number == 10:
                status = LicenseStatus.EXPIRED
            rows.append(
                MarketplaceLicense(
                    organization=organization,
                    date=day,
                    offer_name=offer_name,
                    offer_id=offer_id,
                    plan_name=plan_name,
                    plan_id=plan_id,
                    customer_name=customer.name,
                    customer_tenant_id=customer.tenant_id,
                    country=customer.country,
                    licenses_purchased=purchased,
                    licenses_assigned=min(purchased, purchased * rng.randint(55, 100) // 100),
                    license_status=status,
                    subscription_id=subscription,
                    term_start=term_start,
                    term_end=term_start.replace(year=term_start.year + 1) - timedelta(days=1),
                )
            )
    MarketplaceLicense.objects.bulk_create(rows)


def _vm_images(organization: Organization, today: date, rng: random.Random) -> None:
    if (
        organization.partner_global_id != NORTHWIND
        or VmImageUsage.objects.filter(organization=organization).exists()
    ):
        return
    first = add_months(month_start(today), -VM_MONTHS)
    rows = []
    for index in range(VM_MONTHS):
        month = add_months(first, index)
        for plan, os_type, countries in VM_PLANS:
            for version, released in VM_VERSIONS:
                if index < released:
                    continue
                for country in countries:
                    customers = rng.randint(1, 9)
                    deployments = customers + rng.randint(0, 12)
                    active = rng.randint(customers, deployments)
                    raw = Decimal(active * rng.randint(300, 730))
                    rows.append(
                        VmImageUsage(
                            organization=organization,
                            month=month,
                            offer_name=VM_OFFER,
                            plan_sku=plan,
                            image_version=version,
                            os_type=os_type,
                            customer_count=customers,
                            deployments=deployments,
                            active_vms=active,
                            normalized_usage_hours=raw * (4 if os_type == OsType.WINDOWS else 2),
                            raw_usage_hours=raw,
                            country=country,
                            is_latest_version=version == VM_LATEST,
                        )
                    )
    VmImageUsage.objects.bulk_create(rows)


def _use(benefit: Benefit, owner: User, consumed: Decimal, today: date) -> int:
    """Activate a benefit and record what was used today; a second run changes nothing."""
    activated = 0
    if benefit.activation_status == ActivationStatus.NOT_ACTIVATED:
        benefit = benefits.benefit_activate(actor=owner, benefit=benefit)
        activated = 1
    if benefit.activation_status == ActivationStatus.ACTIVATED and not benefit.consumptions.exists():
        benefits.benefit_consumption_record(
            actor=owner, benefit=benefit, consumed_quantity=consumed, as_of=today
        )
    return activated


def _core_package(organization: Organization, owner: User, today: date) -> int:
    """Partner Success Core, bought at the start of the membership year."""
    uses = CORE_USE.get(organization.partner_global_id)
    if uses is None:
        return 0
    membership = Membership.objects.get(organization=organization)
    start = membership.anniversary_date.replace(year=membership.anniversary_date.year - 1)
    if start > today:  # the anniversary is today
        start = today
    package = benefits.package_grant(
        organization=organization,
        code="partner_success_core",
        source=PackageSource.PURCHASE,
        start=start,
        actor=owner,
    )
    activated = 0
    for benefit in package.benefits.order_by("pk"):
        if benefit.product in uses:
            activated += _use(benefit, owner, uses[benefit.product], today)
    return activated


def _enroll(organization: Organization, owner: User, today: date) -> int:
    """Enroll in the designation the organization qualifies for and use its benefits (spec §5)."""
    designation = ENROLL.get(organization.partner_global_id)
    if designation is None:
        return 0
    enrollment = DesignationEnrollment.objects.filter(
        organization=organization, designation=designation
    ).first()
    if enrollment is not None and enrollment.status == EnrollmentStatus.ELIGIBLE:
        designations.designation_enroll(actor=owner, organization=organization, designation=designation)
    package = (
        BenefitPackage.objects.filter(organization=organization, source=PackageSource.DESIGNATION)
        .order_by("-start")
        .first()
    )
    if package is None:
        return 0
    activated = 0
    for benefit in package.benefits.order_by("pk"):
        if benefit.product in DESIGNATION_USE:
            activated += _use(benefit, owner, DESIGNATION_USE[benefit.product], today)
    return activated


def _verify(organization: Organization) -> None:
    """The vendor completes the AI Cloud Partner Program verification (ISV Success needs it)."""
    enrollment = ProgramEnrollment.objects.filter(
        organization=organization, program=Program.AI_CLOUD_PARTNER_PROGRAM
    ).first()
    if enrollment is None:
        return
    path = {
        CheckStatus.NOT_STARTED: [CheckStatus.PENDING, CheckStatus.VERIFIED],
        CheckStatus.PENDING: [CheckStatus.VERIFIED],
        CheckStatus.ACTION_REQUIRED: [CheckStatus.PENDING, CheckStatus.VERIFIED],
        CheckStatus.DOCUMENTS_SUBMITTED: [CheckStatus.IN_REVIEW, CheckStatus.VERIFIED],
        CheckStatus.IN_REVIEW: [CheckStatus.VERIFIED],
        CheckStatus.REJECTED: [CheckStatus.PENDING, CheckStatus.VERIFIED],
        CheckStatus.APPEAL_SUBMITTED: [CheckStatus.IN_REVIEW, CheckStatus.VERIFIED],
    }
    for check in (
        VerificationCheck.objects.filter(enrollment=enrollment)
        .exclude(status=CheckStatus.VERIFIED)
        .order_by("pk")
    ):
        for status in path[check.status]:
            check = check_transition(actor=None, check=check, to_status=status)


def _isv(organization: Organization, owner: User, today: date) -> None:
    pgid = organization.partner_global_id
    if pgid not in ISV_DRAFT and pgid not in ISV_SUBMITTED:
        return
    if IsvSuccessApplication.objects.filter(organization=organization).exists():
        return
    if pgid in ISV_DRAFT:
        data = {**ISV_DRAFT[pgid], "expected_release_date": today + timedelta(days=ISV_RELEASE_IN_DAYS)}
        isv.isv_application_save(actor=owner, organization=organization, data=data)
        return
    _verify(organization)
    application = isv.isv_application_save(
        actor=owner, organization=organization, data=dict(ISV_SUBMITTED[pgid])
    )
    isv.isv_application_submit(actor=owner, application=application, accept_agreement=True)


def _score_days(today: date) -> list[date]:
    return [today - timedelta(weeks=weeks) for weeks in range(HISTORY_WEEKS, 0, -1)] + [today]


@transaction.atomic
def membership_demo_seed(*, seed: int = 7) -> MembershipSeedReport:
    """Seed (or top up) the membership demo of every demo organization; see the module docstring."""
    today = timezone.localdate()
    report = MembershipSeedReport()
    organizations = list(
        Organization.objects.filter(
            partner_global_id__in=[demo.partner_global_id for demo in ORGANIZATIONS]
        ).order_by("partner_global_id")
    )
    ids = [organization.pk for organization in organizations]
    owners = {organization.pk: _owner(organization) for organization in organizations}
    for organization in organizations:
        rng = random.Random(f"{seed}:membership:{organization.partner_global_id}")
        _membership(organization, today)
        report.customers_sized += _customer_sizes(organization, rng)
        report.created_certifications += _certifications(organization, today, rng, seed)
        _training_deliveries(organization, today, rng)
        _surface(organization, today, rng, seed)
        _billed_sales(organization, today, rng)
        _licenses(organization, today, rng)
        _vm_images(organization, today, rng)
        report.activated_benefits += _core_package(organization, owners[organization.pk], today)
        _isv(organization, owners[organization.pk], today)
    for organization in organizations:
        _rewards_years(organization, today)
    # Oldest day first, as the nightly job ran: the designations follow the days in order.
    for day in _score_days(today):
        scoring.recalculate_capability_scores(day=day, organization_ids=ids)
    for organization in organizations:
        report.activated_benefits += _enroll(organization, owners[organization.pk], today)

    scope = {"organization_id__in": ids}
    report.memberships = Membership.objects.filter(**scope).count()
    report.certifications = PersonCertification.objects.filter(**scope).count()
    report.training_deliveries = TrainingDelivery.objects.filter(**scope).count()
    report.billed_sales = MarketplaceBilledSale.objects.filter(**scope).count()
    report.rewards_years = RewardsYear.objects.filter(**scope).count()
    report.licenses = MarketplaceLicense.objects.filter(**scope).count()
    report.vm_image_rows = VmImageUsage.objects.filter(**scope).count()
    report.surface_assessments = SurfaceAssessment.objects.filter(**scope).count()
    report.packages = BenefitPackage.objects.filter(**scope).count()
    report.isv_applications = (
        IsvSuccessApplication.objects.filter(**scope).exclude(status=IsvStatus.REJECTED).count()
    )
    report.score_snapshots = ScoreSnapshot.objects.filter(**scope).count()
    report.qualified = ScoreSnapshot.objects.filter(
        **scope, taken_on=today, is_best=True, qualified=True
    ).count()
    return report
