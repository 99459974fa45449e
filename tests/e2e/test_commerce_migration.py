"""A partner finds the legacy subscriptions that can move to new commerce, sees why the others
cannot, migrates one from its page, then a batch from the list, and watches the batch finish."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import DEMO_PASSWORD, seed_demo_data, totp_secret_for
from commerce.choices import MigrationStatus, SubscriptionStatus
from commerce.demo import commerce_demo_seed
from commerce.models import LegacySubscription, Migration, MigrationBatch
from tests.e2e.test_sign_in_and_roles import current_totp, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEED = 7
OWNER = "owner@fabrikam.example"


@pytest.fixture
def demo(db):
    seed_demo_data(seed=SEED, customers_per_org=6)
    commerce_demo_seed(seed=SEED)


def sign_in_with_mfa(page: Page) -> None:
    page.goto("/commerce/")
    sign_in(page, OWNER, DEMO_PASSWORD)
    page.get_by_role("textbox", name="Code").fill(current_totp(totp_secret_for(SEED, OWNER)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Commerce", exact=True)).to_be_visible()


def test_a_partner_migrates_one_subscription_then_a_batch(page: Page, demo):
    sign_in_with_mfa(page)
    page.get_by_role("link", name="Legacy subscriptions to migrate").click()
    expect(page.get_by_role("heading", name="Legacy subscriptions")).to_be_visible()
    rows = page.get_by_test_id("subscription-row")
    expect(rows.first).to_be_visible()
    # Some can move, and the others say why not, in the vendor's words.
    expect(page.get_by_text("Eligible").first).to_be_visible()
    expect(page.locator(".errorlist li").first).to_be_visible()

    # One, from its page: the before/after, then migrate.
    eligible_row = rows.filter(has=page.locator("input[type=checkbox]")).first
    offer = eligible_row.get_by_test_id("offer-link")
    offer_name = offer.inner_text()
    offer.click()
    expect(page.get_by_role("heading", name=offer_name)).to_be_visible()
    expect(page.get_by_test_id("new-charge")).to_contain_text("per")
    page.get_by_role("button", name="Migrate now").click()
    expect(page.get_by_test_id("migration-status")).to_have_text("Completed")
    expect(page.get_by_test_id("history")).to_contain_text("Processing")
    first = Migration.objects.get(parent_migration=None)  # its add-ons, if any, move with it
    assert first.current_subscription.status == SubscriptionStatus.CANCELLED
    assert first.new_commerce_subscription.status == SubscriptionStatus.ACTIVE

    # A batch: tick two more eligible subscriptions on the list.
    page.goto("/commerce/subscriptions/?status=active&migrated=false")
    boxes = page.locator("input[name=subscription]")
    expect(boxes.nth(1)).to_be_visible()
    chosen = [int(boxes.nth(i).get_attribute("value")) for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Migrate selected").click()
    expect(page).to_have_url(re.compile(r"/commerce/batches/\d+/$"))
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_contain_text("Succeeded")
    expect(progress).to_contain_text("100%")
    batch = MigrationBatch.objects.get()
    # Add-ons of a chosen base move with it, as child migrations.
    migrated = Migration.objects.filter(batch=batch, status=MigrationStatus.COMPLETED, parent_migration=None)
    assert sorted(migrated.values_list("current_subscription_id", flat=True)) == sorted(chosen)
    assert not LegacySubscription.objects.filter(pk__in=chosen, status=SubscriptionStatus.ACTIVE).exists()
