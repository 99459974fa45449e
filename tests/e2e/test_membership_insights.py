"""Membership insights in a browser: a partner admin opens Marketplace insights, filters the License
report and downloads it; the CSV holds the report's columns and exactly the filtered rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from membership.choices import LicenseStatus
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import MarketplaceLicenseFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = [
    "Date",
    "Offer name",
    "Offer ID",
    "Plan name",
    "Plan ID",
    "Customer name",
    "Customer tenant ID",
    "Country/region",
    "Licenses purchased",
    "Licenses assigned",
    "License status",
    "Subscription ID",
    "Term start",
    "Term end",
]


def test_a_partner_admin_filters_and_downloads_the_license_report(page: Page, org_a, org_b):
    pia = UserFactory(
        organization=org_a, email="pia@alpha.example", display_name="Pia Partner", roles=[Role.PARTNER_ADMIN]
    )
    app = confirm_totp(pia)
    contoso = MarketplaceLicenseFactory(
        organization=org_a,
        date=date(2026, 5, 4),
        customer_name="Contoso",
        country="US",
        licenses_purchased=50,
        licenses_assigned=38,
    )
    litware = MarketplaceLicenseFactory(
        organization=org_a,
        date=date(2026, 5, 2),
        customer_name="Litware",
        country="US",
        plan_name="Pro",
        plan_id="pro",
        licenses_purchased=10,
        licenses_assigned=10,
    )
    MarketplaceLicenseFactory(
        organization=org_a, date=date(2026, 5, 3), customer_name="Contoso GmbH", country="DE"
    )
    MarketplaceLicenseFactory(
        organization=org_a,
        date=date(2026, 5, 3),
        customer_name="Fabrikam",
        country="US",
        license_status=LicenseStatus.CANCELLED,
    )
    MarketplaceLicenseFactory(
        organization=org_b, date=date(2026, 5, 3), customer_name="Beta Secret", country="US"
    )

    page.goto("/membership/insights/surface/")
    sign_in(page, pia.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(app.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Surface insights")).to_be_visible()

    page.get_by_role("navigation", name="Membership pages").get_by_role(
        "link", name="Marketplace insights"
    ).click()
    expect(page.get_by_role("heading", name="Marketplace insights")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Marketplace insights reports")
    expect(tabs.get_by_role("link", name="License report")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("license-row")).to_have_count(4)
    expect(page.get_by_test_id("licenses-purchased")).to_have_text("160")

    page.get_by_label("Country/region").fill("us")
    page.get_by_label("License status").select_option("Active")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"country=us"))
    expect(page.get_by_test_id("license-row")).to_have_count(2)
    expect(page.get_by_test_id("licenses-purchased")).to_have_text("60")
    expect(page.get_by_test_id("licenses-assigned")).to_have_text("48")
    expect(page.get_by_test_id("license-table")).not_to_contain_text("Fabrikam")

    with page.expect_download() as info:
        page.get_by_test_id("license-download").click()
    download = info.value
    assert re.fullmatch(r"marketplace-licenses-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == HEADER
    assert rows[1:] == [
        [
            "2026-05-04",
            "Contoso Insights",
            "contoso-insights",
            "Standard",
            "standard",
            "Contoso",
            str(contoso.customer_tenant_id),
            "US",
            "50",
            "38",
            "Active",
            str(contoso.subscription_id),
            "2026-07-01",
            "2027-06-30",
        ],
        [
            "2026-05-02",
            "Contoso Insights",
            "contoso-insights",
            "Pro",
            "pro",
            "Litware",
            str(litware.customer_tenant_id),
            "US",
            "10",
            "10",
            "Active",
            str(litware.subscription_id),
            "2026-07-01",
            "2027-06-30",
        ],
    ]

    # A bad value is explained on the page, not a server error.
    page.get_by_label("Country/region").fill("United States")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("filter-errors")).to_contain_text("two-letter country/region code")
