"""Who may claim what (spec/incentives.md §4, R1, R2): a customer's eligibility for an activity.

Every rule is checked, so a partner sees every reason at once, each with a stable code and a
sentence that names the rule in their words. The check reads across all partners for R1/R2 (one
live claim per activity and customer tenant): it runs inside services, never scoped to a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.utils import timezone

from accounts.models import Customer, PartnerLocation
from earnings.models import Enrollment
from incentives.choices import (
    OPEN_STAGES,
    TERMINAL_STATUSES,
    ActivityAvailability,
    ClaimStatus,
    MarketTier,
    PayPattern,
)
from incentives.models import ActivityType, Claim, CountryMarketTier, Opportunity

__all__ = (
    "Eligibility",
    "EligibilityCode",
    "RuleFailure",
    "customer_eligibility",
    "enrollment_of",
    "market_tier_of",
)


class EligibilityCode(StrEnum):
    """Stable codes of the eligibility rules, in the order they are checked."""

    ACTIVITY_NOT_ACTIVE = "ACTIVITY_NOT_ACTIVE"
    LOCATION_NOT_ENROLLED = "LOCATION_NOT_ENROLLED"
    CUSTOMER_SEGMENT = "CUSTOMER_SEGMENT"
    CUSTOMER_COUNTRY = "CUSTOMER_COUNTRY"
    CUSTOMER_SIZE = "CUSTOMER_SIZE"
    PREREQUISITE_MISSING = "PREREQUISITE_MISSING"
    DUPLICATE_CLAIM = "DUPLICATE_CLAIM"
    CUSTOMER_LIMIT_REACHED = "CUSTOMER_LIMIT_REACHED"
    OPPORTUNITY_REQUIRED = "OPPORTUNITY_REQUIRED"
    OPPORTUNITY_MISMATCH = "OPPORTUNITY_MISMATCH"
    OPPORTUNITY_CLOSED = "OPPORTUNITY_CLOSED"


@dataclass(frozen=True)
class RuleFailure:
    code: str
    message: str


@dataclass
class Eligibility:
    failures: list[RuleFailure] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.failures

    @property
    def codes(self) -> list[str]:
        return [failure.code for failure in self.failures]


#: Claims that used up one of the customer's allowed claims (R2): the customer took part.
COUNTED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.COMPLETED)


def market_tier_of(location: PartnerLocation) -> str:
    """The market tier of the location's country (spec §4.1); countries not listed are Market A."""
    tier = (
        CountryMarketTier.objects.filter(country=location.country)
        .values_list("market_tier", flat=True)
        .first()
    )
    return tier or MarketTier.A


def enrollment_of(*, location: PartnerLocation, activity_type: ActivityType, on: date) -> Enrollment | None:
    """The location's enrollment in the activity's program in force on `on` (the latest one)."""
    # Unscoped: services check eligibility for the location they were given.
    return (
        Enrollment.objects.filter(
            location=location,
            program_id=activity_type.engagement.program_id,
            enrolled_from__lte=on,
        )
        .exclude(enrolled_to__lte=on)
        .order_by("-enrolled_from", "-id")
        .first()
    )


def _segment_label(value: str) -> str:
    return value.replace("_", " ")


def _partner_rules(activity_type: ActivityType, location: PartnerLocation, on: date) -> list[RuleFailure]:
    failures = []
    if activity_type.availability(on) != ActivityAvailability.ACTIVE:
        failures.append(
            RuleFailure(
                EligibilityCode.ACTIVITY_NOT_ACTIVE,
                f"{activity_type.name} is not available on {on:%d %b %Y}: it runs from "
                f"{activity_type.starts_on:%d %b %Y} to {activity_type.ends_on:%d %b %Y}.",
            )
        )
    if enrollment_of(location=location, activity_type=activity_type, on=on) is None:
        failures.append(
            RuleFailure(
                EligibilityCode.LOCATION_NOT_ENROLLED,
                f"Location {location.partner_id} is not enrolled in {activity_type.engagement.program.name} "
                f"on {on:%d %b %Y}; ask your partner development manager to enroll it.",
            )
        )
    return failures


def _customer_rules(activity_type: ActivityType, customer: Customer) -> list[RuleFailure]:
    failures = []
    if activity_type.customer_segments and customer.segment not in activity_type.customer_segments:
        allowed = ", ".join(_segment_label(s) for s in activity_type.customer_segments)
        failures.append(
            RuleFailure(
                EligibilityCode.CUSTOMER_SEGMENT,
                f"The activity is for {allowed} customers only; {customer.name} is a "
                f"{_segment_label(customer.segment)} customer.",
            )
        )
    if activity_type.customer_countries and customer.country not in activity_type.customer_countries:
        failures.append(
            RuleFailure(
                EligibilityCode.CUSTOMER_COUNTRY,
                f"The activity is for customers in {', '.join(activity_type.customer_countries)} only; "
                f"{customer.name} is in {customer.country}.",
            )
        )
    low, high = activity_type.min_customer_employees, activity_type.max_customer_employees
    if low is not None or high is not None:
        size = customer.employee_count
        wanted = (
            f"{low:,} to {high:,}"
            if low is not None and high is not None
            else (f"at least {low:,}" if low is not None else f"at most {high:,}")
        )
        if size is None:
            failures.append(
                RuleFailure(
                    EligibilityCode.CUSTOMER_SIZE,
                    f"The activity is for customers with {wanted} employees; {customer.name}'s number "
                    "of employees is not known — add it to the customer first.",
                )
            )
        elif (low is not None and size < low) or (high is not None and size > high):
            failures.append(
                RuleFailure(
                    EligibilityCode.CUSTOMER_SIZE,
                    f"The activity is for customers with {wanted} employees; {customer.name} has {size:,}.",
                )
            )
    return failures


