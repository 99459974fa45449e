"""The Security workspace's notifications, through the outbox to a real SMTP server: GDAP
relationships ending soon (once per threshold) and ended, the security score dropping, a mandatory
requirement failing, a verification document's review, and compliance training reminders — each
to the people it concerns and nobody else, once per occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from portal.notifications import categories
from portal.notifications.models import Notification
from portal.roles import Role
from security.choices import CheckStatus, GdapStatus, RequirementType
from security.models import GdapRelationship
from security.notifications import (
    GDAP_ENDED,
    GDAP_EXPIRING,
    REQUIREMENT_FAILED,
    SCORE_DROPPED,
    TRAINING_DUE,
    VERIFICATION_RESULT,
)
from security.services.compliance import document_review
from security.services.gdap import gdap_terminate
from security.services.gdap_daily import gdap_daily
from security.services.requirements import security_snapshot_take
from security.services.training import trainings_remind
from tests.conftest import confirm_totp
from tests.factories import (
    SecuritySettingsFactory,
    TrainingAssignmentFactory,
    UserFactory,
    VerificationCheckFactory,
    VerificationDocumentFactory,
    active_gdap_relationship,
    compliance_admin,
)

pytestmark = pytest.mark.django_db

ORG = "[Alpha Partners GmbH]"


@pytest.fixture
def agent(org_a):
    """An Admin agent: manages GDAP and security, but is no account admin."""
    return UserFactory(organization=org_a, email="agent@alpha.example", roles=[Role.ADMIN_AGENT])


@pytest.fixture
def outsider(org_b):
    """An Admin agent of another organization."""
    return UserFactory(organization=org_b, email="agent@beta.example", roles=[Role.ADMIN_AGENT])


def _told(code: str) -> set[str]:
    return set(Notification.objects.filter(category=code).values_list("recipient__email", flat=True))


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _subject(message) -> str:
    # A subject with non-ASCII characters (the quotes around a name) is folded onto the header's
    # next line, which the parser keeps as a leading space.
    return str(message["Subject"]).strip()


def _by_recipient(smtp_server) -> dict[str, list]:
    received: dict[str, list] = {}
    for message in smtp_server.messages():
        received.setdefault(message["To"], []).append(message)
    return received


def test_the_categories_are_on_the_preferences_page():
    codes = {found.code for found in categories()}
    assert {
        GDAP_EXPIRING.code,
        GDAP_ENDED.code,
        SCORE_DROPPED.code,
        REQUIREMENT_FAILED.code,
        VERIFICATION_RESULT.code,
        TRAINING_DUE.code,
    } <= codes


# --- GDAP --------------------------------------------------------------------------------------------


def _ending(org, *, end_at: datetime, **kwargs) -> GdapRelationship:
    return active_gdap_relationship(
        org,
        display_name="Contoso-Helpdesk",
        activated_at=end_at - timedelta(days=730),
        duration=timedelta(days=730),
        **kwargs,
    )


def test_an_expiring_relationship_is_told_once_per_threshold_to_the_gdap_managers(
    org_a, alice, bob, agent, outsider, smtp_server, django_capture_on_commit_callbacks
):
    end = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    relationship = _ending(org_a, end_at=end)
    active_gdap_relationship(outsider.organization)  # another organization's, far from its end

    def run(when: datetime) -> None:
        with freeze_time(when), django_capture_on_commit_callbacks(execute=True):
            gdap_daily()

    run(end - timedelta(days=45))  # outside the 30-day window: nothing
    assert not Notification.objects.exists()
    run(end - timedelta(days=25))  # within 30 days (a missed night is caught up)
    run(end - timedelta(days=25))  # the same night again
    run(end - timedelta(days=20))  # still the 30-day threshold
    run(end - timedelta(days=7))  # the 7-day threshold
    run(end - timedelta(days=6, hours=12))
    run(end - timedelta(hours=20))  # the last day

    # Alice (Global admin) and the Admin agent; never Bob (no GDAP role) nor the other organization.
    assert _told(GDAP_EXPIRING.code) == {alice.email, agent.email}
    received = _by_recipient(smtp_server)
    assert set(received) == {alice.email, agent.email}
    subjects = [_subject(message) for message in received[agent.email]]
    assert subjects == [
        f"{ORG} GDAP relationship “Contoso-Helpdesk” with {relationship.customer.name} ends in 25 days",
        f"{ORG} GDAP relationship “Contoso-Helpdesk” with {relationship.customer.name} ends in 7 days",
        f"{ORG} GDAP relationship “Contoso-Helpdesk” with {relationship.customer.name} ends in 1 day",
    ]
    text = _text(received[agent.email][0])
    assert f"https://portal.test/security/gdap/{relationship.pk}/" in text
    assert "Renew it" in text


def test_an_auto_extending_relationship_is_not_told(
    org_a, alice, smtp_server, django_capture_on_commit_callbacks
):
    end = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    _ending(org_a, end_at=end, auto_extend_duration=timedelta(days=180))
    with freeze_time(end - timedelta(days=5)), django_capture_on_commit_callbacks(execute=True):
        gdap_daily()
    assert not Notification.objects.exists()
    assert smtp_server.messages() == []


def test_a_relationship_that_expires_is_told_once(
    org_a, alice, bob, agent, smtp_server, django_capture_on_commit_callbacks
):
    end = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    relationship = _ending(org_a, end_at=end)
    GdapRelationship.objects.filter(pk=relationship.pk).update(status=GdapStatus.EXPIRING)
    for when in (end + timedelta(hours=1), end + timedelta(days=1)):
        with freeze_time(when), django_capture_on_commit_callbacks(execute=True):
            gdap_daily()
    relationship.refresh_from_db()
    assert relationship.status == GdapStatus.EXPIRED

    assert _told(GDAP_ENDED.code) == {alice.email, agent.email}
    received = _by_recipient(smtp_server)
    [message] = received[agent.email]
    assert _subject(message) == (
        f"{ORG} GDAP relationship “Contoso-Helpdesk” with {relationship.customer.name} expired"
    )
    assert f"https://portal.test/security/gdap/{relationship.pk}/" in _text(message)
    assert bob.email not in received


def test_a_termination_tells_the_other_gdap_managers(
    org_a, alice, bob, agent, outsider, smtp_server, django_capture_on_commit_callbacks
):
    relationship = active_gdap_relationship(org_a, display_name="Fabrikam-Helpdesk")
    with django_capture_on_commit_callbacks(execute=True):
        gdap_terminate(actor=alice, relationship=relationship)

    # The Admin agent; not Alice who terminated it, nor Bob, nor the other organization.
    assert _told(GDAP_ENDED.code) == {agent.email}
    [message] = smtp_server.messages()
    assert _subject(message) == (
        f"{ORG} GDAP relationship “Fabrikam-Helpdesk” with {relationship.customer.name} was terminated"
    )
    text = _text(message)
    assert f"terminated by {alice.get_full_name()}" in text
    assert f"https://portal.test/security/gdap/{relationship.pk}/" in text


def test_a_request_that_expires_unanswered_tells_nobody(
    org_a, alice, agent, django_capture_on_commit_callbacks
):
    relationship = active_gdap_relationship(org_a)
    GdapRelationship.objects.filter(pk=relationship.pk).update(
        status=GdapStatus.APPROVAL_PENDING,
        locked_for_approval_at=timezone.now() - timedelta(days=91),
        activated_at=None,
        end_at=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert gdap_daily()["approvals_expired"] == 1
    assert not Notification.objects.exists()


# --- Score and requirements ---------------------------------------------------------------------------


def test_a_lower_score_and_a_failing_requirement_are_told_to_the_security_managers_once(
    org_a, alice, bob, outsider, smtp_server, django_capture_on_commit_callbacks
):
    confirm_totp(alice)
    SecuritySettingsFactory(organization=org_a)
    with django_capture_on_commit_callbacks(execute=True):
        first = security_snapshot_take(org_a, on=date(2026, 3, 9))
    assert first.score == 100
    assert not Notification.objects.exists()  # every requirement met: nothing to say

    agent = UserFactory(organization=org_a, email="agent@alpha.example", roles=[Role.ADMIN_AGENT])  # no MFA
    with django_capture_on_commit_callbacks(execute=True):
        second = security_snapshot_take(org_a, on=date(2026, 3, 10))
        security_snapshot_take(org_a, on=date(2026, 3, 10))  # the nightly run again
    assert second.score < 100

    assert _told(SCORE_DROPPED.code) == {alice.email, agent.email}
    assert _told(REQUIREMENT_FAILED.code) == {alice.email, agent.email}
    received = _by_recipient(smtp_server)
    assert set(received) == {alice.email, agent.email}  # not Bob, not the other organization
    by_subject = {_subject(message): message for message in received[alice.email]}
    assert len(received[alice.email]) == 2
    dropped = by_subject[f"{ORG} Security score dropped from 100 to {second.score}"]
    assert f"Points lost: {RequirementType.MFA_FOR_ADMINS.label} (−25)" in _text(dropped)
    assert "https://portal.test/security/" in _text(dropped)
    failed = next(m for s, m in by_subject.items() if "Security requirement not met" in s)
    assert "https://portal.test/security/mfa/" in _text(failed)
    assert "mandatory" in _text(failed)


def test_a_requirement_that_fails_again_after_passing_is_told_again(
    org_a, alice, smtp_server, django_capture_on_commit_callbacks
):
    SecuritySettingsFactory(organization=org_a)
    device = confirm_totp(alice)
    days = iter(date(2026, 3, day) for day in range(1, 10))
    with django_capture_on_commit_callbacks(execute=True):
        security_snapshot_take(org_a, on=next(days))
        TOTPDevice.objects.filter(pk=device.pk).delete()
        with freeze_time("2026-03-02 06:00:00"):
            security_snapshot_take(org_a, on=next(days))  # fails: told
        security_snapshot_take(org_a, on=next(days))  # still failing: not again
        confirm_totp(alice)
        with freeze_time("2026-03-04 06:00:00"):
            security_snapshot_take(org_a, on=next(days))  # passes again
        TOTPDevice.objects.filter(user=alice).delete()
        security_snapshot_take(org_a, on=next(days))  # fails again: told again

    failures = Notification.objects.filter(category=REQUIREMENT_FAILED.code, recipient=alice)
    assert failures.count() == 2
    assert set(failures.values_list("title", flat=True)) == {
        f"Security requirement not met: {RequirementType.MFA_FOR_ADMINS.label}"
    }


# --- Verification documents -----------------------------------------------------------------------


@pytest.fixture
def cora(org_a):
    return compliance_admin(org_a, email="cora@alpha.example", display_name="Cora")


@pytest.fixture
def reviewer(db):
    return UserFactory(organization=None, is_staff=True, email="reviewer@vendor.example")


def _submitted(org, uploader):
    check = VerificationCheckFactory(organization=org, status=CheckStatus.DOCUMENTS_SUBMITTED)
    return VerificationDocumentFactory(organization=org, check_ref=check, uploaded_by=uploader)


def test_an_accepted_document_tells_its_uploader_and_the_account_admins(
    org_a, alice, bob, agent, cora, reviewer, charlie, smtp_server, django_capture_on_commit_callbacks
):
    document = _submitted(org_a, cora)
    with django_capture_on_commit_callbacks(execute=True):
        document_review(actor=reviewer, document=document, decision="accepted", note="")

    # Cora uploaded it, Alice is an account admin; not Bob or the Admin agent, nor Charlie.
    assert _told(VERIFICATION_RESULT.code) == {cora.email, alice.email}
    received = _by_recipient(smtp_server)
    assert set(received) == {cora.email, alice.email}
    [message] = received[cora.email]
    assert _subject(message) == (
        f"{ORG} Verification passed: Business register extract accepted for the business (legal entity) check"
    )
    assert f"https://portal.test/security/compliance/documents/{document.pk}/" in _text(message)


@pytest.mark.parametrize(
    ("decision", "title", "next_step"),
    [
        ("rejected", "Verification failed:", "You may appeal"),
        ("action_required", "needs another document", "Upload another document"),
    ],
)
def test_a_failed_review_says_what_to_do_next(
    org_a, alice, cora, reviewer, decision, title, next_step, smtp_server, django_capture_on_commit_callbacks
):
    document = _submitted(org_a, cora)
    with django_capture_on_commit_callbacks(execute=True):
        document_review(actor=reviewer, document=document, decision=decision, note="The name differs.")
    received = _by_recipient(smtp_server)
    assert set(received) == {cora.email, alice.email}
    [message] = received[cora.email]
    assert title in _subject(message)
    text = _text(message)
    assert next_step in text and "The name differs." in text


# --- Compliance training ------------------------------------------------------------------------


def test_training_reminders_reach_only_the_assignee_through_the_outbox_once(
    org_a, alice, bob, smtp_server, django_capture_on_commit_callbacks
):
    dana = UserFactory(organization=org_a, email="dana@alpha.example")
    with freeze_time("2026-03-02 09:00:00"):
        assignment = TrainingAssignmentFactory(organization=org_a, user=dana, due_on=date(2026, 3, 1))
        with django_capture_on_commit_callbacks(execute=True):
            assert trainings_remind() == 1
            assert trainings_remind() == 0  # the same day again

    assert _told(TRAINING_DUE.code) == {dana.email}
    [message] = smtp_server.messages()
    assert message["To"] == dana.email
    assert _subject(message) == f"{ORG} Overdue: {assignment.course.title}"
    text = _text(message)
    assert "https://portal.test/security/compliance/training/" in text
    assert assignment.course.url in text
