"""The security demo: every part made through the services, and a second seed that adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.demo import ORGANIZATIONS, seed_demo_data
from accounts.models import ActionItem, Organization, User
from security.choices import AlertStatus, CheckStatus, GdapStatus
from security.demo import security_demo_loaded, security_demo_seed
from security.models import (
    CustomerMfaStat,
    DapRelationship,
    GdapAccessAssignment,
    GdapRelationship,
    ProgramEnrollment,
    SecurityAlert,
    SecurityScoreSnapshot,
    SecuritySettings,
    TrainingAssignment,
    VerificationCheck,
    VerificationDocument,
)

pytestmark = pytest.mark.django_db

MODELS = (
    SecuritySettings,
    CustomerMfaStat,
    SecurityAlert,
    GdapRelationship,
    GdapAccessAssignment,
    DapRelationship,
    ProgramEnrollment,
    VerificationCheck,
    VerificationDocument,
    TrainingAssignment,
    SecurityScoreSnapshot,
    User,
    ActionItem,
)


@pytest.fixture
def seeded(db):
    seed_demo_data(seed=7, customers_per_org=8)
    assert not security_demo_loaded()
    return security_demo_seed(seed=7)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_a_second_seed_adds_nothing(seeded):
    assert security_demo_loaded()
    before = counts()
    statuses = sorted(GdapRelationship.objects.values_list("display_name", "status"))
    again = security_demo_seed(seed=7)
    assert counts() == before
    assert sorted(GdapRelationship.objects.values_list("display_name", "status")) == statuses
    assert again.created_relationships == 0
    assert again.gdap_relationships == seeded.gdap_relationships


def test_every_organization_gets_the_workspace(seeded):
    for demo in ORGANIZATIONS:
        organization = Organization.objects.get(partner_global_id=demo.partner_global_id)
        assert SecurityAlert.objects.filter(organization=organization).exists()
        assert GdapRelationship.objects.filter(organization=organization).count() >= 5
        assert DapRelationship.objects.filter(organization=organization).count() == 1
        assert ProgramEnrollment.objects.filter(organization=organization).exists()
        assert SecurityScoreSnapshot.objects.filter(organization=organization).count() > 1
        assert TrainingAssignment.objects.filter(organization=organization).exists()
    assert seeded.enrollments >= len(ORGANIZATIONS)


def test_gdap_relationships_in_several_statuses_with_one_expiring_soon(seeded):
    statuses = set(GdapRelationship.objects.values_list("status", flat=True))
    assert {
        GdapStatus.CREATED,
        GdapStatus.APPROVAL_PENDING,
        GdapStatus.ACTIVE,
        GdapStatus.EXPIRING,
        GdapStatus.TERMINATED,
    } <= statuses
    assert ActionItem.objects.filter(code="GDAP_EXPIRING").exists()
    assignment = GdapAccessAssignment.objects.filter(security_group_name="Helpdesk-L1").first()
    assert assignment is not None and assignment.roles.count() == 2
    # The legacy DAP links were imported, long before DAP creation ended.
    assert all(dap.established_at.year == 2021 for dap in DapRelationship.objects.all())


def test_people_without_mfa_alerts_and_settings(seeded):
    assert User.objects.filter(email="helpdesk.contractor@fabrikam.example").exists()
    assert SecurityAlert.objects.filter(status=AlertStatus.ACTIVE).exists()
    assert SecurityAlert.objects.filter(status=AlertStatus.RESOLVED).exists()
    assert SecuritySettings.objects.filter(security_contact_email="").exists()  # Northwind: none yet
    assert CustomerMfaStat.objects.exists()


def test_verification_has_an_action_required_check_and_an_assessed_document(seeded):
    assert VerificationCheck.objects.filter(status=CheckStatus.ACTION_REQUIRED).exists()
    assert VerificationCheck.objects.filter(status=CheckStatus.VERIFIED).exists()
    document = VerificationDocument.objects.first()
    assert document is not None
    assert document.assist_findings and document.check_ref.status == CheckStatus.DOCUMENTS_SUBMITTED
    assert TrainingAssignment.objects.filter(completed_at__isnull=False).exists()


def test_seed_demo_wires_the_security_demo_and_if_empty_skips_it(seeded):
    before = counts()
    out = StringIO()
    call_command("seed_demo", "--if-empty", "--quiet", stdout=out)
    assert "Security demo ready" not in out.getvalue()
    assert counts()["GdapRelationship"] == before["GdapRelationship"]
    out = StringIO()
    call_command("seed_demo", "--quiet", stdout=out)
    assert "Security demo ready" in out.getvalue()
    # The full seed tops up customers (40 per organization); the security rows stay as they were.
    stable = (
        "SecurityAlert",
        "GdapRelationship",
        "DapRelationship",
        "ProgramEnrollment",
        "VerificationDocument",
    )
    after = counts()
    assert {name: after[name] for name in stable} == {name: before[name] for name in stable}
