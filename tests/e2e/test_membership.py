"""Membership workspace in a browser: a partner admin checks the membership on the overview, opens
a designation it has not attained, sees the gap and a suggestion, and runs a what-if that reaches
70 points."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from membership.models import Certification
from membership.services.scoring import recalculate_capability_scores
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.e2e.test_sign_in_and_roles import sign_in
from tests.factories import MembershipFactory, PersonCertificationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_with_app(page: Page, user, device) -> None:
    sign_in(page, user.email)
    page.get_by_role("textbox", name="Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()


def test_a_partner_admin_finds_the_gap_to_a_designation_and_plans_to_close_it(new_page, org_a):
    petra = UserFactory(
        organization=org_a,
        email="petra@alpha.example",
        display_name="Petra Partner",
        roles=[Role.PARTNER_ADMIN],
    )
    app = confirm_totp(petra)
    membership = MembershipFactory(organization=org_a)
    # Data & AI: 5 of 10 people with intermediate and 2 of 4 with advanced certifications, no
    # customers yet → 12 + 7 = 19 points.
    earned = timezone.localdate() - timedelta(days=90)
    for code, count in (("DP-100", 5), ("DP-420", 2)):
        certification = Certification.objects.get(code=code)
        for n in range(count):
            PersonCertificationFactory(
                organization=org_a,
                certification=certification,
                email=f"{code}-{n}@alpha.example",
                earned_on=earned,
            )
    recalculate_capability_scores(organization_ids=[org_a.pk])

    page = new_page()
    page.goto("/membership/")
    sign_in_with_app(page, petra, app)
    expect(page.get_by_role("heading", name="Membership", exact=True)).to_be_visible()
    expect(page.get_by_test_id("partner-global-id")).to_have_text(org_a.partner_global_id)
    expect(page.get_by_test_id("company-name")).to_have_text(org_a.legal_name)
    expect(page.get_by_test_id("membership-status")).to_have_text("Active")
    expect(page.get_by_test_id("anniversary")).to_have_text(membership.anniversary_date.strftime("%-d %b %Y"))

    card = page.get_by_test_id("track-card").filter(has_text="Data & AI")
    expect(card.get_by_test_id("track-score")).to_have_text("19 / 100")
    card.get_by_role("link", name=re.compile("Data & AI")).click()

    expect(page).to_have_url(re.compile(r"/membership/designations/data-ai/$"))
    expect(page.get_by_test_id("score-total")).to_have_text("19")
    expect(page.get_by_test_id("score-qualified")).to_have_text("Not qualified")
    expect(page.get_by_test_id("score-gap")).to_contain_text("51 points to 70")
    nca = page.locator('[data-testid="metric-row"][data-metric="nca"]')
    expect(nca.get_by_test_id("metric-points")).to_have_text("0")
    expect(page.get_by_test_id("suggestion").first).to_be_visible()
    expect(page.get_by_test_id("suggestions")).to_contain_text("gives +")

    # What if the partner wins 8 net new customers, grows usage 20 % and deploys 10 workloads?
    form = page.get_by_test_id("what-if-form")
    form.get_by_label("Net customer adds").fill("8")
    form.get_by_label("Usage growth").fill("20")
    form.get_by_label("Deployments").fill("10")
    form.get_by_role("button", name="Calculate").click()
    expect(page.get_by_test_id("what-if-before")).to_have_text("19")
    expect(page.get_by_test_id("what-if-after")).to_have_text("79")
    expect(page.get_by_test_id("what-if-qualified")).to_have_text("Qualified")
    expect(page.get_by_test_id("what-if-delta")).to_contain_text("+60 points")
    # The prediction changes nothing: the score itself is still 19.
    expect(page.get_by_test_id("score-total")).to_have_text("19")
