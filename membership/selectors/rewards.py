"""Marketplace Rewards as pages and the API read it (spec/membership.md §4): the tiers, marketplace
billed sales (MBS) over the trailing twelve months, the tier of the current benefit year and the
next one, MBS by month and the tier table.

The twelve months are the twelve full calendar months before the day's month: on 1 Mar 2025 (and on
any day of March 2025) they are March 2024 – February 2025. A partner's anniversary is the month
and day of its first `RewardsYear`; a newcomer's is the first day of the month after its first
billed month (the first day on which that month counts in the twelve months).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db.models import Count, Min, Sum
from django.utils import timezone

from accounts.models import Organization
from membership.models import BenefitTemplate, MarketplaceBilledSale, MarketplaceRewardTier, RewardsYear

__all__ = (
    "MONTHS_SHOWN",
    "MonthRow",
    "RewardsStatus",
    "anniversary_in",
    "mbs_by_month",
    "mbs_ttm",
    "newcomer_anchor",
    "reward_tiers",
    "rewards_status",
    "tier_for",
    "tier_in",
    "tier_table",
    "ttm_window",
)

#: Months of MBS history the page lists (the twelve of the TTM window and the twelve before).
MONTHS_SHOWN = 24


def ttm_window(day: date) -> tuple[date, date]:
    """[first day of the month twelve months before `day`'s month, first day of `day`'s month)."""
    end = day.replace(day=1)
    return end - relativedelta(months=12), end


def mbs_ttm(organization: Organization, *, day: date) -> Decimal:
    """Marketplace billed sales of the twelve full months before `day`'s month, in USD."""
    start, end = ttm_window(day)
    total = MarketplaceBilledSale.objects.filter(
        organization=organization, billed_on__gte=start, billed_on__lt=end
    ).aggregate(total=Sum("amount_usd"))["total"]
    return total or Decimal(0)


def reward_tiers() -> list[MarketplaceRewardTier]:
    tiers = list(MarketplaceRewardTier.objects.order_by("min_mbs_usd", "tier"))
    if not tiers:
        raise ValidationError("No Marketplace Rewards tiers are configured.")
    return tiers


def tier_in(tiers: list[MarketplaceRewardTier], amount: Decimal) -> MarketplaceRewardTier:
    # The lowest tier (Tier 0 starts at 0) also holds a partner whose refunds exceed its sales.
    reached = [tier for tier in tiers if tier.min_mbs_usd <= amount]
    return reached[-1] if reached else tiers[0]


def tier_for(amount: Decimal) -> MarketplaceRewardTier:
    """The highest tier whose minimum MBS is at most `amount` (spec §4)."""
    return tier_in(reward_tiers(), Decimal(amount))


def anniversary_in(anchor: date, year: int) -> date:
    """`anchor`'s month and day in `year` (29 February becomes 28 February in other years)."""
    return anchor + relativedelta(year=year)


def _next_anniversary(anchor: date, today: date) -> date:
    candidate = anniversary_in(anchor, today.year)
    if candidate <= today:
        candidate = anniversary_in(anchor, today.year + 1)
    return max(candidate, anchor)


def newcomer_anchor(first_billed_on: date) -> date:
    return first_billed_on.replace(day=1) + relativedelta(months=1)


@dataclass
class RewardsStatus:
    """What the Marketplace Rewards page shows.

    `tier` is the tier of the current benefit year (None before the first anniversary); the next
    tier, the amount still missing and the progress are measured on today's twelve months, from the
    tier those months reach (`projected_tier`, the tier the next anniversary gives if nothing
    changes). `progress_percent` is the share of the gap between the two tiers already covered.
    """

    current_year: RewardsYear | None
    tier: MarketplaceRewardTier | None
    mbs_ttm: Decimal
    next_tier: MarketplaceRewardTier | None
    amount_to_next: Decimal | None
    progress_percent: int | None
    benefits: list[BenefitTemplate]
    next_anniversary: date | None
    projected_tier: MarketplaceRewardTier | None = None


