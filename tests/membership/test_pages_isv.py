"""The ISV Success and Marketplace Rewards pages: who may read and change them, the eligibility
checklist with its fixes, the application draft (bad input on its fields, nothing saved), its
submission with the program agreement, the status timeline, rejection with the reviewer's note and
the reopen path, the benefits once approved, and the rewards tier, progress, tier table and MBS by
month — never another organization's rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from membership.choices import Designation, IsvStatus
from membership.models import Benefit, BenefitTemplate, IsvSuccessApplication, MarketplaceRewardTier
from membership.services.isv import isv_application_review
from portal.roles import Role
from security.choices import CheckStatus, Program
from security.services.compliance import check_transition, program_enroll
from tests.factories import (
    IsvSuccessApplicationFactory,
    MarketplaceBilledSaleFactory,
    MembershipFactory,
    RewardsYearFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ISV = reverse("membership:isv")
APPLICATION = reverse("membership:isv-application")
SUBMIT = reverse("membership:isv-submit")
REWARDS = reverse("membership:rewards")


def make_eligible(organization, actor) -> None:
    """An active Membership and a verified AI Cloud Partner Program enrollment (spec §3)."""
    MembershipFactory(organization=organization)
    enrollment = program_enroll(
        actor=actor, organization=organization, program=Program.AI_CLOUD_PARTNER_PROGRAM
    )
    for check in enrollment.checks.all():
        check_transition(actor=None, check=check, to_status=CheckStatus.VERIFIED)


def application_data(**changes) -> dict:
    data = {
        "app_name": "Contoso Insights",
        "app_description": "Usage analytics for Microsoft 365 tenants.",
        "designation": Designation.MODERN_WORK.value,
        "expected_release_date": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "marketplace_offer_id": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def paula(org_a):
    """The organization's AI Cloud Partner Program partner admin (MEMBERSHIP_MANAGE)."""
    return UserFactory(organization=org_a, email="paula@alpha.example", roles=[Role.PARTNER_ADMIN])


@pytest.fixture
def viewer(org_a):
    """A Business profile contributor: MEMBERSHIP_VIEW only."""
    return UserFactory(
        organization=org_a, email="viola@alpha.example", roles=[Role.BUSINESS_PROFILE_CONTRIBUTOR]
    )


@pytest.fixture
def reviewer(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="isv@vendor.example")


@pytest.fixture
def eligible(org_a, alice):
    make_eligible(org_a, alice)
    return org_a


@pytest.fixture
def draft(eligible, paula):
    return IsvSuccessApplicationFactory(
        organization=eligible,
        app_name="Contoso Insights",
        expected_release_date=timezone.localdate() + timedelta(days=90),
        created_by=paula,
    )


