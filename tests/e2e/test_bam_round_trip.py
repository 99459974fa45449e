"""A CSP partner's real book, end to end: the vendor's billing system pushes legacy subscriptions
through the vendor feed; the partner downloads them in Microsoft's NCE Batch Migration tool layout,
edits seats and term in the file, uploads it, sees every row's outcome and the price impact, submits
the valid rows, watches the batch finish and downloads the result file with BatchId and MigrationId."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import APIRequestContext, Page, expect

from accounts.demo import DEMO_PASSWORD, seed_demo_data, totp_secret_for
from commerce.choices import MigrationStatus, SubscriptionStatus
from commerce.demo import commerce_demo_catalog, offer_id_for
from commerce.models import LegacySubscription, Migration, MigrationBatch
from tests.e2e.conftest import vendor_feed_headers
from tests.e2e.test_sign_in_and_roles import current_totp, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEED = 7
OWNER = "owner@fabrikam.example"
FABRIKAM = "4812345"


def _vendor_pushes_the_book(api: APIRequestContext) -> dict[str, str]:
    """Two US customers and four legacy subscriptions, over HTTP; returns subscription ids by role."""
    scopes = ["vendor.customers:write", "vendor.subscriptions:write"]
    headers = vendor_feed_headers(api, scopes, email="billing@vendor.example")
    tenants = [str(uuid.uuid4()) for _ in range(2)]
    customers = [
        {
            "partnerId": FABRIKAM,
            "companyProfile": {
                "tenantId": tenant,
                "domain": f"bam{n}.example",
                "companyName": f"Bam Customer {n}",
            },
            "billingProfile": {"defaultAddress": {"country": "US"}},
        }
        for n, tenant in enumerate(tenants)
    ]
    answer = api.post("/api/v1/vendor/customers/", data=customers, headers=headers)
    assert answer.status == 200 and answer.json()["rejected"] == 0, answer.text()

    today = timezone.localdate()
    ids = {role: str(uuid.uuid4()) for role in ("premium", "basic", "promoted", "capped")}

    def subscription(role: str, tenant: str, offer: str, seats: int, **extra) -> dict:
        return {
            "partnerId": FABRIKAM,
            "customerTenantId": tenant,
            "id": ids[role],
            "offerId": str(offer_id_for(offer)),
            "friendlyName": f"{role.title()} seats",
            "quantity": seats,
            "effectiveStartDate": f"{today - timedelta(days=200)}T00:00:00Z",
            "commitmentEndDate": f"{today + timedelta(days=165)}T00:00:00Z",
            "status": "active",
            "autoRenewEnabled": True,
            "billingCycle": "Monthly",
            "termDuration": "P1Y",
            "unitPrice": "22.00",
            "currency": "USD",
            **extra,
        }

    subscriptions = [
        subscription("premium", tenants[0], "premium", 40),
        subscription("basic", tenants[0], "basic", 12, unitPrice="6.00"),
        subscription("promoted", tenants[1], "e3", 25, promotionId="39NFJQT1Q5KR", unitPrice="20.00"),
        subscription("capped", tenants[1], "premium", 10),
    ]
    answer = api.post("/api/v1/vendor/subscriptions/", data=subscriptions, headers=headers)
    assert answer.status == 200 and answer.json()["created"] == 4, answer.text()
    return ids


def _sign_in(page: Page) -> None:
    page.goto("/commerce/")
    sign_in(page, OWNER, DEMO_PASSWORD)
    page.get_by_role("textbox", name="Code").fill(current_totp(totp_secret_for(SEED, OWNER)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Commerce", exact=True)).to_be_visible()


def _download(page: Page, test_id: str) -> str:
    with page.expect_download() as waiting:
        page.get_by_test_id(test_id).click()
    return waiting.value.path().read_text(encoding="utf-8-sig")


def _edit(text: str, ids: dict[str, str]) -> str:
    """What a partner does in Excel: more seats on one row, a new monthly term on another, and a
    seat count the offer's pooled maximum cannot take on a third."""
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0])
    by_id = {row["LegacySubscriptionId"]: row for row in rows}
    by_id[ids["premium"]]["SeatCount"] = "45"
    by_id[ids["basic"]].update(Term="P1M", BillingPlan="Monthly", StartNewTermInNce="True")
    by_id[ids["capped"]]["SeatCount"] = "400"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _upload(page: Page, content: str, *, valid_rows_only: bool) -> None:
    page.goto("/commerce/batches/new/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "subscriptions.csv", "mimeType": "text/csv", "buffer": content.encode()}],
    )
    if valid_rows_only:
        page.get_by_label(re.compile("valid rows only", re.IGNORECASE)).check()
    page.get_by_role("button", name="Validate and migrate").click()


