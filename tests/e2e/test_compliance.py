"""A Compliance admin signs in, sees the check that needs action, uploads a generated register
extract and reads its instant assessment, then changes the legal name and sees the verified
business check restart."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from portal.roles import Role
from security.choices import CheckKind, CheckStatus, DocumentType, Program
from security.models import VerificationCheck, VerificationDocument
from security.services.compliance import check_transition, program_enroll
from security.verification.assist.facts import ProfileFacts
from security.verification.samples.documents import sample_document
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REASON = "The legal name could not be matched with the business register."


def _checks(organization, actor, program) -> dict[str, VerificationCheck]:
    enrollment = program_enroll(actor=actor, organization=organization, program=program)
    return {check.kind: check for check in enrollment.checks.all()}


def test_a_compliance_admin_uploads_evidence_and_restarts_verification_with_a_new_legal_name(
    page: Page, org_a, alice
):
    org_a.legal_name = "Fabrikam Consulting GmbH"
    org_a.address_line1 = "Hauptstraße 5"
    org_a.city = "Berlin"
    org_a.postal_code = "10115"
    org_a.save()
    carla = UserFactory(
        organization=org_a,
        email="carla@alpha.example",
        display_name="Carla Compliance",
        roles=[Role.COMPLIANCE_ADMIN],
    )
    app = confirm_totp(carla)
    partner = _checks(org_a, alice, Program.AI_CLOUD_PARTNER_PROGRAM)
    check_transition(actor=None, check=partner[CheckKind.BUSINESS], to_status=CheckStatus.VERIFIED)
    reseller = _checks(org_a, alice, Program.CSP_INDIRECT_RESELLER)
    waiting = check_transition(
        actor=None, check=reseller[CheckKind.BUSINESS], to_status=CheckStatus.ACTION_REQUIRED, reason=REASON
    )
    sample = sample_document(
        "good",
        profile=ProfileFacts.from_organization(org_a),
        today=timezone.localdate(),
        seed=1,
        doc_type=DocumentType.REGISTRATION_EXTRACT,
    )

    page.goto("/security/compliance/")
    sign_in(page, carla.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Compliance", exact=True)).to_be_visible()
    expect(page.get_by_test_id("compliance-admin")).to_contain_text("Carla Compliance")

    row = page.get_by_test_id("needs-action-row").filter(has_text="CSP indirect reseller")
    expect(row.get_by_test_id("reason")).to_have_text(REASON)
    expect(row.get_by_test_id("evidence")).to_contain_text("certificate of incorporation")
    row.get_by_role("link", name="Upload evidence").click()

    expect(page.get_by_role("heading", name="Business (legal entity) check")).to_be_visible()
    page.get_by_label("Document type").select_option(sample.declared_type)
    page.get_by_label("File").set_input_files(
        {"name": "handelsregister.pdf", "mimeType": "application/pdf", "buffer": sample.data}
    )
    page.get_by_role("button", name="Upload and assess").click()

    document = VerificationDocument.objects.get(check_ref=waiting)
    assessment = page.get_by_test_id("assessment")
    expect(assessment).to_contain_text("Assessment of your upload")
    expect(assessment.get_by_test_id("score")).to_have_text(str(document.assist_score))
    expect(assessment.get_by_test_id("band")).to_have_text(document.get_assist_band_display())
    expect(assessment.get_by_test_id("finding")).to_have_count(len(document.assist_findings))
    for finding in document.assist_findings:
        expect(assessment.locator(f'[data-code="{finding["code"]}"]')).to_contain_text(finding["detail"])
    expect(page.locator("h1").get_by_test_id("check-status")).to_have_text("Documents submitted")

    page.get_by_role("navigation", name="Compliance pages").get_by_role("link", name="Legal profile").click()
    expect(page.get_by_role("heading", name="Legal profile")).to_be_visible()
    page.get_by_label("Legal name").fill("Fabrikam Consulting Deutschland GmbH")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("restarting-check")).to_have_count(1)
    expect(page.get_by_test_id("restarting-check")).to_contain_text("AI Cloud Partner Program")
    page.get_by_role("button", name="Save and restart verification").click()

    restarted = page.get_by_test_id("restarted-check")
    expect(restarted).to_have_count(1)
    expect(restarted).to_contain_text("Business (legal entity)")
    expect(restarted).to_contain_text("AI Cloud Partner Program")
    expect(restarted.get_by_test_id("check-status")).to_have_text("Pending")
    business = VerificationCheck.objects.get(pk=partner[CheckKind.BUSINESS].pk)
    assert business.status == CheckStatus.PENDING
