"""Deterministic demo data: partner organizations, users in every role, customers, Action Center.

Used by `manage.py seed_demo` (and so by `make run`), by the end-to-end tests and by the benchmarks.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import ActionItemCode, CustomerSegment, PartnerType, Severity
from accounts.models import Customer, Organization, PartnerLocation, User
from accounts.services import people
from accounts.services.action_center import action_item_raise
from portal.roles import Role

DEMO_PASSWORD = "Demo-Partner-2026!"
COUNTRIES = ["DE", "GB", "US", "FR", "NL", "SE", "ES", "IT", "JP", "AU", "CA", "BR", "IN", "PL", "IE"]
CUSTOMER_WORDS = [
    "Adatum",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Contoso",
    "Fourth Coffee",
    "Graphic Design",
    "Humongous",
    "Litware",
    "Lucerne",
    "Margie's Travel",
    "Northwind",
    "Proseware",
    "Relecloud",
    "Southridge",
    "Tailspin",
    "Trey Research",
    "VanArsdel",
    "Wide World",
    "Woodgrove",
    "Wingtip",
    "Lamna",
    "Munson's",
]
CUSTOMER_SUFFIXES = ["Ltd", "GmbH", "Inc", "SA", "BV", "AB", "Holdings", "Group", "Labs", "Health"]


@dataclass(frozen=True)
class DemoOrganization:
    legal_name: str
    partner_global_id: str
    country: str
    domain: str
    partner_types: list[str]
    locations: list[tuple[str, str]]  # (partner_id, country); the first is headquarters
    every_role: bool = False


ORGANIZATIONS = [
    DemoOrganization(
        "Fabrikam Consulting GmbH",
        "4812345",
        "DE",
        "fabrikam.example",
        [PartnerType.INDIRECT_RESELLER, PartnerType.SERVICES],
        [("4812346", "DE"), ("6120001", "GB")],
        every_role=True,
    ),
    DemoOrganization(
        "Contoso Cloud Solutions Ltd",
        "5230001",
        "GB",
        "contoso-cloud.example",
        [PartnerType.DIRECT_BILL_CSP, PartnerType.SERVICES, PartnerType.TRAINING],
        [("5230002", "GB"), ("5230003", "IE")],
    ),
    DemoOrganization(
        "Northwind Software Inc",
        "7310001",
        "US",
        "northwind-software.example",
        [PartnerType.ISV],
        [("7310002", "US")],
    ),
    DemoOrganization(
        "Tailwind Distribution LLC",
        "8420001",
        "US",
        "tailwind-distribution.example",
        [PartnerType.INDIRECT_PROVIDER],
        [("8420002", "US"), ("8420003", "CA")],
    ),
]
STAFF_EMAIL = "admin@vendor.example"


@dataclass
class DemoLogin:
    email: str
    roles: list[str]
    totp_secret: str
    backup_code: str
    organization: str


@dataclass
class SeedReport:
    logins: list[DemoLogin] = field(default_factory=list)
    customers: int = 0


def totp_key_for(seed: int, email: str) -> str:
    """A stable TOTP key per demo user, so printed secrets stay valid across re-seeds."""
    return hashlib.sha1(f"{seed}:{email}".encode()).hexdigest()


def totp_secret_for(seed: int, email: str) -> str:
    return base64.b32encode(bytes.fromhex(totp_key_for(seed, email))).decode().rstrip("=")


def backup_code_for(seed: int, email: str) -> str:
    return hashlib.sha256(f"backup:{seed}:{email}".encode()).hexdigest()[:8]


def _enrol(user: User, seed: int) -> None:
    TOTPDevice.objects.update_or_create(
        user=user,
        name="Authenticator app",
        defaults={"key": totp_key_for(seed, user.email), "confirmed": True},
    )
    device, _ = StaticDevice.objects.get_or_create(user=user, name="backup")
    StaticToken.objects.get_or_create(device=device, token=backup_code_for(seed, user.email))


def _roles_for(demo: DemoOrganization) -> dict[str, list[str]]:
    """Local part → roles. The org with every_role has one person per Partner Center role."""
    people = {"owner": [Role.OWNER, Role.GLOBAL_ADMIN], "admin": [Role.ACCOUNT_ADMIN]}
    if demo.every_role:
        for role in Role:
            if role not in (Role.OWNER, Role.GLOBAL_ADMIN, Role.ACCOUNT_ADMIN):
                people[role.value.replace("_", ".")] = [role]
        people["global.admin"] = [Role.GLOBAL_ADMIN]
        people["viewer"] = []
    else:
        people["agent"] = [Role.ADMIN_AGENT, Role.SALES_AGENT]
        people["incentives"] = [Role.INCENTIVES_ADMIN]
    return people


def _tenant_id(organization: Organization, number: int, rng: random.Random) -> uuid.UUID:
    """Derived from the customer's identity: topping up must not repeat the first run's IDs.

    The draw from `rng` is kept (and ignored) so the rest of the seeded mix (countries, segments,
    sizes, and the commerce cases built on them) stays the same for a given seed.
    """
    rng.getrandbits(128)
    return uuid.uuid5(uuid.NAMESPACE_URL, f"demo:{organization.partner_global_id}:{number}")


def _customers(organization: Organization, count: int, rng: random.Random, start: int) -> list[Customer]:
    rows = []
    segments = [CustomerSegment.COMMERCIAL] * 6 + [
        CustomerSegment.EDUCATION,
        CustomerSegment.GOVERNMENT,
        CustomerSegment.CHARITY,
    ]
    for number in range(start, start + count):
        word = CUSTOMER_WORDS[number % len(CUSTOMER_WORDS)]
        suffix = CUSTOMER_SUFFIXES[(number // len(CUSTOMER_WORDS)) % len(CUSTOMER_SUFFIXES)]
        slug = f"{word.lower().replace(' ', '').replace(chr(39), '')}{number}"
        rows.append(
            Customer(
                organization=organization,
                name=f"{word} {suffix} {number}" if number >= len(CUSTOMER_WORDS) else f"{word} {suffix}",
                domain=f"{slug}.onmicrosoft.example",
                tenant_id=_tenant_id(organization, number, rng),
                country=rng.choice(COUNTRIES),
                segment=rng.choice(segments),
                employee_count=rng.choice([25, 80, 250, 900, 4000, 22000]),
            )
        )
    return rows


def _action_items(organization: Organization) -> None:
    now = timezone.now()
    action_item_raise(
        organization_id=organization.pk,
        code=ActionItemCode.TAX_PROFILE_MISSING,
        dedupe_key="tax-profile",
        severity=Severity.HIGH,
        title="Add a valid tax profile",
        body="Incentive payments are on hold until a tax profile is valid.",
        due_at=now + timedelta(days=10),
        target_url="/earnings/",
        audience_roles=[Role.INCENTIVES_ADMIN],
    )
    action_item_raise(
        organization_id=organization.pk,
        code=ActionItemCode.GDAP_EXPIRING,
        dedupe_key="gdap-expiring-demo",
        severity=Severity.MEDIUM,
        title="A GDAP relationship ends in 21 days",
        body="Extend it or turn on auto-extend to keep delegated access.",
        due_at=now + timedelta(days=21),
        target_url="/security/",
        audience_roles=[Role.ADMIN_AGENT],
    )
    action_item_raise(
        organization_id=organization.pk,
        code=ActionItemCode.MIGRATION_DEADLINE,
        dedupe_key="nce-migration-wave",
        severity=Severity.LOW,
        title="Plan the migration of legacy subscriptions to new commerce",
        body="Legacy subscriptions move in the vendor-led wave; migrate first to keep control.",
        due_at=now + timedelta(days=60),
        target_url="/commerce/",
        audience_roles=[Role.ADMIN_AGENT],
    )


@transaction.atomic
def seed_demo_data(*, seed: int = 7, customers_per_org: int = 40) -> SeedReport:
    rng = random.Random(seed)
    report = SeedReport()
    staff = User.objects.filter(email=STAFF_EMAIL).first()
    if staff is None:
        staff = User.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD, display_name="Vendor Admin")
    _enrol(staff, seed)
    report.logins.append(
        DemoLogin(
            STAFF_EMAIL,
            ["vendor staff (admin)"],
            totp_secret_for(seed, STAFF_EMAIL),
            backup_code_for(seed, STAFF_EMAIL),
            "—",
        )
    )
    for demo in ORGANIZATIONS:
        organization = Organization.objects.filter(partner_global_id=demo.partner_global_id).first()
        if organization is None:
            organization = people.organization_create(
                actor=staff,
                legal_name=demo.legal_name,
                partner_global_id=demo.partner_global_id,
                country=demo.country,
                partner_types=list(demo.partner_types),
                website=f"https://{demo.domain}",
                address_line1="1 Demo Street",
                city="Demo City",
                postal_code="10115",
            )
            for index, (partner_id, country) in enumerate(demo.locations):
                PartnerLocation.objects.create(
                    organization=organization,
                    partner_id=partner_id,
                    country=country,
                    name=f"{demo.legal_name} ({country})",
                    is_headquarters=index == 0,
                )
        for local, roles in _roles_for(demo).items():
            email = f"{local}@{demo.domain}"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = people.user_create(
                    actor=staff,
                    organization=organization,
                    email=email,
                    password=DEMO_PASSWORD,
                    display_name=local.replace(".", " ").title(),
                    roles=[str(r) for r in roles],
                )
            _enrol(user, seed)
            report.logins.append(
                DemoLogin(
                    email,
                    [Role(r).label for r in roles] or ["Default user"],
                    totp_secret_for(seed, email),
                    backup_code_for(seed, email),
                    demo.legal_name,
                )
            )
        existing = Customer.objects.filter(organization=organization).count()
        if existing < customers_per_org:
            Customer.objects.bulk_create(
                _customers(organization, customers_per_org - existing, rng, existing), batch_size=5000
            )
        report.customers += Customer.objects.filter(organization=organization).count()
        _action_items(organization)
    return report


def demo_logins(*, seed: int) -> list[DemoLogin]:
    """The logins of already-loaded demo data, without writing anything."""
    domains = ("@vendor.example", *(f"@{demo.domain}" for demo in ORGANIZATIONS))
    people = User.objects.filter(is_service_account=False).select_related("organization")
    logins = []
    for user in people.prefetch_related("role_assignments"):
        if user.email.endswith(domains):
            roles = [a.get_role_display() for a in user.role_assignments.all()]
            fallback = "Default user" if user.organization_id else "vendor staff (admin)"
            logins.append(
                DemoLogin(
                    user.email,
                    roles or [fallback],
                    totp_secret_for(seed, user.email),
                    backup_code_for(seed, user.email),
                    str(user.organization or "—"),
                )
            )
    return logins
