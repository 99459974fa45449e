"""Payouts (spec/incentives.md §5, §10): the potential payout explained, and approved payouts
computed set-based with per-claim caps, annual caps in approval order, tiers and outcome links."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from earnings.choices import SolutionArea
from incentives.choices import ClaimStatus, PayPattern
from incentives.models import Claim
from incentives.services.payouts import claim_payouts_compute, fiscal_year_of, potential_payout
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    CountryMarketTierFactory,
    CustomerFactory,
    EngagementFactory,
    EnrollmentFactory,
    OpportunityFactory,
    OutcomeLinkFactory,
    PartnerLocationFactory,
    ProgramFactory,
    TransactionFactory,
)

ON = date(2025, 4, 8)


def approved_at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def build_world(organization) -> dict:
    """Contoso's location 4567890 (market A) enrolled in MCI, the fixed Copilot workshop (USD 5,000
    in A, 3,750 in B), the variable migration (5 %, cap 50,000 per claim, 500,000 a year), the
    fixed threat protection engagement (6,000 A / 4,500 B), Fabrikam and Northwind's opportunity."""
    program = ProgramFactory(name="Microsoft Commerce Incentives")
    location = PartnerLocationFactory(organization=organization, partner_id="4567890", country="US")
    enrollment = EnrollmentFactory(organization=organization, location=location, program=program)
    workshop = ActivityTypeFactory(
        code="MW-WS-COPILOT",
        name="Copilot readiness workshop",
        engagement=EngagementFactory(program=program, solution_area=SolutionArea.MODERN_WORK),
    )
    ActivityRateFactory(activity_type=workshop, fixed_fee_usd=Decimal("5000"))
    ActivityRateFactory(activity_type=workshop, market_tier="B", fixed_fee_usd=Decimal("3750"))
    migration = ActivityTypeFactory(
        code="AZ-MIG-EXEC",
        name="Azure migration execution",
        pay_pattern=PayPattern.VARIABLE,
        annual_cap_usd=Decimal("500000"),
        engagement=EngagementFactory(program=program, solution_area=SolutionArea.AZURE_INFRA),
    )
    ActivityRateFactory(
        activity_type=migration, fixed_fee_usd=None, rate=Decimal("0.05"), cap_per_claim_usd=Decimal("50000")
    )
    threat = ActivityTypeFactory(
        code="SEC-TPE",
        name="Threat protection engagement",
        engagement=EngagementFactory(program=program, solution_area=SolutionArea.SECURITY),
    )
    ActivityRateFactory(activity_type=threat, fixed_fee_usd=Decimal("6000"))
    ActivityRateFactory(activity_type=threat, market_tier="B", fixed_fee_usd=Decimal("4500"))
    customer = CustomerFactory(organization=organization, name="Fabrikam Ltd")
    northwind = CustomerFactory(organization=organization, name="Northwind Traders")
    opportunity = OpportunityFactory(
        organization=organization,
        customer=northwind,
        msx_opportunity_id="7-3KXYZ12AB",
        solution_area=SolutionArea.AZURE_INFRA,
        estimated_value_usd=Decimal("1200000"),
    )
    return {
        "organization": organization,
        "program": program,
        "location": location,
        "enrollment": enrollment,
        "workshop": workshop,
        "migration": migration,
        "threat": threat,
        "customer": customer,
        "northwind": northwind,
        "opportunity": opportunity,
    }


def approved_claim(world, activity, *, decided: date = ON, hour: int = 10, **fields) -> Claim:
    fields.setdefault("customer", CustomerFactory(organization=world["organization"]))
    fields.setdefault("status", ClaimStatus.APPROVED)
    return ClaimFactory(
        organization=world["organization"],
        activity_type=activity,
        location=world["location"],
        decided_at=approved_at(decided, hour),
        **fields,
    )


def payout_of(claim: Claim) -> Decimal:
    claim.refresh_from_db()
    return claim.approved_payout_usd


@pytest.fixture
def world(org_a):
    return build_world(org_a)


# --- Potential payout -----------------------------------------------------------------------------


