"""A vendor reviewer asks for more information on a claim in the admin; the partner's claim owner sees
the bell count rise, opens the notification and lands on the claim; the e-mail arrived at a real SMTP
server with an absolute link that, opened in a fresh browser, leads through sign-in to the same claim.

The live server runs in this process with Celery eager (tests/conftest.py), so the e-mail is sent by
the outbox task once the reviewer's transaction commits, to the SMTP server started here."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from incentives.choices import ClaimStatus, ReviewReason
from portal.history import history_record
from portal.notifications.models import Notification
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.e2e.test_incentives import admin_sign_in, review_in_admin
from tests.e2e.test_sign_in_and_roles import SIGN_IN, sign_in
from tests.factories import ClaimFactory, UserFactory
from tests.incentives.test_pages import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMEOUT_S = 10


def verify(page: Page, device) -> None:
    page.get_by_role("textbox", name="Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()


def wait_for_mail(smtp_server, to: str, subject_ends: str):
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        found = [m for m in smtp_server.messages() if m["To"] == to and m["Subject"].endswith(subject_ends)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_request_for_information_reaches_the_claim_owner_in_the_bell_and_by_e_mail(
    new_page, live_server, org_a, smtp_server, settings, tmp_path
):
    # The links in the e-mails point at the live server.
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world(org_a)
    ines = UserFactory(
        organization=org_a, email="ines@alpha.example", display_name="Ines", roles=[Role.INCENTIVES_USER]
    )
    # Her authenticator on the phone and on the laptop: a code is accepted once per device and
    # time step, and she signs in twice within the same 30 seconds.
    phone, laptop = confirm_totp(ines), confirm_totp(ines)
    reviewer = UserFactory(
        organization=None, email="reviewer@vendor.example", is_staff=True, is_superuser=True
    )
    reviewer_app = confirm_totp(reviewer)
    claim = ClaimFactory(
        organization=org_a,
        activity_type=world.fixed,
        location=world.location,
        customer=world.customer,
        friendly_name="Northwind Copilot workshop",
        status=ClaimStatus.SUBMITTED,
        created_by=ines,
        delivered_on=timezone.localdate() - timedelta(days=1),
        submitted_at=timezone.now(),
    )
    history_record(
        subject=claim, actor=ines, from_status=ClaimStatus.PENDING_POE, to_status=ClaimStatus.SUBMITTED
    )
    claim_path = f"/incentives/claims/{claim.pk}/"
    claim_page = re.compile(re.escape(claim_path) + r"$")

    # Ines, signed in, reads her claim: nothing in the bell yet.
    page = new_page()
    page.goto(claim_path)
    sign_in(page, ines.email)
    verify(page, phone)
    expect(page).to_have_url(claim_page)
    expect(page.get_by_test_id("notification-bell")).to_be_visible()
    expect(page.get_by_test_id("notification-count")).to_have_count(0)

    # The vendor's reviewer, signed in to the admin with their own second factor, asks for more.
    admin = admin_sign_in(new_page(), reviewer, reviewer_app)
    review_in_admin(
        admin,
        claim,
        "Ask for more information…",
        reason=ReviewReason.GENERIC_CONTENT,
        comment="Please attach findings written for Northwind.",
    )
    title = f"Claim {claim.claim_id} needs more information"

    # The bell polls every 30 s; a reload shows the count at once.
    page.reload()
    expect(page.get_by_test_id("notification-count")).to_have_text("1")
    page.get_by_test_id("notification-bell").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    row = page.get_by_test_id("notification-row").filter(has_text=title)
    expect(row).to_contain_text("Claim needs more information")  # the category's label
    expect(row).to_contain_text(str(ReviewReason.GENERIC_CONTENT.label))
    row.get_by_role("link", name=title).click()
    expect(page).to_have_url(claim_page)
    expect(page.get_by_test_id("claim-status").first).to_have_text(ClaimStatus.PARTNER_ACTION_REQUIRED)
    expect(page.get_by_test_id("respond-form")).to_be_visible()
    expect(page.get_by_test_id("notification-count")).to_have_count(0)  # opened: read
    assert Notification.objects.get(recipient=ines).read_at is not None

    # The e-mail reached the SMTP server, with the organization in the subject and an absolute link.
    received = wait_for_mail(smtp_server, ines.email, title)
    assert len(received) == 1, [m["Subject"] for m in smtp_server.messages()]
    message = received[0]
    assert message["Subject"] == f"[{org_a.legal_name}] {title}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+", text.split("Open it in the Partner Portal:", 1)[1]).group(0)
    assert link == f"{live_server.url}{claim_path}"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{link}"' in html

    # Opened in a fresh browser (no session), the link leads through sign-in to the same claim.
    fresh = new_page()
    fresh.goto(link)
    expect(fresh).to_have_url(SIGN_IN)
    sign_in(fresh, ines.email)
    verify(fresh, laptop)
    expect(fresh).to_have_url(claim_page)
    expect(fresh.get_by_test_id("claim-id")).to_have_text(claim.claim_id)
    expect(fresh.get_by_test_id("latest-review")).to_contain_text(
        "Please attach findings written for Northwind."
    )
