"""The price impact of a migration: before (the legacy price) and after (the price list), per
billing period and over the new term, add-ons included, a batch total per currency; in the
validate API and on the subscription page (spec/commerce.md §4.1, §6 C1 and C2)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from accounts.choices import CustomerSegment
from commerce.eligibility import (
    SEGMENT_FOR_CUSTOMER,
    MigrationRequest,
    eligibility_for,
    migration_validate,
    migration_validate_assessment,
)
from commerce.models import LegacySubscription
from commerce.pricing.impact import impact_total
from commerce.pricing.lookup import price_for
from tests.commerce.conftest import legacy_subscription as legacy
from tests.factories import CustomerFactory, PriceListFactory, PriceListRowFactory

pytestmark = pytest.mark.django_db

#: The last day of a year-long term starting on 20 May 2025 (the tests' today).
YEAR_END = date(2026, 5, 19)


@pytest.fixture
def us_customer(org_a, catalog):
    return CustomerFactory(organization=org_a, country="US", segment=CustomerSegment.COMMERCIAL)


def _premium_row(price_list, price: str, *, billing="Monthly", start=date(2025, 1, 1), **fields):
    return PriceListRowFactory(
        price_list=price_list,
        product_id="CFQ7TTC0LCHC",
        sku_id="0002",
        billing_plan=billing,
        unit_price=Decimal(price),
        effective_start_date=datetime.combine(start, datetime.min.time(), tzinfo=UTC),
        **fields,
    )


# --- The worked examples ----------------------------------------------------------------------------


@freeze_time("2025-05-20 10:00:00")
def test_c1_co_terminous_792_a_month_and_the_term_prorated_by_days(us_customer):
    subscription = legacy(
        us_customer,
        "premium",
        quantity=40,
        term_end=date(2025, 9, 14),
        unit_price=Decimal("18.00"),
        currency="USD",
    )

    eligibility = migration_validate(subscription=subscription)

    proposal = eligibility.proposal
    assert (proposal.charge_per_period, proposal.period, proposal.currency) == (
        Decimal("792.00"),
        "month",
        "USD",
    )
    # 20 May to 14 September is 118 of the 365 days of a year from 20 May: 9,504.00 × 118 / 365.
    assert proposal.charge_per_term == Decimal("3072.53")
    # Before: 18.00 a seat a month for the same 40 seats and the same days, 8,640.00 × 118 / 365.
    assert (proposal.legacy_charge_per_period, proposal.legacy_charge_per_term) == (
        Decimal("720.00"),
        Decimal("2793.21"),
    )
    impact = eligibility.price_impact
    assert (impact.term_start, impact.term_end, impact.add_ons) == (date(2025, 5, 20), date(2025, 9, 14), 0)
    assert (impact.difference_per_period, impact.difference_per_term) == (Decimal("72.00"), Decimal("279.32"))


@freeze_time("2025-03-03 09:00:00")
def test_c2_a_new_full_monthly_term_costs_77_76_for_the_month(us_customer):
    # Legacy annual commitment billed annually: 60.00 a seat a year is 5.00 a month.
    subscription = legacy(
        us_customer,
        "basic",
        quantity=12,
        term_end=date(2025, 11, 30),
        billing_cycle="Annual",
        unit_price=Decimal("60.00"),
        currency="USD",
    )

    impact = migration_validate(
        subscription=subscription, term_duration="P1M", billing_cycle="Monthly", purchase_full_term=True
    ).price_impact

    assert (impact.term_start, impact.term_end) == (date(2025, 3, 3), date(2025, 4, 2))
    assert (impact.charge_per_period, impact.period, impact.charge_per_term) == (
        Decimal("77.76"),
        "month",
        Decimal("77.76"),
    )
    assert (impact.legacy_charge_per_period, impact.legacy_charge_per_term) == (
        Decimal("60.00"),
        Decimal("60.00"),
    )
    assert impact.difference_per_term == Decimal("17.76")


# --- Before: known, unknown, another currency -------------------------------------------------------


@freeze_time("2025-05-20")
def test_an_unknown_legacy_price_leaves_before_and_the_difference_empty(us_customer):
    subscription = legacy(us_customer, "premium", quantity=40, term_end=date(2025, 9, 14))
    assert subscription.unit_price is None

    impact = migration_validate(subscription=subscription).price_impact

    assert impact.charge_per_period == Decimal("792.00")
    assert (impact.legacy_charge_per_period, impact.legacy_charge_per_term) == (None, None)
    assert (impact.difference_per_period, impact.difference_per_term, impact.comparable) == (
        None,
        None,
        False,
    )


@freeze_time("2025-05-20")
def test_a_legacy_price_in_another_currency_is_shown_not_converted(us_customer):
    subscription = legacy(
        us_customer,
        "premium",
        quantity=10,
        term_end=YEAR_END,
        term_start=date(2025, 1, 1),
        unit_price=Decimal("20.00"),
        currency="EUR",
    )

    impact = migration_validate(subscription=subscription).price_impact

    assert (impact.currency, impact.charge_per_period, impact.charge_per_term) == (
        "USD",
        Decimal("198.00"),
        Decimal("2376.00"),  # a full year: 10 × 237.60
    )
    assert (impact.legacy_currency, impact.legacy_charge_per_period, impact.legacy_charge_per_term) == (
        "EUR",
        Decimal("200.00"),
        Decimal("2400.00"),
    )
    assert impact.difference_per_period is None and impact.difference_per_term is None


@freeze_time("2025-05-20")
def test_annual_billing_is_charged_per_year(us_customer):
    subscription = legacy(
        us_customer,
        "premium",
        quantity=10,
        term_end=YEAR_END,
        term_start=date(2025, 1, 1),
        unit_price=Decimal("20.00"),  # a seat a month
        currency="USD",
    )

    impact = migration_validate(subscription=subscription, billing_cycle="Annual").price_impact

    assert (impact.period, impact.charge_per_period, impact.legacy_charge_per_period) == (
        "year",
        Decimal("2376.00"),
        Decimal("2400.00"),
    )


# --- Tiers, segment, the migration date -------------------------------------------------------------


@freeze_time("2025-05-20")
def test_the_price_is_the_tier_of_the_lines_seats(us_customer):
    tiered = PriceListFactory(effective_month=date(2025, 5, 1))
    _premium_row(tiered, "240.00", pricing_tier_range_min=1, pricing_tier_range_max=20)
    _premium_row(tiered, "216.00", pricing_tier_range_min=21, pricing_tier_range_max=300)
    small = legacy(us_customer, "premium", quantity=20, term_end=YEAR_END, term_start=date(2025, 1, 1))
    large = legacy(us_customer, "premium", quantity=21, term_end=YEAR_END, term_start=date(2025, 1, 1))

    answers = {e.subscription_id: e for e in [migration_validate(subscription=s) for s in (small, large)]}

    assert answers[small.pk].proposal.unit_price == Decimal("240.00")
    assert answers[small.pk].price_impact.charge_per_period == Decimal("400.00")  # 20 × 240 / 12
    assert answers[large.pk].proposal.unit_price == Decimal("216.00")
    assert answers[large.pk].price_impact.charge_per_period == Decimal("378.00")  # 21 × 216 / 12
    # The same request with a quantity in the other tier takes that tier's price.
    assert migration_validate(subscription=small, quantity=21).proposal.unit_price == Decimal("216.00")


@freeze_time("2025-05-20")
def test_a_migration_at_renewal_is_priced_on_the_day_after_the_legacy_term(us_customer):
    rise = PriceListFactory(effective_month=date(2025, 9, 1))
    _premium_row(rise, "250.80", start=date(2025, 9, 1))
    subscription = legacy(us_customer, "premium", quantity=10, term_end=date(2025, 9, 14))

    today = migration_validate(subscription=subscription).proposal
    at_renewal = migration_validate_assessment(
        subscription=subscription, request=MigrationRequest(at_renewal=True)
    ).eligibility

    assert today.unit_price == Decimal("237.60")
    assert at_renewal.proposal.term_start == date(2025, 9, 15)
    assert at_renewal.proposal.unit_price == Decimal("250.80")
    assert at_renewal.price_impact.charge_per_term == Decimal("2508.00")


@freeze_time("2025-05-20")
def test_the_list_page_prices_every_line_as_price_for_does_in_fixed_queries(org_a, catalog):
    """Tiers, segments and markets: for every subscription and its seats, the set-based context
    gives the price `price_for` gives, and the queries don't grow with the subscriptions."""
    tiered = PriceListFactory(effective_month=date(2025, 5, 1))
    _premium_row(tiered, "240.00", pricing_tier_range_min=1, pricing_tier_range_max=50)
    _premium_row(tiered, "210.00", pricing_tier_range_min=51, pricing_tier_range_max=150)
    _premium_row(
        tiered, "180.00", pricing_tier_range_min=151, pricing_tier_range_max=None, start=date(2025, 5, 10)
    )
    rng = random.Random(7)

    def make(number: int) -> None:
        LegacySubscription.objects.filter(organization=org_a).delete()
        for _ in range(number):
            customer = CustomerFactory(
                organization=org_a,
                country=rng.choice(["US", "GB", "DE"]),
                segment=rng.choice(
                    [CustomerSegment.COMMERCIAL, CustomerSegment.COMMERCIAL, CustomerSegment.CHARITY]
                ),
            )
            offer = rng.choice(["basic", "premium", "premium", "e3_charity"])
            legacy(
                customer, offer, quantity=rng.choice([1, 50, 51, 150, 151, 299]), term_end=date(2025, 12, 31)
            )

    def answers() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            found = eligibility_for(LegacySubscription.objects.filter(organization=org_a))
        return len(queries), found

    make(4)
    few, _ = answers()
    make(40)
    many, found = answers()
    assert few == many
    priced = 0
    for subscription in LegacySubscription.objects.filter(organization=org_a).select_related(
        "customer", "offer__equivalent_sku"
    ):
        proposal = found[subscription.pk].proposal
        if proposal is None:
            continue
        sku = subscription.offer.equivalent_sku
        row = price_for(
            market=subscription.customer.country,
            product_id=sku.product_id,
            sku_id=sku.sku_id,
            term_duration=proposal.term_duration,
            billing_plan=proposal.billing_cycle,
            segment=SEGMENT_FOR_CUSTOMER[subscription.customer.segment],
            on=proposal.term_start,
            quantity=proposal.quantity,
        )
        assert (row.unit_price, row.currency) == (proposal.unit_price, proposal.currency)
        priced += 1
    assert priced > 10


