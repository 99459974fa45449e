"""Customer eligibility (spec/incentives.md §4, R1, R2): every rule, each failing alone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.choices import CustomerSegment
from earnings.choices import SolutionArea
from incentives.choices import ClaimStatus, OpportunityStage, PayPattern
from incentives.services.eligibility import EligibilityCode, customer_eligibility, market_tier_of
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    CountryMarketTierFactory,
    CustomerFactory,
    EngagementFactory,
    EnrollmentFactory,
    OpportunityFactory,
    PartnerLocationFactory,
    ProgramFactory,
)

ON = date(2025, 3, 3)
C = EligibilityCode


@pytest.fixture
def world(org_a):
    program = ProgramFactory(name="Microsoft Commerce Incentives")
    location = PartnerLocationFactory(organization=org_a, partner_id="4567890", country="US")
    EnrollmentFactory(organization=org_a, location=location, program=program, enrolled_from=date(2024, 7, 1))
    workshop = ActivityTypeFactory(
        code="MW-WS-COPILOT",
        name="Copilot readiness workshop",
        engagement=EngagementFactory(program=program, solution_area=SolutionArea.MODERN_WORK),
    )
    ActivityRateFactory(activity_type=workshop, fixed_fee_usd=Decimal("5000"))
    migration = ActivityTypeFactory(
        code="AZ-MIG-EXEC",
        name="Azure migration execution",
        pay_pattern=PayPattern.VARIABLE,
        engagement=EngagementFactory(program=program, solution_area=SolutionArea.AZURE_INFRA),
    )
    ActivityRateFactory(
        activity_type=migration, fixed_fee_usd=None, rate=Decimal("0.05"), cap_per_claim_usd=Decimal("50000")
    )
    customer = CustomerFactory(organization=org_a, name="Fabrikam Ltd", country="DE", employee_count=800)
    opportunity = OpportunityFactory(
        organization=org_a,
        customer=customer,
        solution_area=SolutionArea.AZURE_INFRA,
        msx_opportunity_id="7-3KXYZ12AB",
    )
    return {
        "organization": org_a,
        "program": program,
        "location": location,
        "workshop": workshop,
        "migration": migration,
        "customer": customer,
        "opportunity": opportunity,
    }


def check(world, *, activity=None, customer=None, location=None, opportunity=None, on=ON, exclude_claim=None):
    return customer_eligibility(
        activity_type=activity or world["workshop"],
        customer=customer or world["customer"],
        location=location or world["location"],
        opportunity=opportunity,
        on=on,
        exclude_claim=exclude_claim,
    )


def other_claim(world, organization, *, activity=None, **fields):
    """A claim of `organization` for the world's customer tenant (R1/R2 count across partners)."""
    return ClaimFactory(
        organization=organization,
        activity_type=activity or world["workshop"],
        customer_tenant_id=world["customer"].tenant_id,
        **fields,
    )


def test_it_finds_a_fixed_activity_eligible_without_an_opportunity(world):
    result = check(world)

    assert result.eligible
    assert result.failures == []


def test_it_finds_a_variable_activity_eligible_with_an_open_opportunity(world):
    result = check(world, activity=world["migration"], opportunity=world["opportunity"])

    assert result.eligible, result.failures


def test_it_refuses_an_activity_outside_its_dates(world):
    result = check(world, on=date(2030, 7, 1))

    assert result.codes == [C.ACTIVITY_NOT_ACTIVE]
    assert "runs from 01 Jul 2024 to 30 Jun 2030" in result.failures[0].message


def test_it_refuses_a_location_not_enrolled(world, org_a):
    location = PartnerLocationFactory(organization=org_a, partner_id="4567891")

    result = check(world, location=location)

    assert result.codes == [C.LOCATION_NOT_ENROLLED]
    assert result.failures[0].message == (
        "Location 4567891 is not enrolled in Microsoft Commerce Incentives on 03 Mar 2025; "
        "ask your partner development manager to enroll it."
    )


