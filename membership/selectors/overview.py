"""The membership overview (spec/membership.md §1): membership details, enrolled offers, a summary
of the benefits held and the tracks still to explore — designations not held (with their current
score), ISV Success, training services and the next Marketplace Rewards tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Organization
from membership.choices import (
    DESIGNATION_SLUGS,
    QUALIFYING_POINTS,
    SOLUTION_AREAS,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    PackageSource,
)
from membership.models import DesignationEnrollment, IsvSuccessApplication, Membership
from membership.selectors.benefits import BenefitLine, benefit_lines
from membership.selectors.isv import isv_eligibility
from membership.selectors.rewards import RewardsStatus, rewards_status
from membership.selectors.scores import DesignationScore, designation_scores

__all__ = (
    "BenefitsSummary",
    "Overview",
    "TrackCard",
    "membership_for",
    "membership_overview",
    "usd",
)


def membership_for(organization: Organization) -> Membership | None:
    return Membership.objects.filter(organization=organization).first()


def usd(amount: Decimal) -> str:
    """ "USD 1,050" or "USD 1,050.50"."""
    return f"USD {amount:,.0f}" if amount == amount.to_integral_value() else f"USD {amount:,.2f}"


@dataclass
class TrackCard:
    """A card of "Tracks to explore": what it is, where the partner stands, where to go next."""

    kind: str  # designation | training_services | isv | rewards
    title: str
    status: str
    score: int | None
    detail: str
    url_name: str
    url_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class BenefitsSummary:
    """The benefits of the packages running today."""

    packages: int = 0
    benefits: int = 0
    activated: int = 0
    not_activated: int = 0
    expiring_soon: int = 0
    #: The lines of those benefits, in `benefit_lines` order.
    lines: list[BenefitLine] = field(default_factory=list)

    @property
    def activated_lines(self) -> list[BenefitLine]:
        return [line for line in self.lines if line.activated]


@dataclass
class Overview:
    membership: Membership | None
    enrollments: list[DesignationEnrollment]
    #: What the partner holds: designations, ISV Success, the rewards tier, purchased packages.
    offers: list[str]
    benefits_summary: BenefitsSummary
    tracks: list[TrackCard]


def _summary(lines: list[BenefitLine]) -> BenefitsSummary:
    return BenefitsSummary(
        benefits=len(lines),
        activated=sum(1 for line in lines if line.activated),
        not_activated=sum(1 for line in lines if not line.activated and not line.expired),
        expiring_soon=sum(1 for line in lines if line.expiring_soon),
        lines=lines,
    )


def _designation_card(
    designation: str, enrollment: DesignationEnrollment | None, score: DesignationScore | None
) -> TrackCard:
    designation = Designation(designation)
    total = score.total if score else None
    if enrollment is not None and enrollment.status == EnrollmentStatus.ELIGIBLE:
        status, detail = "Eligible", "You qualify: enroll to unlock the benefits."
    elif score is None:
        status = (
            EnrollmentStatus.LAPSED.label
            if enrollment is not None and enrollment.status == EnrollmentStatus.LAPSED
            else "Not attained"
        )
        detail = "Not scored yet: the score is calculated every night from your Partner Center data."
    elif score.qualified:
        status, detail = "Qualified", f"{score.total} points: you qualify. Enroll to unlock the benefits."
    else:
        status = (
            EnrollmentStatus.LAPSED.label
            if enrollment is not None and enrollment.status == EnrollmentStatus.LAPSED
            else "Not attained"
        )
        blocking = [metric.label for metric in score.blocking_metrics]
        if score.total < QUALIFYING_POINTS:
            detail = f"{score.total} of 100 points; {score.gap_to_qualify} more to reach {QUALIFYING_POINTS}."
        else:
            detail = f"{score.total} points, but {', '.join(blocking).lower()} must score too."
    return TrackCard(
        kind="training_services" if designation == Designation.TRAINING_SERVICES else "designation",
        title=designation.label,
        status=status,
        score=total,
        detail=detail,
        url_name="membership:designation",
        url_kwargs={"slug": DESIGNATION_SLUGS[designation]},
    )


def _isv_card(organization: Organization, application: IsvSuccessApplication | None) -> TrackCard:
    if application is not None:
        status = application.get_status_display()
        detail = f"“{application.app_name}” is {status.lower()}."
        if application.status == IsvStatus.DRAFT:
            detail += " Submit it when it is complete."
    else:
        eligibility = isv_eligibility(organization)
        status = "Not applied"
        detail = (
            "Sign up your app for Azure credits, developer tools and go-to-market benefits."
            if eligibility.eligible
            else "Before you apply: " + " ".join(check.detail for check in eligibility.failed)
        )
    return TrackCard(
        kind="isv",
        title="ISV Success",
        status=status,
        score=None,
        detail=detail,
        url_name="membership:isv",
    )


def _rewards_card(rewards: RewardsStatus) -> TrackCard | None:
    if rewards.next_tier is None:
        return None
    status = rewards.tier.name if rewards.tier else "No benefit year yet"
    detail = (
        f"{usd(rewards.amount_to_next)} more marketplace billed sales over twelve months reach "
        f"{rewards.next_tier.name} ({rewards.progress_percent} % of the way from "
        f"{rewards.projected_tier.name})."
    )
    return TrackCard(
        kind="rewards",
        title="Marketplace Rewards",
        status=status,
        score=None,
        detail=detail,
        url_name="membership:rewards",
    )


def membership_overview(organization: Organization, *, today: date | None = None) -> Overview:
    today = today or timezone.localdate()
    enrollments = list(DesignationEnrollment.objects.filter(organization=organization))
    by_designation = {enrollment.designation: enrollment for enrollment in enrollments}
    scores = {score.designation: score for score in designation_scores(organization, day=today)}
    applications = list(
        IsvSuccessApplication.objects.filter(organization=organization).exclude(status=IsvStatus.REJECTED)
    )
    live = applications[0] if applications else None
    rewards = rewards_status(organization, today=today)

    current_lines: list[BenefitLine] = []
    purchased: list[str] = []
    packages = 0
    for package, lines in benefit_lines(organization, today=today):
        if package.start <= today <= package.end:
            packages += 1
            current_lines.extend(lines)
            if package.source == PackageSource.PURCHASE:
                purchased.append(package.name)
    summary = _summary(current_lines)
    summary.packages = packages

    held = [enrollment for enrollment in enrollments if enrollment.status == EnrollmentStatus.ENROLLED]
    offers = [Designation(enrollment.designation).label for enrollment in held]
    if live is not None and live.status == IsvStatus.APPROVED:
        offers.append("ISV Success")
    if rewards.tier is not None:
        offers.append(f"Marketplace Rewards {rewards.tier.name}")
    offers.extend(purchased)

    tracks = [
        _designation_card(designation, by_designation.get(designation), scores.get(designation))
        for designation in [*SOLUTION_AREAS, Designation.TRAINING_SERVICES]
        if getattr(by_designation.get(designation), "status", None) != EnrollmentStatus.ENROLLED
    ]
    if live is None or live.status != IsvStatus.APPROVED:
        tracks.append(_isv_card(organization, live))
    rewards_card = _rewards_card(rewards)
    if rewards_card is not None:
        tracks.append(rewards_card)
    return Overview(
        membership=membership_for(organization),
        enrollments=enrollments,
        offers=offers,
        benefits_summary=summary,
        tracks=tracks,
    )
