"""Membership pages: the overview (membership details, benefits summary, tracks to explore) and
the benefits with their consumption, where a partner admin activates a benefit.

Views read through `membership.selectors` and act through `membership.services`; every rule and
every write is the services', and their ValidationErrors are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from membership.models import Benefit
from membership.selectors import benefits as benefit_selectors
from membership.selectors import overview as overview_selectors
from membership.services import benefits as benefit_services
from membership.views import DENIED
from portal.capabilities import Capability, can
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import capability_required, post_action

C = Capability


@dataclass(frozen=True)
class TrackLink:
    """A "track to explore" card and the address of its page."""

    card: Any  # overview.TrackCard
    url: str


def _url_of(card) -> str:
    try:
        return reverse(card.url_name, kwargs=card.url_kwargs or None)
    except NoReverseMatch:
        return ""


@capability_required(C.MEMBERSHIP_VIEW, C.INSIGHTS_VIEW, message=DENIED)
def index(request):
    """Membership details, the benefits summary and the tracks to explore."""
    if not can(request.user, C.MEMBERSHIP_VIEW):
        # An Executive report viewer opens the workspace on the reports they may read.
        return redirect("membership:license-report")
    organization = request.user.organization
    today = timezone.localdate()
    overview = overview_selectors.membership_overview(organization, today=today)
    context = {
        "organization": organization,
        "overview": overview,
        "membership": overview.membership,
        # Consumption of the activated benefits of the packages running today.
        "consumption": overview.benefits_summary.activated_lines,
        "tracks": [TrackLink(card, _url_of(card)) for card in overview.tracks],
    }
    return render(request, "membership/index.html", context)


@capability_required(C.MEMBERSHIP_VIEW, message=DENIED)
def benefits(request):
    """Every package with its benefits: entitled, activated, consumed, remaining, expiry."""
    context = {
        "packages": benefit_selectors.benefit_lines(request.user.organization),
        "today": timezone.localdate(),
    }
    return render(request, "membership/benefits.html", context)


@tenant_route(Benefit)
@require_POST
@capability_required(C.MEMBERSHIP_MANAGE, message=DENIED)
def benefit_activate(request, pk: int):
    benefit = get_visible_or_404(Benefit.objects.select_related("package"), request.user, pk=pk)
    return post_action(
        request,
        lambda: benefit_services.benefit_activate(actor=request.user, benefit=benefit),
        success=lambda activated: f"{activated.product} activated.",
        back="membership:benefits",
    )
