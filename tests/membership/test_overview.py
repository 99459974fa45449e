"""The membership overview (spec/membership.md §1): details, offers, benefits summary and the tracks
to explore."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from membership.choices import (
    ActivationStatus,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    PackageSource,
    Track,
)
from membership.models import MarketplaceRewardTier
from membership.selectors.overview import membership_for, membership_overview, usd
from security.choices import CheckStatus
from tests.factories import (
    BenefitFactory,
    BenefitPackageFactory,
    DesignationEnrollmentFactory,
    IsvSuccessApplicationFactory,
    MarketplaceBilledSaleFactory,
    MembershipFactory,
    RewardsYearFactory,
    ScoreSnapshotFactory,
    VerificationCheckFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)


def _metrics(rows):
    return {
        code: {
            "achieved": str(achieved),
            "threshold": str(threshold),
            "weight": weight,
            "points": points,
            "unit": unit,
        }
        for code, achieved, threshold, weight, points, unit in rows
    }


#: Spec §2.4 Business Applications SMB, but without advanced certifications: 63 points.
BA_ROWS = [
    ("nca", 7, 10, 15, 10, "customers"),
    ("int_cert", 10, 10, 20, 20, "people"),
    ("adv_cert", 0, 4, 15, 0, "people"),
    ("usage_growth", 14, 20, 30, 21, "percent"),
    ("deployments", 6, 10, 20, 12, "deployments"),
]


def _cards(overview):
    return {card.title: card for card in overview.tracks}


def test_membership_for(org_a, org_b):
    membership = MembershipFactory(organization=org_a)
    assert membership_for(org_a) == membership
    assert membership_for(org_b) is None


def test_a_new_partner_sees_every_track(org_a):
    overview = membership_overview(org_a, today=TODAY)
    assert overview.membership is None and overview.enrollments == [] and overview.offers == []
    assert overview.benefits_summary.packages == 0 and overview.benefits_summary.benefits == 0
    assert [card.kind for card in overview.tracks] == ["designation"] * 6 + [
        "training_services",
        "isv",
        "rewards",
    ]
    modern_work = _cards(overview)[Designation.MODERN_WORK.label]
    assert (modern_work.status, modern_work.score) == ("Not attained", None)
    assert modern_work.detail.startswith("Not scored yet")
    assert reverse(modern_work.url_name, kwargs=modern_work.url_kwargs) == reverse(
        "membership:designation", kwargs={"slug": "modern-work"}
    )
    isv = _cards(overview)["ISV Success"]
    assert isv.status == "Not applied"
    assert isv.detail == (
        "Before you apply: The organization is not a member. "
        "The organization is not enrolled in the AI Cloud Partner Program."
    )
    rewards = _cards(overview)["Marketplace Rewards"]
    assert rewards.status == "No benefit year yet"
    assert rewards.detail == (
        "USD 25,000 more marketplace billed sales over twelve months reach Tier 1 "
        "(0 % of the way from Tier 0)."
    )
    for card in overview.tracks:
        reverse(card.url_name, kwargs=card.url_kwargs)


def test_overview_of_an_established_partner(org_a, org_b):
    membership = MembershipFactory(organization=org_a)
    DesignationEnrollmentFactory(organization=org_a, designation=Designation.MODERN_WORK)
    DesignationEnrollmentFactory(
        organization=org_a,
        designation=Designation.SECURITY,
        status=EnrollmentStatus.ELIGIBLE,
        enrolled_on=None,
    )
    ScoreSnapshotFactory(
        organization=org_a,
        designation=Designation.BUSINESS_APPS,
        track=Track.SMB,
        taken_on=TODAY - timedelta(days=1),
        metrics=_metrics(BA_ROWS),
        total=63,
    )
    ScoreSnapshotFactory(
        organization=org_a,
        designation=Designation.DATA_AI,
        track=Track.ALL,
        taken_on=TODAY,
        metrics=_metrics(
            [
                ("nca", 8, 8, 30, 30, "customers"),
                ("int_cert", 10, 10, 25, 25, "people"),
                ("adv_cert", 0, 4, 15, 0, "people"),
                ("usage_growth", 20, 20, 15, 15, "percent"),
                ("deployments", 1, 10, 15, 1, "deployments"),
            ]
        ),
        total=71,
    )
    # Another organization's score never shows.
    ScoreSnapshotFactory(organization=org_b, designation=Designation.AZURE_INFRA, taken_on=TODAY, total=90)
    IsvSuccessApplicationFactory(organization=org_a, status=IsvStatus.SUBMITTED, app_name="Contoso Insights")
    RewardsYearFactory(
        organization=org_a,
        anniversary=date(2026, 3, 1),
        tier=MarketplaceRewardTier.objects.get(tier=2),
    )
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2026, 1, 1), amount_usd=Decimal(80000))
    core = BenefitPackageFactory(
        organization=org_a,
        name="Partner Success Core Benefits",
        source=PackageSource.PURCHASE,
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
    )
    BenefitFactory(organization=org_a, package=core, activation_status=ActivationStatus.ACTIVATED)
    BenefitFactory(organization=org_a, package=core)
    ending = BenefitPackageFactory(
        organization=org_a, source=PackageSource.DESIGNATION, start=date(2025, 12, 15), end=date(2026, 12, 14)
    )
    BenefitFactory(organization=org_a, package=ending, expires_at=ending.end)
    old = BenefitPackageFactory(organization=org_a, start=date(2024, 7, 1), end=date(2025, 6, 30))
    BenefitFactory(organization=org_a, package=old, expires_at=old.end)

    overview = membership_overview(org_a, today=TODAY)
    assert overview.membership == membership
    assert [e.designation for e in overview.enrollments] == [Designation.MODERN_WORK, Designation.SECURITY]
    assert overview.offers == [
        "Solutions Partner for Modern Work",
        "Marketplace Rewards Tier 2",
        "Partner Success Core Benefits",
    ]
    summary = overview.benefits_summary
    assert (
        summary.packages,
        summary.benefits,
        summary.activated,
        summary.not_activated,
        summary.expiring_soon,
    ) == (
        2,
        3,
        1,
        2,
        1,
    )

    cards = _cards(overview)
    assert Designation.MODERN_WORK.label not in cards  # held
    security = cards[Designation.SECURITY.label]
    assert (security.status, security.detail) == ("Eligible", "You qualify: enroll to unlock the benefits.")
    business = cards[Designation.BUSINESS_APPS.label]
    assert (business.status, business.score) == ("Not attained", 63)
    assert business.detail == "63 of 100 points; 7 more to reach 70."
    data_ai = cards[Designation.DATA_AI.label]
    assert (data_ai.score, data_ai.detail) == (71, "71 points, but advanced certifications must score too.")
    assert cards[Designation.AZURE_INFRA.label].score is None
    isv = cards["ISV Success"]
    assert (isv.status, isv.detail) == ("Submitted", "“Contoso Insights” is submitted.")
    rewards = cards["Marketplace Rewards"]
    assert rewards.status == "Tier 2"
    assert rewards.detail == (
        "USD 20,000 more marketplace billed sales over twelve months reach Tier 2 "
        "(73 % of the way from Tier 1)."
    )


def test_qualified_designation_and_approved_isv_success(org_a):
    MembershipFactory(organization=org_a)
    VerificationCheckFactory(organization=org_a, status=CheckStatus.VERIFIED)
    ScoreSnapshotFactory(
        organization=org_a,
        designation=Designation.TRAINING_SERVICES,
        track=Track.ALL,
        taken_on=TODAY,
        metrics=_metrics(
            [
                ("trainers", 2, 2, 40, 40, "people"),
                ("courses", 12, 12, 30, 30, "courses"),
                ("satisfaction", 70, 80, 30, 26, "percent"),
            ]
        ),
        total=96,
        qualified=True,
    )
    overview = membership_overview(org_a, today=TODAY)
    training = _cards(overview)[Designation.TRAINING_SERVICES.label]
    assert (training.kind, training.status, training.score) == ("training_services", "Qualified", 96)
    assert training.url_kwargs == {"slug": "training-services"}
    isv = _cards(overview)["ISV Success"]
    assert isv.detail == "Sign up your app for Azure credits, developer tools and go-to-market benefits."

    IsvSuccessApplicationFactory(organization=org_a, status=IsvStatus.APPROVED)
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=date(2026, 1, 1), amount_usd=Decimal(4000000))
    overview = membership_overview(org_a, today=TODAY)
    assert "ISV Success" in overview.offers
    assert {card.kind for card in overview.tracks} == {
        "designation",
        "training_services",
    }  # top tier: no card


def test_usd():
    assert usd(Decimal("1050")) == "USD 1,050"
    assert usd(Decimal("1050.000000")) == "USD 1,050"
    assert usd(Decimal("2950.5")) == "USD 2,950.50"