def test_it_caps_the_variable_potential_per_claim_e2(world):
    result = potential_payout(
        activity_type=world["migration"], location=world["location"], opportunity=world["opportunity"], on=ON
    )

    assert result.amount_usd == Decimal("50000.00")
    assert result.limited_by == "per_claim_cap"
    lines = dict(result.lines)
    assert lines["Rate × value"] == "5 % × USD 1,200,000 (opportunity 7-3KXYZ12AB) = USD 60,000"
    assert lines["Per-claim cap"] == "USD 50,000: the payout is limited to the cap"
    assert lines["Potential payout"] == "USD 50,000"
    assert "a higher opportunity value does not raise the payout" in result.what_would_change


def test_it_limits_the_variable_potential_to_the_annual_cap_remaining_e2(world):
    approved_claim(
        world, world["migration"], decided=date(2024, 11, 5), approved_payout_usd=Decimal("470000")
    )
    # Approved in the previous fiscal year: consumed nothing of FY25.
    approved_claim(world, world["migration"], decided=date(2024, 6, 30), approved_payout_usd=Decimal("40000"))

    result = potential_payout(
        activity_type=world["migration"], location=world["location"], opportunity=world["opportunity"], on=ON
    )

    assert result.amount_usd == Decimal("30000.00")
    assert result.limited_by == "annual_cap"
    assert result.annual_cap_remaining_usd == Decimal("30000")
    assert dict(result.lines)["Annual cap remaining"] == (
        "USD 500,000 cap for 2024–25 − USD 470,000 approved = USD 30,000"
    )
    assert "USD 30,000 left of this activity's annual cap until 30 Jun 2025" in result.what_would_change


def test_it_tells_what_a_higher_opportunity_value_would_change(world):
    world["opportunity"].estimated_value_usd = Decimal("400000")

    result = potential_payout(
        activity_type=world["migration"], location=world["location"], opportunity=world["opportunity"], on=ON
    )

    assert result.amount_usd == Decimal("20000.00")
    assert result.limited_by == ""
    assert result.what_would_change == (
        "A higher opportunity value up to USD 1,000,000 raises the payout; above that the per-claim cap "
        "of USD 50,000 applies."
    )


def test_it_mentions_live_claims_that_could_take_the_cap_first(world):
    ClaimFactory(
        organization=world["organization"],
        activity_type=world["migration"],
        status=ClaimStatus.SUBMITTED,
        potential_payout_usd=Decimal("25000"),
    )

    result = potential_payout(
        activity_type=world["migration"], location=world["location"], opportunity=world["opportunity"], on=ON
    )

    # Live claims do not reserve the cap (payouts.py: "Annual cap remaining (decision)").
    assert result.amount_usd == Decimal("50000.00")
    assert "may take up to USD 25,000" in dict(result.lines)["Claims not yet approved"]


def test_it_pays_the_fixed_fee_of_the_market_tier_e3(world, org_a):
    CountryMarketTierFactory(country="IN", market_tier="B")
    market_b = PartnerLocationFactory(organization=org_a, country="IN")

    in_a = potential_payout(activity_type=world["threat"], location=world["location"], on=ON)
    in_b = potential_payout(activity_type=world["threat"], location=market_b, on=ON)

    assert (in_a.amount_usd, in_a.market_tier) == (Decimal("6000.00"), "A")
    assert (in_b.amount_usd, in_b.market_tier) == (Decimal("4500.00"), "B")
    assert dict(in_b.lines)["Fixed fee"] == "USD 4,500 per activity in Market B"
    assert "USD 6,000 in Market A" in in_b.what_would_change


def test_it_uses_the_market_a_rate_when_the_tier_has_none(world, org_a):
    CountryMarketTierFactory(country="BR", market_tier="C")

    result = potential_payout(
        activity_type=world["threat"],
        location=PartnerLocationFactory(organization=org_a, country="BR"),
        on=ON,
    )

    assert result.amount_usd == Decimal("6000.00")
    assert dict(result.lines)["Rate"] == "Market C has no rate of its own; the Market A rate applies."


def test_it_explains_an_activity_without_a_rate(world):
    result = potential_payout(activity_type=world["threat"], location=world["location"], on=date(2024, 1, 1))

    assert result.amount_usd == 0
    assert result.limited_by == "no_rate"