def rewards_status(organization: Organization, *, today: date | None = None) -> RewardsStatus:
    today = today or timezone.localdate()
    tiers = reward_tiers()
    current_year = (
        RewardsYear.objects.filter(organization=organization, anniversary__lte=today)
        .select_related("tier")
        .order_by("-anniversary")
        .first()
    )
    amount = mbs_ttm(organization, day=today)
    projected = tier_in(tiers, amount)
    higher = [tier for tier in tiers if tier.min_mbs_usd > projected.min_mbs_usd]
    next_tier = higher[0] if higher else None
    amount_to_next = progress = None
    if next_tier is not None:
        amount_to_next = next_tier.min_mbs_usd - amount
        gap = next_tier.min_mbs_usd - projected.min_mbs_usd
        progress = int(max(Decimal(0), amount - projected.min_mbs_usd) * 100 // gap)
    tier = current_year.tier if current_year else None
    benefits = list(
        BenefitTemplate.objects.filter(package_code=(tier or projected).package_code).order_by("id")
    )
    first_year = RewardsYear.objects.filter(organization=organization).aggregate(first=Min("anniversary"))[
        "first"
    ]
    # Read even when a first year exists, so the page costs the same queries for every partner.
    first_billed = MarketplaceBilledSale.objects.filter(organization=organization).aggregate(
        first=Min("billed_on")
    )["first"]
    if first_year is not None:
        next_anniversary = _next_anniversary(first_year, today)
    elif first_billed is not None:
        next_anniversary = _next_anniversary(newcomer_anchor(first_billed), today)
    else:
        next_anniversary = None
    return RewardsStatus(
        current_year=current_year,
        tier=tier,
        mbs_ttm=amount,
        next_tier=next_tier,
        amount_to_next=amount_to_next,
        progress_percent=progress,
        benefits=benefits,
        next_anniversary=next_anniversary,
        projected_tier=projected,
    )


@dataclass(frozen=True)
class MonthRow:
    month: date
    amount: Decimal
    offers: int
    in_ttm: bool
    percent_of_max: int


def mbs_by_month(user, *, today: date) -> list[MonthRow]:
    """MBS of the user's organization per month, newest first, for the last MONTHS_SHOWN months."""
    start, end = ttm_window(today)
    since = end - relativedelta(months=MONTHS_SHOWN)
    rows = list(
        MarketplaceBilledSale.objects.visible_to(user)
        .filter(billed_on__gte=since, billed_on__lt=end + relativedelta(months=1))
        .values("billed_on")
        .annotate(amount=Sum("amount_usd"), offers=Count("offer_id", distinct=True))
        .order_by("-billed_on")
    )
    biggest = max((row["amount"] for row in rows), default=Decimal(0))
    return [
        MonthRow(
            month=row["billed_on"],
            amount=row["amount"],
            offers=row["offers"],
            in_ttm=start <= row["billed_on"] < end,
            percent_of_max=int(row["amount"] * 100 / biggest) if biggest > 0 else 0,
        )
        for row in rows
    ]


def tier_table(
    current_tier: MarketplaceRewardTier | None, projected_tier: MarketplaceRewardTier | None
) -> list[dict]:
    """Every tier with its MBS threshold and the benefits its package grants (spec §4), marking the
    tier of the current benefit year and the one today's twelve months reach."""
    tiers = list(MarketplaceRewardTier.objects.all())
    benefits = defaultdict(list)
    for template in BenefitTemplate.objects.filter(package_code__in=[tier.package_code for tier in tiers]):
        benefits[template.package_code].append(template)
    return [
        {
            "tier": tier,
            "benefits": benefits[tier.package_code],
            "current": current_tier is not None and tier.pk == current_tier.pk,
            "projected": projected_tier is not None and tier.pk == projected_tier.pk,
        }
        for tier in tiers
    ]
