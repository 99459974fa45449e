"""Membership pages: the overview (membership details, benefits summary, tracks to explore) and
the benefits with their consumption, where a partner admin activates a benefit.

Views parse input and call the services (membership/services/overview.py, benefits.py); every rule
and every write is theirs, and their ValidationErrors are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from membership.models import Benefit
from membership.services import benefits as benefit_services
from membership.services import overview as overview_services
from membership.views import require
from portal.capabilities import Capability, can
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import show_errors

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


def index(request):
    """Membership details, the benefits summary and the tracks to explore."""
    if not can(request.user, C.MEMBERSHIP_VIEW) and can(request.user, C.INSIGHTS_VIEW):
        # An Executive report viewer opens the workspace on the reports they may read.
        return redirect("membership:license-report")
    require(request, C.MEMBERSHIP_VIEW)
    organization = request.user.organization
    today = timezone.localdate()
    overview = overview_services.membership_overview(organization, today=today)
    context = {
        "organization": organization,
        "overview": overview,
        "membership": overview.membership,
        # Consumption of the activated benefits of the packages running today.
        "consumption": overview.benefits_summary.activated_lines,
        "tracks": [TrackLink(card, _url_of(card)) for card in overview.tracks],
    }
    return render(request, "membership/index.html", context)


def benefits(request):
    """Every package with its benefits: entitled, activated, consumed, remaining, expiry."""
    require(request, C.MEMBERSHIP_VIEW)
    packages = benefit_services.benefit_lines(request.user.organization)
    context = {
        "packages": packages,
        "today": timezone.localdate(),
        "can_manage": can(request.user, C.MEMBERSHIP_MANAGE),
    }
    return render(request, "membership/benefits.html", context)


@tenant_route(Benefit)
@require_POST
def benefit_activate(request, pk: int):
    require(request, C.MEMBERSHIP_MANAGE)
    benefit = get_visible_or_404(Benefit.objects.select_related("package"), request.user, pk=pk)
    try:
        benefit = benefit_services.benefit_activate(actor=request.user, benefit=benefit)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{benefit.product} activated.")
    return redirect("membership:benefits")
