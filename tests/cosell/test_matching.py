"""Matching (spec §7): the worked example scores 75, every component explained, set-based, ordered."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cosell.labelled_deals import baseline_rank, evaluate, labelled_deals
from cosell.selectors.matching import (
    COUNTRY_REGION,
    CustomerNeed,
    PartnerFacts,
    match_partners,
    partner_score,
    rank_partners,
)
from tests.factories import (
    CapabilityProfileFactory,
    CaseStudyFactory,
    DesignationEnrollmentFactory,
    OrganizationFactory,
    ReferralFactory,
)

NEED = CustomerNeed(
    country="DE", industry="Manufacturing", products=("Azure", "PowerBI"), solution_area="Data & AI"
)


def closed(organization, substatus: str, *, days_ago: int = 30, **extra):
    referral = ReferralFactory(organization=organization, status="Closed", substatus=substatus, **extra)
    # Closing stamps updated_at; backdate it the way a deal closed weeks ago would read.
    type(referral).objects.filter(pk=referral.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return referral


def spec_partner(**profile):
    organization = OrganizationFactory()
    CapabilityProfileFactory(
        organization=organization,
        countries_served=["DE"],
        industries=["Manufacturing"],
        products=["Azure"],
        designations=["Data & AI"],
        **profile,
    )
    for _ in range(3):
        CaseStudyFactory(organization=organization, industry="Manufacturing", products=["Azure"])
    for _ in range(8):
        closed(organization, "Won")
    for _ in range(12):
        closed(organization, "Lost")
    return organization


@pytest.mark.django_db
def test_it_scores_the_spec_worked_example_75_factor_by_factor():
    organization = spec_partner()

    [match] = match_partners(need=NEED, organizations=[organization])

    assert match.score == Decimal(75)
    assert [(c.name, c.points, c.max) for c in match.components] == [
        ("Solution/product fit", Decimal(15), 30),
        ("Country coverage", Decimal(20), 20),
        ("Industry fit", Decimal(15), 15),
        ("Relevant designation", Decimal(15), 15),
        ("Proven delivery", Decimal(6), 10),
        ("Win history", Decimal(4), 10),
    ]
    assert match.components[0].reason == "1 of 2 requested products (Azure)"
    assert "Won 8 of 20" in match.components[5].reason


@pytest.mark.django_db
def test_it_ignores_old_private_declined_and_vendor_side_deals_in_the_win_history():
    organization = spec_partner()
    closed(organization, "Won", days_ago=400)  # older than 12 months
    closed(organization, "Won", type="Independent")  # a private deal, not co-sell
    closed(organization, "Declined")
    closed(organization, "Won", target=[{"type": "BusinessProfileLocation", "id": "msft"}])

    [match] = match_partners(need=NEED, organizations=[organization])

    assert match.components[5].points == Decimal(4)


@pytest.mark.django_db
def test_it_gives_the_neutral_five_below_five_closed_deals_and_counts_only_public_relevant_cases():
    organization = OrganizationFactory()
    CapabilityProfileFactory(
        organization=organization, countries_served=["AT"], products=["Azure", "PowerBI"]
    )
    closed(organization, "Won")
    CaseStudyFactory(organization=organization, industry="Retail", products=["Teams"])  # not relevant
    CaseStudyFactory(organization=organization, industry="Manufacturing", is_public=False)
    CaseStudyFactory(organization=organization, industry="Retail", products=["PowerBI"])

    [match] = match_partners(need=NEED, organizations=[organization])
    points = {c.name: c.points for c in match.components}

    assert points["Solution/product fit"] == Decimal(30)
    assert points["Country coverage"] == Decimal(10)  # AT is in DE's region (DACH)
    assert points["Proven delivery"] == Decimal(2)
    assert points["Win history"] == Decimal(5)


def test_a_specialization_alone_gives_eight_and_nothing_gives_zero():
    base = PartnerFacts(organization_id=1, organization_name="A")
    special = PartnerFacts(
        organization_id=2, organization_name="B", specializations=["Analytics on Microsoft Azure"]
    )

    def designation(facts):
        return partner_score(NEED, facts).components[3].points

    assert designation(base) == Decimal(0)
    assert designation(special) == Decimal(8)
    assert COUNTRY_REGION["AT"] == COUNTRY_REGION["DE"]


def test_ties_break_on_faster_acceptance_then_organization_id():
    facts = [
        PartnerFacts(organization_id=3, organization_name="C", median_days_to_accept=None),
        PartnerFacts(organization_id=2, organization_name="B", median_days_to_accept=4.0),
        PartnerFacts(organization_id=5, organization_name="E", median_days_to_accept=1.5),
        PartnerFacts(organization_id=1, organization_name="A", median_days_to_accept=4.0),
    ]

    ranked = rank_partners(NEED, facts)

    assert len({match.score for match in ranked}) == 1
    assert [match.organization_id for match in ranked] == [5, 1, 2, 3]


@pytest.mark.django_db
def test_it_ranks_in_a_fixed_number_of_queries_and_is_deterministic():
    best = spec_partner()
    others = []
    for country in ("FR", "AT", "US", "DE"):
        organization = OrganizationFactory()
        CapabilityProfileFactory(organization=organization, countries_served=[country], industries=["Retail"])
        CaseStudyFactory(organization=organization)
        closed(organization, "Lost")
        others.append(organization)

    with CaptureQueriesContext(connection) as queries:
        first = match_partners(need=NEED, limit=3)
    assert len(queries) == 4
    assert len(first) == 3
    assert first[0].organization_id == best.pk
    assert [m.score for m in first] == sorted((m.score for m in first), reverse=True)
    assert match_partners(need=NEED, limit=3) == first
    assert match_partners(need=NEED, organizations=[]) == []


def test_the_labelled_set_is_deterministic_and_matching_beats_the_baseline():
    first = labelled_deals(deals=60, partners=80, seed=3)
    again = labelled_deals(deals=60, partners=80, seed=3)
    assert first == again
    assert all(deal.winner_id in {p.organization_id for p in first.partners} for deal in first.deals)

    deal = first.deals[0]
    baseline = baseline_rank(deal.need, first.partners)
    assert all(deal.need.country in partner.countries_served for partner in baseline)

    result = evaluate(k=5, deals=300, partners=150, seed=11)
    assert result.deals == 300
    assert 0 <= result.baseline_hit_rate <= 1
    assert result.hit_rate > result.baseline_hit_rate


@pytest.mark.django_db
def test_a_designation_enrolled_in_membership_counts_though_the_profile_does_not_list_it():
    organization = OrganizationFactory()
    CapabilityProfileFactory(organization=organization, countries_served=["DE"], designations=[])

    def designation_points():
        (match,) = match_partners(need=NEED, organizations=[organization.pk])
        return match.components[3].points

    assert designation_points() == Decimal(0)
    enrollment = DesignationEnrollmentFactory(organization=organization, designation="Data & AI")
    assert designation_points() == Decimal(15)
    enrollment.status = "lapsed"
    enrollment.save()
    assert designation_points() == Decimal(0)
