"""Marketplace Rewards (spec/membership.md §4): the twelve months, tiers, the status page figures and
the anniversaries job."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from membership.choices import PackageSource
from membership.models import BenefitPackage, BenefitTemplate, MarketplaceRewardTier, RewardsYear
from membership.selectors.rewards import mbs_ttm, rewards_status, tier_for, ttm_window
from membership.services.rewards import rewards_anniversaries
from membership.tasks import marketplace_rewards_anniversaries_task
from portal.models import AuditEvent
from tests.factories import MarketplaceBilledSaleFactory, OrganizationFactory, RewardsYearFactory

pytestmark = pytest.mark.django_db


def _tier(number):
    return MarketplaceRewardTier.objects.get(tier=number)


def _sales(org, first_month: date, months: int, amount: Decimal):
    """`months` monthly sales of `amount` from `first_month` on."""
    for index in range(months):
        year, month = divmod(first_month.month - 1 + index, 12)
        MarketplaceBilledSaleFactory(
            organization=org, billed_on=date(first_month.year + year, month + 1, 1), amount_usd=amount
        )


# --- Twelve months and tiers -----------------------------------------------------------------------


def test_the_twelve_months_are_the_full_months_before_the_days_month(org_a, org_b):
    assert ttm_window(date(2025, 3, 1)) == (date(2024, 3, 1), date(2025, 3, 1))
    assert ttm_window(date(2025, 3, 31)) == (date(2024, 3, 1), date(2025, 3, 1))
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2024, 2, 1), amount_usd=Decimal(1000))
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2024, 3, 1), amount_usd=Decimal(40000))
    MarketplaceBilledSaleFactory(
        organization=org_a, billed_on=date(2025, 2, 1), amount_usd=Decimal("90000.50")
    )
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2025, 3, 1), amount_usd=Decimal(7000))
    MarketplaceBilledSaleFactory(organization=org_b, billed_on=date(2024, 6, 1), amount_usd=Decimal(5))
    assert mbs_ttm(org_a, day=date(2025, 3, 17)) == Decimal("130000.50")
    assert mbs_ttm(org_b, day=date(2020, 1, 1)) == 0


@pytest.mark.parametrize(
    ("amount", "tier"),
    [
        ("0", 0),
        ("-250", 0),
        ("24999.99", 0),
        ("25000", 1),
        ("99999.99", 1),
        ("130000", 2),
        ("500000", 3),
        ("3999999.99", 3),
        ("4000000", 4),
        ("90000000", 4),
    ],
)
def test_tier_for_picks_the_highest_tier_reached(amount, tier):
    assert tier_for(Decimal(amount)) == _tier(tier)


def test_tier_for_without_configured_tiers_is_a_clear_error(db):
    MarketplaceRewardTier.objects.all().delete()
    with pytest.raises(ValidationError, match="No Marketplace Rewards tiers are configured."):
        tier_for(Decimal(1))


# --- The anniversaries job -------------------------------------------------------------------------


def test_spec_example_tier_two_then_down_to_tier_one(org_a):
    RewardsYearFactory(
        organization=org_a, anniversary=date(2024, 3, 1), mbs_ttm_usd=Decimal(30000), tier=_tier(1)
    )
    _sales(org_a, date(2024, 3, 1), 10, Decimal(13000))  # Mar 2024 – Dec 2024: 130,000
    assert rewards_anniversaries(day=date(2025, 3, 1)) == 1
    year = RewardsYear.objects.get(organization=org_a, anniversary=date(2025, 3, 1))
    assert (year.mbs_ttm_usd, year.tier) == (Decimal(130000), _tier(2))
    package = BenefitPackage.objects.get(organization=org_a, start=date(2025, 3, 1))
    assert (package.code, package.source, package.end) == (
        "marketplace_rewards_tier_2",
        PackageSource.REWARDS,
        date(2026, 2, 28),
    )
    assert package.benefits.count() == BenefitTemplate.objects.filter(package_code=package.code).count()
    assert AuditEvent.objects.get(action="membership.rewards_year.started").changes == {
        "mbs_ttm_usd": "130000.000000",
        "tier": 2,
        "package": "marketplace_rewards_tier_2",
    }

    _sales(org_a, date(2025, 3, 1), 8, Decimal(10000))  # Mar 2025 – Oct 2025: 80,000
    assert rewards_anniversaries(day=date(2026, 3, 1)) == 1
    year = RewardsYear.objects.get(organization=org_a, anniversary=date(2026, 3, 1))
    assert (year.mbs_ttm_usd, year.tier) == (Decimal(80000), _tier(1))
    assert BenefitPackage.objects.filter(organization=org_a, code="marketplace_rewards_tier_1").count() == 1


def test_the_job_is_idempotent_and_runs_only_on_the_anniversary(org_a):
    RewardsYearFactory(organization=org_a, anniversary=date(2024, 3, 1), tier=_tier(0), mbs_ttm_usd=0)
    assert rewards_anniversaries(day=date(2025, 2, 28)) == 0
    assert rewards_anniversaries(day=date(2025, 3, 1)) == 1
    assert rewards_anniversaries(day=date(2025, 3, 1)) == 0
    assert rewards_anniversaries(day=date(2025, 3, 2)) == 0
    assert rewards_anniversaries(day=date(2025, 9, 1)) == 0
    assert RewardsYear.objects.filter(organization=org_a).count() == 2
    assert BenefitPackage.objects.filter(organization=org_a).count() == 1


def test_a_missed_anniversary_is_caught_up_with_its_own_twelve_months(org_a):
    RewardsYearFactory(organization=org_a, anniversary=date(2024, 3, 15), tier=_tier(0), mbs_ttm_usd=0)
    _sales(org_a, date(2024, 3, 1), 12, Decimal(2500))  # Mar 2024 – Feb 2025: 30,000
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2025, 3, 1), amount_usd=Decimal(1000000))
    assert rewards_anniversaries(day=date(2025, 4, 10)) == 1
    year = RewardsYear.objects.get(organization=org_a, anniversary=date(2025, 3, 15))
    assert (year.mbs_ttm_usd, year.tier) == (Decimal(30000), _tier(1))
    # Beyond the catch-up days the year is not started any more (the next one will be).
    other = OrganizationFactory()
    RewardsYearFactory(organization=other, anniversary=date(2024, 3, 1), tier=_tier(0), mbs_ttm_usd=0)
    assert rewards_anniversaries(day=date(2025, 4, 10)) == 0


def test_a_newcomers_anniversary_follows_its_first_billed_month(org_a):
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2026, 1, 1), amount_usd=Decimal(30000))
    assert rewards_anniversaries(day=date(2026, 1, 1)) == 0
    assert rewards_anniversaries(day=date(2026, 2, 1)) == 1
    year = RewardsYear.objects.get(organization=org_a)
    assert (year.anniversary, year.mbs_ttm_usd, year.tier) == (date(2026, 2, 1), Decimal(30000), _tier(1))
    # From now on the anniversary is that of the first year.
    assert rewards_anniversaries(day=date(2027, 1, 1)) == 0
    assert rewards_anniversaries(day=date(2027, 2, 1)) == 1


def test_a_leap_day_anniversary_falls_on_28_february(org_a):
    RewardsYearFactory(organization=org_a, anniversary=date(2024, 2, 29), tier=_tier(0), mbs_ttm_usd=0)
    assert rewards_anniversaries(day=date(2025, 2, 28)) == 1
    assert RewardsYear.objects.filter(organization=org_a, anniversary=date(2025, 2, 28)).exists()


def test_one_organizations_failure_does_not_hold_back_the_others(org_a, org_b):
    RewardsYearFactory(organization=org_a, anniversary=date(2024, 3, 1), tier=_tier(0), mbs_ttm_usd=0)
    RewardsYearFactory(organization=org_b, anniversary=date(2024, 3, 1), tier=_tier(0), mbs_ttm_usd=0)
    _sales(org_a, date(2024, 3, 1), 1, Decimal(130000))
    _sales(org_b, date(2024, 3, 1), 1, Decimal(30000))
    BenefitTemplate.objects.filter(package_code="marketplace_rewards_tier_2").delete()
    assert rewards_anniversaries(day=date(2025, 3, 1)) == 1
    assert not RewardsYear.objects.filter(organization=org_a, anniversary=date(2025, 3, 1)).exists()
    assert not BenefitPackage.objects.filter(organization=org_a).exists()
    assert RewardsYear.objects.get(organization=org_b, anniversary=date(2025, 3, 1)).tier == _tier(1)


# --- Status ----------------------------------------------------------------------------------------


def test_status_shows_the_held_tier_and_the_progress_to_the_next(org_a):
    RewardsYearFactory(
        organization=org_a, anniversary=date(2025, 3, 1), mbs_ttm_usd=Decimal(130000), tier=_tier(2)
    )
    _sales(org_a, date(2025, 3, 1), 8, Decimal(10000))  # 80,000 over Mar 2025 – Feb 2026
    status = rewards_status(org_a, today=date(2026, 2, 10))
    assert status.current_year.anniversary == date(2025, 3, 1)
    assert status.tier == _tier(2)
    assert status.mbs_ttm == Decimal(80000)
    assert status.projected_tier == _tier(1)
    assert status.next_tier == _tier(2)
    assert status.amount_to_next == Decimal(20000)
    assert status.progress_percent == 73  # (80,000 − 25,000) of the 75,000 between Tier 1 and Tier 2
    assert [b.product for b in status.benefits] == ["Co-marketing campaign", "Azure Sponsorship"]
    assert status.next_anniversary == date(2026, 3, 1)
    assert rewards_status(org_a, today=date(2026, 3, 1)).next_anniversary == date(2027, 3, 1)


def test_status_at_the_top_tier_and_before_the_first_year(org_a, org_b):
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2026, 1, 1), amount_usd=Decimal(4500000))
    top = rewards_status(org_a, today=date(2026, 2, 10))
    assert (top.tier, top.current_year) == (None, None)
    assert top.projected_tier == _tier(4)
    assert (top.next_tier, top.amount_to_next, top.progress_percent) == (None, None, None)
    assert top.next_anniversary == date(2027, 2, 1)  # the newcomer's first anniversary was missed
    assert [b.product for b in top.benefits] == ["Premium campaign", "Dedicated advisor"]

    nothing = rewards_status(org_b, today=date(2026, 2, 10))
    assert (nothing.mbs_ttm, nothing.projected_tier, nothing.next_tier) == (0, _tier(0), _tier(1))
    assert (nothing.amount_to_next, nothing.progress_percent, nothing.next_anniversary) == (
        Decimal(25000),
        0,
        None,
    )


def test_the_daily_task_runs_the_job(org_a):
    RewardsYearFactory(organization=org_a, anniversary=date(2024, 3, 1), tier=_tier(0), mbs_ttm_usd=0)
    assert marketplace_rewards_anniversaries_task.delay("2025-03-01").get() == 1
    assert marketplace_rewards_anniversaries_task.delay("2025-03-01").get() == 0
