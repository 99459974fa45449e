"""Marketplace Rewards page: the tier of the current benefit year, marketplace billed sales (MBS)
over the trailing twelve months and what the next tier still needs, the benefits unlocked, the
tier table and MBS by month (spec/membership.md §4). MEMBERSHIP_VIEW reads; nothing is written here.
"""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.shortcuts import render
from django.utils import timezone

from membership.selectors import rewards as selectors
from membership.views import DENIED
from portal.capabilities import Capability
from portal.views import capability_required


@capability_required(Capability.MEMBERSHIP_VIEW, message=DENIED)
def rewards(request):
    today = timezone.localdate()
    status = selectors.rewards_status(request.user.organization, today=today)
    start, end = selectors.ttm_window(today)
    context = {
        "status": status,
        "ttm_start": start,
        "ttm_end": end - relativedelta(days=1),
        "months": selectors.mbs_by_month(request.user, today=today),
        "tiers": selectors.tier_table(status.tier, status.projected_tier),
        "today": today,
    }
    return render(request, "membership/rewards.html", context)