def test_it_refuses_a_location_whose_enrollment_ended(world, org_a):
    location = PartnerLocationFactory(organization=org_a)
    EnrollmentFactory(
        organization=org_a,
        location=location,
        program=world["program"],
        enrolled_from=date(2024, 1, 1),
        enrolled_to=ON,
    )

    assert check(world, location=location).codes == [C.LOCATION_NOT_ENROLLED]
    assert check(world, location=location, on=date(2025, 3, 2)).eligible


def test_it_refuses_a_customer_segment_the_activity_excludes(world):
    world["workshop"].customer_segments = [CustomerSegment.COMMERCIAL]
    world["customer"].segment = CustomerSegment.GOVERNMENT

    result = check(world)

    assert result.codes == [C.CUSTOMER_SEGMENT]
    assert result.failures[0].message == (
        "The activity is for commercial customers only; Fabrikam Ltd is a government customer."
    )


def test_it_refuses_a_customer_country_the_activity_excludes(world):
    world["workshop"].customer_countries = ["US", "CA"]

    result = check(world)

    assert result.codes == [C.CUSTOMER_COUNTRY]
    assert "customers in US, CA only; Fabrikam Ltd is in DE" in result.failures[0].message


@pytest.mark.parametrize(
    ("low", "high", "employees", "eligible"),
    [(1000, None, 800, False), (None, 500, 800, False), (100, 1000, 800, True), (100, None, None, False)],
)
def test_it_checks_the_customer_size(world, low, high, employees, eligible):
    world["workshop"].min_customer_employees = low
    world["workshop"].max_customer_employees = high
    world["customer"].employee_count = employees

    result = check(world)

    assert result.codes == ([] if eligible else [C.CUSTOMER_SIZE])


def test_it_names_an_unknown_customer_size(world):
    world["workshop"].min_customer_employees = 300
    world["customer"].employee_count = None

    assert "number of employees is not known" in check(world).failures[0].message


def test_it_requires_the_prerequisite_activity(world, org_b):
    assessment = ActivityTypeFactory(code="SEC-TPE", name="Threat protection engagement")
    world["workshop"].prerequisite = assessment

    result = check(world)

    assert result.codes == [C.PREREQUISITE_MISSING]
    assert "must first have received Threat protection engagement (SEC-TPE)" in result.failures[0].message
    other_claim(world, org_b, activity=assessment, status=ClaimStatus.IN_PROGRESS)
    assert check(world).codes == [C.PREREQUISITE_MISSING]


def test_it_accepts_a_prerequisite_received_from_another_partner(world, org_b):
    assessment = ActivityTypeFactory(code="SEC-TPE", name="Threat protection engagement")
    world["workshop"].prerequisite = assessment
    other_claim(world, org_b, activity=assessment, status=ClaimStatus.COMPLETED)

    assert check(world).eligible


def test_it_refuses_a_customer_who_consented_to_another_partner_e4(world, org_b):
    other_claim(world, org_b, status=ClaimStatus.IN_PROGRESS, consent_at=timezone.now())

    result = check(world)

    assert result.codes == [C.DUPLICATE_CLAIM]
    assert (
        result.failures[0].message == "The customer has given consent to another partner for this engagement."
    )


def test_it_refuses_a_customer_another_partner_added(world, org_b):
    other_claim(world, org_b, status=ClaimStatus.DRAFT)

    result = check(world)

    assert result.codes == [C.DUPLICATE_CLAIM]
    assert result.failures[0].message == "Another partner has already added this customer to this engagement."


def test_it_refuses_a_second_live_claim_of_the_same_partner(world):
    claim = other_claim(
        world, world["organization"], claim_id="CLM-2025-000123", status=ClaimStatus.SUBMITTED
    )

    result = check(world)

    assert result.codes == [C.DUPLICATE_CLAIM]
    assert "already has claim CLM-2025-000123 (Submitted)" in result.failures[0].message
    assert check(world, exclude_claim=claim).eligible


def test_it_frees_the_customer_once_the_other_claim_expired_e5(world, org_b):
    other_claim(world, org_b, status=ClaimStatus.EXPIRED, consent_at=timezone.now())

    assert check(world).eligible