def _claim_rules(
    activity_type: ActivityType, customer: Customer, location: PartnerLocation, exclude_claim: Claim | None
) -> list[RuleFailure]:
    failures = []
    # Across all partners: the customer tenant, not the partner's customer row, is what counts.
    claims = Claim.objects.filter(customer_tenant_id=customer.tenant_id)
    if exclude_claim is not None:
        claims = claims.exclude(pk=exclude_claim.pk)

    prerequisite = activity_type.prerequisite
    if (
        prerequisite is not None
        and not claims.filter(activity_type=prerequisite, status__in=COUNTED_STATUSES).exists()
    ):
        failures.append(
            RuleFailure(
                EligibilityCode.PREREQUISITE_MISSING,
                f"{customer.name} must first have received {prerequisite.name} ({prerequisite.code}), "
                "approved or completed.",
            )
        )

    same_activity = claims.filter(activity_type=activity_type)
    live = (
        same_activity.exclude(status__in=sorted(TERMINAL_STATUSES))
        .order_by("created_at", "id")
        .values("claim_id", "organization_id", "consent_at", "status")
        .first()
    )
    if live is not None:
        if live["organization_id"] != location.organization_id:
            if live["consent_at"] is not None or live["status"] == ClaimStatus.APPROVED:
                message = "The customer has given consent to another partner for this engagement."
            else:
                message = "Another partner has already added this customer to this engagement."
        else:
            message = (
                f"Your organization already has claim {live['claim_id']} ({live['status']}) for this "
                "customer and activity."
            )
        failures.append(RuleFailure(EligibilityCode.DUPLICATE_CLAIM, message))

    counted = list(
        same_activity.filter(status__in=COUNTED_STATUSES).values_list("organization_id", flat=True)
    )
    limit = activity_type.max_claims_per_customer
    if len(counted) >= limit:
        others = any(organization_id != location.organization_id for organization_id in counted)
        plural = "claim" if limit == 1 else "claims"
        message = f"The customer has reached the limit of {limit} {plural} for this engagement" + (
            " and already took part in it with another partner." if others else "."
        )
        failures.append(RuleFailure(EligibilityCode.CUSTOMER_LIMIT_REACHED, message))
    return failures


def _opportunity_rules(
    activity_type: ActivityType,
    customer: Customer,
    location: PartnerLocation,
    opportunity: Opportunity | None,
) -> list[RuleFailure]:
    if activity_type.pay_pattern != PayPattern.VARIABLE:
        return []
    area = activity_type.engagement.solution_area
    if opportunity is None:
        return [
            RuleFailure(
                EligibilityCode.OPPORTUNITY_REQUIRED,
                f"{activity_type.name} pays a share of a seller opportunity: choose an open {area} "
                f"opportunity of {customer.name}.",
            )
        ]
    failures = []
    reasons = []
    if opportunity.organization_id != location.organization_id:
        reasons.append("it is not shared with your organization")
    if opportunity.customer_id != customer.pk:
        reasons.append(f"it is for {opportunity.customer.name}, not {customer.name}")
    if opportunity.solution_area != area:
        reasons.append(f"it is a {opportunity.solution_area} opportunity, not {area}")
    if reasons:
        failures.append(
            RuleFailure(
                EligibilityCode.OPPORTUNITY_MISMATCH,
                f"Opportunity {opportunity.msx_opportunity_id} cannot be used: {'; '.join(reasons)}.",
            )
        )
    if opportunity.stage not in OPEN_STAGES:
        failures.append(
            RuleFailure(
                EligibilityCode.OPPORTUNITY_CLOSED,
                f"Opportunity {opportunity.msx_opportunity_id} is {opportunity.get_stage_display().lower()}; "
                "only open opportunities can be claimed.",
            )
        )
    return failures


def customer_eligibility(
    *,
    activity_type: ActivityType,
    customer: Customer,
    location: PartnerLocation,
    opportunity: Opportunity | None = None,
    on: date | None = None,
    exclude_claim: Claim | None = None,
) -> Eligibility:
    """Every rule the customer, the location and the opportunity fail for the activity on `on`.

    `exclude_claim` leaves one claim out of R1/R2 (re-checking a claim that exists already).
    """
    on = on or timezone.localdate()
    failures = _partner_rules(activity_type, location, on)
    failures += _customer_rules(activity_type, customer)
    failures += _claim_rules(activity_type, customer, location, exclude_claim)
    failures += _opportunity_rules(activity_type, customer, location, opportunity)
    return Eligibility(failures=failures)
