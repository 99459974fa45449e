"""A partner creates a co-sell deal through the workflow (saving a draft midway), writes a routing
rule; the vendor's referral arrives and is routed by it; the partner accepts it, raises its value,
closes it as won, and the referral's page shows every change with who and when."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from cosell.choices import ReferralStatus, ReferralSubstatus
from cosell.models import Referral
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.cosell.test_pages import inbound
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import SolutionFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def create_deal(page: Page) -> None:
    """The five steps, with a draft saved at step 2 and resumed from the "My deals" tab."""
    page.goto("/cosell/deals/new/")
    page.get_by_label("Deal name").fill("Contoso field service")
    page.get_by_label("Customer name").fill("Contoso Retail Ltd")
    page.get_by_label("Address").fill("1 King Street")
    page.get_by_label("City").fill("London")
    page.get_by_label("Country").fill("GB")
    page.get_by_label("Company size").select_option("251to1000employees")
    page.get_by_label("Customer contacts").fill("Sue Smith, sue.smith@contoso.example, +442071234567")
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Target solution").select_option("SOL-ABC-001")
    page.get_by_label("Products").fill("Dynamics365Enterprise")
    page.get_by_test_id("save-draft").click()
    expect(page.locator(".messages")).to_contain_text("Draft saved at step 2")

    page.goto("/cosell/?tab=mine")
    page.get_by_test_id("referral-table").get_by_role("link", name="Contoso field service").click()
    expect(page.get_by_label("Customer name")).to_have_value("Contoso Retail Ltd")
    page.get_by_role("link", name="Solution").click()
    expect(page.get_by_label("Products")).to_have_value("Dynamics365Enterprise")
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Deal value").fill("65000")
    page.get_by_label("Currency").fill("GBP")
    page.get_by_label("Closing date").fill("2030-06-30")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Your team on this deal").fill("Dana Ruiz, dana@alpha.example")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Co-sell (shared, help requested)").check()
    page.get_by_label("share their details").check()
    page.get_by_label("agreed to be contacted").check()
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/cosell/referrals/\d+/$"))
    expect(page.get_by_test_id("referral-status").first).to_have_text("Active · Accepted")
    expect(page.get_by_test_id("microsoft-status")).to_contain_text("Pending")


def create_rule(page: Page) -> None:
    page.goto("/cosell/routing/")
    page.get_by_role("link", name="New rule").click()
    form = page.get_by_test_id("rule-form")
    form.locator("input[name=name]").fill("DACH data")
    form.locator("input[name=priority]").fill("10")
    form.locator("input[name=match_countries]").fill("DE, AT")
    form.locator("input[name=match_solution_ids]").fill("SOL-34104-EBB")
    form.locator("input[name=assign_to_team]").fill("DACH Data team")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_test_id("rule-row").filter(has_text="DACH data")).to_contain_text("DE, AT")

    page.goto("/cosell/routing/test/")
    page.get_by_label("Customer country").fill("DE")
    page.get_by_label("Solution").fill("SOL-34104-EBB")
    page.get_by_role("button", name="Test").click()
    expect(page.get_by_test_id("decision-rule")).to_have_text("DACH data")
    expect(page.get_by_test_id("explanation")).to_contain_text("matches")


def test_a_partner_creates_a_deal_and_works_a_routed_referral_to_won(page: Page, org_a):
    dana = UserFactory(organization=org_a, email="dana@alpha.example", roles=[Role.REFERRALS_ADMIN])
    app = confirm_totp(dana)
    SolutionFactory(organization=org_a, solution_id="SOL-ABC-001", name="Field Service Accelerator")

    page.goto("/cosell/")
    sign_in(page, dana.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()

    create_deal(page)
    deal = Referral.objects.get(
        organization=org_a, name="Contoso field service", target__0__type="SolutionProfile"
    )
    assert deal.deal_value == 65000 and deal.currency == "GBP"

    create_rule(page)

    # The vendor's co-sell invitation arrives in Partner Center's JSON and is routed on arrival.
    referral = inbound(org_a)
    assert referral.assigned_team == "DACH Data team"

    page.goto("/cosell/")
    page.get_by_test_id("referral-table").get_by_role("link", name=referral.name).click()
    expect(page.get_by_test_id("assigned-to")).to_have_text("DACH Data team")
    expect(page.get_by_test_id("routing-rule")).to_have_text("DACH data")
    expect(page.get_by_test_id("deadline")).to_contain_text("Accept or decline by")

    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("referral-status").first).to_have_text("Active · Accepted")

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Deal value").fill("195000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("deal-value")).to_have_text("195,000.00 EUR")

    close = page.get_by_test_id("close-form")
    close.get_by_label("Outcome").select_option("won")
    close.get_by_label("Comment").fill("Signed")
    close.get_by_role("button", name="Close deal").click()
    expect(page.get_by_test_id("referral-status").first).to_have_text("Closed · Won")

    referral.refresh_from_db()
    assert (referral.status, referral.substatus) == (ReferralStatus.CLOSED, ReferralSubstatus.WON)

    history = page.get_by_test_id("history")
    rows = history.get_by_test_id("history-row")
    value = rows.filter(has=page.locator("td[data-field='/details/dealValue']"))
    expect(value).to_contain_text("/details/dealValue")
    expect(value).to_contain_text("180000")
    expect(value).to_contain_text("195000")
    expect(history.locator("tr", has=page.locator("td[data-field='/assignedTeam']"))).to_contain_text(
        "DACH Data team"
    )
    for field, new in (("/status", "Active"), ("/substatus", "Won")):
        expect(
            rows.filter(has=page.locator(f"td[data-field='{field}']")).filter(has_text=new).first
        ).to_be_visible()
    # Who: the partner's own changes name her; the arrival names the vendor, routing the system.
    whos = history.get_by_test_id("history-who")
    expect(whos.filter(has_text=dana.email).first).to_be_visible()
    expect(whos.filter(has_text="microsoft").first).to_be_visible()
    expect(history).to_contain_text(f"{referral.created_at:%Y-%m-%d}")
