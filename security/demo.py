"""Deterministic demo data of the security and compliance workspace, made through the services.

For each demo organization: security settings (a security contact everywhere but Northwind, so one
mandatory requirement fails; MFA policies that differ), a few people who have not registered MFA
(Fabrikam's include an Admin agent, so "MFA for every admin user" fails there), customer MFA
statistics, security alerts (answered and open), GDAP relationships in several statuses — the
default-template grant, a `created` request, one waiting for approval, an active one with an access
assignment, one expiring within weeks (the daily job marks it and raises the Action Center item)
and a terminated one —, one legacy DAP link (imported, never created), program enrollments whose
checks are partly verified with one `action_required`, a verification document rendered by
`security.verification.samples` (its assessment stored with it), training assignments (one
completed), and the score: today's snapshot from the service plus weekly snapshots of the weeks
before, written directly so the history chart shows a trend (the only writes here that bypass the
services; they are marked as demo rows by an empty `requirements` list).

A second seed adds nothing: each part is made only while the organization has none of it, and the
upserts (settings, customer MFA) write the same values again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD, ORGANIZATIONS
from accounts.models import Customer, Organization, User
from accounts.services.people import user_create
from portal.roles import Role
from security.choices import AlertStatus, AlertType, CheckKind, CheckStatus, Program
from security.models import (
    DapRelationship,
    GdapRelationship,
    ProgramEnrollment,
    SecurityAlert,
    SecurityScoreSnapshot,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)
from security.services.alerts import alert_raise, alert_respond
from security.services.compliance import check_transition, document_upload, program_enroll
from security.services.dap import dap_legacy_import
from security.services.gdap import (
    gdap_customer_approve,
    gdap_default_grant,
    gdap_lock_for_approval,
    gdap_relationship_create,
    gdap_terminate,
)
from security.services.gdap_assignments import gdap_assignment_create
from security.services.gdap_daily import gdap_daily
from security.services.mfa import customer_mfa_upsert
from security.services.requirements import (
    security_requirements_refresh,
    security_snapshot_take,
)
from security.services.settings import security_settings_update
from security.services.training import training_assign, training_complete
from security.verification.assist.facts import ProfileFacts
from security.verification.samples.documents import sample_document

__all__ = ("SecuritySeedReport", "security_demo_loaded", "security_demo_seed")

FABRIKAM, CONTOSO, NORTHWIND, TAILWIND = "4812345", "5230001", "7310001", "8420001"
DOMAINS = {demo.partner_global_id: demo.domain for demo in ORGANIZATIONS}

HELPDESK_ADMIN = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
SERVICE_SUPPORT_ADMIN = "f023fd81-a637-4b56-95fd-791ac0226033"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
LICENSE_ADMIN = "4d6ac14f-3453-41d0-bef9-a3e0c569773a"
HELPDESK_GROUP = "6f1b0c3e-2a7d-4c8e-9f10-3b5d7e9a1c42"

#: Security contact and tenant MFA policies per organization (Northwind has no contact yet).
SETTINGS: dict[str, dict] = {
    FABRIKAM: {
        "security_contact_name": "Fabrikam Security Desk",
        "security_contact_email": "security@fabrikam.example",
        "security_contact_phone": "+49 30 1234567",
        "security_defaults_enabled": False,
        "conditional_access_requires_mfa": True,
        "conditional_access_policy_count": 3,
    },
    CONTOSO: {
        "security_contact_name": "Contoso SOC",
        "security_contact_email": "soc@contoso-cloud.example",
        "security_contact_phone": "+44 20 7946 0000",
        "security_defaults_enabled": True,
    },
    NORTHWIND: {"security_defaults_enabled": False, "conditional_access_requires_mfa": False},
    TAILWIND: {
        "security_contact_name": "Tailwind IT Security",
        "security_contact_email": "itsec@tailwind-distribution.example",
        "conditional_access_requires_mfa": True,
        "conditional_access_policy_count": 2,
    },
}

#: People who have not registered MFA yet: (local part, roles).
WITHOUT_MFA: dict[str, list[tuple[str, list[str]]]] = {
    FABRIKAM: [("new.starter", []), ("helpdesk.contractor", [Role.ADMIN_AGENT])],
    CONTOSO: [("new.starter", [])],
    NORTHWIND: [("intern", [])],
    TAILWIND: [],
}

#: Alerts: (type, title, hours ago raised, answer: (status, hours after raising) or None).
ALERTS: list[tuple[str, str, int, tuple[str, int] | None]] = [
    (
        AlertType.UNUSUAL_SIGN_IN,
        "Sign-in from an unfamiliar country for an admin agent",
        240,
        (AlertStatus.RESOLVED, 6),
    ),
    (AlertType.SPENDING_ANOMALY, "Azure spending 4× the daily average", 120, (AlertStatus.DISMISSED, 14)),
    (AlertType.CRYPTO_MINING, "Possible crypto-mining on a customer subscription", 3, None),
]
#: Tailwind answers late: its average response is over 24 hours (spec §1.3 example A).
SLOW_ANSWERS = {TAILWIND: 30}

EXPIRING_DAYS = 20
DAP_ESTABLISHED = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
HISTORY_WEEKS = 8


@dataclass
class SecuritySeedReport:
    alerts: int = 0
    gdap_relationships: int = 0
    created_relationships: int = 0
    dap_relationships: int = 0
    enrollments: int = 0
    documents: int = 0
    trainings: int = 0
    customer_mfa: int = 0


def security_demo_loaded() -> bool:
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    enrolled = set(
        ProgramEnrollment.objects.filter(organization__partner_global_id__in=ids).values_list(
            "organization__partner_global_id", flat=True
        )
    )
    return enrolled == set(ids)


def _owner(organization: Organization) -> User:
    return User.objects.get(email=f"owner@{DOMAINS[organization.partner_global_id]}")


def _settings(organization: Organization, owner: User) -> None:
    security_settings_update(
        actor=owner, organization=organization, **SETTINGS[organization.partner_global_id]
    )


def _people_without_mfa(organization: Organization, owner: User) -> None:
    domain = DOMAINS[organization.partner_global_id]
    for local, roles in WITHOUT_MFA[organization.partner_global_id]:
        email = f"{local}@{domain}"
        if not User.objects.filter(email=email).exists():
            user_create(
                actor=owner,
                organization=organization,
                email=email,
                password=DEMO_PASSWORD,
                display_name=local.replace(".", " ").title(),
                roles=[str(role) for role in roles],
            )


def _customer_mfa(
    organization: Organization, owner: User, customers: list[Customer], rng: random.Random
) -> int:
    for index, customer in enumerate(customers[:12]):
        admins = rng.randint(2, 6)
        users = admins + rng.randint(10, 400)
        compliant = index % 4 != 3
        customer_mfa_upsert(
            actor=owner,
            organization=organization,
            customer=customer,
            admins_with_mfa=admins if compliant else admins - 1,
            admins_total=admins,
            non_admins_with_mfa=(users - admins) * rng.randint(40, 100) // 100,
            users_total=users,
            security_defaults_on=index % 3 == 0,
            ca_policies_count=index % 4,
            checked_at=timezone.now() - timedelta(days=index % 5),
        )
    return min(len(customers), 12)


def _alerts(organization: Organization, owner: User, customers: list[Customer]) -> None:
    if SecurityAlert.objects.filter(organization=organization).exists():
        return
    now = timezone.now()
    slow = SLOW_ANSWERS.get(organization.partner_global_id)
    for index, (alert_type, title, hours_ago, answer) in enumerate(ALERTS):
        if answer is not None and slow:
            answer = (answer[0], slow)
        # An answered alert is raised `answer hours` before now, so the answer (now) took that long.
        raised_at = now - timedelta(hours=answer[1] if answer else hours_ago)
        alert = alert_raise(
            organization=organization,
            alert_type=alert_type,
            title=title,
            customer=customers[index] if index < len(customers) else None,
            created_at=raised_at,
        )
        if answer is not None:
            alert_respond(
                actor=owner,
                alert=alert,
                status=answer[0],
                note="Checked with the customer; sign-ins and spending are expected."
                if answer[0] == AlertStatus.DISMISSED
                else "Password reset, sessions revoked, MFA re-registered.",
            )


def _gdap(
    organization: Organization, owner: User, customers: list[Customer], report: SecuritySeedReport
) -> None:
    if not customers:
        return
    report.created_relationships += gdap_default_grant(
        organization_id=organization.pk, customer_ids=[customers[0].pk], actor=owner
    )

    def request(index: int, name: str, roles: list[str], **kwargs) -> GdapRelationship | None:
        if index >= len(customers):
            return None
        display_name = f"{name} {customers[index].name}"[:50]
        if GdapRelationship.objects.filter(organization=organization, display_name=display_name).exists():
            return None
        report.created_relationships += 1
        return gdap_relationship_create(
            actor=owner,
            organization=organization,
            customer=customers[index],
            display_name=display_name,
            duration=kwargs.pop("duration", timedelta(days=730)),
            role_ids=roles,
            **kwargs,
        )

    def approve(relationship: GdapRelationship) -> GdapRelationship:
        relationship = gdap_lock_for_approval(actor=owner, relationship=relationship)
        return gdap_customer_approve(
            relationship=relationship,
            approver_name="Customer Global Admin",
            approver_email=f"admin@{relationship.customer.domain}",
        )

    request(1, "Licensing", [LICENSE_ADMIN, DIRECTORY_READERS])
    pending = request(2, "Support", [SERVICE_SUPPORT_ADMIN, DIRECTORY_READERS])
    if pending is not None:
        gdap_lock_for_approval(actor=owner, relationship=pending)
    active = request(
        3,
        "Helpdesk",
        [HELPDESK_ADMIN, DIRECTORY_READERS, USER_ADMIN],
        auto_extend_duration=timedelta(days=180),
    )
    if active is not None:
        active = approve(active)
        gdap_assignment_create(
            actor=owner,
            relationship=active,
            security_group_id=HELPDESK_GROUP,
            security_group_name="Helpdesk-L1",
            role_ids=[HELPDESK_ADMIN, DIRECTORY_READERS],
        )
    expiring = request(4, "Project", [USER_ADMIN, DIRECTORY_READERS], duration=timedelta(days=EXPIRING_DAYS))
    if expiring is not None:
        approve(expiring)
    ended = request(5, "Migration", [USER_ADMIN])
    if ended is not None:
        gdap_terminate(actor=owner, relationship=approve(ended))


def _dap(organization: Organization, customers: list[Customer]) -> None:
    if len(customers) < 2 or DapRelationship.objects.filter(organization=organization).exists():
        return
    dap_legacy_import(
        organization=organization,
        customer=customers[min(6, len(customers) - 1)],
        established_at=DAP_ESTABLISHED,
        last_activity_at=timezone.now() - timedelta(days=120),
    )


def _programs(organization: Organization) -> list[str]:
    programs = [Program.AI_CLOUD_PARTNER_PROGRAM]
    if organization.partner_global_id == FABRIKAM:
        programs.append(Program.CSP_INDIRECT_RESELLER)
    elif organization.partner_global_id == CONTOSO:
        programs.append(Program.CSP_DIRECT_BILL)
    elif organization.partner_global_id == TAILWIND:
        programs.append(Program.CSP_INDIRECT_PROVIDER)
    return programs


_VERIFIED_AT_ONCE = {CheckKind.EMAIL, CheckKind.EMPLOYMENT, CheckKind.DOMAIN}


def _verification(organization: Organization, owner: User, seed: int) -> None:
    if ProgramEnrollment.objects.filter(organization=organization).exists():
        return
    today = timezone.localdate()
    for number, program in enumerate(_programs(organization)):
        enrollment = program_enroll(actor=owner, organization=organization, program=program)
        for check in VerificationCheck.objects.filter(enrollment=enrollment).order_by("kind"):
            if check.kind in _VERIFIED_AT_ONCE:
                check_transition(actor=None, check=check, to_status=CheckStatus.VERIFIED)
            elif check.kind == CheckKind.ADDRESS:
                check_transition(
                    actor=None,
                    check=check,
                    to_status=CheckStatus.ACTION_REQUIRED,
                    reason="The address could not be matched with public records. Upload a utility bill "
                    "or bank statement at most 90 days old, or a registration extract showing the address.",
                )
            elif check.kind == CheckKind.BUSINESS and number == 0:
                check = check_transition(
                    actor=None,
                    check=check,
                    to_status=CheckStatus.ACTION_REQUIRED,
                    reason="The legal name could not be matched with the business register. Upload a "
                    "register extract or certificate of incorporation.",
                )
                sample = sample_document(
                    "wrong_name",
                    profile=ProfileFacts.from_organization(organization),
                    today=today,
                    seed=seed,
                    check_kind=CheckKind.BUSINESS,
                )
                document_upload(
                    actor=owner,
                    check=check,
                    doc_type=sample.declared_type,
                    upload=SimpleUploadedFile(f"business-register.{sample.file_type}", sample.data),
                )


def _trainings(organization: Organization, owner: User) -> None:
    if TrainingAssignment.objects.filter(organization=organization).exists():
        return
    courses = list(TrainingCourse.objects.filter(is_active=True).order_by("code"))
    if not courses:
        return
    domain = DOMAINS[organization.partner_global_id]
    people = list(
        User.objects.filter(organization=organization, is_active=True, is_service_account=False)
        .exclude(email__in=[f"{local}@{domain}" for local, _ in WITHOUT_MFA[organization.partner_global_id]])
        .order_by("email")[:3]
    )
    today = timezone.localdate()
    first = training_assign(
        actor=owner,
        organization=organization,
        course=courses[0],
        users=people,
        due_on=today + timedelta(days=30),
    )
    training_assign(
        actor=owner,
        organization=organization,
        course=courses[-1],
        users=people[:1],
        due_on=today + timedelta(days=5),
    )
    if first:
        training_complete(actor=owner, assignment=first[0])


def _score(organization: Organization) -> None:
    snapshot = security_snapshot_take(organization)
    security_requirements_refresh(organization)
    for weeks in range(1, HISTORY_WEEKS + 1):
        score = max(snapshot.score - 3 * weeks, 0)
        SecurityScoreSnapshot.objects.get_or_create(
            organization=organization,
            taken_on=snapshot.taken_on - timedelta(weeks=weeks),
            defaults={
                "score": score,
                "earned": min(snapshot.possible, round(score * snapshot.possible / 100)),
                "possible": snapshot.possible,
                "authorization_ok": snapshot.authorization_ok,
                "requirements": [],
            },
        )


@transaction.atomic
def security_demo_seed(*, seed: int = 7) -> SecuritySeedReport:
    """Seed (or top up) the security demo of every demo organization; see the module docstring."""
    report = SecuritySeedReport()
    organizations = Organization.objects.filter(
        partner_global_id__in=[demo.partner_global_id for demo in ORGANIZATIONS]
    ).order_by("partner_global_id")
    for organization in organizations:
        rng = random.Random(f"{seed}:security:{organization.partner_global_id}")
        owner = _owner(organization)
        customers = list(Customer.objects.filter(organization=organization).order_by("pk")[:12])
        _settings(organization, owner)
        _people_without_mfa(organization, owner)
        report.customer_mfa += _customer_mfa(organization, owner, customers, rng)
        _alerts(organization, owner, customers)
        _gdap(organization, owner, customers, report)
        _dap(organization, customers)
        _verification(organization, owner, seed)
        _trainings(organization, owner)
    # The nightly job marks the short relationship `expiring` and raises its Action Center item.
    gdap_daily()
    for organization in organizations:
        _score(organization)
    ids = [organization.pk for organization in organizations]
    report.alerts = SecurityAlert.objects.filter(organization_id__in=ids).count()
    report.gdap_relationships = GdapRelationship.objects.filter(organization_id__in=ids).count()
    report.dap_relationships = DapRelationship.objects.filter(organization_id__in=ids).count()
    report.enrollments = ProgramEnrollment.objects.filter(organization_id__in=ids).count()
    report.documents = VerificationDocument.objects.filter(organization_id__in=ids).count()
    report.trainings = TrainingAssignment.objects.filter(organization_id__in=ids).count()
    return report
