"""Each of Microsoft's NewCommerceEligibilityErrorCode reasons (the NCE Batch Migration tool's enum):
the rule that raises it, its name and its number, in the engine, the validate API and the tool's file."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from freezegun import freeze_time

from commerce.choices import MigrationStatus, SubscriptionStatus, TradeStatus
from commerce.codes import EligibilityCode
from commerce.eligibility import migration_validate
from commerce.models import Migration

pytestmark = pytest.mark.django_db

TODAY = "2025-05-20 10:00:00"


def _open_migration(subscription) -> None:
    Migration.objects.create(
        organization_id=subscription.organization_id,
        customer=subscription.customer,
        current_subscription=subscription,
        status=MigrationStatus.PROCESSING,
        term_duration=subscription.term_duration,
        billing_cycle=subscription.billing_cycle,
        quantity=subscription.quantity,
    )


def _with_addon_that_cannot_move(legacy, customer):
    base = legacy(customer, "premium")
    legacy(customer, "business_voice", parent=base)
    return base


#: code → (number, how to build the subscription, the request)
CASES = {
    EligibilityCode.NOT_ACTIVE: (
        0,
        lambda legacy, c: legacy(c, "basic", status=SubscriptionStatus.SUSPENDED),
        {},
    ),
    EligibilityCode.OPEN_MIGRATION: (1, lambda legacy, c: legacy(c, "basic"), {}),
    EligibilityCode.TOO_CLOSE_TO_TERM_END: (
        2,
        lambda legacy, c: legacy(c, "basic", term_end=date(2025, 5, 19)),
        {},
    ),
    EligibilityCode.PROMOTIONS: (3, lambda legacy, c: legacy(c, "basic", promotion_id="39NFJQT1Q5KR"), {}),
    EligibilityCode.ADDON: (4, _with_addon_that_cannot_move, {}),
    EligibilityCode.NO_EQUIVALENT: (5, lambda legacy, c: legacy(c, "business_voice"), {}),
    EligibilityCode.TERM_BILLING: (
        6,
        lambda legacy, c: legacy(c, "basic"),
        {"term_duration": "P1M", "billing_cycle": "Annual", "purchase_full_term": True},
    ),
    EligibilityCode.ACTIVE_LESS_THAN_A_MONTH: (
        7,
        lambda legacy, c: legacy(c, "basic", term_start=date(2025, 5, 1), term_end=date(2026, 4, 30)),
        {},
    ),
    EligibilityCode.TRADE_STATUS: (
        8,
        lambda legacy, c: legacy(c, "basic", trade_status=TradeStatus.NOT_ALLOWED),
        {},
    ),
    EligibilityCode.LAST_DAY_FULL_TERM_ONLY: (
        10,
        lambda legacy, c: legacy(c, "basic", term_end=date(2025, 5, 20)),
        {},
    ),
    EligibilityCode.CUSTOM_TERM_END: (
        11,
        lambda legacy, c: legacy(c, "basic"),
        {"custom_term_end_date": date(2027, 1, 31), "purchase_full_term": True},
    ),
    EligibilityCode.CUSTOM_TERM_END_ALIGNMENT: (
        12,
        lambda legacy, c: legacy(c, "basic"),
        {"custom_term_end_date": date(2025, 8, 15)},
    ),
}


@freeze_time(TODAY)
@pytest.mark.parametrize("code", list(CASES), ids=str)
def test_each_microsoft_code_has_its_rule_name_and_number(code, catalog, us_customer, legacy):
    number, build, request = CASES[code]
    subscription = build(legacy, us_customer)
    if code == EligibilityCode.OPEN_MIGRATION:
        _open_migration(subscription)

    eligibility = migration_validate(subscription=subscription, **request)

    assert not eligibility.is_eligible
    found = {error.code: error for error in eligibility.errors}
    assert code in found, [str(error) for error in eligibility.errors]
    assert (found[code].number, code.is_microsoft) == (number, True)
    assert str(found[code]).startswith(f"{code.value}: ")


def test_the_portals_own_reasons_number_clear_of_microsofts():
    own = [code for code in EligibilityCode if not code.is_microsoft]
    assert own and all(code.number > 1000 for code in own)
    assert len({code.number for code in EligibilityCode}) == len(EligibilityCode)


@freeze_time(TODAY)
def test_the_validate_api_answers_microsofts_number_and_name(catalog, org_a, us_customer, legacy, api_for):
    subscription = legacy(
        us_customer, "basic", promotion_id="39NFJQT1Q5KR", trade_status=TradeStatus.NOT_ALLOWED
    )
    client = api_for(org_a, scopes=("commerce:read", "commerce:write"))
    url = f"/api/v1/commerce/customers/{us_customer.tenant_id}/migrations/newcommerce/validate"

    body = client.post(
        url, {"currentSubscriptionId": str(subscription.subscription_id)}, format="json"
    ).json()

    assert body["isEligible"] is False
    assert {(e["code"], e["codeName"]) for e in body["errors"]} == {
        (3, "SubscriptionPromotionsPresent"),
        (8, "TradeStatusNotAllowed"),
    }
    assert all(e["description"] for e in body["errors"])


@freeze_time(TODAY)
def test_the_tools_file_carries_the_codes_beside_the_descriptions(
    catalog, us_customer, legacy, verified_client, alice
):
    subscription = legacy(us_customer, "basic", trade_status=TradeStatus.NOT_ALLOWED)

    response = verified_client(alice).get(reverse("commerce:subscription-bam-csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")

    [row] = [
        r
        for r in csv.DictReader(io.StringIO(text))
        if r["LegacySubscriptionId"] == str(subscription.subscription_id)
    ]
    assert row["MigrationEligible"] == "False"
    assert row["MigrationIneligibilityReason"].startswith("TradeStatusNotAllowed: ")
