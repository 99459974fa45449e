"""A new account admin signs in, enrols an authenticator app, works the Action Center and changes
a colleague's roles; a returning user gets past a wrong code with a backup code; the admin site
needs the second factor."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import RoleAssignment
from accounts.services.action_center import action_item_raise
from portal.models import AuditEvent
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIGN_IN = re.compile(r"/accounts/login/")
HOME = re.compile(r"^https?://[^/]+/(\?.*)?$")
TIMEOUT_S = 10


def current_totp(secret: str) -> str:
    """The code an authenticator app shows for the base32 `secret` (as printed on the setup page)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def wait_until_verification_allowed(device, *, timeout: float = TIMEOUT_S) -> None:
    """django-otp throttles a device for a second or more after a failed code (on every device of
    the user: the verify view tries them all), so a correct code typed too soon is refused too."""
    deadline = time.monotonic() + timeout
    while True:
        device.refresh_from_db()
        allowed, _ = device.verify_is_allowed()
        if allowed or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect_home(page: Page) -> None:
    expect(page).to_have_url(HOME)
    expect(page.get_by_role("heading", name="Action Center")).to_be_visible()


def test_a_new_account_admin_enrols_mfa_works_the_action_center_and_changes_roles(page, org_a):
    dana = UserFactory(
        organization=org_a, email="dana@alpha.example", display_name="Dana Admin", roles=[Role.ACCOUNT_ADMIN]
    )
    erin = UserFactory(
        organization=org_a,
        email="erin@alpha.example",
        display_name="Erin Incentives",
        roles=[Role.INCENTIVES_USER],
    )
    medium = action_item_raise(
        organization_id=org_a.pk,
        code=ActionItemCode.TAX_PROFILE_MISSING,
        dedupe_key="e2e-tax-profile",
        title="Add your tax profile",
        severity=Severity.MEDIUM,
    )
    high = action_item_raise(
        organization_id=org_a.pk,
        code=ActionItemCode.SECURITY_REQUIREMENT_FAILED,
        dedupe_key="e2e-security",
        title="Fix the failed security requirement",
        severity=Severity.HIGH,
    )

    # 1. Anonymous → sign-in → password → MFA enrolment → backup codes → Home.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2F$"))
    sign_in(page, dana.email)

    expect(page).to_have_url(re.compile(r"/accounts/mfa/setup/"))
    expect(page.get_by_role("heading", name="Set up multi-factor authentication")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.get_by_role("textbox", name="Code").fill(current_totp(secret))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Save your backup codes")).to_be_visible()
    codes = page.get_by_test_id("backup-codes").locator("li")
    expect(codes).to_have_count(10)
    assert all(re.fullmatch(r"[a-z0-9]+", code) for code in codes.all_inner_texts())
    assert TOTPDevice.objects.filter(user=dana, confirmed=True).count() == 1
    page.get_by_role("link", name="I've saved them — continue").click()

    expect_home(page)
    expect(page.get_by_role("heading", name="Welcome, Alpha Partners GmbH")).to_be_visible()

    # 2. Action Center: mark the medium item done in place; the high one cannot be dismissed.
    medium_row = page.locator(f"#action-item-{medium.pk}")
    high_row = page.locator(f"#action-item-{high.pk}")
    expect(medium_row).to_contain_text("Add your tax profile")
    expect(medium_row.locator(".badge.open")).to_have_text("Open")
    expect(medium_row.get_by_role("button", name="Dismiss")).to_be_visible()
    expect(high_row).to_contain_text("Fix the failed security requirement")
    expect(high_row.get_by_role("button", name="Mark done")).to_be_visible()
    expect(high_row.get_by_role("button", name="Dismiss")).to_have_count(0)
    expect(high_row.get_by_role("button", name="Snooze 7 days")).to_have_count(0)

    medium_row.get_by_role("button", name="Mark done").click()
    # htmx swapped only this item (a full reload would list open items only and drop it).
    expect(medium_row.locator(".badge.resolved")).to_have_text("Done")
    expect(medium_row.get_by_role("button")).to_have_count(0)
    expect(high_row.get_by_role("button", name="Mark done")).to_be_visible()
    expect_home(page)
    medium.refresh_from_db()
    assert medium.status == ActionItemStatus.RESOLVED
    assert medium.resolved_by == dana

    # 3. Users → Erin → tick "Referrals admin" → save.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
    page.get_by_role("link", name="Erin Incentives").click()
    expect(page).to_have_url(re.compile(rf"/users/{erin.pk}/$"))
    expect(page.get_by_role("heading", name="Erin Incentives")).to_be_visible()

    form = page.get_by_test_id("roles-form")
    referrals_admin = form.locator("input[name=roles][value=referrals_admin]")
    expect(form.locator("input[name=roles][value=incentives_user]")).to_be_checked()
    expect(referrals_admin).not_to_be_checked()
    referrals_admin.check()
    form.get_by_role("button", name="Save roles").click()

    expect(page).to_have_url(re.compile(rf"/users/{erin.pk}/$"))
    expect(page.locator(".messages .success")).to_have_text("Roles of Erin Incentives saved.")
    form = page.get_by_test_id("roles-form")
    expect(form.locator("input[name=roles][value=referrals_admin]")).to_be_checked()
    expect(form.locator("input[name=roles][value=incentives_user]")).to_be_checked()
    expect(page.get_by_role("cell", name="user.roles_changed")).to_be_visible()

    # The detail page shows a manager the form; the role badges are on the Users list.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Users").click()
    erin_row = page.get_by_role("row").filter(has_text="erin@alpha.example")
    expect(erin_row.locator(".badge", has_text="Referrals admin")).to_be_visible()
    expect(erin_row.locator(".badge", has_text="Incentives user")).to_be_visible()

    assert RoleAssignment.objects.filter(
        user=erin, organization=org_a, role=Role.REFERRALS_ADMIN, location__isnull=True
    ).exists()
    event = AuditEvent.objects.get(action="user.roles_changed", target_id=str(erin.pk))
    assert event.organization_id == org_a.pk
    assert event.actor_id == dana.pk
    assert event.changes == {"roles": [["incentives_user"], ["incentives_user", "referrals_admin"]]}


def test_a_wrong_code_is_refused_a_backup_code_lets_in_and_admin_needs_the_second_factor(page, org_a):
    frank = UserFactory(
        organization=org_a, email="frank@alpha.example", display_name="Frank", roles=[Role.INCENTIVES_USER]
    )
    app = confirm_totp(frank)
    backup = StaticDevice.objects.create(user=frank, name="backup")
    backup_code = StaticToken.random_token()
    backup.token_set.create(token=backup_code)
    # A wrong code: none the app device accepts now (tolerance ±1 step, +1 should the clock tick).
    valid_now = {f"{totp(app.bin_key, drift=drift):06d}" for drift in (-1, 0, 1, 2)}
    wrong_code = next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid_now)

    # 4. Password, then a wrong code: still on the verify page, with the error.
    page.goto("/")
    sign_in(page, frank.email)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/\?next=%2F$"))
    expect(page.get_by_role("heading", name="Verify it's you")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill(wrong_code)
    page.get_by_role("button", name="Verify").click()

    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/"))
    expect(page.get_by_role("heading", name="Verify it's you")).to_be_visible()
    expect(page.locator(".errorlist")).to_contain_text(
        "That code is not valid. Use the current code from your app or an unused backup code."
    )
    # Pages stay closed until the second factor passes.
    page.goto("/users/")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/\?next=%2Fusers%2F$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/\?next=%2F$"))

    # A backup code lets Frank in, once (after the throttle of the wrong attempt has passed).
    wait_until_verification_allowed(backup)
    page.get_by_role("textbox", name="Code").fill(backup_code)
    page.get_by_role("button", name="Verify").click()
    expect_home(page)
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Frank")).to_be_visible()
    assert not backup.token_set.filter(token=backup_code).exists()

    # 5. Sign out; the admin then sends Frank to sign in, and after the password only to the
    # second factor — never to an admin page.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2F$"))
    sign_in(page, frank.email)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/\?next=%2Fadmin%2F$"))
    expect(page.get_by_role("heading", name="Verify it's you")).to_be_visible()
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/\?next=%2Fadmin%2F$"))