# --- Add-ons and totals -----------------------------------------------------------------------------


@freeze_time("2025-05-20")
def test_the_add_ons_charges_count_in_the_bases_impact(us_customer):
    base = legacy(
        us_customer,
        "premium",
        quantity=40,
        term_end=YEAR_END,
        term_start=date(2025, 1, 1),
        unit_price=Decimal("18.00"),
        currency="USD",
    )
    addon = legacy(
        us_customer,
        "teams_phone",
        quantity=10,
        parent=base,
        term_end=base.term_end,
        term_start=base.term_start,
        unit_price=Decimal("7.00"),
        currency="USD",
    )

    eligibility = migration_validate(subscription=base)

    # The base's own line, and the add-on's (10 × 96.00 / 12 = 80.00 a month) in the impact.
    assert eligibility.proposal.charge_per_period == Decimal("792.00")
    impact = eligibility.price_impact
    assert impact.add_ons == 1
    assert (impact.charge_per_period, impact.charge_per_term) == (Decimal("872.00"), Decimal("10464.00"))
    assert (impact.legacy_charge_per_period, impact.legacy_charge_per_term) == (
        Decimal("790.00"),
        Decimal("9480.00"),
    )
    assert impact.difference_per_period == Decimal("82.00")

    # An add-on without a legacy price makes the whole "before" unknown, not half of it.
    LegacySubscription.objects.filter(pk=addon.pk).update(unit_price=None)
    impact = migration_validate(subscription=base).price_impact
    assert (impact.charge_per_period, impact.legacy_charge_per_period, impact.difference_per_term) == (
        Decimal("872.00"),
        None,
        None,
    )


