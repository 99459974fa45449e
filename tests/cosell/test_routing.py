"""Inbound routing (spec §5): priority then id, the default rule, all Referrals admins, the tester."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cosell.selectors.activity import referral_history
from cosell.selectors.routing import ALL_ADMINS_TEAM, routing_problems, routing_test
from cosell.services.referrals import referral_route
from portal.roles import Role
from tests.factories import ReferralFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec_rules(org_a):
    """spec §5's example."""
    return {
        "dach": RoutingRuleFactory(
            organization=org_a,
            name="DACH data",
            priority=10,
            match_countries=["DE", "AT"],
            match_solution_ids=["SOL-ABC-001"],
            assign_to_team="DACH Data team",
        ),
        "global": RoutingRuleFactory(
            organization=org_a,
            name="Global data",
            priority=20,
            match_countries=[],
            match_solution_ids=["SOL-ABC-001"],
            assign_to_team="Global Data team",
        ),
        "default": RoutingRuleFactory(
            organization=org_a,
            name="Triage",
            priority=99,
            match_countries=[],
            is_default=True,
            assign_to_team="Inbound triage",
        ),
    }


def _referral(org, country, solution="SOL-ABC-001", **extra):
    return ReferralFactory(
        organization=org,
        customer_country=country,
        target=[{"type": "SolutionProfile", "id": solution}],
        **extra,
    )


@pytest.mark.parametrize(
    ("country", "solution", "team", "rule"),
    [
        ("DE", "SOL-ABC-001", "DACH Data team", "dach"),
        ("AT", "SOL-ABC-001", "DACH Data team", "dach"),
        ("FR", "SOL-ABC-001", "Global Data team", "global"),
        ("FR", "SOL-OTHER-9", "Inbound triage", "default"),
        ("DE", "SOL-OTHER-9", "Inbound triage", "default"),
    ],
)
def test_the_spec_example_routes_as_documented(org_a, spec_rules, country, solution, team, rule):
    referral = _referral(org_a, country, solution)
    decision = referral_route(referral=referral)
    referral.refresh_from_db()
    assert decision.rule == spec_rules[rule]
    assert (referral.assigned_team, referral.routing_rule) == (team, spec_rules[rule])


def test_routing_is_recorded_in_the_history_with_source_routing(org_a, spec_rules):
    referral = _referral(org_a, "DE")
    referral_route(referral=referral)
    rows = {change.field: change for change in referral_history(referral)}
    assert rows["/assignedTeam"].new == "DACH Data team"
    assert rows["/routingRule"].new == spec_rules["dach"].pk
    assert {rows["/assignedTeam"].source, rows["/assignedTeam"].actor_type} == {"routing", "system"}


def test_priority_decides_then_the_id(org_a):
    later = RoutingRuleFactory(
        organization=org_a, priority=5, match_countries=["DE"], assign_to_team="Second"
    )
    first = RoutingRuleFactory(organization=org_a, priority=1, match_countries=["DE"], assign_to_team="First")
    assert referral_route(referral=_referral(org_a, "DE")).rule == first
    tie_low = RoutingRuleFactory(
        organization=org_a, priority=0, match_countries=["DE"], assign_to_team="Tie A"
    )
    RoutingRuleFactory(organization=org_a, priority=0, match_countries=["DE"], assign_to_team="Tie B")
    assert referral_route(referral=_referral(org_a, "DE")).rule == tie_low
    assert later.pk != first.pk


def test_inactive_rules_are_skipped(org_a):
    RoutingRuleFactory(organization=org_a, priority=1, match_countries=["DE"], is_active=False)
    fallback = RoutingRuleFactory(
        organization=org_a, priority=2, match_countries=["DE"], assign_to_team="Live"
    )
    assert referral_route(referral=_referral(org_a, "DE")).rule == fallback


def test_without_a_default_it_goes_to_all_referrals_admins(org_a, org_b, alice):
    admin = UserFactory(organization=org_a, email="ra@alpha.example", roles=[Role.REFERRALS_ADMIN])
    UserFactory(organization=org_a, email="ru@alpha.example", roles=[Role.REFERRALS_USER])
    UserFactory(organization=org_b, email="other@beta.example", roles=[Role.REFERRALS_ADMIN])
    RoutingRuleFactory(organization=org_a, priority=1, match_countries=["AT"])
    referral = _referral(org_a, "FR")
    decision = referral_route(referral=referral)
    referral.refresh_from_db()
    assert decision.rule is None
    assert {user.email for user in decision.admins} == {admin.email, alice.email}
    assert (referral.assigned_team, referral.routing_rule, referral.assigned_user) == (
        ALL_ADMINS_TEAM,
        None,
        None,
    )
    assert "all Referrals admins" in decision.explanation[-1]


def test_rules_of_other_organizations_never_apply(org_a, org_b):
    RoutingRuleFactory(organization=org_b, priority=1, match_countries=["DE"], assign_to_team="Beta team")
    assert referral_route(referral=_referral(org_a, "DE")).team == ALL_ADMINS_TEAM


