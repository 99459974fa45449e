"""Referrals as the pages and the API read them: the workspace's tabs, one referral, the referrals
of the same engagement and the API's OData pages.

Rows come from `Referral.objects.visible_to(user)`: the user's organization, and for a Referrals
user (who manages only their own) the referrals assigned to them or that they created.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cosell.choices import ReferralStatus
from cosell.models import Referral
from cosell.odata import REFERRALS
from portal.capabilities import Capability
from portal.odata import ODataPage, ODataQuery
from portal.tenancy import get_visible_or_404

__all__ = (
    "REFERRAL_COLUMNS",
    "TABS",
    "referral_capabilities",
    "referral_for",
    "referral_odata_page",
    "referrals_connected",
    "referrals_of_tab",
    "solution_id_of",
)

#: The related rows a referral's page shows (joined, not fetched per row).
REFERRAL_COLUMNS = ("assigned_user", "routing_rule", "created_by")
#: What the workspace's list shows of each referral (not its JSON documents).
LIST_COLUMNS = (
    "name",
    "external_reference_id",
    "is_draft",
    "customer_name",
    "customer_country",
    "type",
    "deal_kind",
    "status",
    "substatus",
    "microsoft_status",
    "deal_value",
    "currency",
    "assigned_team",
    "assigned_user__email",
    "expiration_at",
    "closing_at",
    "created_at",
)
TABS = {
    "inbound": "Inbound",
    "mine": "My deals",
    "closed": "Closed",
}


def referrals_of_tab(*, user: Any, tab: str) -> QuerySet[Referral]:
    """The referrals of one tab of the workspace, with the columns the list shows."""
    queryset = Referral.objects.visible_to(user).select_related("assigned_user").only(*LIST_COLUMNS)
    if tab == "closed":
        return queryset.filter(status=ReferralStatus.CLOSED)
    open_ = queryset.exclude(status=ReferralStatus.CLOSED)
    if tab == "mine":
        # The connected vendor-side referral of a co-sell deal is the vendor's record of the same
        # deal: its status shows on the deal as "Microsoft status", not as a second row.
        return open_.filter(is_inbound=False).partner_side()
    return open_.filter(is_inbound=True)


def referral_for(*, user: Any, pk: int) -> Referral:
    """One referral the user may work (404 for any other: another organization's, or another
    person's for someone who manages only their own)."""
    return get_visible_or_404(Referral.objects.select_related(*REFERRAL_COLUMNS), user, pk=pk)


def referral_capabilities(referral: Referral, user: Any) -> tuple[str, ...]:
    """The capabilities that let `user` work `referral`: their own (assigned to them or created by
    them) takes either Referrals capability, anyone else's takes managing all of them."""
    if referral.is_own(user):
        return (Capability.REFERRALS_MANAGE_OWN, Capability.REFERRALS_MANAGE_ALL)
    return (Capability.REFERRALS_MANAGE_ALL,)


def referrals_connected(*, referral: Referral, user: Any) -> QuerySet[Referral]:
    """The other referrals of the same engagement (e.g. a co-sell deal's vendor-side referral)."""
    return (
        Referral.objects.visible_to(user)
        .filter(engagement_id=referral.engagement_id)
        .exclude(pk=referral.pk)
        .order_by("created_at")
    )


def solution_id_of(referral: Referral) -> str:
    """The referral's first SolutionProfile target, or ""."""
    return next(
        (t.get("id", "") for t in referral.target or [] if t.get("type") == "SolutionProfile"),
        "",
    )


def referral_odata_page(*, user: Any, query: ODataQuery) -> ODataPage:
    """One page of the API's list: the query's filter, ordering, `$skip` and `$top` (portal.odata)."""
    page = REFERRALS.page(Referral.objects.visible_to(user), query)
    # Every row is the caller's organization's (visible_to): hand it over instead of joining
    # and building the same organization once per row.
    organization = user.organization
    for referral in page.rows:
        referral.organization = organization
    return page
