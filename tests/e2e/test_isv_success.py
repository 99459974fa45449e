"""An ISV's partner admin signs in, checks the organization's ISV Success eligibility, fills in the
application, is told the program agreement is missing, accepts it and submits; the vendor reviews and
approves it, and the partner sees the application approved and the ISV Success benefits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from membership.choices import IsvStatus
from membership.models import BenefitTemplate, IsvSuccessApplication
from membership.services.isv import isv_application_review
from portal.roles import Role
from security.choices import CheckStatus, Program
from security.services.compliance import check_transition, program_enroll
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_isv_applies_for_isv_success_and_sees_its_benefits_once_approved(page: Page, org_a, alice):
    # The organization is a program member with a verified AI Cloud Partner Program account.
    MembershipFactory(organization=org_a)
    enrollment = program_enroll(actor=alice, organization=org_a, program=Program.AI_CLOUD_PARTNER_PROGRAM)
    for check in enrollment.checks.all():
        check_transition(actor=None, check=check, to_status=CheckStatus.VERIFIED)
    paula = UserFactory(
        organization=org_a,
        email="paula@alpha.example",
        display_name="Paula Partner",
        roles=[Role.PARTNER_ADMIN],
    )
    app = confirm_totp(paula)
    reviewer = UserFactory(organization=None, is_staff=True, is_superuser=True, email="isv@vendor.example")
    release = timezone.localdate() + timedelta(days=120)

    page.goto("/membership/isv-success/")
    sign_in(page, paula.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="ISV Success", exact=True)).to_be_visible()

    # The eligibility checklist: every check met.
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility.get_by_test_id("eligibility-result")).to_have_text("Eligible")
    expect(eligibility.get_by_test_id("eligibility-check")).to_have_count(3)
    expect(eligibility.locator('[data-testid="eligibility-check"][data-ok="no"]')).to_have_count(0)
    expect(eligibility.locator('[data-code="verification"]')).to_contain_text("The account is verified.")
    page.get_by_role("link", name="Start application").click()

    # The application: a draft first.
    expect(page.get_by_role("heading", name="ISV Success application")).to_be_visible()
    page.get_by_label("App name").fill("Contoso Insights")
    page.get_by_label("Description").fill("Usage analytics for Microsoft 365 tenants, built on Azure.")
    page.get_by_label("Target solution area").select_option(label="Solutions Partner for Modern Work")
    page.get_by_label("Expected release date").fill(release.isoformat())
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", name="ISV Success", exact=True)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Draft of Contoso Insights saved")
    status = page.get_by_test_id("application-status")
    expect(status).to_have_text("Draft")

    # Submitting without the program agreement is refused, clearly.
    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_test_id("submit-form").locator(".errorlist")).to_contain_text(
        "Accept the ISV Success program agreement to submit the application."
    )
    expect(status).to_have_text("Draft")
    page.get_by_label("I accept the ISV Success program agreement").check()
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator(".messages")).to_contain_text("Contoso Insights submitted")
    expect(status).to_have_text("Submitted")
    expect(page.locator('[data-testid="timeline-step"][data-status="submitted"]')).to_have_attribute(
        "data-state", "current"
    )

    # The vendor reviews and approves it.
    application = IsvSuccessApplication.objects.get(organization=org_a)
    assert application.status == IsvStatus.SUBMITTED and application.agreement_accepted_at is not None
    isv_application_review(actor=reviewer, application=application, to_status=IsvStatus.IN_REVIEW)
    isv_application_review(actor=reviewer, application=application, to_status=IsvStatus.APPROVED)

    page.reload()
    expect(status).to_have_text("Approved")
    expect(page.get_by_test_id("approved-message")).to_contain_text("Welcome to ISV Success")
    expect(page.locator('[data-testid="timeline-step"][data-status="in_review"]')).to_have_attribute(
        "data-state", "done"
    )
    benefits = page.get_by_test_id("isv-benefits")
    products = list(
        BenefitTemplate.objects.filter(package_code="isv_success").values_list("product", flat=True)
    )
    expect(benefits.get_by_test_id("benefit-line")).to_have_count(len(products))
    for product in products:
        expect(benefits).to_contain_text(product)
    expect(
        page.get_by_test_id("eligibility-check").filter(has_text="No approved ISV Success application")
    ).to_have_attribute("data-ok", "no")
    expect(page.get_by_role("link", name="Start application")).to_have_count(0)