def test_a_rule_may_assign_a_user(org_a):
    seller = UserFactory(organization=org_a, email="seller@alpha.example", roles=[Role.REFERRALS_USER])
    rule = RoutingRuleFactory(
        organization=org_a, priority=1, match_countries=["DE"], assign_to_team="", assign_to_user=seller
    )
    referral = _referral(org_a, "DE")
    referral_route(referral=referral)
    referral.refresh_from_db()
    assert (referral.routing_rule, referral.assigned_user) == (rule, seller)


def test_products_and_minimum_value_must_match_too(org_a):
    big = RoutingRuleFactory(
        organization=org_a,
        priority=1,
        match_countries=[],
        match_products=["Azure"],
        match_min_deal_value=Decimal("100000"),
        assign_to_team="Big Azure",
    )
    azure = {"products": [{"id": "Azure"}]}
    assert (
        referral_route(referral=_referral(org_a, "DE", deal_value=Decimal("180000"), requirements=azure)).rule
        == big
    )
    assert (
        referral_route(referral=_referral(org_a, "DE", deal_value=Decimal("5000"), requirements=azure)).rule
        is None
    )
    other = {"products": [{"id": "Teams"}]}
    assert (
        referral_route(referral=_referral(org_a, "DE", deal_value=Decimal("180000"), requirements=other)).rule
        is None
    )


class TestTester:
    def test_it_explains_each_rule_in_priority_order(self, org_a, spec_rules):
        decision = routing_test(organization=org_a, country="fr", solution_id="SOL-ABC-001")
        assert decision.rule == spec_rules["global"]
        assert decision.explanation == [
            "Rule 'DACH data' (priority 10): skipped — country FR is not in DE, AT.",
            "Rule 'Global data' (priority 20): matches — solution SOL-ABC-001 is one of SOL-ABC-001 "
            "→ Global Data team.",
        ]

    def test_it_names_the_default_when_nothing_matches(self, org_a, spec_rules):
        decision = routing_test(organization=org_a, country="FR", solution_id="SOL-NOPE")
        assert decision.is_default
        assert decision.explanation[-1] == "No rule matched: default rule 'Triage' → Inbound triage."
        assert "solution SOL-NOPE is not one of SOL-ABC-001" in decision.explanation[1]

    def test_it_stores_nothing(self, org_a, spec_rules):
        referral = _referral(org_a, "DE")
        routing_test(organization=org_a, country="DE", solution_id="SOL-ABC-001")
        referral.refresh_from_db()
        assert referral.routing_rule is None and referral.version == 1

    def test_it_reports_the_minimum_value(self, org_a):
        RoutingRuleFactory(
            organization=org_a,
            name="Big",
            priority=1,
            match_countries=[],
            match_min_deal_value=Decimal("50000"),
        )
        decision = routing_test(organization=org_a, country="DE", deal_value=Decimal("1000"))
        assert decision.explanation[0] == "Rule 'Big' (priority 1): skipped — deal value 1000 is below 50000."


class TestProblems:
    def test_a_rule_covered_by_an_earlier_one_is_unreachable(self, org_a):
        wide = RoutingRuleFactory(
            organization=org_a, name="Europe", priority=1, match_countries=["DE", "FR", "AT"]
        )
        narrow = RoutingRuleFactory(
            organization=org_a,
            name="Germany",
            priority=2,
            match_countries=["DE"],
            match_solution_ids=["SOL-ABC-001"],
        )
        problems = routing_problems(org_a)
        assert [(p.rule, p.other, p.code) for p in problems] == [(narrow, wide, "unreachable")]
        assert "never fires" in problems[0].message

    def test_overlapping_rules_are_flagged(self, org_a, spec_rules):
        problems = routing_problems(org_a)
        assert [(p.rule, p.other, p.code) for p in problems] == [
            (spec_rules["global"], spec_rules["dach"], "overlap")
        ]

    def test_disjoint_rules_and_the_default_are_fine(self, org_a):
        RoutingRuleFactory(organization=org_a, priority=1, match_countries=["DE"])
        RoutingRuleFactory(organization=org_a, priority=2, match_countries=["FR"])
        RoutingRuleFactory(organization=org_a, priority=3, match_countries=[], is_default=True)
        assert routing_problems(org_a) == []

    def test_a_narrower_rule_first_is_reachable_but_overlaps(self, org_a):
        narrow = RoutingRuleFactory(organization=org_a, priority=1, match_countries=["DE"])
        wide = RoutingRuleFactory(organization=org_a, priority=2, match_countries=[])
        assert [(p.rule, p.other, p.code) for p in routing_problems(org_a)] == [(wide, narrow, "overlap")]

    def test_a_lower_minimum_value_earlier_shadows_a_higher_one(self, org_a):
        low = RoutingRuleFactory(
            organization=org_a, priority=1, match_countries=["DE"], match_min_deal_value=Decimal("1000")
        )
        high = RoutingRuleFactory(
            organization=org_a, priority=2, match_countries=["DE"], match_min_deal_value=Decimal("50000")
        )
        assert [(p.rule, p.other, p.code) for p in routing_problems(org_a)] == [(high, low, "unreachable")]
