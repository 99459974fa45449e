"""Marketplace Rewards (spec/membership.md §4): the benefit year starts on the anniversary of first
unlocking, with the tier of the twelve months before it (`rewards_anniversaries`). What pages and
the API read (the tiers, the twelve months, the status) is in `membership.selectors.rewards`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Sum

from accounts.models import Organization
from membership.choices import PackageSource
from membership.models import MarketplaceBilledSale, RewardsYear
from membership.selectors.rewards import anniversary_in, newcomer_anchor, reward_tiers, tier_in, ttm_window
from membership.services.benefits import package_grant
from portal.audit import audit_record

__all__ = ("CATCH_UP_DAYS", "rewards_anniversaries")

logger = logging.getLogger(__name__)

#: An anniversary the job missed (a night without workers, sales data loaded a few days late) is
#: still handled this many days later, with the twelve months of the anniversary itself.
CATCH_UP_DAYS = 31


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
    tiers = reward_tiers()
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
        anchors[organization_id] = newcomer_anchor(first_billed)

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
            tier = tier_in(tiers, amount)
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
