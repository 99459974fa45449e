"""Membership pages: each names the capability it needs, the workspace's navigation follows the
same table ({% can %}), and a page costs the same queries whatever the partner holds."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from membership.selectors import insights
from membership.selectors.rewards import rewards_status
from portal.roles import Role
from tests.contracts.routes import all_routes
from tests.factories import (
    MarketplaceBilledSaleFactory,
    MarketplaceLicenseFactory,
    RewardsYearFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _capabilities_of(callback):
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return view_class.required()
    return getattr(callback, "required_capabilities", None)


def test_every_membership_page_names_the_capability_it_needs():
    routes = [route for route in all_routes() if route.name.startswith("membership:") and not route.is_api]
    assert routes
    assert [route.name for route in routes if not _capabilities_of(route.callback)] == []


def test_the_overview_sends_a_report_viewer_to_the_reports_and_refuses_others(org_a, bob, verified_client):
    viewer = UserFactory(organization=org_a, roles=[Role.EXECUTIVE_REPORT_VIEWER])
    response = verified_client(viewer).get(reverse("membership:index"))
    assert response["Location"] == reverse("membership:license-report")
    assert verified_client(bob).get(reverse("membership:index")).status_code == 403


@pytest.mark.parametrize(
    ("role", "membership_tabs", "insights_tabs"),
    [
        (Role.PARTNER_ADMIN, True, True),
        (Role.BUSINESS_PROFILE_CONTRIBUTOR, True, False),
        (Role.EXECUTIVE_REPORT_VIEWER, False, True),
    ],
)
def test_the_navigation_shows_the_tabs_the_roles_open(
    org_a, verified_client, role, membership_tabs, insights_tabs
):
    user = UserFactory(organization=org_a, roles=[role])
    page = "membership:benefits" if membership_tabs else "membership:license-report"
    nav = verified_client(user).get(reverse(page)).content.decode().split('aria-label="Membership pages"')[1]
    nav = nav.split("</nav>")[0]
    assert (reverse("membership:rewards") in nav) is membership_tabs
    assert (reverse("membership:skilling-insights") in nav) is insights_tabs


def test_the_rewards_status_costs_the_same_queries_for_a_newcomer_and_a_tier_holder(org_a, org_b):
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2026, 1, 1))
    MarketplaceBilledSaleFactory(organization=org_b, billed_on=date(2025, 1, 1))
    RewardsYearFactory(organization=org_b, anniversary=date(2026, 2, 1))

    def queries(organization) -> int:
        with CaptureQueriesContext(connection) as captured:
            rewards_status(organization, today=date(2026, 6, 15))
        return len(captured)

    assert queries(org_a) == queries(org_b)


def test_the_report_filters_read_their_choices_only_when_used(org_a):
    partner_admin = UserFactory(organization=org_a, roles=[Role.PARTNER_ADMIN])
    MarketplaceLicenseFactory(organization=org_a)
    with CaptureQueriesContext(connection) as captured:
        filterset = insights.license_filterset(partner_admin, {})
        assert filterset.is_valid()
    assert len(captured) == 0
    with CaptureQueriesContext(connection) as captured:
        assert "contoso-insights" in str(filterset.form["offerId"])
    assert len(captured) == 1


def test_the_license_report_costs_the_same_queries_empty_or_full(org_a, org_b, verified_client):
    for _ in range(3):
        MarketplaceLicenseFactory(organization=org_a)

    def queries(organization) -> int:
        client = verified_client(UserFactory(organization=organization, roles=[Role.PARTNER_ADMIN]))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("membership:license-report")).status_code == 200
        return len(captured)

    assert queries(org_a) == queries(org_b)
