"""The insights summary: whatever writes a referral, `ReferralSummary` equals the referrals rolled up,
and insights read from it answer what the referrals themselves answer."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from cosell.models import Referral, ReferralSummary
from cosell.selectors.insights import (
    InsightFilters,
    insights_figures,
    lifecycle_durations,
)
from cosell.services.referrals import referral_accept, referral_close, referral_decline
from cosell.validation import VENDOR_ID
from earnings.models import ExchangeRate
from portal.roles import Role
from tests.cosell.test_pages import inbound
from tests.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db

MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
APRIL = datetime(2025, 4, 2, 9, 0, tzinfo=UTC)


def summary(organization) -> Counter:
    """(month, status, substatus, country, currency, targets) → (deals, valued, value) of the summary."""
    rows = Counter()
    for row in ReferralSummary.objects.filter(organization=organization):
        key = (
            row.month,
            row.status,
            row.substatus,
            row.customer_country,
            row.currency,
            tuple(row.target_ids),
        )
        deals, valued, value = rows.get(key, (0, 0, Decimal(0)))
        rows[key] = (deals + row.deals, valued + row.valued, value + row.value_sum)
    return Counter({key: value for key, value in rows.items() if value[0]})


def rolled_up(organization) -> Counter:
    """The same, counted from the referrals one by one (drafts and vendor-side copies left out)."""
    rows = Counter()
    for referral in Referral.objects.filter(organization=organization, is_draft=False):
        ids = tuple(sorted({t.get("id") for t in referral.target if t.get("id")}))
        if VENDOR_ID in ids:
            continue
        month = referral.created_at.astimezone(UTC).date().replace(day=1)
        key = (month, referral.status, referral.substatus, referral.customer_country, referral.currency, ids)
        deals, valued, value = rows.get(key, (0, 0, Decimal(0)))
        has_value = referral.deal_value is not None
        rows[key] = (deals + 1, valued + has_value, value + (referral.deal_value or 0))
    return rows


def test_every_kind_of_write_keeps_the_summary_equal_to_the_referrals(org_a, org_b, alice):
    # Services: arrival and routing, accept, decline, close; a draft and a vendor-side copy.
    first, second, third = inbound(org_a), inbound(org_a), inbound(org_a)
    referral_accept(referral=first, actor=alice)
    referral_close(referral=first, actor=alice, won=True)
    referral_decline(referral=second, actor=alice, reason="No capacity", loss_reason="")
    ReferralFactory(organization=org_a, is_draft=True, deal_value=Decimal("5"))
    ReferralFactory(organization=org_a, target=[{"type": "BusinessProfileLocation", "id": VENDOR_ID}])
    # Plain ORM writes: a factory row, an UPDATE of many rows, a DELETE, a month and a value change.
    other = ReferralFactory(organization=org_a, created_at=MARCH, deal_value=Decimal("10.5"), currency="EUR")
    ReferralFactory(organization=org_a, created_at=MARCH, deal_value=None, customer_country="FR")
    ReferralFactory(organization=org_b, created_at=MARCH, deal_value=Decimal("7"))
    Referral.objects.filter(organization=org_a, created_at=MARCH).update(customer_country="AT")
    Referral.objects.filter(pk=other.pk).update(created_at=APRIL, deal_value=Decimal("12"))
    Referral.objects.filter(pk=third.pk).delete()

    assert summary(org_a) == rolled_up(org_a)
    assert summary(org_b) == rolled_up(org_b)
    assert sum(deals for deals, _, _ in summary(org_a).values()) == 4


def test_a_summary_row_without_deals_is_removed(org_a):
    referral = ReferralFactory(organization=org_a, created_at=MARCH, status="New", substatus="Pending")

    Referral.objects.filter(pk=referral.pk).update(status="Active", substatus="Accepted")
    Referral.objects.filter(pk=referral.pk).delete()

    assert not ReferralSummary.objects.filter(organization=org_a).exists()


def test_the_summary_and_the_referrals_themselves_give_the_same_insights(org_a, alice):
    """An admin's insights read the summary; a Referrals user's (who sees only their own) and an
    owner filter read the referrals. With every referral assigned to one seller, all three agree."""
    seller = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])
    values = (
        ("Won", "70000", "USD"),
        ("Won", "30000", "EUR"),
        ("Lost", "5000", "CHF"),
        ("Lost", None, "USD"),
    )
    for month in (MARCH, APRIL):
        for substatus, value, currency in values:
            ReferralFactory(
                organization=org_a,
                created_at=month,
                status="Closed",
                substatus=substatus,
                deal_value=Decimal(value) if value else None,
                currency=currency,
                assigned_user=seller,
                microsoft_status="Accepted",
                target=[{"type": "SolutionProfile", "id": "SOL-1"}],
            )
    ExchangeRate.objects.create(currency="EUR", rate_date=date(2025, 3, 31), rate_to_usd=Decimal("1.10"))
    for filters in (InsightFilters(), InsightFilters(solution_id="SOL-1", period_from=date(2025, 4, 1))):
        by_admin = insights_figures(user=alice, filters=filters).summary
        assert insights_figures(user=seller, filters=filters).summary == by_admin
        owned = InsightFilters(**{**filters.__dict__, "owner_id": seller.pk})
        assert insights_figures(user=alice, filters=owned).summary == by_admin
        assert (
            insights_figures(user=seller, filters=filters).rows
            == insights_figures(user=alice, filters=filters).rows
        )
    march_and_april = insights_figures(user=alice).summary
    assert (march_and_april.created, march_and_april.won, march_and_april.lost) == (8, 4, 4)
    # Both EUR deals convert at the rate of 31 March (the latest by each month's end); CHF has none.
    assert march_and_april.unconverted == 2
    assert march_and_april.won_value_usd == Decimal("2") * (Decimal("70000") + Decimal("33000"))


def test_the_period_is_whole_months(org_a, alice):
    ReferralFactory(organization=org_a, created_at=datetime(2025, 3, 31, 23, 30, tzinfo=UTC), currency="USD")
    ReferralFactory(organization=org_a, created_at=datetime(2025, 4, 1, 0, 30, tzinfo=UTC), currency="USD")

    march = InsightFilters(period_from=date(2025, 3, 15), period_to=date(2025, 3, 20))

    assert insights_figures(user=alice, filters=march).summary.created == 1
    assert lifecycle_durations(user=alice, filters=march)[0].deals == 0
    assert (
        insights_figures(user=alice, filters=InsightFilters(period_from=date(2025, 4, 1))).summary.created
        == 1
    )


def test_insights_take_the_same_queries_for_2_or_40_referrals(org_a, alice):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            insights_figures(user=alice)
            lifecycle_durations(user=alice)
        return len(captured)

    ReferralFactory.create_batch(2, organization=org_a, currency="USD")
    queries()  # the first reads the user's roles
    few = queries()
    ReferralFactory.create_batch(38, organization=org_a, currency="USD")

    assert queries() == few == 2
    assert ReferralSummary.objects.filter(organization=org_a).aggregate(n=Sum("deals"))["n"] == 40