def test_a_partner_round_trips_the_batch_migration_tool_file(new_page, live_server):
    seed_demo_data(seed=SEED, customers_per_org=2)
    commerce_demo_catalog()
    ids = _vendor_pushes_the_book(new_page().request)

    page = new_page()
    _sign_in(page)
    page.goto("/commerce/subscriptions/?q=Bam+Customer")
    exported = _download(page, "download-bam-subscriptions")
    header = exported.splitlines()[0]
    assert header.startswith(
        "PartnerTenantId,IndirectResellerMpnId,CustomerName,CustomerTenantId,LegacySubscriptionId"
    )
    assert "NcePsa" in header and "MigrationIneligibilityReason" in header
    exported_rows = {row["LegacySubscriptionId"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert set(ids.values()) <= set(exported_rows)
    promoted = exported_rows[ids["promoted"]]
    assert promoted["MigrationEligible"] == "False"
    assert "SubscriptionPromotionsPresent" in promoted["MigrationIneligibilityReason"]
    assert exported_rows[ids["premium"]]["MigrationEligible"] == "True"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", exported_rows[ids["premium"]]["ExpirationDate"])

    edited = _edit(exported, ids)

    # By default a file with any problem submits nothing and says why, row by row.
    _upload(page, edited, valid_rows_only=False)
    expect(page).to_have_url(re.compile(r"/jobs/\d+/"))
    expect(page.get_by_test_id("import-errors")).to_contain_text("SeatLimitExceeded", timeout=30_000)
    expect(page.get_by_test_id("import-errors")).to_contain_text("400")
    assert not MigrationBatch.objects.exists()
    assert not Migration.objects.exists()

    # The valid rows only: the batch is created and runs; the skipped and the refused are reported.
    _upload(page, edited, valid_rows_only=True)
    expect(page.get_by_test_id("import-next")).to_be_visible(timeout=30_000)
    page.get_by_test_id("import-next").click()
    expect(page).to_have_url(re.compile(r"/commerce/batches/\d+/$"))
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_contain_text("100%", timeout=30_000)
    rows = page.get_by_test_id("batch-rows")
    expect(rows).to_contain_text("SeatLimitExceeded")
    expect(rows).to_contain_text("Skipped")
    expect(page.get_by_test_id("batch-price-totals")).to_contain_text("USD")

    migrated = {
        str(m.current_subscription.subscription_id): m
        for m in Migration.objects.filter(status=MigrationStatus.COMPLETED).select_related(
            "current_subscription"
        )
    }
    assert set(migrated) == {ids["premium"], ids["basic"]}
    assert migrated[ids["premium"]].quantity == 45
    assert (migrated[ids["basic"]].term_duration, migrated[ids["basic"]].purchase_full_term) == ("P1M", True)
    assert LegacySubscription.objects.get(subscription_id=ids["promoted"]).status == SubscriptionStatus.ACTIVE
    assert LegacySubscription.objects.get(subscription_id=ids["capped"]).status == SubscriptionStatus.ACTIVE

    result = list(csv.DictReader(io.StringIO(_download(page, "download-batch-result"))))
    batch = MigrationBatch.objects.get()
    by_id = {row["LegacySubscriptionId"]: row for row in result}
    for role in ("premium", "basic"):
        assert by_id[ids[role]]["BatchId"] == batch.external_reference_id
        assert by_id[ids[role]]["MigrationId"] == str(migrated[ids[role]].migration_id)
    assert by_id[ids["premium"]]["SeatCount"] == "45"
    assert by_id[ids["promoted"]]["MigrationStatus"] == "Skipped"
    assert by_id[ids["premium"]]["NCEChargePerTerm"]
