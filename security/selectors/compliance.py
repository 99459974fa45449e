"""Compliance as pages and API read it: program enrollments and their checks, documents, who holds
Compliance admin, the checks a legal-profile change would restart, and compliance training."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Organization, User
from portal.roles import Role
from portal.tenancy import get_visible_or_404
from security.choices import LEGAL_FIELDS_REVERIFY, CheckStatus
from security.models import (
    ProgramEnrollment,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)
from security.selectors.history import check_events

__all__ = (
    "CheckHistoryRow",
    "TrainingSummary",
    "check_history",
    "checks_by_ids",
    "checks_restarted_by",
    "compliance_admins",
    "enrollments",
    "people_by_email",
    "people_of",
    "training_assignments",
    "training_courses",
    "training_summary",
    "verification_check",
    "verification_document",
    "verified_checks",
)


# --- Enrollments and checks -----------------------------------------------------------------------


def enrollments(user: User) -> QuerySet[ProgramEnrollment]:
    """The organization's program enrollments with their checks (by kind) prefetched."""
    checks = VerificationCheck.objects.select_related("enrollment").order_by("kind")
    return ProgramEnrollment.objects.visible_to(user).prefetch_related(Prefetch("checks", queryset=checks))


def verification_check(user: User, pk: int) -> VerificationCheck:
    """One check of the user's organization with its enrollment, else 404."""
    return get_visible_or_404(VerificationCheck.objects.select_related("enrollment"), user, pk=pk)


def verification_document(user: User, pk: int) -> VerificationDocument:
    """One document of the user's organization with its check and people, else 404."""
    queryset = VerificationDocument.objects.select_related("check_ref__enrollment", "uploaded_by", "reviewer")
    # The extracted text can be long and no page shows it.
    return get_visible_or_404(queryset.defer("extracted_text"), user, pk=pk)


def verified_checks(user: User) -> list[VerificationCheck]:
    return list(
        VerificationCheck.objects.visible_to(user)
        .filter(status=CheckStatus.VERIFIED)
        .select_related("enrollment")
        .order_by("enrollment__program", "kind")
    )


def checks_by_ids(user: User, ids: Iterable[int]) -> list[VerificationCheck]:
    return list(
        VerificationCheck.objects.visible_to(user)
        .filter(pk__in=list(ids))
        .select_related("enrollment")
        .order_by("enrollment__program", "kind")
    )


def checks_restarted_by(organization: Organization, changed_fields: Iterable[str]) -> list[VerificationCheck]:
    """The verified checks of every enrollment that changing `changed_fields` would restart."""
    kinds = {kind for field in changed_fields for kind in LEGAL_FIELDS_REVERIFY.get(field, ())}
    if not kinds:
        return []
    return list(
        VerificationCheck.objects.filter(
            organization=organization, kind__in=kinds, status=CheckStatus.VERIFIED
        )
        .select_related("enrollment")
        .order_by("enrollment__program", "kind")
    )


@dataclass(frozen=True)
class CheckHistoryRow:
    at: datetime
    who: str
    from_status: str
    to_status: str
    reason: str
    appeals_used: int


def check_history(check: VerificationCheck) -> list[CheckHistoryRow]:
    """Every status move of the check in words, oldest first; a reason is shown where it changed."""
    rows = []
    previous_reason = None
    for event in check_events(check):
        rows.append(
            CheckHistoryRow(
                at=event.at,
                who=event.who,
                from_status=CheckStatus(event.from_status).label if event.from_status else "",
                to_status=CheckStatus(event.to_status).label,
                reason=event.reason if event.reason != previous_reason else "",
                appeals_used=event.appeals_used,
            )
        )
        previous_reason = event.reason
    return rows


def compliance_admins(user: User) -> QuerySet[User]:
    """The active people of the organization who hold Compliance admin."""
    return (
        User.objects.visible_to(user)
        .filter(role_assignments__role=Role.COMPLIANCE_ADMIN, is_active=True)
        .distinct()
        .order_by("email")
    )


# --- Training -------------------------------------------------------------------------------------


def training_assignments(user: User) -> QuerySet[TrainingAssignment]:
    """The organization's training assignments, soonest due first, with course and person."""
    return (
        TrainingAssignment.objects.visible_to(user).select_related("course", "user").order_by("due_on", "id")
    )


def training_courses(user: User) -> QuerySet[TrainingCourse]:
    """The courses on offer."""
    return TrainingCourse.objects.visible_to(user).filter(is_active=True).order_by("title")


@dataclass(frozen=True)
class TrainingSummary:
    assigned: int
    overdue: int
    completed: int

    @property
    def open(self) -> int:
        return self.assigned + self.overdue


def training_summary(user: User, *, today: date) -> TrainingSummary:
    open_ = Q(completed_at__isnull=True, canceled_at__isnull=True)
    counts = TrainingAssignment.objects.visible_to(user).aggregate(
        assigned=Count("id", filter=open_ & Q(due_on__gte=today)),
        overdue=Count("id", filter=open_ & Q(due_on__lt=today)),
        completed=Count("id", filter=Q(completed_at__isnull=False)),
    )
    return TrainingSummary(**counts)


def people_of(user: User) -> QuerySet[User]:
    """The people of the user's organization who can be given a training (no API identities)."""
    return User.objects.visible_to(user).filter(is_active=True, is_service_account=False).order_by("email")


def people_by_email(user: User, emails: Iterable[str]) -> dict[str, User]:
    """Those of `people_of(user)` whose e-mail address is one of `emails` (case aside), by address."""
    wanted = {email.strip().lower() for email in emails if email.strip()}
    if not wanted:
        return {}
    return {person.email.lower(): person for person in people_of(user).filter(email__in=wanted)}