def test_it_splits_fiscal_years_on_the_first_of_july():
    assert fiscal_year_of(date(2025, 6, 30)) == (date(2024, 7, 1), date(2025, 6, 30))
    assert fiscal_year_of(date(2025, 7, 1)) == (date(2025, 7, 1), date(2026, 6, 30))


# --- Approved payouts -----------------------------------------------------------------------------


def test_it_computes_the_fixed_fee_of_approved_claims(world):
    claim = approved_claim(world, world["workshop"])
    draft = ClaimFactory(organization=world["organization"], activity_type=world["workshop"])

    assert claim_payouts_compute() == 1

    assert payout_of(claim) == Decimal("5000")
    assert payout_of(draft) is None


def test_it_computes_the_fee_of_the_claim_market_tier(world):
    claim = approved_claim(world, world["threat"], market_tier="B")

    claim_payouts_compute(claim_ids=[claim.pk])

    assert payout_of(claim) == Decimal("4500")


def test_it_caps_a_variable_payout_per_claim_e2(world):
    capped = approved_claim(world, world["migration"], opportunity=world["opportunity"])
    small_opportunity = OpportunityFactory(
        organization=world["organization"], estimated_value_usd=Decimal("123456.78")
    )
    small = approved_claim(world, world["migration"], opportunity=small_opportunity, hour=11)

    claim_payouts_compute()

    assert payout_of(capped) == Decimal("50000")
    assert payout_of(small) == Decimal("6172.84")


def test_it_applies_the_annual_cap_in_approval_order(world):
    world["migration"].annual_cap_usd = Decimal("500000")
    world["migration"].save()
    earlier = approved_claim(
        world, world["migration"], decided=date(2024, 9, 1), approved_payout_usd=Decimal("470000")
    )
    earlier.status = ClaimStatus.COMPLETED  # paid: keeps its payout, still consumes the cap
    earlier.save()
    second = approved_claim(world, world["migration"], opportunity=world["opportunity"], hour=12)
    first = approved_claim(world, world["migration"], opportunity=world["opportunity"], hour=9)
    next_year = approved_claim(
        world, world["migration"], opportunity=world["opportunity"], decided=date(2025, 7, 1)
    )

    claim_payouts_compute()

    assert payout_of(earlier) == Decimal("470000")
    assert payout_of(first) == Decimal("30000")
    assert payout_of(second) == Decimal("0")
    assert payout_of(next_year) == Decimal("50000")


def test_it_shares_each_linked_transaction_among_its_claims(world):
    one = approved_claim(world, world["migration"], opportunity=world["opportunity"])
    two = approved_claim(world, world["migration"], opportunity=world["opportunity"], hour=11)
    shared = TransactionFactory(
        organization=world["organization"], transaction_amount_usd=Decimal("100000.00")
    )
    own = TransactionFactory(organization=world["organization"], transaction_amount_usd=Decimal("40000.00"))
    for claim, transaction in ((one, shared), (two, shared), (one, own)):
        OutcomeLinkFactory(organization=world["organization"], claim=claim, transaction=transaction)

    claim_payouts_compute()

    # One: 5 % × (100,000 / 2 + 40,000); two: 5 % × 100,000 / 2 (not the opportunity's 1.2M).
    assert payout_of(one) == Decimal("4500")
    assert payout_of(two) == Decimal("2500")


def test_it_computes_only_the_claims_asked_for_and_only_changes(world):
    one = approved_claim(world, world["workshop"])
    two = approved_claim(world, world["workshop"], hour=11)

    assert claim_payouts_compute(claim_ids=[one.pk]) == 1
    assert payout_of(two) is None
    assert claim_payouts_compute(claim_ids=[one.pk]) == 0
    assert claim_payouts_compute(claim_ids=[]) == 0


def test_it_leaves_completed_claims_alone(world):
    claim = approved_claim(world, world["workshop"], approved_payout_usd=Decimal("4000"))
    claim.status = ClaimStatus.COMPLETED
    claim.save()

    assert claim_payouts_compute() == 0
    assert payout_of(claim) == Decimal("4000")