@freeze_time("2025-05-20")
def test_the_batch_total_is_per_currency(org_a, catalog):
    american = CustomerFactory(organization=org_a, country="US")
    british = CustomerFactory(organization=org_a, country="GB")
    subscriptions = [
        legacy(
            american,
            "premium",
            quantity=40,
            term_end=YEAR_END,
            term_start=date(2025, 1, 1),
            unit_price=Decimal("18"),
            currency="USD",
        ),
        legacy(
            american, "basic", quantity=12, term_end=YEAR_END, term_start=date(2025, 1, 1)
        ),  # no legacy price
        legacy(
            american,
            "premium",
            quantity=10,
            term_end=YEAR_END,
            term_start=date(2025, 1, 1),
            billing_cycle="Annual",
            unit_price=Decimal("200"),
            currency="USD",
        ),  # fmt: skip
        legacy(
            british,
            "premium",
            quantity=10,
            term_end=YEAR_END,
            term_start=date(2025, 1, 1),
            unit_price=Decimal("15"),
            currency="GBP",
        ),
        legacy(american, "business_voice", term_end=YEAR_END, term_start=date(2025, 1, 1)),  # not eligible
    ]
    answers = eligibility_for(LegacySubscription.objects.filter(pk__in=[s.pk for s in subscriptions]))
    impacts = [answers[s.pk].price_impact for s in subscriptions]
    assert impacts[-1] is None

    totals = impact_total(impacts)

    assert list(totals) == ["GBP", "USD"]
    usd = totals["USD"]
    assert (usd.count, usd.compared, usd.not_compared) == (3, 2, 1)
    # 40 × 237.60 + 12 × 64.80 + 10 × 237.60 over the year.
    assert usd.charge_per_term == Decimal("9504.00") + Decimal("777.60") + Decimal("2376.00")
    assert usd.charge_per_period == {
        "month": Decimal("792.00") + Decimal("64.80"),
        "year": Decimal("2376.00"),
    }
    assert usd.legacy_charge_per_term == Decimal("8640.00") + Decimal("2000.00")
    assert usd.legacy_charge_per_period == {"month": Decimal("720.00"), "year": Decimal("2000.00")}
    assert usd.difference_per_term == (Decimal("9504.00") - Decimal("8640.00")) + (
        Decimal("2376.00") - Decimal("2000.00")
    )
    gbp = totals["GBP"]
    assert (gbp.count, gbp.charge_per_period) == (1, {"month": Decimal("156.42")})  # 10 × 187.70 / 12
    assert gbp.legacy_charge_per_term == Decimal("1800.00")
    # The same total from the lines' proposals (a batch file lists each line).
    assert (
        impact_total(answers[s.pk].proposal for s in subscriptions)["USD"].charge_per_term
        == usd.charge_per_term
    )


