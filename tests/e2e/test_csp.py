"""The strict Content-Security-Policy in a real browser: pages with charts draw them from the vendored
scripts, the copy link and the confirm dialogs work through static/js/portal.js, the MFA setup page
shows its QR code and the admin works, all without a single CSP violation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from earnings.choices import SolutionArea
from portal.roles import Role
from security.choices import GdapStatus
from security.models import DapRelationship, GdapRelationship
from security.services.gdap import gdap_lock_for_approval
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.earnings.test_queries import build_ledger
from tests.factories import (
    CustomerFactory,
    DapRelationshipFactory,
    GdapRelationshipFactory,
    MembershipFactory,
    OpportunityFactory,
    PartnerLocationFactory,
    SecurityScoreSnapshotFactory,
    UserFactory,
    active_gdap_relationship,
)
from tests.membership.test_pages_overview import seed_scores

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs before any page script: collects the violations the browser reports to the page.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
}, true);
"""

CHART_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || !window.Chart) return false;
  const chart = Chart.getChart(canvas);
  return !!chart && canvas.width > 0 && canvas.height > 0;
}"""


class Watch:
    """The CSP violations and script errors of one page, across its navigations."""

    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        page.context.add_init_script(LISTEN)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def violations(self) -> list[str]:
        seen = self.page.evaluate("window.__csp || []")
        said = [text for text in self.console if "Content Security Policy" in text or "Refused to" in text]
        return seen + said

    def assert_clean(self, where: str) -> None:
        violations = self.violations()
        assert violations == [], f"CSP violations on {where}: {violations}"
        assert self.errors == [], f"script errors on {where}: {self.errors}"

    def expect_chart(self, canvas_id: str) -> None:
        expect(self.page.locator(f"#{canvas_id}")).to_be_visible()
        self.page.wait_for_function(CHART_DRAWN, arg=canvas_id)


def sign_in_with_app(page: Page, user, device) -> None:
    sign_in(page, user.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()


@pytest.fixture
def gina(org_a):
    user = UserFactory(organization=org_a, email="gina@alpha.example", roles=[Role.GLOBAL_ADMIN])
    return user, confirm_totp(user)


def test_every_chart_draws_under_the_policy(page: Page, org_a, gina):
    user, device = gina
    build_ledger(org_a, 40)
    today = timezone.localdate()
    for days_ago, score in [(3, 60), (2, 70), (1, 80)]:
        day = today - timedelta(days=days_ago)
        SecurityScoreSnapshotFactory(organization=org_a, taken_on=day, score=score)
    MembershipFactory(organization=org_a)
    seed_scores(org_a)
    watch = Watch(page)

    page.goto("/earnings/")
    sign_in_with_app(page, user, device)
    expect(page.get_by_role("heading", name="Earnings", exact=True)).to_be_visible()
    watch.expect_chart("earnings-chart")
    watch.assert_clean("the earnings page")

    # The filters swap the results (chart included) in with htmx: the new canvas is drawn too.
    page.locator("#earnings-chart").evaluate("(canvas) => { canvas.dataset.before = 'swap'; }")
    page.get_by_label("Solution area").select_option(SolutionArea.AZURE_INFRA)
    expect(page.locator("#earnings-chart[data-before]")).to_have_count(0)
    watch.expect_chart("earnings-chart")
    watch.assert_clean("the earnings page after an htmx swap")

    for url, heading, canvases in [
        ("/incentives/", "Incentives", ["incentives-chart"]),
        ("/security/", "Security", ["security-chart"]),
        ("/cosell/insights/", "Co-sell insights", ["cosell-pipeline", "cosell-win-rate"]),
        ("/membership/designations/data-ai/", "Membership", ["designation-chart"]),
    ]:
        page.goto(url)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        for canvas in canvases:
            watch.expect_chart(canvas)
        watch.assert_clean(url)


def test_copy_link_and_confirmations_work_without_inline_script(page: Page, org_a, gina):
    user, device = gina
    pending = GdapRelationshipFactory(organization=org_a, display_name="Contoso-Pending")
    gdap_lock_for_approval(actor=user, relationship=pending)
    active = active_gdap_relationship(org_a, display_name="Fabrikam-Active")
    dap = DapRelationshipFactory(
        organization=org_a, customer=CustomerFactory(organization=org_a, name='O\'Neil & "Sons"')
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    watch = Watch(page)

    page.goto(f"/security/gdap/{pending.pk}/")
    sign_in_with_app(page, user, device)
    link = page.get_by_test_id("approval-url")
    expect(link).to_have_value(re.compile(r"/security/gdap/invitation/"))
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_test_id("copy-approval-url")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    link.dispatch_event("click")
    selected = "(input) => input.value.slice(input.selectionStart, input.selectionEnd)"
    assert link.evaluate(selected) == link.input_value()
    watch.assert_clean("the GDAP detail page")

    # Terminate asks first: dismissing keeps the relationship, accepting terminates it.
    page.goto(f"/security/gdap/{active.pk}/")
    asked: list[str] = []

    def answer(accept: bool):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    page.get_by_role("button", name="Terminate").click()
    expect(page.get_by_test_id("gdap-status-text")).to_have_text("Active")
    assert asked == ["Terminate this relationship? The access ends now and can't be restored."]
    page.wait_for_timeout(300)  # a submission, had it happened, would have reached the server by now
    assert GdapRelationship.objects.get(pk=active.pk).status == GdapStatus.ACTIVE

    page.once("dialog", answer(True))
    page.get_by_role("button", name="Terminate").click()
    expect(page.get_by_text("Relationship terminated")).to_be_visible()
    assert len(asked) == 2
    assert GdapRelationship.objects.get(pk=active.pk).status != GdapStatus.ACTIVE
    watch.assert_clean("the GDAP terminate confirmation")

    # The DAP removal names the customer exactly, quotes and all (an attribute, not a JS string).
    page.goto("/security/dap/")
    page.once("dialog", answer(True))
    page.get_by_role("button", name="Remove DAP").click()
    expect(page.get_by_role("button", name="Remove DAP")).to_have_count(0)
    assert asked[-1] == 'Remove the DAP link with O\'Neil & "Sons"?'
    assert DapRelationship.objects.get(pk=dap.pk).removed_at is not None
    watch.assert_clean("the DAP list")

    # Choosing another delivering location reloads the opportunity for it (data-submit-on-change).
    opportunity = OpportunityFactory(organization=org_a)
    PartnerLocationFactory(organization=org_a, name="Alpha Berlin")
    munich = PartnerLocationFactory(organization=org_a, name="Alpha Munich")
    page.goto(f"/incentives/opportunities/{opportunity.pk}/")
    page.get_by_label("Delivering location").select_option(str(munich.pk))
    expect(page).to_have_url(re.compile(rf"\?location={munich.pk}$"))
    expect(page.get_by_label("Delivering location")).to_have_value(str(munich.pk))
    watch.assert_clean("the opportunity page")


def test_mfa_setup_shows_the_qr_code_and_the_admin_works(page: Page, org_a, db):
    staff = UserFactory(organization=org_a, email="sam@alpha.example", is_staff=True, is_superuser=True)
    watch = Watch(page)

    page.goto("/admin/")
    sign_in(page, staff.email)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/setup/"))
    qr = page.locator(".qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50
    watch.assert_clean("the MFA setup page")

    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    from tests.e2e.test_sign_in_and_roles import current_totp

    page.get_by_role("textbox", name="Code").fill(current_totp(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Save your backup codes")).to_be_visible()
    watch.assert_clean("the backup codes page")

    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/accounts/user/")
    expect(page.locator("#changelist")).to_be_visible()
    # The admin's own scripts (static files) run: the action checkbox toggles the counter.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("selected")
    page.goto("/admin/accounts/user/add/")
    expect(page.locator("form")).not_to_have_count(0)
    watch.assert_clean("the admin")
