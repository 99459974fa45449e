"""A partner signs in, filters their earnings by solution area, partner role and payment month,
sees the table and the total follow the filters, then finds why a transaction earned nothing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from earnings.choices import IneligibleReason, PartnerRole, SolutionArea
from earnings.models import Earning
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.earnings.test_queries import build_ledger
from tests.factories import IneligibleTransactionFactory, TransactionFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def usd(amount: Decimal) -> str:
    return f"{amount:,.2f} USD"


def test_a_partner_filters_earnings_and_reads_why_revenue_was_ineligible(page: Page, org_a):
    ines = UserFactory(organization=org_a, email="ines@alpha.example", roles=[Role.INCENTIVES_USER])
    app = confirm_totp(ines)
    build_ledger(org_a, 40)
    parked = TransactionFactory(organization=org_a, customer_name="Northwind Traders")
    IneligibleTransactionFactory(
        organization=org_a, transaction=parked, reason_code=IneligibleReason.CUSTOMER_SEGMENT
    )
    ledger = Earning.objects.filter(organization=org_a)
    everything = ledger.aggregate(s=Sum("earning_amount_usd"))["s"]
    chosen = ledger.filter(
        solution_area=SolutionArea.AZURE_INFRA,
        partner_role=PartnerRole.DEPLOY,
        estimated_payment_month=date(2025, 5, 1),
    )
    assert 0 < chosen.count() < ledger.count()

    page.goto("/earnings/")
    sign_in(page, ines.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Earnings", exact=True)).to_be_visible()
    expect(page.get_by_test_id("earnings-total")).to_have_text(usd(everything))
    expect(page.get_by_test_id("earning-row")).to_have_count(ledger.count())
    expect(page.locator("#earnings-chart")).to_be_visible()

    page.get_by_label("Solution area").select_option(SolutionArea.AZURE_INFRA)
    page.get_by_label("Partner role").select_option(PartnerRole.DEPLOY)
    page.get_by_label("Payment month").fill("2025-05")
    page.get_by_label("Payment month").press("Enter")

    expect(page.get_by_test_id("earnings-total")).to_have_text(
        usd(chosen.aggregate(s=Sum("earning_amount_usd"))["s"])
    )
    expect(page.get_by_test_id("earning-row")).to_have_count(chosen.count())
    for earning_id in chosen.values_list("earning_id", flat=True):
        expect(page.get_by_test_id("earnings-table")).to_contain_text(earning_id)
    expect(page).to_have_url(
        re.compile(r"solutionArea=Infra.*partnerRole=Deploy.*estimatedPaymentMonth=2025-05")
    )

    page.get_by_text("Top 50 customers").click()
    top = chosen.values("customer_name").annotate(s=Sum("earning_amount_usd")).order_by("-s", "customer_name")
    expect(page.get_by_test_id("top-customers").locator("tbody tr").first).to_contain_text(
        top[0]["customer_name"]
    )

    page.get_by_role("navigation", name="Earnings pages").get_by_role("link", name="Ineligible").click()
    expect(page.get_by_role("heading", name="Ineligible revenue")).to_be_visible()
    row = page.get_by_test_id("ineligible-row").filter(has_text=parked.transaction_id)
    expect(row.get_by_test_id("reason")).to_have_text(IneligibleReason.CUSTOMER_SEGMENT.label)
    expect(row).to_contain_text("Northwind Traders")
