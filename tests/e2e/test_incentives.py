"""A partner finds a seller opportunity, sees its potential payout, claims the variable activity and a
fixed one with proof, and submits both; a vendor reviewer approves one and rejects the other; the
partner reads the history, and after the payout run finds the earning with its claim ID."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, expect

from earnings.models import Earning
from earnings.services.engine import payout_run_create, payout_run_execute
from incentives.choices import ClaimStatus, ReviewReason
from incentives.models import Claim
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import CustomerFactory, UserFactory
from tests.incentives.test_pages import PDF, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def give_consent(browser: Browser, page: Page) -> None:
    """The partner sends the request; the customer opens the link in their own browser and accepts."""
    page.get_by_test_id("consent-request").click()
    link = page.get_by_test_id("consent-link").get_attribute("href")
    customer = browser.new_context()
    try:
        consent = customer.new_page()
        consent.goto(link)
        consent.get_by_role("button", name="I accept").click()
        expect(consent.get_by_test_id("consent-result")).to_contain_text("Thank you")
    finally:
        customer.close()
    page.reload()
    expect(page.get_by_test_id("claim-status").first).to_have_text(ClaimStatus.IN_PROGRESS)


def attach_and_submit(page: Page, files: dict[str, Path]) -> None:
    for kind, path in files.items():
        page.get_by_label("Document").select_option(kind)
        page.get_by_label("File").set_input_files(path)
        page.get_by_test_id("proof-form").get_by_role("button", name="Upload").click()
        expect(page.get_by_test_id("proof")).to_contain_text(path.name)
    page.get_by_label("Delivered on").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Submit claim").click()
    expect(page.get_by_test_id("claim-status").first).to_have_text(ClaimStatus.SUBMITTED)


def fill_details(page: Page, name: str) -> None:
    page.get_by_label("Friendly claim name").fill(name)
    page.get_by_label("Customer contact name").fill("Nora North")
    page.get_by_label("Customer contact e-mail").fill("nora@northwind.example")
    page.get_by_label("Estimated deal size (USD)").fill("80000")
    page.get_by_role("button", name="Create claim").click()


def admin_sign_in(admin: Page, reviewer, app) -> Page:
    admin.goto("/admin/incentives/claim/")
    sign_in(admin, reviewer.email)
    admin.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    admin.get_by_role("button", name="Verify").click()
    expect(admin).to_have_url(re.compile(r"/admin/incentives/claim/"))
    return admin


def review_in_admin(admin: Page, claim: Claim, action: str, reason="", comment="") -> None:
    """A vendor reviewer decides on one claim through the admin's review actions."""
    admin.goto("/admin/incentives/claim/")
    admin.locator(f"input[name=_selected_action][value='{claim.pk}']").check()
    admin.locator("select[name=action]").select_option(label=action)
    admin.get_by_role("button", name="Go").click()
    if reason:
        admin.locator("select[name=reason_code]").select_option(str(reason))
    if comment:
        admin.locator("textarea[name=comment]").fill(comment)
    admin.get_by_role("button", name="Apply").click()
    expect(admin.locator(".messagelist")).to_contain_text("done")


