"""Every account page renders for the right person and refuses the wrong one."""

import pytest
from django.urls import reverse

from portal.roles import Role
from tests.factories import ActionItemFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "home:index",
    "home:profile",
    "accounts:organization",
    "accounts:user-list",
    "accounts:user-invite",
    "accounts:customer-list",
    "accounts:customer-create",
    "accounts:customer-import",
    "accounts:audit-list",
    "accounts:api-client-list",
    "accounts:api-client-create",
    "portal:job-list",
    "portal:status",
    "incentives:index",
    "earnings:index",
    "membership:index",
    "cosell:index",
    "security:index",
    "commerce:index",
    "commerce:subscription-list",
    "commerce:nce-subscription-list",
    "commerce:migration-list",
    "commerce:batch-list",
    "commerce:batch-upload",
    "commerce:price-list-index",
]


@pytest.mark.parametrize("name", PAGES)
def test_it_renders_every_page_for_an_owner(name, alice, verified_client):
    response = verified_client(alice).get(reverse(name))
    assert response.status_code == 200, response.content[:500]


@pytest.mark.parametrize("name", PAGES)
def test_it_sends_anonymous_people_to_sign_in(name, client):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", PAGES)
def test_it_asks_for_the_second_factor_after_the_password(name, alice, client):
    client.force_login(alice)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa-verify"))


@pytest.mark.parametrize(
    "name",
    ["accounts:user-list", "accounts:audit-list", "accounts:api-client-list", "accounts:customer-list"],
)
def test_it_refuses_pages_the_roles_dont_allow(name, bob, verified_client):
    assert verified_client(bob).get(reverse(name)).status_code == 403


def test_the_nav_hides_what_the_roles_dont_allow(bob, verified_client):
    html = verified_client(bob).get(reverse("home:index")).content.decode()
    assert "Audit log" not in html
    assert reverse("accounts:user-list") not in html
    for label in ["Incentives", "Earnings", "Membership", "Co-sell", "Security", "Commerce"]:
        assert label in html


def test_home_lists_open_action_items_high_first(alice, verified_client):
    ActionItemFactory(organization=alice.organization, title="Medium thing", severity="medium")
    ActionItemFactory(organization=alice.organization, title="High thing", severity="high")
    ActionItemFactory(organization=alice.organization, title="Done thing", status="resolved")
    html = verified_client(alice).get(reverse("home:index")).content.decode()
    assert html.index("High thing") < html.index("Medium thing")
    assert "Done thing" not in html


def test_home_never_shows_another_organizations_items(alice, charlie, verified_client):
    ActionItemFactory(organization=charlie.organization, title="Beta's secret")
    html = verified_client(alice).get(reverse("home:index")).content.decode()
    assert "Beta's secret" not in html


def test_the_customer_list_filters_by_the_url(alice, verified_client):
    CustomerFactory(organization=alice.organization, name="Berlin Bakery", country="DE")
    CustomerFactory(organization=alice.organization, name="Paris Patisserie", country="FR")
    html = verified_client(alice).get(reverse("accounts:customer-list"), {"country": "fr"}).content.decode()
    assert "Paris Patisserie" in html
    assert "Berlin Bakery" not in html


def test_htmx_gets_only_the_table(alice, verified_client):
    CustomerFactory(organization=alice.organization, name="Berlin Bakery")
    response = verified_client(alice).get(reverse("accounts:customer-list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Berlin Bakery" in html
    assert "<html" not in html


def test_it_changes_roles_from_the_user_page(alice, verified_client):
    member = UserFactory(organization=alice.organization, roles=[Role.INCENTIVES_USER])
    client = verified_client(alice)
    response = client.post(
        reverse("accounts:user-detail", args=[member.pk]),
        {"roles": [Role.INCENTIVES_USER, Role.REFERRALS_ADMIN]},
    )
    assert response.status_code == 302
    assert set(member.role_assignments.values_list("role", flat=True)) == {
        "incentives_user",
        "referrals_admin",
    }


def test_a_member_without_user_management_cannot_change_roles(bob, verified_client):
    member = UserFactory(organization=bob.organization)
    response = verified_client(bob).post(
        reverse("accounts:user-detail", args=[member.pk]), {"roles": ["owner"]}
    )
    assert response.status_code == 403
    assert not member.role_assignments.exists()


def test_the_navigation_waits_for_the_second_factor(alice, client):
    client.force_login(alice)
    html = client.get(reverse("accounts:mfa-verify"), follow=True).content.decode()
    assert "Sign out" in html
    assert 'aria-label="Workspaces"' not in html
