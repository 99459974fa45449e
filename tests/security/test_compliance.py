"""Program enrollments and verification checks (spec/accounts.md §4.1, §5): enrolment, the
program's status, transitions, appeals, the reviewer's decision, history and the Action Center."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from portal.history import history_for
from portal.models import AuditEvent
from portal.roles import Role
from security.choices import MAX_APPEALS, CheckKind, CheckStatus, Program, ReviewerDecision
from security.models import ProgramEnrollment, VerificationCheck
from security.services.compliance import (
    PROGRAM_CHECKS,
    check_appeal,
    check_transition,
    document_review,
    program_enroll,
    verification_status,
)
from tests.factories import (
    UserFactory,
    VerificationCheckFactory,
    VerificationDocumentFactory,
    compliance_admin,
)

CS = CheckStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return UserFactory(organization=None, is_staff=True, email="reviewer@vendor.example")


@pytest.fixture
def manager(org_a):
    return compliance_admin(org_a, email="cora@alpha.example")


def _check(org, status=CS.PENDING, kind=CheckKind.BUSINESS, **kwargs):
    return VerificationCheckFactory(organization=org, status=status, kind=kind, **kwargs)


def _item(check):
    return ActionItem.objects.filter(dedupe_key=f"verification-check-{check.pk}").first()


def _events(check):
    return list(history_for(check))


# --- Enrollment -----------------------------------------------------------------------------------


def test_enrolling_creates_the_programs_checks_pending_and_audits(org_a, manager):
    enrollment = program_enroll(actor=manager, organization=org_a, program=Program.CSP_INDIRECT_RESELLER)
    checks = list(enrollment.checks.order_by("kind"))
    assert sorted(c.kind for c in checks) == sorted(PROGRAM_CHECKS[Program.CSP_INDIRECT_RESELLER])
    assert {c.status for c in checks} == {CS.PENDING}
    assert all(c.organization_id == org_a.pk for c in checks)
    audit = AuditEvent.objects.get(action="security.program.enrolled")
    assert audit.organization_id == org_a.pk and audit.changes["program"] == Program.CSP_INDIRECT_RESELLER
    # The history starts with the checks: one event each, naming who enrolled.
    events = _events(checks[0])
    assert [(e.from_status, e.to_status) for e in events] == [("", CS.PENDING)]
    assert events[0].actor_label == "cora@alpha.example"


def test_every_program_has_checks_and_all_start_with_email_and_business():
    assert set(PROGRAM_CHECKS) == set(Program.values)
    for kinds in PROGRAM_CHECKS.values():
        assert {CheckKind.EMAIL, CheckKind.EMPLOYMENT, CheckKind.BUSINESS} <= set(kinds)


def test_enrolling_twice_in_one_program_is_refused_with_a_clear_message(org_a, alice):
    program_enroll(actor=alice, organization=org_a, program=Program.AI_CLOUD_PARTNER_PROGRAM)
    with pytest.raises(ValidationError) as error:
        program_enroll(actor=alice, organization=org_a, program=Program.AI_CLOUD_PARTNER_PROGRAM)
    assert "already enrolled in AI Cloud Partner Program" in str(error.value.message_dict["program"])
    assert ProgramEnrollment.objects.filter(organization=org_a).count() == 1


def test_an_unknown_program_is_refused(org_a, alice):
    with pytest.raises(ValidationError) as error:
        program_enroll(actor=alice, organization=org_a, program="surface")
    assert "program" in error.value.message_dict


def test_only_compliance_or_account_admins_enroll_the_page_checks_before_the_service(
    org_a, bob, verified_client
):
    response = verified_client(bob).post(
        reverse("security:compliance-enroll"), {"program": Program.CSP_DIRECT_BILL}
    )
    assert response.status_code == 403
    assert not ProgramEnrollment.objects.exists()


# --- Program status -------------------------------------------------------------------------------


def test_a_program_is_verified_only_when_every_check_is(org_a, alice):
    enrollment = program_enroll(actor=alice, organization=org_a, program=Program.AI_CLOUD_PARTNER_PROGRAM)
    assert verification_status(enrollment) == CS.PENDING
    enrollment.checks.update(status=CS.VERIFIED)
    enrollment = ProgramEnrollment.objects.get(pk=enrollment.pk)
    assert verification_status(enrollment) == CS.VERIFIED


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((CS.VERIFIED, CS.IN_REVIEW, CS.PENDING), CS.PENDING),
        ((CS.VERIFIED, CS.ACTION_REQUIRED, CS.DOCUMENTS_SUBMITTED), CS.ACTION_REQUIRED),
        ((CS.ACTION_REQUIRED, CS.REJECTED, CS.VERIFIED), CS.REJECTED),
        ((CS.VERIFIED, CS.IN_REVIEW, CS.VERIFIED), CS.IN_REVIEW),
    ],
)
def test_otherwise_the_program_shows_its_worst_check(org_a, statuses, expected):
    kinds = [CheckKind.EMAIL, CheckKind.BUSINESS, CheckKind.ADDRESS]
    enrollment = _check(org_a, status=statuses[0], kind=kinds[0]).enrollment
    for status, kind in zip(statuses[1:], kinds[1:], strict=True):
        _check(org_a, status=status, kind=kind, enrollment=enrollment)
    assert (
        verification_status(ProgramEnrollment.objects.prefetch_related("checks").get(pk=enrollment.pk))
        == expected
    )


def test_a_program_without_checks_has_not_started(org_a):
    enrollment = ProgramEnrollment.objects.create(organization=org_a, program=Program.CSP_DIRECT_BILL)
    assert verification_status(enrollment) == CS.NOT_STARTED


# --- Transitions and the Action Center ------------------------------------------------------------


def test_action_required_raises_a_high_item_for_account_and_compliance_admins(org_a, reviewer):
    check = _check(org_a)
    check_transition(
        actor=reviewer,
        check=check,
        to_status=CS.ACTION_REQUIRED,
        reason="Upload a domain ownership record for fabrikam-consulting.example.",
    )
    check.refresh_from_db()
    assert check.status == CS.ACTION_REQUIRED
    assert check.reason == "Upload a domain ownership record for fabrikam-consulting.example."
    item = _item(check)
    assert item.code == ActionItemCode.VERIFICATION_ACTION_REQUIRED
    assert item.severity == Severity.HIGH
    assert item.status == ActionItemStatus.OPEN
    assert {Role.ACCOUNT_ADMIN, Role.COMPLIANCE_ADMIN} <= set(item.audience_roles)
    assert str(check.pk) in item.target_url
    assert "domain ownership record" in item.body
    audit = AuditEvent.objects.get(action="security.check.status_changed", target_id=str(check.pk))
    assert audit.changes["status"] == [CS.PENDING, CS.ACTION_REQUIRED]
    assert audit.actor == reviewer


def test_the_item_is_raised_once_per_check_and_resolved_when_it_is_verified(org_a, reviewer):
    check = _check(org_a)
    check_transition(actor=reviewer, check=check, to_status=CS.REJECTED, reason="Name differs.")
    check_transition(actor=reviewer, check=check, to_status=CS.PENDING, reason="Retry.")
    check_transition(actor=reviewer, check=check, to_status=CS.ACTION_REQUIRED, reason="Upload an extract.")
    assert ActionItem.objects.filter(code=ActionItemCode.VERIFICATION_ACTION_REQUIRED).count() == 1
    assert _item(check).body == "Upload an extract."
    other = _check(org_a, kind=CheckKind.ADDRESS, enrollment=check.enrollment)
    check_transition(actor=reviewer, check=other, to_status=CS.ACTION_REQUIRED, reason="P.O. box.")
    assert ActionItem.objects.filter(code=ActionItemCode.VERIFICATION_ACTION_REQUIRED).count() == 2

    check_transition(actor=reviewer, check=check, to_status=CS.PENDING)
    assert _item(check).status == ActionItemStatus.OPEN  # resolves only once verified (spec §5)
    check_transition(actor=None, check=check, to_status=CS.VERIFIED)
    assert _item(check).status == ActionItemStatus.RESOLVED
    assert _item(other).status == ActionItemStatus.OPEN


def test_a_move_outside_the_table_is_refused_naming_the_allowed_ones(org_a, reviewer):
    check = _check(org_a, status=CS.PENDING)
    with pytest.raises(ValidationError) as error:
        check_transition(actor=reviewer, check=check, to_status=CS.IN_REVIEW)
    message = str(error.value.message_dict["status"])
    assert "pending cannot become in review" in message
    assert "verified" in message and "action required" in message
    check.refresh_from_db()
    assert check.status == CS.PENDING
    assert not AuditEvent.objects.filter(action="security.check.status_changed").exists()


def test_action_required_and_rejection_need_a_reason(org_a, reviewer):
    check = _check(org_a)
    for status in (CS.ACTION_REQUIRED, CS.REJECTED):
        with pytest.raises(ValidationError) as error:
            check_transition(actor=reviewer, check=check, to_status=status, reason="  ")
        assert "reason" in error.value.message_dict


def test_a_partner_cannot_verify_their_own_check(org_a, alice, manager, charlie):
    check = _check(org_a)
    for actor in (alice, manager):
        with pytest.raises(PermissionDenied):
            check_transition(actor=actor, check=check, to_status=CS.VERIFIED)
    with pytest.raises(PermissionDenied):
        check_transition(actor=charlie, check=check, to_status=CS.VERIFIED)
    check.refresh_from_db()
    assert check.status == CS.PENDING


def test_the_history_records_every_move_with_its_reason_and_actor(org_a, reviewer):
    check = _check(org_a)
    check_transition(actor=reviewer, check=check, to_status=CS.ACTION_REQUIRED, reason="Upload an extract.")
    check_transition(actor=None, check=check, to_status=CS.PENDING, reason="Profile fixed.")
    events = _events(check)
    assert [(e.to_status, e.note) for e in events[-2:]] == [
        (CS.ACTION_REQUIRED, "Upload an extract."),
        (CS.PENDING, "Profile fixed."),
    ]
    assert [e.actor_label for e in events[-2:]] == ["reviewer@vendor.example", "system"]
    assert events[-2].actor == reviewer


# --- Appeals --------------------------------------------------------------------------------------


def test_a_rejected_check_is_appealed_with_a_note(org_a, manager):
    check = _check(org_a, status=CS.REJECTED)
    check_appeal(actor=manager, check=check, note="The register was updated last week; see the new extract.")
    check.refresh_from_db()
    assert check.status == CS.APPEAL_SUBMITTED
    assert check.appeals_used == 1
    assert check.reason.startswith("The register was updated")
    audit = AuditEvent.objects.get(action="security.check.status_changed", target_id=str(check.pk))
    assert audit.changes["appeals_used"] == [0, 1]


def test_an_appeal_needs_a_note_and_a_rejected_check(org_a, manager):
    check = _check(org_a, status=CS.REJECTED)
    with pytest.raises(ValidationError) as error:
        check_appeal(actor=manager, check=check, note=" ")
    assert "note" in error.value.message_dict
    pending = _check(org_a, status=CS.ACTION_REQUIRED, kind=CheckKind.ADDRESS, enrollment=check.enrollment)
    with pytest.raises(ValidationError) as error:
        check_appeal(actor=manager, check=pending, note="Please")
    assert "Only a rejected check can be appealed" in str(error.value)


def test_a_check_is_appealed_at_most_three_times(org_a, manager, reviewer):
    check = _check(org_a, status=CS.REJECTED)
    for _ in range(MAX_APPEALS):
        check_appeal(actor=manager, check=check, note="Please look again.")
        check_transition(actor=reviewer, check=check, to_status=CS.IN_REVIEW)
        check_transition(actor=reviewer, check=check, to_status=CS.REJECTED, reason="Still differs.")
    with pytest.raises(ValidationError) as error:
        check_appeal(actor=manager, check=check, note="One more time.")
    assert "appealed 3 times, the most allowed" in str(error.value)
    check.refresh_from_db()
    assert (check.status, check.appeals_used) == (CS.REJECTED, MAX_APPEALS)


def test_the_appeal_limit_also_holds_through_check_transition(org_a, reviewer):
    check = _check(org_a, status=CS.REJECTED, appeals_used=MAX_APPEALS)
    with pytest.raises(ValidationError):
        check_transition(actor=reviewer, check=check, to_status=CS.APPEAL_SUBMITTED, reason="Again")


def test_a_user_without_compliance_rights_cannot_appeal(org_a, bob, charlie, verified_client):
    check = _check(org_a, status=CS.REJECTED)
    url = reverse("security:check-appeal", args=[check.pk])
    assert verified_client(bob).post(url, {"note": "Please"}).status_code == 403
    assert verified_client(charlie).post(url, {"note": "Please"}).status_code == 404
    check.refresh_from_db()
    assert (check.status, check.appeals_used) == (CS.REJECTED, 0)


# --- Document review ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "check_status", "document_decision"),
    [
        ("accepted", CS.VERIFIED, ReviewerDecision.ACCEPTED),
        ("rejected", CS.REJECTED, ReviewerDecision.REJECTED),
        ("action_required", CS.ACTION_REQUIRED, ReviewerDecision.REJECTED),
    ],
)
def test_the_review_moves_the_check_through_in_review(
    org_a, reviewer, decision, check_status, document_decision
):
    document = VerificationDocumentFactory(
        organization=org_a, check_ref=_check(org_a, status=CS.DOCUMENTS_SUBMITTED)
    )
    note = "" if decision == "accepted" else "The extract is for another entity."
    document_review(actor=reviewer, document=document, decision=decision, note=note)
    document.refresh_from_db()
    check = document.check_ref
    check.refresh_from_db()
    assert check.status == check_status
    assert document.reviewer_decision == document_decision
    assert document.reviewer == reviewer and document.reviewed_at is not None
    assert [e.to_status for e in _events(check)][-2:] == [CS.IN_REVIEW, check_status]
    assert AuditEvent.objects.filter(action="security.document.reviewed", target_id=str(check.pk)).exists()
    item = _item(check)
    if check_status == CS.VERIFIED:
        assert item is None
    else:
        assert item.status == ActionItemStatus.OPEN and "another entity" in item.body


def test_an_accepted_document_resolves_the_checks_item(org_a, reviewer):
    check = _check(org_a)
    check_transition(actor=reviewer, check=check, to_status=CS.ACTION_REQUIRED, reason="Upload an extract.")
    VerificationCheck.objects.filter(pk=check.pk).update(status=CS.DOCUMENTS_SUBMITTED)
    document = VerificationDocumentFactory(organization=org_a, check_ref=check)
    document_review(actor=reviewer, document=document, decision="accepted", note="")
    assert _item(check).status == ActionItemStatus.RESOLVED


def test_an_appealed_check_is_reviewed_too(org_a, reviewer, manager):
    check = _check(org_a, status=CS.REJECTED)
    document = VerificationDocumentFactory(organization=org_a, check_ref=check)
    check_appeal(actor=manager, check=check, note="New extract attached.")
    document_review(actor=reviewer, document=document, decision="accepted", note="")
    check.refresh_from_db()
    assert check.status == CS.VERIFIED


def test_only_vendor_staff_review_documents(org_a, alice, manager):
    document = VerificationDocumentFactory(
        organization=org_a, check_ref=_check(org_a, status=CS.DOCUMENTS_SUBMITTED)
    )
    partner_staff = UserFactory(organization=org_a, is_staff=True)
    for actor in (alice, manager, partner_staff):
        with pytest.raises(PermissionDenied):
            document_review(actor=actor, document=document, decision="accepted", note="")
    document.refresh_from_db()
    assert document.reviewer_decision == ReviewerDecision.PENDING


def test_a_review_needs_a_known_decision_a_note_for_refusals_and_an_open_document(org_a, reviewer):
    check = _check(org_a, status=CS.DOCUMENTS_SUBMITTED)
    document = VerificationDocumentFactory(organization=org_a, check_ref=check)
    with pytest.raises(ValidationError) as error:
        document_review(actor=reviewer, document=document, decision="maybe", note="")
    assert "decision" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        document_review(actor=reviewer, document=document, decision="rejected", note="")
    assert "note" in error.value.message_dict
    document_review(actor=reviewer, document=document, decision="accepted", note="")
    with pytest.raises(ValidationError) as error:
        document_review(actor=reviewer, document=document, decision="rejected", note="Changed my mind")
    assert "already reviewed" in str(error.value)


def test_a_document_is_not_reviewed_while_its_check_waits_for_the_partner(org_a, reviewer):
    document = VerificationDocumentFactory(
        organization=org_a, check_ref=_check(org_a, status=CS.ACTION_REQUIRED)
    )
    with pytest.raises(ValidationError) as error:
        document_review(actor=reviewer, document=document, decision="accepted", note="")
    assert "this one is action required" in str(error.value)
