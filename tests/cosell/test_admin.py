"""The vendor's co-sell admin: pages load, vendor edits are recorded in the history, Find partners ranks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cosell.models import Referral
from cosell.selectors.activity import referral_history
from tests.factories import (
    CapabilityProfileFactory,
    CaseStudyFactory,
    OrganizationFactory,
    ReferralFactory,
    RoutingRuleFactory,
    SolutionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="seller@vendor.example")


@pytest.fixture
def client(staff, verified_client):
    return verified_client(staff)


def test_every_cosell_admin_page_loads(client, org_a):
    referral = ReferralFactory(organization=org_a)
    rule = RoutingRuleFactory(organization=org_a)
    profile = CapabilityProfileFactory(organization=org_a)
    case = CaseStudyFactory(organization=org_a)
    solution = SolutionFactory(organization=org_a)

    for name, obj in (
        ("referral", referral),
        ("routingrule", rule),
        ("capabilityprofile", profile),
        ("casestudy", case),
        ("solution", solution),
    ):
        listing = client.get(reverse(f"admin:cosell_{name}_changelist"), {"q": "x"})
        assert listing.status_code == 200, name
        page = client.get(reverse(f"admin:cosell_{name}_change", args=[obj.pk]))
        assert page.status_code == 200, name
    assert "Find partners" in client.get(reverse("admin:cosell_capabilityprofile_changelist")).text


def test_a_vendor_edit_is_recorded_in_the_history_and_the_document_stays_read_only(client, staff, org_a):
    referral = ReferralFactory(organization=org_a, microsoft_status="Pending")
    url = reverse("admin:cosell_referral_change", args=[referral.pk])

    response = client.post(
        url,
        {
            "microsoft_status": "Accepted",
            "lead_temperature": "hot",
            "assigned_team": "DACH Data team",
            "assigned_user": "",
            "name": "Renamed by the vendor",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    referral.refresh_from_db()
    assert referral.microsoft_status == "Accepted"
    assert referral.name != "Renamed by the vendor"
    assert referral.version == 2
    [recorded] = [c for c in referral_history(referral) if c.new == "Accepted"]
    assert (recorded.old, recorded.who, recorded.source) == ("Pending", staff.email, "admin")
    assert "Accepted" in client.get(url).text


def test_find_partners_ranks_profiles_with_every_component(client):
    strong, weak = (
        OrganizationFactory(legal_name="Strong Fit AG"),
        OrganizationFactory(legal_name="Weak Fit Inc"),
    )
    CapabilityProfileFactory(
        organization=strong,
        countries_served=["DE"],
        industries=["Manufacturing"],
        products=["Azure", "PowerBI"],
    )
    CapabilityProfileFactory(
        organization=weak, countries_served=["US"], industries=["Retail"], products=["Teams"]
    )
    url = reverse("admin:cosell_find_partners")

    assert client.get(url).status_code == 200
    response = client.get(
        url, {"country": "de", "industry": "Manufacturing", "products": "Azure, PowerBI", "limit": 10}
    )

    text = response.text
    assert response.status_code == 200
    assert text.index("Strong Fit AG") < text.index("Weak Fit Inc")
    assert "Solution/product fit: 30 / 30 — 2 of 2 requested products" in text
    assert "Win history" in text


def test_find_partners_is_refused_to_partner_users(verified_client, org_a):
    partner = UserFactory(organization=org_a)
    response = verified_client(partner).get(reverse("admin:cosell_find_partners"))
    assert response.status_code in (302, 403)
    assert not Referral.objects.exists()