def test_it_refuses_a_customer_at_the_per_customer_limit(world, org_b):
    other_claim(world, org_b, status=ClaimStatus.COMPLETED)

    result = check(world)

    assert result.codes == [C.CUSTOMER_LIMIT_REACHED]
    assert result.failures[0].message == (
        "The customer has reached the limit of 1 claim for this engagement and already took part in "
        "it with another partner."
    )


def test_it_allows_more_claims_up_to_the_limit(world):
    world["workshop"].max_claims_per_customer = 2
    other_claim(world, world["organization"], status=ClaimStatus.COMPLETED)

    assert check(world).eligible
    other_claim(world, world["organization"], status=ClaimStatus.COMPLETED)
    assert check(world).codes == [C.CUSTOMER_LIMIT_REACHED]
    assert check(world).failures[0].message.endswith("limit of 2 claims for this engagement.")


def test_it_requires_an_opportunity_for_a_variable_activity(world):
    result = check(world, activity=world["migration"])

    assert result.codes == [C.OPPORTUNITY_REQUIRED]
    assert "choose an open Infra opportunity of Fabrikam Ltd" in result.failures[0].message


def test_it_refuses_an_opportunity_of_another_customer(world, org_a):
    opportunity = OpportunityFactory(organization=org_a, solution_area=SolutionArea.AZURE_INFRA)

    result = check(world, activity=world["migration"], opportunity=opportunity)

    assert result.codes == [C.OPPORTUNITY_MISMATCH]
    assert f"it is for {opportunity.customer.name}, not Fabrikam Ltd" in result.failures[0].message


def test_it_refuses_an_opportunity_of_another_solution_area(world, org_a):
    opportunity = OpportunityFactory(
        organization=org_a, customer=world["customer"], solution_area=SolutionArea.SECURITY
    )

    result = check(world, activity=world["migration"], opportunity=opportunity)

    assert result.codes == [C.OPPORTUNITY_MISMATCH]
    assert "it is a Security opportunity, not Infra" in result.failures[0].message


def test_it_refuses_an_opportunity_of_another_partner(world, org_b):
    opportunity = OpportunityFactory(organization=org_b, customer=world["customer"])

    result = check(world, activity=world["migration"], opportunity=opportunity)

    assert result.codes == [C.OPPORTUNITY_MISMATCH]
    assert "not shared with your organization" in result.failures[0].message


@pytest.mark.parametrize("stage", [OpportunityStage.WON, OpportunityStage.LOST])
def test_it_refuses_a_closed_opportunity(world, stage):
    world["opportunity"].stage = stage

    result = check(world, activity=world["migration"], opportunity=world["opportunity"])

    assert result.codes == [C.OPPORTUNITY_CLOSED]
    assert "only open opportunities can be claimed" in result.failures[0].message


def test_it_names_every_failed_rule_at_once(world, org_a, org_b):
    world["migration"].customer_segments = [CustomerSegment.EDUCATION]
    world["migration"].customer_countries = ["US"]
    world["migration"].min_customer_employees = 5000
    other_claim(world, org_b, activity=world["migration"], status=ClaimStatus.APPROVED)
    location = PartnerLocationFactory(organization=org_a)

    result = check(world, activity=world["migration"], location=location, on=date(2031, 1, 1))

    assert result.codes == [
        C.ACTIVITY_NOT_ACTIVE,
        C.LOCATION_NOT_ENROLLED,
        C.CUSTOMER_SEGMENT,
        C.CUSTOMER_COUNTRY,
        C.CUSTOMER_SIZE,
        C.DUPLICATE_CLAIM,
        C.CUSTOMER_LIMIT_REACHED,
        C.OPPORTUNITY_REQUIRED,
    ]
    assert not result.eligible


def test_it_reads_the_market_tier_of_the_location_country(world, org_a):
    CountryMarketTierFactory(country="IN", market_tier="B")

    assert market_tier_of(world["location"]) == "A"
    assert market_tier_of(PartnerLocationFactory(organization=org_a, country="IN")) == "B"


def test_it_defaults_the_day_to_today(world):
    # The activity runs from 2024 to 2030, so today is inside it.
    assert check(world, on=None).eligible