def test_a_partner_claims_two_activities_follows_the_review_and_finds_the_earning(
    page: Page, new_page, browser: Browser, org_a, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    ines = UserFactory(organization=org_a, email="ines@alpha.example", roles=[Role.INCENTIVES_USER])
    app = confirm_totp(ines)
    world = build_world(org_a)
    fabrikam = CustomerFactory(organization=org_a, name="Fabrikam Ltd")
    reviewer = UserFactory(
        organization=None, email="reviewer@vendor.example", is_staff=True, is_superuser=True
    )
    reviewer_app = confirm_totp(reviewer)
    files = {}
    for kind in ("INVOICE", "FINDINGS"):
        files[kind] = tmp_path / f"{kind.lower()}.pdf"
        files[kind].write_bytes(PDF)

    # The partner finds the opportunity and its potential payout: 5 % of 1.2 M, capped at 50,000.
    page.goto("/incentives/opportunities/")
    sign_in(page, ines.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Seller opportunities")).to_be_visible()
    page.get_by_role("link", name=world.opportunity.msx_opportunity_id).click()
    offer = page.get_by_test_id("offer").filter(has_text=world.variable.name)
    expect(offer.get_by_test_id("payout-amount")).to_have_text("50,000.00 USD")
    expect(offer.get_by_test_id("limited-by")).to_have_text("limited by the per-claim cap")
    expect(offer.get_by_test_id("payout-lines")).not_to_be_empty()

    # The variable claim, straight from the opportunity.
    offer.get_by_test_id("claim-button").click()
    expect(page.get_by_test_id("eligibility")).to_contain_text("Eligible")
    fill_details(page, "Northwind migration")
    expect(page).to_have_url(re.compile(r"/incentives/claims/\d+/$"))
    variable = Claim.objects.get(friendly_name="Northwind migration")
    give_consent(browser, page)
    attach_and_submit(page, files)

    # The fixed claim, from the catalogue, for another customer.
    page.goto("/incentives/catalogue/")
    page.get_by_role("link", name=world.fixed.name).click()
    page.get_by_role("link", name="Claim this activity").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Customer:", exact=True).fill(fabrikam.name)
    page.get_by_role("button", name="Find the customer").click()
    expect(page.get_by_test_id("payout-amount")).to_have_text("5,000.00 USD")
    fill_details(page, "Fabrikam Copilot workshop")
    fixed = Claim.objects.get(friendly_name="Fabrikam Copilot workshop")
    give_consent(browser, page)
    attach_and_submit(page, files)

    # The vendor's reviewer, signed in to the admin with their own second factor, approves the
    # variable claim and rejects the fixed one.
    admin = admin_sign_in(new_page(), reviewer, reviewer_app)
    review_in_admin(admin, variable, "Approve…")
    review_in_admin(
        admin, fixed, "Reject…", reason=ReviewReason.SURVEY_MISSING, comment="The customer survey is missing."
    )

    page.reload()
    expect(page.get_by_test_id("claim-status").first).to_have_text(ClaimStatus.REJECTED)
    expect(page.get_by_test_id("latest-review")).to_contain_text(str(ReviewReason.SURVEY_MISSING.label))
    rejected = page.get_by_test_id("history-row").filter(has_text=ClaimStatus.REJECTED)
    expect(rejected).to_contain_text(reviewer.email)
    expect(rejected).to_contain_text("The customer survey is missing.")
    expect(page.get_by_test_id("respond-form")).to_be_visible()

    page.goto(f"/incentives/claims/{variable.pk}/")
    expect(page.get_by_test_id("claim-status").first).to_have_text(ClaimStatus.APPROVED)
    history = page.get_by_test_id("history")
    for status in (
        ClaimStatus.DRAFT,
        ClaimStatus.PENDING_CONSENT,
        ClaimStatus.IN_PROGRESS,
        ClaimStatus.PENDING_POE,
        ClaimStatus.SUBMITTED,
        ClaimStatus.APPROVED,
    ):
        expect(history.get_by_role("cell", name=status, exact=True).first).to_be_visible()
    expect(page.get_by_test_id("approved-payout")).to_have_text("50,000.00 USD")

    # The monthly payout run turns the approval into earnings.
    job = payout_run_create(period=timezone.localdate(), actor=reviewer)
    payout_run_execute(job)
    earnings = Earning.objects.filter(organization=org_a, claim_id=variable.claim_id)
    assert earnings.exists()
    assert not Earning.objects.filter(claim_id=fixed.claim_id).exists()

    page.goto("/earnings/")
    expect(page.get_by_role("heading", name="Earnings", exact=True)).to_be_visible()
    first = earnings.order_by("earning_id").first()
    page.get_by_test_id("earnings-table").get_by_role("link", name=first.earning_id).click()
    expect(page.get_by_test_id("claim-id")).to_have_text(variable.claim_id)

    page.goto(f"/incentives/claims/{variable.pk}/")
    for earning in earnings:
        expect(page.get_by_test_id("claim-earnings")).to_contain_text(earning.earning_id)