def submitted(application: IsvSuccessApplication, client) -> IsvSuccessApplication:
    response = client.post(SUBMIT, {"accept_agreement": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    application.refresh_from_db()
    assert application.status == IsvStatus.SUBMITTED
    return application


# --- Access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ISV, APPLICATION, REWARDS])
def test_pages_answer_403_without_membership_view(verified_client, bob, url):
    assert verified_client(bob).get(url).status_code == 403


def test_writes_answer_403_without_membership_manage(verified_client, viewer, draft):
    client = verified_client(viewer)
    for url in (ISV, APPLICATION, REWARDS):
        assert client.get(url).status_code == 200
    assert client.post(APPLICATION, application_data(app_name="Changed")).status_code == 403
    assert client.post(SUBMIT, {"accept_agreement": "on"}).status_code == 403
    assert client.post(ISV, {"action": "reopen"}).status_code == 403
    draft.refresh_from_db()
    assert (draft.app_name, draft.status) == ("Contoso Insights", IsvStatus.DRAFT)
    page = client.get(ISV).content.decode()
    assert 'data-testid="submit-form"' not in page
    assert 'data-testid="application-form"' not in client.get(APPLICATION).content.decode()


def test_submit_answers_405_to_get(verified_client, paula):
    assert verified_client(paula).get(SUBMIT).status_code == 405


# --- Eligibility ------------------------------------------------------------------------------------


def test_an_organization_that_is_not_eligible_sees_what_to_fix(verified_client, paula):
    response = verified_client(paula).get(ISV)
    assert response.status_code == 200
    page = response.content.decode()
    checks = response.context["checks"]
    assert checks and not response.context["eligibility"].eligible
    failing = [check for check in checks if not check.ok]
    assert failing
    for check in failing:
        assert check.detail in page
    assert 'data-ok="no"' in page
    assert reverse("security:compliance") in page  # verification is fixed on the Compliance page
    assert 'data-testid="start-application"' not in page
    assert "Not eligible yet" in page


def test_an_eligible_organization_may_start_an_application(verified_client, paula, eligible):
    response = verified_client(paula).get(ISV)
    page = response.content.decode()
    assert response.context["eligibility"].eligible
    assert all(check.ok for check in response.context["checks"])
    assert 'data-ok="no"' not in page
    assert 'data-testid="start-application"' in page
    assert 'data-testid="application"' not in page


def test_a_viewer_of_an_eligible_organization_cannot_start(verified_client, viewer, eligible):
    page = verified_client(viewer).get(ISV).content.decode()
    assert 'data-testid="start-application"' not in page


# --- Application draft ------------------------------------------------------------------------------


def test_the_partner_admin_saves_a_draft_and_edits_it(verified_client, paula, eligible):
    client = verified_client(paula)
    form_page = client.get(APPLICATION)
    assert form_page.status_code == 200
    assert 'data-testid="application-form"' in form_page.content.decode()

    response = client.post(APPLICATION, application_data())
    assert response.status_code == 302 and response.url == ISV
    application = IsvSuccessApplication.objects.get(organization=eligible)
    assert application.status == IsvStatus.DRAFT
    assert application.app_name == "Contoso Insights"
    assert application.designation == Designation.MODERN_WORK
    assert application.is_published is False

    page = client.get(ISV).content.decode()
    assert 'data-status="draft"' in page
    assert 'data-testid="submit-form"' in page

    prefilled = client.get(APPLICATION).content.decode()
    assert 'value="Contoso Insights"' in prefilled

    response = client.post(
        APPLICATION,
        application_data(
            app_name="Contoso Insights Pro", is_published="on", marketplace_offer_id="contoso-insights-pro"
        ),
    )
    assert response.status_code == 302
    assert IsvSuccessApplication.objects.filter(organization=eligible).count() == 1
    application.refresh_from_db()
    assert application.app_name == "Contoso Insights Pro"
    assert application.is_published is True
    assert application.marketplace_offer_id == "contoso-insights-pro"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"app_name": ""}, "app_name"),
        ({"designation": "Quantum Computing"}, "designation"),
        ({"expected_release_date": "31/02/2027"}, "expected_release_date"),
        ({"app_description": "x" * 2001}, "app_description"),
        # the service's rules, shown on the fields they name
        ({"is_published": "on", "marketplace_offer_id": ""}, "marketplace_offer_id"),
        ({"expected_release_date": ""}, "expected_release_date"),
        (
            {"expected_release_date": (timezone.localdate() - timedelta(days=3)).isoformat()},
            "expected_release_date",
        ),
    ],
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(
    verified_client, paula, eligible, changes, field
):
    response = verified_client(paula).post(APPLICATION, application_data(**changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    page = response.content.decode()
    for message in form.errors[field]:
        assert message.replace("'", "&#x27;").replace('"', "&quot;") in page
    assert not IsvSuccessApplication.objects.filter(organization=eligible).exists()


def test_bad_input_on_an_existing_draft_changes_nothing(verified_client, paula, draft):
    response = verified_client(paula).post(
        APPLICATION, application_data(app_name="Renamed", is_published="on", marketplace_offer_id="")
    )
    assert response.status_code == 400
    assert response.context["form"].errors.get("marketplace_offer_id")
    draft.refresh_from_db()
    assert (draft.app_name, draft.is_published) == ("Contoso Insights", False)


# --- Submission -------------------------------------------------------------------------------------


def test_submission_needs_the_program_agreement(verified_client, paula, draft):
    client = verified_client(paula)
    response = client.post(SUBMIT, {})
    assert response.status_code == 400
    form = response.context["submit_form"]
    assert form.errors
    messages = [message for errors in form.errors.values() for message in errors]
    page = response.content.decode()
    assert any("agreement" in message.lower() for message in messages)
    for message in messages:
        assert message.replace("'", "&#x27;") in page
    draft.refresh_from_db()
    assert draft.status == IsvStatus.DRAFT and draft.submitted_at is None

    submitted(draft, client)
    assert draft.agreement_accepted_at is not None
    page = client.get(ISV).content.decode()
    assert 'data-testid="application-status" data-status="submitted"' in page
    assert 'data-testid="submit-form"' not in page
    assert 'data-status="draft" data-state="done"' in page
    assert 'data-status="submitted" data-state="current"' in page
    assert 'data-status="decision" data-state="todo"' in page
    # a submitted application can no longer be edited
    assert 'data-testid="application-form"' not in client.get(APPLICATION).content.decode()
    response = client.post(APPLICATION, application_data(app_name="Too late"))
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.app_name == "Contoso Insights"


def test_submission_needs_the_organization_to_be_eligible(verified_client, paula, org_a):
    application = IsvSuccessApplicationFactory(
        organization=org_a, expected_release_date=timezone.localdate() + timedelta(days=30)
    )
    response = verified_client(paula).post(SUBMIT, {"accept_agreement": "on"})
    assert response.status_code == 400
    assert response.context["submit_form"].errors
    application.refresh_from_db()
    assert application.status == IsvStatus.DRAFT


def test_submitting_without_a_draft_says_so(verified_client, paula, eligible):
    response = verified_client(paula).post(SUBMIT, {"accept_agreement": "on"}, follow=True)
    assert "There is no draft application to submit" in response.content.decode()
    assert not IsvSuccessApplication.objects.filter(organization=eligible).exists()


# --- Review outcomes --------------------------------------------------------------------------------


def test_a_rejected_application_shows_the_note_and_reopens_as_a_draft(
    verified_client, paula, draft, reviewer
):
    client = verified_client(paula)
    submitted(draft, client)
    isv_application_review(actor=reviewer, application=draft, to_status=IsvStatus.IN_REVIEW)
    isv_application_review(
        actor=reviewer,
        application=draft,
        to_status=IsvStatus.REJECTED,
        note="The description does not say which Microsoft cloud services the app uses.",
    )
    page = client.get(ISV).content.decode()
    assert 'data-testid="application-status" data-status="rejected"' in page
    assert "The description does not say which Microsoft cloud services the app uses." in page
    assert 'data-status="in_review" data-state="done"' in page
    assert 'data-status="rejected" data-state="current"' in page
    assert "Reopen as draft" in page

    response = client.post(ISV, {"action": "reopen"})
    assert response.status_code == 302 and response.url == APPLICATION
    draft.refresh_from_db()
    assert draft.status == IsvStatus.DRAFT
    assert 'data-testid="application-form"' in client.get(APPLICATION).content.decode()
    page = client.get(ISV).content.decode()
    assert 'data-status="draft" data-state="current"' in page
    assert "Rejected" in page  # the history keeps the rejection


def test_reopen_without_a_rejected_application_changes_nothing(verified_client, paula, draft):
    response = verified_client(paula).post(ISV, {"action": "reopen"}, follow=True)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == IsvStatus.DRAFT


def test_an_approved_application_shows_the_isv_success_benefits(verified_client, paula, draft, reviewer):
    client = verified_client(paula)
    submitted(draft, client)
    isv_application_review(actor=reviewer, application=draft, to_status=IsvStatus.APPROVED)
    response = client.get(ISV)
    page = response.content.decode()
    assert 'data-testid="application-status" data-status="approved"' in page
    assert 'data-status="in_review" data-state="skipped"' in page
    products = list(
        BenefitTemplate.objects.filter(package_code="isv_success").values_list("product", flat=True)
    )
    assert products
    assert page.count('data-testid="benefit-line"') == len(products)
    for product in products:
        assert product in page
    assert Benefit.objects.filter(
        organization=draft.organization, package__code="isv_success"
    ).count() == len(products)
    assert 'data-testid="start-application"' not in page


# --- Isolation --------------------------------------------------------------------------------------


def test_another_organizations_application_is_never_shown_or_touched(
    verified_client, paula, eligible, org_b, charlie
):
    make_eligible(org_b, charlie)
    theirs = IsvSuccessApplicationFactory(
        organization=org_b,
        app_name="Beta Secret App",
        expected_release_date=timezone.localdate() + timedelta(days=30),
    )
    client = verified_client(paula)
    page = client.get(ISV).content.decode()
    assert "Beta Secret App" not in page
    assert 'data-testid="start-application"' in page
    assert "Beta Secret App" not in client.get(APPLICATION).content.decode()
    assert client.post(SUBMIT, {"accept_agreement": "on"}).status_code == 302
    assert client.post(APPLICATION, application_data()).status_code == 302
    theirs.refresh_from_db()
    assert (theirs.status, theirs.app_name) == (IsvStatus.DRAFT, "Beta Secret App")
    assert IsvSuccessApplication.objects.get(organization=eligible).app_name == "Contoso Insights"


# --- Marketplace Rewards ----------------------------------------------------------------------------


def _month(months_back: int) -> date:
    return timezone.localdate().replace(day=1) - relativedelta(months=months_back)


def test_rewards_shows_tier_progress_tiers_and_mbs_by_month(verified_client, viewer, org_a, org_b):
    for back in (1, 2, 3):
        MarketplaceBilledSaleFactory(organization=org_a, billed_on=_month(back), amount_usd=Decimal("40000"))
    MarketplaceBilledSaleFactory(
        organization=org_a, billed_on=_month(2), offer_id="contoso-backup", amount_usd=Decimal("5000")
    )
    MarketplaceBilledSaleFactory(organization=org_a, billed_on=_month(14), amount_usd=Decimal("999000"))
    MarketplaceBilledSaleFactory(organization=org_b, billed_on=_month(1), amount_usd=Decimal("77777"))
    anniversary = timezone.localdate() - timedelta(days=40)
    RewardsYearFactory(
        organization=org_a,
        anniversary=anniversary,
        mbs_ttm_usd=Decimal("30000"),
        tier=MarketplaceRewardTier.objects.get(tier=1),
    )
    RewardsYearFactory(
        organization=org_b, anniversary=anniversary, tier=MarketplaceRewardTier.objects.get(tier=4)
    )

    response = verified_client(viewer).get(REWARDS)
    assert response.status_code == 200
    page = response.content.decode()
    # the benefit year's tier (Tier 1), and what today's twelve months reach (125,000: Tier 2)
    assert 'data-testid="tier-name">Tier 1<' in page
    assert f"Benefit year {anniversary:%Y-%m-%d}" in page
    assert "USD 30,000.00 MBS" in page
    assert 'data-testid="mbs-ttm-amount">USD 125,000.00<' in page
    assert 'data-testid="projected-tier">Tier 2<' in page
    assert 'data-testid="next-tier-name">Tier 3<' in page
    assert 'data-testid="amount-to-next">USD 375,000.00<' in page
    # (125,000 − 100,000) of the 400,000 between Tier 2 and Tier 3
    assert 'data-testid="progress-percent">6%<' in page
    assert 'aria-valuenow="6"' in page
    # benefits unlocked are Tier 1's
    assert page.count('data-testid="unlocked-benefit"') == 2
    assert "Customer case study" in page
    # the tier table
    assert page.count('data-testid="tier-row"') == 5
    assert 'data-tier="1" aria-current="true"' in page
    assert 'data-testid="projected-tier-badge"' in page
    for product in ("Listing optimisation", "Co-marketing campaign", "Dedicated advisor"):
        assert product in page
    # MBS by month: the org's months only, the two-offer month summed, the old month outside the TTM
    months = {row.month: row for row in response.context["months"]}
    assert months[_month(2)].amount == Decimal("45000") and months[_month(2)].offers == 2
    assert months[_month(14)].in_ttm is False and months[_month(1)].in_ttm is True
    assert f'data-month="{_month(14):%Y-%m}" data-in-ttm="no"' in page
    assert f'data-month="{_month(1):%Y-%m}" data-in-ttm="yes"' in page
    assert "77,777" not in page
    assert "Tier 4" not in page.split('data-testid="tier-table"')[0]


def test_rewards_without_sales(verified_client, viewer):
    response = verified_client(viewer).get(REWARDS)
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["status"].mbs_ttm == 0
    assert "No benefit year yet" in page
    assert 'data-testid="mbs-ttm-amount">USD 0.00<' in page
    assert 'data-testid="amount-to-next">USD 25,000.00<' in page
    assert "No marketplace billed sales yet." in page
    assert page.count('data-testid="tier-row"') == 5
