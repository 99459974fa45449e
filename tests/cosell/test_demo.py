"""The co-sell demo: profiles, solutions and spec §5's routing rules, referrals in every state made by
the services (routed on arrival, with their history), and a second seed that adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from accounts.demo import ORGANIZATIONS, seed_demo_data
from accounts.models import Organization
from cosell.choices import DealKind, HistorySource, LossReason, MicrosoftStatus
from cosell.demo.referral_data import REFERRALS
from cosell.demo.referrals import DEMO_NOTE
from cosell.demo.seed import cosell_demo_loaded, cosell_demo_seed
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from cosell.selectors.activity import referral_history
from cosell.selectors.routing import routing_test
from cosell.validation import VENDOR_ID
from portal.history import history_for
from portal.models import HistoryEvent

pytestmark = pytest.mark.django_db

SEEDED_STATES = {
    "Draft",
    "New/Received",
    "New/Pending",
    "Active/Accepted",
    "Closed/Declined",
    "Closed/Expired",
    "Closed/Won",
    "Closed/Lost",
}


@pytest.fixture
def seeded(db):
    seed_demo_data(seed=7, customers_per_org=2)
    return cosell_demo_seed(seed=7)


@pytest.fixture
def fabrikam(seeded):
    return Organization.objects.get(partner_global_id="4812345")


def _referral_events() -> int:
    return HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Referral)).count()


def state() -> dict:
    return {
        "profiles": sorted(CapabilityProfile.objects.values_list("organization_id", "products")),
        "case_studies": sorted(CaseStudy.objects.values_list("organization_id", "title")),
        "solutions": sorted(Solution.objects.values_list("solution_id", "co_sell_ready")),
        "rules": sorted(RoutingRule.objects.values_list("organization_id", "name", "priority")),
        "referrals": sorted(
            Referral.objects.values_list("referral_id", "status", "substatus", "version", "assigned_team")
        ),
        "events": _referral_events(),
    }


def test_every_demo_organization_has_a_profile_solutions_and_rules(seeded):
    assert seeded.profiles == len(ORGANIZATIONS)
    for profile in CapabilityProfile.objects.all():
        assert profile.solution_areas and profile.industries and profile.countries_served
        assert profile.products and profile.services and profile.designations
    fabrikam = CapabilityProfile.objects.get(organization__partner_global_id="4812345")
    assert "Manufacturing" in fabrikam.industries
    assert {"Azure", "PowerBI"} <= set(fabrikam.products)
    assert "DeploymentOrMigration" in fabrikam.services
    assert seeded.case_studies >= len(ORGANIZATIONS)
    assert CaseStudy.objects.filter(is_public=False).exists()
    assert all(
        solution_id.startswith("SOL-")
        for solution_id in Solution.objects.values_list("solution_id", flat=True)
    )
    assert Solution.objects.filter(co_sell_ready=True, azure_ip_co_sell_eligible=True).exists()
    assert Solution.objects.filter(co_sell_ready=False).exists()
    assert RoutingRule.objects.filter(is_default=True).count() == len(ORGANIZATIONS)


def test_fabrikam_routes_as_in_the_spec_example(fabrikam):
    # spec §5: a German lead for SOL-ABC-001 → DACH, a French one → Global, another solution → triage.
    assert (
        routing_test(organization=fabrikam, country="DE", solution_id="SOL-ABC-001").team == "DACH Data team"
    )
    assert (
        routing_test(organization=fabrikam, country="FR", solution_id="SOL-ABC-001").team
        == "Global Data team"
    )
    other = routing_test(organization=fabrikam, country="FR", solution_id="SOL-OTHER")
    assert other.team == "Inbound triage" and other.is_default


def test_referrals_are_seeded_in_every_state_by_the_services(seeded, fabrikam):
    assert set(seeded.states) == SEEDED_STATES
    assert seeded.created_referrals == len(REFERRALS)
    assert seeded.expired == 1
    assert seeded.referrals == sum(seeded.states.values())

    declined = Referral.objects.get(substatus="Declined")
    assert declined.loss_reason == LossReason.NO_CAPACITY and declined.status_reason
    lost = Referral.objects.filter(substatus="Lost")
    assert lost.exists() and all(referral.loss_reason for referral in lost)

    # The partner's own deals: one of each kind, the co-sell one with its vendor-side referral.
    own = Referral.objects.filter(organization=fabrikam, is_inbound=False, is_draft=False)
    kinds = set(own.values_list("deal_kind", flat=True))
    assert {DealKind.PRIVATE, DealKind.PARTNER_LED, DealKind.CO_SELL} <= kinds
    co_sell = own.get(
        name="Contoso Retail - Dynamics 365 field service rollout",
        target__contains=[{"type": "SolutionProfile"}],
    )
    vendor_side = Referral.objects.get(
        engagement_id=co_sell.engagement_id, target__contains=[{"id": VENDOR_ID}]
    )
    assert vendor_side.microsoft_status == MicrosoftStatus.PENDING
    assert Referral.objects.get(organization=fabrikam, is_draft=True).deal_kind == DealKind.CO_SELL


def test_inbound_referrals_were_routed_on_arrival_and_have_their_history(fabrikam):
    inbound = Referral.objects.filter(organization=fabrikam, is_inbound=True)
    assert inbound.count() == 7
    assert all(referral.routing_rule_id for referral in inbound)
    teams = {referral.name: referral.assigned_team for referral in inbound}
    assert teams["Northwind Traders - data platform modernisation"] == "DACH Data team"
    assert teams["Lucerne Publishing - analytics on Azure"] == "Global Data team"
    assert teams["Trey Research - field service pilot"] == "Inbound triage"
    copilot = inbound.get(name="Coho Winery - Copilot rollout")
    assert copilot.assigned_user.email == "referrals.user@fabrikam.example"

    northwind = inbound.get(name="Northwind Traders - data platform modernisation")
    sources = {change.source for change in referral_history(northwind)}
    assert {HistorySource.API, HistorySource.ROUTING} <= sources
    assert referral_history(northwind)[0].who == "microsoft"

    won = inbound.get(substatus="Won")
    statuses = [change.new for change in referral_history(won) if change.field == "/substatus"]
    assert statuses == ["Received", "Accepted", "Won"]

    expired = inbound.get(substatus="Expired")
    changes = referral_history(expired)
    assert changes[-1].source == HistorySource.EXPIRY_JOB
    assert any(change.field == "/expirationDateTime" and change.who == "system" for change in changes)
    assert DEMO_NOTE in [event.note for event in history_for(expired)]


def test_a_second_seed_adds_nothing_and_if_empty_skips_it(seeded):
    before = state()

    again = cosell_demo_seed(seed=7)
    out = StringIO()
    call_command("seed_demo", "--if-empty", "--quiet", stdout=out)

    assert again.created_referrals == 0
    assert cosell_demo_loaded()
    assert "Co-sell demo ready" not in out.getvalue()
    assert state() == before


def test_the_same_seed_gives_the_same_deal_values(seeded):
    values = sorted(Referral.objects.filter(is_draft=False).values_list("name", "deal_value"))
    Referral.objects.all().delete()

    cosell_demo_seed(seed=7)

    assert sorted(Referral.objects.filter(is_draft=False).values_list("name", "deal_value")) == values
