"""The legal business profile (spec/accounts.md §1, §3.2): audited changes, and the verified checks
a new legal name, address or primary contact restarts in every enrollment."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Organization
from portal.models import AuditEvent
from security.choices import LEGAL_FIELDS, CheckKind, CheckStatus, Program
from security.models import VerificationCheck
from security.selectors.compliance import checks_restarted_by
from security.services.compliance import program_enroll
from security.services.legal_profile import legal_profile_update
from tests.factories import compliance_admin

CS = CheckStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(org_a):
    return compliance_admin(org_a, email="cora@alpha.example")


@pytest.fixture
def verified(org_a, alice):
    """Two enrollments, every check verified."""
    for program in (Program.AI_CLOUD_PARTNER_PROGRAM, Program.CSP_INDIRECT_RESELLER):
        program_enroll(actor=alice, organization=org_a, program=program)
    VerificationCheck.objects.filter(organization=org_a).update(status=CS.VERIFIED)
    return org_a


def _statuses(org):
    return {
        (c.enrollment.program, c.kind): c.status
        for c in VerificationCheck.objects.filter(organization=org).select_related("enrollment")
    }


def test_a_change_is_saved_and_its_diff_audited(org_a, manager):
    org_a.phone = "+49 30 1234"
    org_a.save()
    organization, restarted = legal_profile_update(
        actor=manager, organization=org_a, phone=" +49 30 9999 ", tax_id="DE123456789", city=org_a.city
    )
    assert restarted == []
    organization = Organization.objects.get(pk=org_a.pk)
    assert (organization.phone, organization.tax_id) == ("+49 30 9999", "DE123456789")
    audit = AuditEvent.objects.get(action="security.legal_profile.updated")
    assert audit.actor == manager and audit.organization_id == org_a.pk
    # Only what changed is recorded, before and after.
    assert audit.changes == {"phone": ["+49 30 1234", "+49 30 9999"], "tax_id": ["", "DE123456789"]}


def test_nothing_changed_records_nothing(org_a, manager):
    legal_profile_update(actor=manager, organization=org_a, legal_name=org_a.legal_name)
    assert not AuditEvent.objects.filter(action="security.legal_profile.updated").exists()


def test_a_new_legal_name_restarts_the_business_check_of_every_enrollment(verified, manager):
    _, restarted = legal_profile_update(actor=manager, organization=verified, legal_name="Alpha Partners AG")
    assert sorted((c.enrollment.program, c.kind) for c in restarted) == [
        (Program.AI_CLOUD_PARTNER_PROGRAM, CheckKind.BUSINESS),
        (Program.CSP_INDIRECT_RESELLER, CheckKind.BUSINESS),
    ]
    statuses = _statuses(verified)
    assert {s for (_, kind), s in statuses.items() if kind == CheckKind.BUSINESS} == {CS.PENDING}
    assert {s for (_, kind), s in statuses.items() if kind != CheckKind.BUSINESS} == {CS.VERIFIED}
    check = restarted[0]
    check.refresh_from_db()
    assert "legal name" in check.reason and "restarted" in check.reason
    assert AuditEvent.objects.filter(action="security.check.status_changed").count() == 2


def test_a_new_address_restarts_the_address_checks(verified, manager):
    _, restarted = legal_profile_update(
        actor=manager,
        organization=verified,
        address_line1="Hauptstraße 5",
        postal_code="10115",
        city="Berlin",
    )
    assert {c.kind for c in restarted} == {CheckKind.ADDRESS}
    assert len(restarted) == 2


def test_a_new_primary_contact_restarts_email_employment_and_identity(verified, manager):
    _, restarted = legal_profile_update(
        actor=manager,
        organization=verified,
        primary_contact_first_name="Dana",
        primary_contact_last_name="Lee",
    )
    assert {(c.enrollment.program, c.kind) for c in restarted} == {
        (Program.AI_CLOUD_PARTNER_PROGRAM, CheckKind.EMAIL),
        (Program.AI_CLOUD_PARTNER_PROGRAM, CheckKind.EMPLOYMENT),
        (Program.CSP_INDIRECT_RESELLER, CheckKind.EMAIL),
        (Program.CSP_INDIRECT_RESELLER, CheckKind.EMPLOYMENT),
        (Program.CSP_INDIRECT_RESELLER, CheckKind.IDENTITY),
    }


def test_checks_that_are_not_verified_are_left_as_they_are(verified, manager, alice):
    VerificationCheck.objects.filter(
        organization=verified,
        kind=CheckKind.BUSINESS,
        enrollment__program=Program.CSP_INDIRECT_RESELLER,
    ).update(status=CS.ACTION_REQUIRED)
    _, restarted = legal_profile_update(actor=manager, organization=verified, legal_name="Alpha Partners AG")
    assert [(c.enrollment.program, c.kind) for c in restarted] == [
        (Program.AI_CLOUD_PARTNER_PROGRAM, CheckKind.BUSINESS)
    ]
    assert _statuses(verified)[(Program.CSP_INDIRECT_RESELLER, CheckKind.BUSINESS)] == CS.ACTION_REQUIRED


def test_fields_that_identify_nobody_restart_nothing(verified, manager):
    _, restarted = legal_profile_update(
        actor=manager,
        organization=verified,
        doing_business_as="Alpha",
        phone="+49 30 1",
        tax_id="DE1",
        company_size="51-250",
        primary_contact_phone="+49 170 1",
    )
    assert restarted == []
    assert set(_statuses(verified).values()) == {CS.VERIFIED}


def test_the_page_can_preview_which_checks_a_change_restarts(verified):
    preview = checks_restarted_by(verified, ["legal_name", "city", "phone"])
    assert {c.kind for c in preview} == {CheckKind.BUSINESS, CheckKind.ADDRESS}
    assert set(_statuses(verified).values()) == {CS.VERIFIED}


def test_invalid_values_are_refused_by_field_and_change_nothing(verified, manager):
    with pytest.raises(ValidationError) as error:
        legal_profile_update(
            actor=manager,
            organization=verified,
            legal_name="Alpha Partners AG",
            primary_contact_email="not-an-address",
            country="Germany",
        )
    assert {"primary_contact_email", "country"} <= set(error.value.message_dict)
    assert Organization.objects.get(pk=verified.pk).legal_name == "Alpha Partners GmbH"
    assert set(_statuses(verified).values()) == {CS.VERIFIED}
    assert not AuditEvent.objects.filter(action="security.legal_profile.updated").exists()


def test_a_required_field_cannot_be_emptied(org_a, manager):
    with pytest.raises(ValidationError) as error:
        legal_profile_update(actor=manager, organization=org_a, legal_name="  ")
    assert "legal_name" in error.value.message_dict


def test_the_country_is_stored_in_capitals(org_a, manager):
    organization, _ = legal_profile_update(actor=manager, organization=org_a, country="at")
    assert organization.country == "AT"


def test_only_fields_of_the_legal_profile_are_changed(org_a, manager):
    with pytest.raises(ValidationError) as error:
        legal_profile_update(actor=manager, organization=org_a, partner_global_id="1234567", partner_types=[])
    assert set(error.value.message_dict) == {"partner_global_id", "partner_types"}
    assert "partner_global_id" not in LEGAL_FIELDS


def test_only_compliance_and_account_admins_change_it_the_page_checks_first(org_a, bob, verified_client):
    response = verified_client(bob).post(reverse("security:legal-profile"), {"legal_name": "Hijacked Ltd"})
    assert response.status_code == 403
    assert Organization.objects.get(pk=org_a.pk).legal_name == "Alpha Partners GmbH"