# --- The API and the page ---------------------------------------------------------------------------


@freeze_time("2025-05-20 10:00:00")
def test_validate_returns_the_price_impact(api_for, org_a, us_customer):
    api = api_for(org_a, scopes=("commerce:read", "commerce:write"))
    subscription = legacy(
        us_customer,
        "premium",
        quantity=40,
        term_end=date(2025, 9, 14),
        unit_price=Decimal("18.00"),
        currency="USD",
    )
    url = f"/api/v1/commerce/customers/{us_customer.tenant_id}/migrations/newcommerce/validate"

    response = api.post(url, {"currentSubscriptionId": str(subscription.subscription_id)})

    assert response.status_code == 200, response.json()
    assert response.json()["priceImpact"] == {
        "currency": "USD",
        "legacyCurrency": "USD",
        "billingCycle": "Monthly",
        "period": "month",
        "termStart": "2025-05-20",
        "termEnd": "2025-09-14",
        "addOns": 0,
        "before": {"perPeriod": "720.00", "perTerm": "2793.21"},
        "after": {"perPeriod": "792.00", "perTerm": "3072.53"},
        "difference": {"perPeriod": "72.00", "perTerm": "279.32"},
    }
    unknown = legacy(us_customer, "basic", quantity=5, term_end=date(2025, 9, 14))
    body = api.post(url, {"currentSubscriptionId": str(unknown.subscription_id)}).json()
    assert (body["priceImpact"]["before"], body["priceImpact"]["difference"]) == (None, None)
    blocked = legacy(us_customer, "business_voice", term_end=date(2025, 9, 14))
    body = api.post(url, {"currentSubscriptionId": str(blocked.subscription_id)}).json()
    assert (body["isEligible"], body["priceImpact"]) == (False, None)


def test_the_schema_documents_the_price_impact(api_for, org_a):
    schema = api_for(org_a, scopes=("commerce:read",)).get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert "priceImpact" in components["ValidateResponse"]["properties"]
    assert {"before", "after", "difference", "period", "currency"} <= set(
        components["PriceImpact"]["properties"]
    )


@freeze_time("2025-05-20 10:00:00")
def test_the_subscription_page_shows_before_and_after(alice, verified_client, us_customer):
    subscription = legacy(
        us_customer,
        "premium",
        quantity=40,
        term_end=date(2025, 9, 14),
        unit_price=Decimal("18.00"),
        currency="USD",
    )
    legacy(us_customer, "teams_phone", quantity=10, parent=subscription, term_end=subscription.term_end)

    page = verified_client(alice).get(reverse("commerce:subscription-detail", args=[subscription.pk]))

    assert page.status_code == 200
    html = " ".join(page.content.decode().split())
    assert 'data-testid="price-impact"' in html
    assert "(with 1 add-on)" in html
    # The add-on has no legacy price: after is known (792.00 + 80.00 a month), before is not.
    assert 'data-testid="new-charge">USD 872.00 per month' in html
    assert "unknown: no legacy price" in html
    assert "Over the term 2025-05-20 → 2025-09-14" in html
    LegacySubscription.objects.filter(parent=subscription).update(unit_price=Decimal("7.00"), currency="USD")
    html = (
        verified_client(alice)
        .get(reverse("commerce:subscription-detail", args=[subscription.pk]))
        .content.decode()
    )
    assert 'data-testid="legacy-charge">USD 790.00' in html
    assert 'data-testid="difference-per-period">USD 82.00' in html
