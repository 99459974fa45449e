"""The incentives demo: the spec's catalogue, claims in every status made by the services, approved
claims paid as earnings by the payout run, and a second seed that adds nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from accounts.demo import seed_demo_data
from commerce.demo import commerce_demo_seed
from earnings.choices import PartnerRole
from earnings.demo import earnings_demo_seed
from earnings.models import Earning
from incentives.choices import ClaimStatus, PayPattern
from incentives.demo import ACTIVITIES, incentives_demo_loaded, incentives_demo_seed
from incentives.models import ActivityRate, ActivityType, Claim, ClaimReview, CountryMarketTier, Opportunity
from portal.history import history_for
from portal.models import HistoryEvent

pytestmark = pytest.mark.django_db

SEEDED_STATUSES = {
    ClaimStatus.DRAFT,
    ClaimStatus.PENDING_CONSENT,
    ClaimStatus.CONSENT_DECLINED,
    ClaimStatus.IN_PROGRESS,
    ClaimStatus.PENDING_POE,
    ClaimStatus.SUBMITTED,
    ClaimStatus.UNDER_REVIEW,
    ClaimStatus.PARTNER_ACTION_REQUIRED,
    ClaimStatus.APPROVED,
    ClaimStatus.REJECTED,
    ClaimStatus.FINAL_REJECTED,
    ClaimStatus.EXPIRED,
    ClaimStatus.CANCELED,
}


def state() -> dict:
    return {
        "activities": sorted(ActivityType.objects.values_list("code", "pay_pattern")),
        "rates": sorted(
            ActivityRate.objects.values_list("activity_type__code", "market_tier", "fixed_fee_usd")
        ),
        "opportunities": sorted(Opportunity.objects.values_list("msx_opportunity_id", "stage")),
        "claims": sorted(Claim.objects.values_list("claim_id", "status", "approved_payout_usd")),
        "earnings": sorted(
            Earning.objects.exclude(claim_id="").values_list("claim_id", "earning_type", "revision")
        ),
        "history": HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Claim)).count(),
    }


@pytest.fixture
def seeded(db):
    seed_demo_data(seed=7)
    commerce_demo_seed(seed=7)
    earnings_demo_seed(seed=7)
    return incentives_demo_seed(seed=7)


def test_the_demo_has_the_catalogue_claims_in_every_status_and_their_earnings(seeded):
    report = seeded

    # The ten activity types of spec §3, each an MCI engagement with its Build-intent lever.
    assert report.activity_types == 10
    for demo in ACTIVITIES:
        activity = ActivityType.objects.select_related("engagement__program", "lever").get(code=demo.code)
        assert activity.engagement.program.code == "MCI"
        assert activity.lever.partner_role == PartnerRole.BUILD_INTENT
        assert activity.required_proof
        assert sorted(activity.rates.values_list("market_tier", flat=True)) == ["A", "B", "C"]
    copilot = ActivityRate.objects.filter(activity_type__code="SEC-TPE")
    assert dict(copilot.values_list("market_tier", "fixed_fee_usd")) == {
        "A": Decimal("6000.00"),
        "B": Decimal("4500.00"),
        "C": Decimal("3000.00"),
    }
    migration = ActivityRate.objects.get(activity_type__code="AZ-MIG-EXEC", market_tier="A")
    assert (migration.rate, migration.cap_per_claim_usd) == (Decimal("0.05"), Decimal("50000.00"))
    assert CountryMarketTier.objects.get(country="IE").market_tier == "B"

    # Opportunities of the demo organizations' customers, open ones and a lost one.
    assert report.opportunities >= 20
    assert Opportunity.objects.filter(stage="Lost").exists()

    # Claims in every status a partner meets, each with its history from the services.
    assert set(report.statuses) == SEEDED_STATUSES
    assert report.claims == report.created_claims == sum(report.statuses.values())
    for claim in Claim.objects.all():
        assert history_for(claim).last().to_status == claim.status, claim.claim_id
    assert Claim.objects.filter(
        activity_type__pay_pattern=PayPattern.VARIABLE, opportunity__isnull=False
    ).exists()
    assert ClaimReview.objects.filter(reason_code="GENERIC_CONTENT").exists()
    assert Claim.objects.filter(status=ClaimStatus.APPROVED, market_tier="B").exists()

    # Approved claims are paid through the payout run: a Rebate and a Co-op earning each.
    approved = Claim.objects.filter(status=ClaimStatus.APPROVED)
    assert approved.count() == 4
    assert all(claim.approved_payout_usd > 0 for claim in approved)
    for claim in approved:
        earnings = Earning.objects.filter(claim_id=claim.claim_id)
        assert earnings.count() == 2, claim.claim_id
        assert sum(e.earning_amount_usd for e in earnings) == claim.approved_payout_usd
    assert report.claim_earnings == 8


def test_a_second_seed_adds_nothing_and_if_empty_skips_it(seeded):
    before = state()

    again = incentives_demo_seed(seed=7)
    call_command("seed_demo", "--if-empty", "--quiet")

    assert again.created_claims == 0
    assert incentives_demo_loaded()
    assert state() == before
