"""Security workspace in a browser: (1) a new admin without MFA drops the security score and tops the
MFA dashboard until they enrol an authenticator app; (2) a GDAP request is locked, approved by the
customer through the invitation link, warned about in the Action Center and expires."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from portal.roles import Role
from security.models import GdapRelationship
from security.services.gdap_daily import gdap_daily
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import current_totp, sign_in
from tests.factories import CustomerFactory, SecuritySettingsFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_with_app(page: Page, user, device) -> None:
    sign_in(page, user.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()


def score_on(page: Page) -> int:
    page.goto("/security/")
    tile = page.get_by_test_id("security-score")
    expect(tile).to_have_text(re.compile(r"^\d+$"))
    return int(tile.inner_text())


def test_an_admin_without_mfa_lowers_the_score_until_they_enrol(new_page, org_a):
    gina = UserFactory(
        organization=org_a, email="gina@alpha.example", display_name="Gina Global", roles=[Role.GLOBAL_ADMIN]
    )
    app = confirm_totp(gina)
    SecuritySettingsFactory(organization=org_a, security_contact_email="soc@alpha.example")

    admin = new_page()
    admin.goto("/security/")
    sign_in_with_app(admin, gina, app)
    expect(admin.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    expect(admin.get_by_test_id("requirement-row").first).to_be_visible()
    before = score_on(admin)

    # A new admin-role colleague who has not enrolled MFA yet.
    nora = UserFactory(
        organization=org_a, email="nora@alpha.example", display_name="Nora New", roles=[Role.ACCOUNT_ADMIN]
    )
    dropped = score_on(admin)
    assert dropped < before
    admin_mfa = admin.locator('[data-testid="requirement-row"][data-type="mfaEnforcedForAdmins"]')
    expect(admin_mfa.get_by_test_id("requirement-status")).to_have_text("Not completed")

    admin.get_by_role("navigation", name="Security pages").get_by_role("link", name="MFA").click()
    expect(admin.get_by_role("heading", name="Multi-factor authentication")).to_be_visible()
    first = admin.get_by_test_id("mfa-row").first
    expect(first).to_have_attribute("data-email", nora.email)
    expect(first.get_by_test_id("mfa-state")).to_have_text("Not registered")

    # Nora signs in and enrols an authenticator app.
    nora_page = new_page()
    nora_page.goto("/")
    sign_in(nora_page, nora.email)
    expect(nora_page).to_have_url(re.compile(r"/accounts/mfa/setup/"))
    secret = nora_page.get_by_test_id("totp-secret").inner_text().strip()
    nora_page.get_by_role("textbox", name="Code").fill(current_totp(secret))
    nora_page.get_by_role("button", name="Confirm").click()
    expect(nora_page.get_by_role("heading", name="Save your backup codes")).to_be_visible()

    risen = score_on(admin)
    assert risen > dropped
    assert risen == before
    expect(admin_mfa.get_by_test_id("requirement-status")).to_have_text("Completed")
    admin.goto("/security/mfa/?registered=false")
    expect(admin.get_by_test_id("mfa-row")).to_have_count(0)


def test_a_gdap_request_is_approved_by_the_customer_warned_about_and_expires(new_page, org_a):
    gina = UserFactory(organization=org_a, email="gina@alpha.example", roles=[Role.GLOBAL_ADMIN])
    app = confirm_totp(gina)
    CustomerFactory(organization=org_a, name="Contoso")

    page = new_page()
    page.goto("/security/gdap/")
    sign_in_with_app(page, gina, app)
    expect(page.get_by_role("heading", name="GDAP relationships")).to_be_visible()
    page.get_by_role("link", name="Request a relationship").click()

    page.get_by_label("Customer").fill("Contoso")  # a name, a domain or a tenant ID
    page.get_by_label("Name").fill("Contoso-Support")
    page.get_by_label("Duration (days)").fill("30")
    expect(page.get_by_label("Helpdesk Administrator")).to_be_checked()  # the default template's roles
    page.get_by_role("button", name="Create request").click()

    expect(page.get_by_role("heading", name=re.compile("Contoso-Support"))).to_be_visible()
    expect(page.get_by_test_id("gdap-status-text")).to_have_text("Created")
    page.get_by_role("button", name="Lock for approval").click()
    expect(page.get_by_test_id("gdap-status-text")).to_have_text("Approval pending")
    link = page.get_by_test_id("approval-url").input_value()
    assert "/security/gdap/invitation/" in link

    # The customer's Global Administrator, without an account in the portal.
    customer = new_page()
    customer.goto(link)
    expect(customer.get_by_role("heading", name="Approve delegated admin access")).to_be_visible()
    expect(customer.get_by_test_id("partner-name")).to_have_text(org_a.legal_name)
    expect(customer.get_by_test_id("invitation-roles")).to_contain_text("Helpdesk Administrator")
    expect(customer.get_by_test_id("invitation-duration")).to_contain_text("30 days")
    customer.get_by_label("Your name").fill("Carla Customer")
    customer.get_by_label("Your work email").fill("carla@contoso.example")
    customer.get_by_role("button", name="Approve").click()
    expect(customer.get_by_test_id("invitation-result")).to_contain_text("Active")

    page.reload()
    expect(page.get_by_test_id("gdap-status-text")).to_have_text("Active")
    expect(page.get_by_test_id("history")).to_contain_text("Carla Customer")
    detail_url = page.url

    relationship = GdapRelationship.objects.get(display_name="Contoso-Support")
    title = re.compile(r"GDAP relationship “Contoso-Support” with Contoso ends on")

    # Five days before the end: the relationship is expiring and the Action Center says so.
    gdap_daily(now=relationship.end_at - timedelta(days=5))
    page.goto("/")
    expect(page.get_by_role("heading", name="Action Center")).to_be_visible()
    warning = page.get_by_test_id("action-item").filter(has_text=title)
    expect(warning).to_have_count(1)
    expect(warning.locator(".badge.high")).to_be_visible()
    page.goto(detail_url)
    expect(page.get_by_test_id("gdap-status-text")).to_have_text("Expiring")

    # After the end: expired, and the warning is gone.
    gdap_daily(now=relationship.end_at + timedelta(hours=1))
    page.goto(detail_url)
    expect(page.get_by_test_id("gdap-status-text")).to_have_text("Expired")
    expect(page.get_by_role("button", name="Renew")).to_be_visible()
    page.goto("/")
    expect(page.get_by_test_id("action-item").filter(has_text=title)).to_have_count(0)
