"""Compliance training (spec/accounts.md §3.2): courses assigned to people with a due date,
completed or canceled, and the reminders and Action Center item while one is due or overdue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem, Organization, User
from accounts.services.action_center import action_item_raise, action_item_resolve
from portal.audit import audit_record
from portal.locks import lock
from portal.roles import Role
from security.models import TrainingAssignment, TrainingCourse
from security.services.notices import training_due_notify

__all__ = (
    "TRAINING_REMIND_DAYS",
    "training_assign",
    "training_cancel",
    "training_complete",
    "trainings_remind",
)

#: Who sees the training reminder: the holders of "compliance.manage".
_TRAINING_AUDIENCE = [Role.COMPLIANCE_ADMIN, Role.GLOBAL_ADMIN]
#: Trainings due within this many days (or overdue) are reminded.
TRAINING_REMIND_DAYS = 7
TRAINING_DUE_KEY = "compliance-training-due"


def _refuse(message: str, *, field: str = "status", code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _name_list(users: Iterable[User]) -> str:
    return ", ".join(sorted(user.get_full_name() for user in users))


@transaction.atomic
def training_assign(
    *,
    actor: Any,
    organization: Organization,
    course: TrainingCourse,
    users: Iterable[User | int],
    due_on: date,
) -> list[TrainingAssignment]:
    """Assign `course` to each person, due on `due_on`; all or nothing.

    Only active people of the organization (not API service accounts), a due date after today, and
    one open assignment per course and person.
    """
    if not course.is_active:
        raise _refuse(f"{course.title} is no longer offered.", field="course")
    if due_on <= timezone.localdate():
        raise _refuse("The due date must be in the future.", field="due_on")
    ids = sorted({user if isinstance(user, int) else user.pk for user in users})
    if not ids:
        raise _refuse("Choose at least one person.", field="users", code="required")
    people = list(User.objects.filter(pk__in=ids, organization=organization))
    errors: list[str] = []
    if len(people) != len(ids):
        errors.append("Some of the people chosen are not members of your organization.")
    inactive = [p for p in people if not p.is_active or p.is_service_account]
    if inactive:
        errors.append(f"Training is assigned to active people only, not to {_name_list(inactive)}.")
    open_ = TrainingAssignment.objects.filter(
        course=course, user__in=people, completed_at__isnull=True, canceled_at__isnull=True
    ).select_related("user")
    if holders := [assignment.user for assignment in open_]:
        errors.append(f"{_name_list(holders)} already have {course.title} open; complete or cancel it first.")
    if errors:
        raise ValidationError({"users": [ValidationError(e, code="invalid") for e in errors]})
    now = timezone.now()
    try:
        with transaction.atomic():
            assignments = TrainingAssignment.objects.bulk_create(
                [
                    TrainingAssignment(
                        organization=organization,
                        course=course,
                        user=person,
                        assigned_by=actor,
                        assigned_at=now,
                        due_on=due_on,
                    )
                    for person in sorted(people, key=lambda p: p.email)
                ]
            )
    except IntegrityError as exc:
        # Someone assigned the same course to one of these people a moment ago.
        raise _refuse(
            f"One of these people already has {course.title} open; reload and try again.", field="users"
        ) from exc
    for assignment in assignments:
        audit_record(
            actor=actor,
            action="security.training.assigned",
            organization_id=organization.pk,
            target=assignment,
            changes={"course": course.code, "user": assignment.user.email, "due_on": due_on.isoformat()},
        )
    _training_item_sync(organization.pk, today=timezone.localdate())
    return assignments


def _close_assignment(*, actor: Any, assignment: TrainingAssignment, completed: bool) -> TrainingAssignment:
    assignment = lock(assignment, "course")
    if assignment.completed_at or assignment.canceled_at:
        raise _refuse(f"This training is already {assignment.status}.")
    now = timezone.now()
    field = "completed_at" if completed else "canceled_at"
    setattr(assignment, field, now)
    assignment.save(update_fields=[field])
    audit_record(
        actor=actor,
        action=f"security.training.{'completed' if completed else 'canceled'}",
        organization_id=assignment.organization_id,
        target=assignment,
        changes={"course": assignment.course.code, "user_id": assignment.user_id},
    )
    _training_item_sync(assignment.organization_id, today=timezone.localdate())
    return assignment


@transaction.atomic
def training_complete(*, actor: Any, assignment: TrainingAssignment) -> TrainingAssignment:
    """The assignee (or a compliance manager for them) marks the training done."""
    return _close_assignment(actor=actor, assignment=assignment, completed=True)


@transaction.atomic
def training_cancel(*, actor: Any, assignment: TrainingAssignment) -> TrainingAssignment:
    return _close_assignment(actor=actor, assignment=assignment, completed=False)


def _due_assignments(today: date):
    return TrainingAssignment.objects.filter(
        completed_at__isnull=True,
        canceled_at__isnull=True,
        user__is_active=True,
        due_on__lte=today + timedelta(days=TRAINING_REMIND_DAYS),
    )


def _training_item_sync(organization_id: int, *, today: date) -> bool:
    """COMPLIANCE_TRAINING_DUE for one organization: raised or refreshed while any open training is
    due within TRAINING_REMIND_DAYS or overdue, resolved when none is left. True when raised."""
    due = list(_due_assignments(today).filter(organization_id=organization_id).only("due_on"))
    if not due:
        action_item_resolve(organization_id=organization_id, dedupe_key=TRAINING_DUE_KEY)
        return False
    overdue = sum(1 for a in due if a.due_on < today)
    first = min(a.due_on for a in due)
    horizon = today + timedelta(days=TRAINING_REMIND_DAYS)
    body = f"{len(due)} open compliance training(s) due by {horizon:%d %B %Y}"
    body += f", {overdue} of them overdue." if overdue else "."
    action_item_raise(
        organization_id=organization_id,
        code=ActionItemCode.COMPLIANCE_TRAINING_DUE,
        dedupe_key=TRAINING_DUE_KEY,
        severity=Severity.HIGH if overdue else Severity.MEDIUM,
        title="Compliance training overdue" if overdue else "Compliance training due soon",
        body=body,
        due_at=timezone.make_aware(datetime.combine(first, time.min)),
        target_url=reverse("security:training"),
        audience_roles=list(_TRAINING_AUDIENCE),
    )
    return True


def _needs_reminder(assignment: TrainingAssignment, today: date) -> bool:
    """Once when the due date comes within reach, once more when it passes, then weekly."""
    if assignment.last_reminded_at is None:
        return True
    last = timezone.localdate(assignment.last_reminded_at)
    if assignment.due_on < today and last <= assignment.due_on:
        return True
    return last <= today - timedelta(days=TRAINING_REMIND_DAYS)


def trainings_remind(*, today: date | None = None) -> int:
    """Beat: remind each person whose training is due within 7 days or overdue (see
    `_needs_reminder`) and keep every organization's COMPLIANCE_TRAINING_DUE item in step.

    Idempotent: a second run on the same day sends nothing and changes nothing. Returns how many
    people were reminded.
    """
    today = today or timezone.localdate()
    reminded = 0
    organizations: set[int] = set()
    # Unscoped on purpose: the beat job works for every organization.
    due = _due_assignments(today).select_related("course", "user").order_by("pk")
    for assignment in due:
        organizations.add(assignment.organization_id)
        if not _needs_reminder(assignment, today):
            continue
        with transaction.atomic():
            updated = TrainingAssignment.objects.filter(
                pk=assignment.pk, last_reminded_at=assignment.last_reminded_at
            ).update(last_reminded_at=timezone.now())
            if not updated:
                continue  # another run reminded this person a moment ago
            reminded += 1
            # Through the outbox, in this transaction: sent once it commits, never twice.
            training_due_notify(assignment, today=today)
    stale = ActionItem.objects.filter(
        code=ActionItemCode.COMPLIANCE_TRAINING_DUE,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).values_list("organization_id", flat=True)
    for organization_id in sorted(organizations | set(stale)):
        with transaction.atomic():
            _training_item_sync(organization_id, today=today)
    return reminded
