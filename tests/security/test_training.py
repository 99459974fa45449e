"""Compliance training (spec/accounts.md §3.2): assignment to active people, completion,
cancellation, and the daily reminders with their Action Center item."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from portal.models import AuditEvent
from security.choices import TrainingStatus
from security.models import TrainingAssignment, TrainingCourse
from security.services.training import (
    training_assign,
    training_cancel,
    training_complete,
    trainings_remind,
)
from tests.factories import TrainingAssignmentFactory, UserFactory, compliance_admin

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today():
    with freeze_time("2026-03-02 09:00:00"):
        yield


@pytest.fixture
def manager(org_a):
    return compliance_admin(org_a, email="cora@alpha.example", display_name="Cora")


@pytest.fixture
def course():
    return TrainingCourse.objects.filter(is_active=True).order_by("code").first()


@pytest.fixture
def people(org_a):
    return [
        UserFactory(organization=org_a, email="dana@alpha.example", display_name="Dana"),
        UserFactory(organization=org_a, email="eli@alpha.example", display_name="Eli"),
    ]


def _item(org):
    return ActionItem.objects.filter(organization=org, code=ActionItemCode.COMPLIANCE_TRAINING_DUE).first()


def test_the_vendor_courses_are_seeded():
    assert TrainingCourse.objects.filter(is_active=True).count() >= 4


# --- Assignment -----------------------------------------------------------------------------------


def test_a_course_is_assigned_to_each_person_and_audited(org_a, manager, course, people):
    due = TODAY + timedelta(days=30)
    assignments = training_assign(actor=manager, organization=org_a, course=course, users=people, due_on=due)
    assert [a.user.email for a in assignments] == ["dana@alpha.example", "eli@alpha.example"]
    assert all(
        a.due_on == due and a.assigned_by == manager and a.status == TrainingStatus.ASSIGNED
        for a in assignments
    )
    assert (
        AuditEvent.objects.filter(action="security.training.assigned", organization_id=org_a.pk).count() == 2
    )
    assert _item(org_a) is None  # not due within 7 days


def test_people_may_be_given_by_id(org_a, manager, course, people):
    assignments = training_assign(
        actor=manager,
        organization=org_a,
        course=course,
        users=[p.pk for p in people],
        due_on=TODAY + timedelta(days=3),
    )
    assert len(assignments) == 2
    assert _item(org_a).status == ActionItemStatus.OPEN  # due within 7 days: the item shows at once


def test_the_due_date_must_be_in_the_future(org_a, manager, course, people):
    for due in (TODAY, TODAY - timedelta(days=1)):
        with pytest.raises(ValidationError) as error:
            training_assign(actor=manager, organization=org_a, course=course, users=people, due_on=due)
        assert error.value.message_dict["due_on"] == ["The due date must be in the future."]
    assert not TrainingAssignment.objects.exists()


def test_only_active_people_of_the_organization_and_no_service_accounts(
    org_a, org_b, manager, course, people
):
    due = TODAY + timedelta(days=30)
    outsider = UserFactory(organization=org_b)
    service = UserFactory(organization=org_a, is_service_account=True, display_name="Integration")
    gone = UserFactory(organization=org_a, is_active=False, display_name="Former")
    with pytest.raises(ValidationError) as error:
        training_assign(
            actor=manager, organization=org_a, course=course, users=[*people, outsider], due_on=due
        )
    assert "not members of your organization" in str(error.value)
    with pytest.raises(ValidationError) as error:
        training_assign(
            actor=manager, organization=org_a, course=course, users=[*people, service, gone], due_on=due
        )
    assert "active people only, not to Former, Integration" in str(error.value)
    with pytest.raises(ValidationError) as error:
        training_assign(actor=manager, organization=org_a, course=course, users=[], due_on=due)
    assert "Choose at least one person." in str(error.value)
    assert not TrainingAssignment.objects.exists()


def test_one_open_assignment_per_course_and_person(org_a, manager, course, people):
    due = TODAY + timedelta(days=30)
    training_assign(actor=manager, organization=org_a, course=course, users=people[:1], due_on=due)
    with pytest.raises(ValidationError) as error:
        training_assign(actor=manager, organization=org_a, course=course, users=people, due_on=due)
    assert error.value.message_dict["users"] == [
        f"Dana already have {course.title} open; complete or cancel it first."
    ]
    assert TrainingAssignment.objects.count() == 1  # all or nothing: Eli was not assigned either
    # Once completed, the course may be assigned again (yearly refreshers).
    training_complete(actor=people[0], assignment=TrainingAssignment.objects.get())
    assert (
        len(training_assign(actor=manager, organization=org_a, course=course, users=people, due_on=due)) == 2
    )


def test_an_inactive_course_is_not_assigned(org_a, manager, course, people):
    TrainingCourse.objects.filter(pk=course.pk).update(is_active=False)
    course.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        training_assign(
            actor=manager, organization=org_a, course=course, users=people, due_on=TODAY + timedelta(days=9)
        )
    assert "course" in error.value.message_dict


def test_only_compliance_managers_assign_the_page_checks_first(org_a, bob, course, people, verified_client):
    response = verified_client(bob).post(
        reverse("security:training"),
        {"course": course.pk, "users": people[0].email, "due_on": (TODAY + timedelta(days=9)).isoformat()},
    )
    assert response.status_code == 403
    assert not TrainingAssignment.objects.exists()


# --- Completion and cancellation ------------------------------------------------------------------


def test_the_assignee_completes_their_training(org_a, people):
    assignment = TrainingAssignmentFactory(organization=org_a, user=people[0])
    training_complete(actor=people[0], assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == TrainingStatus.COMPLETED
    assert assignment.completed_at == timezone.now()
    assert AuditEvent.objects.filter(
        action="security.training.completed", target_id=str(assignment.pk)
    ).exists()


def test_a_compliance_manager_completes_or_cancels_for_someone(org_a, manager, alice, people):
    first = TrainingAssignmentFactory(organization=org_a, user=people[0])
    second = TrainingAssignmentFactory(organization=org_a, user=people[1])
    training_complete(actor=manager, assignment=first)
    training_cancel(actor=alice, assignment=second)  # a Global admin manages compliance too
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (TrainingStatus.COMPLETED, TrainingStatus.CANCELED)


def test_nobody_else_touches_an_assignment(org_a, bob, charlie, people, verified_client):
    assignment = TrainingAssignmentFactory(organization=org_a, user=people[0])
    for actor, refused in ((bob, 403), (people[1], 403), (charlie, 404)):
        client = verified_client(actor)
        for name in ("security:training-complete", "security:training-cancel"):
            assert client.post(reverse(name, args=[assignment.pk])).status_code == refused, (actor, name)
    assignment.refresh_from_db()
    assert assignment.status == TrainingStatus.ASSIGNED


def test_a_closed_assignment_stays_closed(org_a, people):
    assignment = TrainingAssignmentFactory(organization=org_a, user=people[0])
    training_cancel(actor=people[0], assignment=assignment)
    with pytest.raises(ValidationError) as error:
        training_complete(actor=people[0], assignment=assignment)
    assert "already canceled" in str(error.value)


# --- Reminders ------------------------------------------------------------------------------------


def test_trainings_due_within_seven_days_or_overdue_are_reminded_once(
    org_a, org_b, people, django_capture_on_commit_callbacks
):
    soon = TrainingAssignmentFactory(organization=org_a, user=people[0], due_on=TODAY + timedelta(days=7))
    late = TrainingAssignmentFactory(organization=org_a, user=people[1], due_on=TODAY - timedelta(days=1))
    later = TrainingAssignmentFactory(organization=org_a, due_on=TODAY + timedelta(days=8))
    TrainingAssignmentFactory(organization=org_b, due_on=TODAY + timedelta(days=60))
    with django_capture_on_commit_callbacks(execute=True):
        assert trainings_remind() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["dana@alpha.example", "eli@alpha.example"]
    # Through the outbox: the subject names the organization.
    assert any(m.subject.startswith(f"[{org_a.legal_name}] Overdue:") for m in mail.outbox)
    later.refresh_from_db()
    assert later.last_reminded_at is None
    item = _item(org_a)
    assert item.severity == Severity.HIGH  # one overdue
    assert "2 open compliance training(s)" in item.body and "1 of them overdue" in item.body
    assert ActionItem.objects.filter(code=ActionItemCode.COMPLIANCE_TRAINING_DUE).count() == 1
    assert _item(org_b) is None

    # Idempotent: a second run the same day sends nothing and changes nothing.
    mail.outbox.clear()
    before = list(ActionItem.objects.values())
    with django_capture_on_commit_callbacks(execute=True):
        assert trainings_remind() == 0
    assert mail.outbox == []
    assert list(ActionItem.objects.values()) == before
    for assignment in (soon, late):
        assignment.refresh_from_db()
        assert assignment.last_reminded_at == timezone.now()


def test_reminders_repeat_when_the_due_date_passes_and_then_weekly(org_a, people):
    assignment = TrainingAssignmentFactory(
        organization=org_a, user=people[0], due_on=TODAY + timedelta(days=5)
    )
    assert trainings_remind() == 1
    with freeze_time("2026-03-05 09:00:00"):
        assert trainings_remind() == 0
        assert _item(org_a).severity == Severity.MEDIUM
    with freeze_time("2026-03-08 09:00:00"):  # the day after the due date
        assert trainings_remind() == 1
        assert _item(org_a).severity == Severity.HIGH
    with freeze_time("2026-03-14 09:00:00"):
        assert trainings_remind() == 0
    with freeze_time("2026-03-15 09:00:00"):
        assert trainings_remind() == 1
    assignment.refresh_from_db()
    assert timezone.localdate(assignment.last_reminded_at) == date(2026, 3, 15)


def test_the_item_is_resolved_when_no_due_training_is_left(org_a, people, manager):
    first = TrainingAssignmentFactory(organization=org_a, user=people[0], due_on=TODAY + timedelta(days=2))
    second = TrainingAssignmentFactory(organization=org_a, user=people[1], due_on=TODAY + timedelta(days=3))
    trainings_remind()
    training_complete(actor=people[0], assignment=first)
    assert _item(org_a).status == ActionItemStatus.OPEN
    training_cancel(actor=manager, assignment=second)
    assert _item(org_a).status == ActionItemStatus.RESOLVED


def test_the_daily_run_resolves_an_item_whose_trainings_went_away(org_a, people):
    assignment = TrainingAssignmentFactory(
        organization=org_a, user=people[0], due_on=TODAY + timedelta(days=2)
    )
    trainings_remind()
    # The person left the company: their open training no longer counts.
    type(people[0]).objects.filter(pk=people[0].pk).update(is_active=False)
    assert trainings_remind() == 0
    assert _item(org_a).status == ActionItemStatus.RESOLVED
    assignment.refresh_from_db()
    assert assignment.completed_at is None
