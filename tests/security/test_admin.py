"""The vendor's security admin: pages load, alerts are raised through the service, GDAP and DAP are
read-only (no DAP can be added), checks move and documents are decided through the services."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse

from accounts.models import ActionItem
from security.choices import AlertType, CheckStatus, GdapStatus, ReviewerDecision
from security.models import DapRelationship, EntraRole, SecurityAlert, TrainingCourse
from security.services.gdap_rules import gdap_transition
from tests.factories import (
    CustomerFactory,
    CustomerMfaStatFactory,
    DapRelationshipFactory,
    GdapAccessAssignmentFactory,
    ProgramEnrollmentFactory,
    SecurityAlertFactory,
    SecurityScoreSnapshotFactory,
    SecuritySettingsFactory,
    TrainingAssignmentFactory,
    UserFactory,
    VerificationCheckFactory,
    VerificationDocumentFactory,
    active_gdap_relationship,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="reviewer@vendor.example")


@pytest.fixture
def client(staff, verified_client):
    return verified_client(staff)


def changelist(name: str) -> str:
    return reverse(f"admin:security_{name}_changelist")


def test_every_security_admin_page_loads(client, org_a):
    relationship = active_gdap_relationship(org_a)
    assignment = GdapAccessAssignmentFactory(organization=org_a, relationship=relationship)
    check = VerificationCheckFactory(organization=org_a)
    document = VerificationDocumentFactory(
        organization=org_a,
        check_ref=check,
        assist_findings=[
            {
                "code": "NAME_PARTIAL",
                "severity": "warning",
                "detail": "Similarity 88",
                "points": 15,
                "fix": "Match it.",
            }
        ],
    )
    objects = {
        "entrarole": EntraRole.objects.order_by("display_name").first(),
        "trainingcourse": TrainingCourse.objects.order_by("code").first(),
        "securityalert": SecurityAlertFactory(organization=org_a),
        "gdaprelationship": relationship,
        "gdapaccessassignment": assignment,
        "daprelationship": DapRelationshipFactory(organization=org_a),
        "programenrollment": check.enrollment,
        "verificationcheck": check,
        "verificationdocument": document,
        "trainingassignment": TrainingAssignmentFactory(organization=org_a),
        "securitysettings": SecuritySettingsFactory(organization=org_a),
        "customermfastat": CustomerMfaStatFactory(organization=org_a),
        "securityscoresnapshot": SecurityScoreSnapshotFactory(organization=org_a),
    }
    for name, obj in objects.items():
        assert client.get(changelist(name), {"q": "x"}).status_code == 200, name
        page = client.get(reverse(f"admin:security_{name}_change", args=[obj.pk]))
        assert page.status_code == 200, name
    gdap_transition(actor=None, relationship=relationship, to_status=GdapStatus.EXPIRING)
    gdap_page = client.get(reverse("admin:security_gdaprelationship_change", args=[relationship.pk])).text
    assert 'id="gdap-history"' in gdap_page and assignment.security_group_name in gdap_page
    assert "<td>active</td><td>expiring</td>" in gdap_page
    document_page = client.get(reverse("admin:security_verificationdocument_change", args=[document.pk])).text
    assert "NAME_PARTIAL" in document_page and "Match it." in document_page


def test_dap_cannot_be_added_in_the_admin(client, org_a):
    """Part of "no code path creates a DAP": the add page is refused, nothing is stored."""
    customer = CustomerFactory(organization=org_a)
    url = reverse("admin:security_daprelationship_add")
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "organization": org_a.pk,
            "customer": customer.pk,
            "established_at_0": "2021-01-01",
            "established_at_1": "00:00",
        },
    )
    assert response.status_code == 403
    assert not DapRelationship.objects.exists()
    assert "Add DAP" not in client.get(changelist("daprelationship")).text


def test_gdap_is_read_only(client, org_a):
    relationship = active_gdap_relationship(org_a)
    assert client.get(reverse("admin:security_gdaprelationship_add")).status_code == 403
    client.post(
        reverse("admin:security_gdaprelationship_change", args=[relationship.pk]), {"display_name": "Hacked"}
    )
    relationship.refresh_from_db()
    assert relationship.display_name != "Hacked"


def test_an_alert_is_raised_through_the_service(client, org_a):
    customer = CustomerFactory(organization=org_a)
    response = client.post(
        reverse("admin:security_securityalert_add"),
        {
            "organization": org_a.pk,
            "alert_type": AlertType.CRYPTO_MINING,
            "title": "Crypto-mining on a customer subscription",
            "customer": customer.pk,
            "created_at_0": "2026-01-05",
            "created_at_1": "08:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    alert = SecurityAlert.objects.get(organization=org_a)
    assert alert.title == "Crypto-mining on a customer subscription" and alert.customer == customer
    assert LogEntry.objects.get(action_flag=ADDITION).object_id == str(alert.pk)
    # alert_raise, not a bare save: the partner's Action Center asks for an answer.
    assert ActionItem.objects.filter(organization=org_a, code="SECURITY_ALERT_OPEN").exists()


def test_an_alert_for_another_organizations_customer_is_refused(client, org_a, org_b):
    response = client.post(
        reverse("admin:security_securityalert_add"),
        {
            "organization": org_a.pk,
            "alert_type": AlertType.MALWARE,
            "title": "Malware",
            "customer": CustomerFactory(organization=org_b).pk,
            "created_at_0": "2026-01-05",
            "created_at_1": "08:00:00",
        },
    )
    assert response.status_code == 200
    assert "belongs to another organization" in response.text
    assert not SecurityAlert.objects.exists()


def _run_action(client, name: str, action: str, objects, **data):
    return client.post(
        changelist(name),
        {"action": action, "_selected_action": [obj.pk for obj in objects], "apply": "1", **data},
        follow=True,
    )


def test_check_transition_action_calls_the_service(client, org_a):
    check = VerificationCheckFactory(organization=org_a, status=CheckStatus.PENDING)
    form = client.post(
        changelist("verificationcheck"), {"action": "transition_checks", "_selected_action": [check.pk]}
    )
    assert form.status_code == 200 and "Move to" in form.text
    _run_action(
        client, "verificationcheck", "transition_checks", [check], to_status=CheckStatus.VERIFIED, reason=""
    )
    check.refresh_from_db()
    assert check.status == CheckStatus.VERIFIED
    # CHECK_TRANSITIONS: verified → in review is not a move; the service's refusal is shown.
    response = _run_action(
        client, "verificationcheck", "transition_checks", [check], to_status=CheckStatus.IN_REVIEW
    )
    check.refresh_from_db()
    assert check.status == CheckStatus.VERIFIED
    assert "error" in response.text.lower()


def test_document_review_actions_call_the_service(client, org_a):
    check = VerificationCheckFactory(organization=org_a, status=CheckStatus.DOCUMENTS_SUBMITTED)
    document = VerificationDocumentFactory(organization=org_a, check_ref=check)
    # A rejection needs a note: refused, nothing changes.
    _run_action(client, "verificationdocument", "review_rejected", [document], note="")
    document.refresh_from_db()
    assert document.reviewer_decision == ReviewerDecision.PENDING
    _run_action(
        client,
        "verificationdocument",
        "review_rejected",
        [document],
        note="The name differs from the register.",
    )
    document.refresh_from_db()
    check.refresh_from_db()
    assert document.reviewer_decision == ReviewerDecision.REJECTED
    assert document.reviewer_note == "The name differs from the register."
    assert check.status == CheckStatus.REJECTED

    other = VerificationCheckFactory(
        organization=org_a, kind="address", status=CheckStatus.DOCUMENTS_SUBMITTED
    )
    accepted = VerificationDocumentFactory(organization=org_a, check_ref=other)
    _run_action(client, "verificationdocument", "review_accepted", [accepted], note="")
    other.refresh_from_db()
    assert other.status == CheckStatus.VERIFIED


def test_enrollments_list_their_checks(client, org_a):
    enrollment = ProgramEnrollmentFactory(organization=org_a)
    VerificationCheckFactory(organization=org_a, enrollment=enrollment, status=CheckStatus.ACTION_REQUIRED)
    page = client.get(reverse("admin:security_programenrollment_change", args=[enrollment.pk])).text
    assert "Action required" in page
