"""Marketplace Rewards (spec/membership.md §4): tiers by Marketplace billed sales (MBS) over the
trailing twelve months, refreshed yearly on the anniversary of first unlocking.

The twelve months are the twelve full calendar months before the day's month: on 1 Mar 2025 (and on
any day of March 2025) they are March 2024 – February 2025. A partner's anniversary is the month
and day of its first `RewardsYear`; a newcomer's is the first day of the month after its first
billed month (the first day on which that month counts in the twelve months).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Sum
from django.utils import timezone

from accounts.models import Organization
from membership.choices import PackageSource
from membership.models import BenefitTemplate, MarketplaceBilledSale, MarketplaceRewardTier, RewardsYear
from membership.services.benefits import package_grant
from portal.audit import audit_record

__all__ = (
    "CATCH_UP_DAYS",
    "RewardsStatus",
    "anniversary_in",
    "mbs_ttm",
    "rewards_anniversaries",
    "rewards_status",
    "tier_for",
    "ttm_window",
)

logger = logging.getLogger(__name__)

#: An anniversary the job missed (a night without workers, sales data loaded a few days late) is
#: still handled this many days later, with the twelve months of the anniversary itself.
CATCH_UP_DAYS = 31


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


def _tiers() -> list[MarketplaceRewardTier]:
    tiers = list(MarketplaceRewardTier.objects.order_by("min_mbs_usd", "tier"))
    if not tiers:
        raise ValidationError("No Marketplace Rewards tiers are configured.")
    return tiers


def _tier_in(tiers: list[MarketplaceRewardTier], amount: Decimal) -> MarketplaceRewardTier:
    # The lowest tier (Tier 0 starts at 0) also holds a partner whose refunds exceed its sales.
    reached = [tier for tier in tiers if tier.min_mbs_usd <= amount]
    return reached[-1] if reached else tiers[0]


def tier_for(amount: Decimal) -> MarketplaceRewardTier:
    """The highest tier whose minimum MBS is at most `amount` (spec §4)."""
    return _tier_in(_tiers(), Decimal(amount))


def anniversary_in(anchor: date, year: int) -> date:
    """`anchor`'s month and day in `year` (29 February becomes 28 February in other years)."""
    return anchor + relativedelta(year=year)


def _next_anniversary(anchor: date, today: date) -> date:
    candidate = anniversary_in(anchor, today.year)
    if candidate <= today:
        candidate = anniversary_in(anchor, today.year + 1)
    return max(candidate, anchor)


def _newcomer_anchor(first_billed_on: date) -> date:
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
    tiers = _tiers()
    current_year = (
        RewardsYear.objects.filter(organization=organization, anniversary__lte=today)
        .select_related("tier")
        .order_by("-anniversary")
        .first()
    )
    amount = mbs_ttm(organization, day=today)
    projected = _tier_in(tiers, amount)
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
    if first_year is not None:
        next_anniversary = _next_anniversary(first_year, today)
    else:
        first_billed = MarketplaceBilledSale.objects.filter(organization=organization).aggregate(
            first=Min("billed_on")
        )["first"]
        next_anniversary = (
            _next_anniversary(_newcomer_anchor(first_billed), today) if first_billed is not None else None
        )
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


def _due(anchor: date, day: date) -> date | None:
    """The anniversary of `anchor` falling in the catch-up window ending on `day`, if any."""
    for year in (day.year, day.year - 1):
        candidate = anniversary_in(anchor, year)
        if candidate >= anchor and day - timedelta(days=CATCH_UP_DAYS) < candidate <= day:
            return candidate
    return None


def _ttm_by_organization(organization_ids: list[int], anniversary: date) -> dict[int, Decimal]:
    start, end = ttm_window(anniversary)
    rows = (
        MarketplaceBilledSale.objects.filter(
            organization_id__in=organization_ids, billed_on__gte=start, billed_on__lt=end
        )
        .values("organization_id")
        .annotate(total=Sum("amount_usd"))
    )
    return {row["organization_id"]: row["total"] for row in rows}


def rewards_anniversaries(*, day: date) -> int:
    """Start the benefit year of every organization whose anniversary is `day` (or fell within the
    last CATCH_UP_DAYS days without its year being started): a `RewardsYear` with the tier of the
    twelve months before the anniversary, and that tier's benefit package from the anniversary.

    Idempotent: a year that exists is never started again. Each organization commits on its own, so
    one failure does not hold back the others. Returns the number of years started.
    """
    tiers = _tiers()
    anchors: dict[int, date] = dict(
        RewardsYear.objects.values("organization_id")
        .annotate(first=Min("anniversary"))
        .values_list("organization_id", "first")
    )
    newcomers = (
        MarketplaceBilledSale.objects.exclude(
            organization_id__in=RewardsYear.objects.values("organization_id")
        )
        .values("organization_id")
        .annotate(first=Min("billed_on"))
        .values_list("organization_id", "first")
    )
    for organization_id, first_billed in newcomers:
        anchors[organization_id] = _newcomer_anchor(first_billed)

    due: dict[date, list[int]] = defaultdict(list)
    for organization_id, anchor in anchors.items():
        anniversary = _due(anchor, day)
        if anniversary is not None:
            due[anniversary].append(organization_id)

    started = 0
    for anniversary, organization_ids in sorted(due.items()):
        done = set(
            RewardsYear.objects.filter(
                organization_id__in=organization_ids, anniversary=anniversary
            ).values_list("organization_id", flat=True)
        )
        todo = [pk for pk in organization_ids if pk not in done]
        if not todo:
            continue
        amounts = _ttm_by_organization(todo, anniversary)
        organizations = Organization.objects.in_bulk(todo)
        for organization_id in sorted(todo):
            amount = amounts.get(organization_id) or Decimal(0)
            tier = _tier_in(tiers, amount)
            try:
                with transaction.atomic():
                    year = RewardsYear.objects.create(
                        organization_id=organization_id,
                        anniversary=anniversary,
                        mbs_ttm_usd=amount,
                        tier=tier,
                    )
                    package = package_grant(
                        organization=organizations[organization_id],
                        code=tier.package_code,
                        source=PackageSource.REWARDS,
                        start=anniversary,
                    )
                    audit_record(
                        actor=None,
                        action="membership.rewards_year.started",
                        organization_id=organization_id,
                        target=year,
                        changes={"mbs_ttm_usd": str(amount), "tier": tier.tier, "package": package.code},
                    )
            except IntegrityError:
                # Another run started this year a moment ago.
                continue
            except ValidationError:
                # A tier without benefits in the catalogue: the vendor fixes it and the next run
                # (within CATCH_UP_DAYS) starts the year.
                logger.exception("Marketplace Rewards year of organization %s not started", organization_id)
                continue
            started += 1
    logger.info("Marketplace Rewards: %s benefit years started on %s", started, day)
    return started
