"""A portal started without the demo, tried as its first users would: the vendor admin creates an
organization and invites its Owner in the admin; the vendor's billing system pushes 3 customers
and 10 legacy subscriptions through the vendor feeds; the Owner accepts, signs in and finds them
in Commerce with their eligibility for new commerce."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import APIRequestContext, Page, expect

from accounts.models import Customer, Invitation, Organization
from commerce.models import LegacySubscription
from tests.conftest import confirm_totp
from tests.e2e.conftest import vendor_feed_headers
from tests.e2e.test_sign_in_and_roles import current_totp, sign_in
from tests.factories import PASSWORD, LegacyOfferFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OWNER_EMAIL = "olga@contoso-partner.example"
OWNER_PASSWORD = "a long and unusual passphrase 42"


def _admin_creates_the_organization_and_invites_its_owner(page: Page) -> str:
    vendor = UserFactory(organization=None, is_staff=True, is_superuser=True, email="admin@vendor.example")
    device = confirm_totp(vendor)
    page.goto("/admin/")
    sign_in(page, vendor.email, PASSWORD)
    expect(page.get_by_role("heading", name="Verify it's you")).to_be_visible()
    page.get_by_role("textbox").first.fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()

    page.goto("/admin/accounts/organization/add/")
    page.fill("input[name=legal_name]", "Contoso Partner GmbH")
    page.fill("input[name=partner_global_id]", "7654321")
    page.fill("input[name=country]", "DE")
    page.check("input[name=partner_types][value=services]")
    page.get_by_text("Add another Partner location").click()
    page.fill("input[name$='-0-partner_id']", "7654322")
    page.fill("input[name$='-0-country']", "DE")
    page.fill("input[name$='-0-name']", "Contoso Partner GmbH (Berlin)")
    page.check("input[name$='-0-is_headquarters']")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(re.compile(r"/invite-owner/"))
    page.fill("input[name=email]", OWNER_EMAIL)
    page.get_by_role("button", name=re.compile("Invite")).click()
    invitation = Invitation.objects.get(organization__partner_global_id="7654321")
    link = reverse("accounts:invitation-accept", args=[invitation.token])
    expect(page.locator("body")).to_contain_text(invitation.token)
    return link


def _billing_system_pushes_customers_and_subscriptions(api: APIRequestContext) -> None:
    """The vendor's billing system, over HTTP: a token, then the two feeds."""
    scopes = ["vendor.customers:write", "vendor.subscriptions:write"]
    headers = vendor_feed_headers(api, scopes, email="ops@vendor.example")
    tenants = [uuid.uuid4() for _ in range(3)]
    customers = [
        {
            "partnerId": "7654321",
            "companyProfile": {
                "tenantId": str(t),
                "domain": f"customer{n}.example",
                "companyName": f"Customer {n}",
            },
            "billingProfile": {"defaultAddress": {"country": "DE"}},
        }
        for n, t in enumerate(tenants)
    ]
    answer = api.post("/api/v1/vendor/customers/", data=customers, headers=headers)
    assert answer.status == 200 and answer.json()["created"] == 3, answer.text()
    offer = LegacyOfferFactory(name="Office 365 E3 (legacy)")
    today = timezone.localdate()
    subscriptions = [
        {
            "partnerId": "7654321",
            "customerTenantId": str(tenants[n % 3]),
            "id": str(uuid.uuid4()),
            "offerId": str(offer.offer_id),
            "quantity": 10 + n,
            "effectiveStartDate": f"{today - timedelta(days=200)}T00:00:00Z",
            "commitmentEndDate": f"{today + timedelta(days=165)}T00:00:00Z",
            "status": "active",
            "autoRenewEnabled": True,
            "billingCycle": "Monthly",
            "termDuration": "P1Y",
        }
        for n in range(10)
    ]
    answer = api.post("/api/v1/vendor/subscriptions/", data=subscriptions, headers=headers)
    assert answer.status == 200 and answer.json()["created"] == 10, answer.text()


def test_an_empty_portal_gets_its_first_partner_and_the_vendors_data(new_page, live_server):
    assert not Organization.objects.exists(), "the portal starts empty"
    admin_page = new_page()
    link = _admin_creates_the_organization_and_invites_its_owner(admin_page)
    _billing_system_pushes_customers_and_subscriptions(new_page().request)
    organization = Organization.objects.get(partner_global_id="7654321")
    assert Customer.objects.filter(organization=organization).count() == 3
    assert LegacySubscription.objects.filter(organization=organization).count() == 10

    owner_page = new_page()
    owner_page.goto(link)
    owner_page.fill("input[name=display_name]", "Olga Owner")
    owner_page.fill("input[name=password]", OWNER_PASSWORD)
    owner_page.fill("input[name=password_again]", OWNER_PASSWORD)
    owner_page.get_by_role("button").last.click()
    sign_in(owner_page, OWNER_EMAIL, OWNER_PASSWORD)
    secret = owner_page.get_by_test_id("totp-secret").inner_text().strip()
    owner_page.get_by_role("textbox", name="Code").fill(current_totp(secret))
    owner_page.get_by_role("button", name="Confirm").click()
    owner_page.get_by_role("link", name="I've saved them — continue").click()

    owner_page.goto("/commerce/subscriptions/")
    rows = owner_page.get_by_test_id("subscription-row")
    expect(rows).to_have_count(10)
    for row in rows.all():
        expect(row).to_contain_text("Office 365 E3 (legacy)")
        # Each row says whether it can move to new commerce: "Eligible", or the reasons it cannot.
        assert row.locator(".badge.ok, .errorlist li").count() >= 1
    owner_page.goto("/customers/")
    for n in range(3):
        expect(owner_page.get_by_role("link", name=f"Customer {n}")).to_be_visible()
