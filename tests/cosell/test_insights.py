"""Co-sell insights (spec §8): the worked month, USD at month-end rates, filters, visibility, durations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cosell.models import Referral
from cosell.selectors.insights import (
    INSIGHTS_HEADER,
    InsightFilters,
    insights_csv,
    insights_figures,
    insights_rows,
    lifecycle_durations,
)
from earnings.models import ExchangeRate
from portal.roles import Role
from tests.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db

MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def deal(organization, *, created=MARCH, closed_after=None, accepted_after=None, **fields):
    referral = ReferralFactory(organization=organization, created_at=created, **fields)
    stamps = {}
    if accepted_after is not None:
        stamps["accepted_at"] = created + timedelta(days=accepted_after)
    if closed_after is not None:
        stamps["updated_at"] = created + timedelta(days=closed_after)
    if stamps:
        Referral.objects.filter(pk=referral.pk).update(**stamps)
    return referral


def test_it_reproduces_the_spec_example_month(alice, org_a):
    for _ in range(12):
        deal(org_a, status="Closed", substatus="Won", deal_value=Decimal("70000"), currency="USD")
    for _ in range(8):
        deal(org_a, status="Closed", substatus="Lost", deal_value=Decimal("50000"), currency="USD")
    for _ in range(3):
        deal(org_a, status="Closed", substatus="Declined", currency="USD")
    for _ in range(2):
        deal(org_a, status="Closed", substatus="Expired", currency="USD")
    for _ in range(15):
        deal(org_a, status="Active", substatus="Accepted", deal_value=Decimal("10000"), currency="USD")

    summary = insights_figures(user=alice, filters=InsightFilters(period_from=date(2025, 3, 1))).summary

    assert summary.created == 40
    assert (summary.won, summary.lost) == (12, 8)
    assert summary.won_value_usd == Decimal("840000.00")
    assert summary.win_rate == Decimal("60.0")  # Declined and Expired excluded
    assert summary.average_won_value_usd == Decimal("70000.00")
    assert summary.pipeline_value_usd == Decimal("150000.00")


def test_it_converts_at_the_month_end_rate_and_counts_deals_without_a_rate(alice, org_a):
    ExchangeRate.objects.create(currency="EUR", rate_date=date(2025, 3, 1), rate_to_usd=Decimal("1.05"))
    ExchangeRate.objects.create(currency="EUR", rate_date=date(2025, 3, 31), rate_to_usd=Decimal("1.10"))
    ExchangeRate.objects.create(currency="EUR", rate_date=date(2025, 4, 1), rate_to_usd=Decimal("2.00"))
    deal(org_a, status="Active", substatus="Accepted", deal_value=Decimal("100000"), currency="EUR")
    deal(org_a, status="Active", substatus="Accepted", deal_value=Decimal("5000"), currency="CHF")

    [row] = insights_figures(user=alice).rows

    assert (row.month, row.status, row.substatus, row.deals) == (date(2025, 3, 1), "Active", "Accepted", 2)
    assert row.value_usd == Decimal("110000.00")  # the rate of 31 March, not April's
    assert row.unconverted == 1
    assert insights_figures(user=alice).summary.unconverted == 1


def test_it_filters_and_never_shows_another_organizations_or_unassigned_deals(alice, org_a, charlie, org_b):
    mine = deal(
        org_a,
        status="Active",
        substatus="Accepted",
        currency="USD",
        customer_country="DE",
        solution_area="Data & AI",
        deal_kind="CoSell",
        microsoft_status="Accepted",
    )
    deal(
        org_a,
        status="Active",
        substatus="Accepted",
        currency="USD",
        customer_country="FR",
        target=[{"type": "SolutionProfile", "id": "SOL-OTHER"}],
        microsoft_status="Pending",
    )
    deal(org_a, status="Active", substatus="Accepted", currency="USD", is_draft=True)
    deal(org_b, status="Active", substatus="Accepted", currency="USD")
    seller = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])
    Referral.objects.filter(pk=mine.pk).update(assigned_user=seller)

    assert insights_figures(user=alice).summary.created == 2
    assert insights_figures(user=alice).summary.by_microsoft_status == {"Accepted": 1, "Pending": 1}
    assert insights_figures(user=charlie).summary.created == 1
    assert insights_figures(user=seller).summary.created == 1
    for filters in (
        InsightFilters(country="de"),
        InsightFilters(solution_area="Data & AI"),
        InsightFilters(deal_kind="CoSell"),
        InsightFilters(owner_id=seller.pk),
        InsightFilters(solution_id="SOL-34104-EBB"),
    ):
        assert insights_figures(user=alice, filters=filters).summary.created == 1, filters
    assert (
        insights_figures(user=alice, filters=InsightFilters(period_to=date(2025, 2, 28))).summary.created == 0
    )


def test_it_gives_median_and_p90_of_each_lifecycle_span(alice, org_a):
    for days in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100):
        deal(org_a, status="Closed", substatus="Won", currency="USD", accepted_after=2, closed_after=days)
    deal(org_a, status="Active", substatus="Accepted", currency="USD", accepted_after=5)
    deal(org_a, status="Closed", substatus="Expired", currency="USD", closed_after=14)

    spans = {d.name: d for d in lifecycle_durations(user=alice)}

    assert spans["created→closed"].deals == 10
    assert spans["created→closed"].median_days == Decimal("55.0")
    assert spans["created→closed"].p90_days == Decimal("91.0")
    assert spans["accepted→closed"].median_days == Decimal("53.0")
    assert spans["created→accepted"].deals == 11
    assert spans["created→accepted"].median_days == Decimal("2.0")


def test_the_download_has_a_header_and_a_row_per_month_and_stage(alice, org_a):
    deal(org_a, status="Closed", substatus="Won", deal_value=Decimal("70000"), currency="USD")
    deal(
        org_a,
        status="Closed",
        substatus="Won",
        deal_value=Decimal("30000"),
        currency="USD",
        created=MARCH + timedelta(days=30),
    )

    rows = list(insights_rows(user=alice))

    assert rows[0] == INSIGHTS_HEADER
    assert rows[1:] == [
        ("2025-03", "Closed", "Won", "1", "70000.00", "0"),
        ("2025-04", "Closed", "Won", "1", "30000.00", "0"),
    ]
    assert insights_csv(user=alice).splitlines()[0] == ",".join(INSIGHTS_HEADER)
