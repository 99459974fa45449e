"""Marketplace Rewards page: the tier of the current benefit year, marketplace billed sales (MBS)
over the trailing twelve months and what the next tier still needs, the benefits unlocked, the
tier table and MBS by month (spec/membership.md §4). MEMBERSHIP_VIEW reads; nothing is written here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Sum
from django.shortcuts import render
from django.utils import timezone

from membership.models import BenefitTemplate, MarketplaceBilledSale, MarketplaceRewardTier
from membership.services import rewards as services
from membership.views import require
from portal.capabilities import Capability

#: Months of MBS history the page lists (the twelve of the TTM window and the twelve before).
MONTHS_SHOWN = 24


@dataclass(frozen=True)
class MonthRow:
    month: date
    amount: Decimal
    offers: int
    in_ttm: bool
    percent_of_max: int


def mbs_by_month(user, *, today: date) -> list[MonthRow]:
    """MBS of the user's organization per month, newest first, for the last MONTHS_SHOWN months."""
    start, end = services.ttm_window(today)
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


def rewards(request):
    require(request, Capability.MEMBERSHIP_VIEW)
    today = timezone.localdate()
    status = services.rewards_status(request.user.organization, today=today)
    start, end = services.ttm_window(today)
    context = {
        "status": status,
        "ttm_start": start,
        "ttm_end": end - relativedelta(days=1),
        "months": mbs_by_month(request.user, today=today),
        "tiers": tier_table(status.tier, status.projected_tier),
        "today": today,
    }
    return render(request, "membership/rewards.html", context)
