"""The membership API: the membership, benefits and their consumption, designation scores with
what-if and enrollment, ISV Success, Marketplace Rewards and the insights reports; capabilities,
tenant scoping and problem+json refusals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ActionItem
from membership.choices import (
    ActivationStatus,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    PackageSource,
    Track,
    designation_package_code,
)
from membership.models import (
    BenefitPackage,
    Certification,
    DesignationEnrollment,
    IsvSuccessApplication,
    ScoreRuleSet,
)
from portal.roles import Role
from security.choices import CheckStatus
from tests.factories import (
    BenefitConsumptionFactory,
    BenefitFactory,
    BenefitPackageFactory,
    DesignationEnrollmentFactory,
    IsvSuccessApplicationFactory,
    MarketplaceBilledSaleFactory,
    MarketplaceLicenseFactory,
    MembershipFactory,
    PartnerLocationFactory,
    PersonCertificationFactory,
    RewardsYearFactory,
    ScoreSnapshotFactory,
    SurfaceAssessmentFactory,
    VerificationCheckFactory,
    VmImageUsageFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/membership"
PROBLEM = "application/problem+json"
SCOPES = ("membership:read", "membership:write")


@pytest.fixture
def api(org_a, api_for):
    return api_for(org_a, scopes=SCOPES, roles=(Role.PARTNER_ADMIN,))


@pytest.fixture
def viewer(org_a, api_for):
    """MEMBERSHIP_VIEW without MEMBERSHIP_MANAGE or INSIGHTS_VIEW."""
    return api_for(org_a, scopes=SCOPES, roles=(Role.BUSINESS_PROFILE_CONTRIBUTOR,))


def assert_problem(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    return response.json()


# --- Membership ------------------------------------------------------------------------------------


def test_membership_answers_the_partner_global_id_dates_and_offers(api, org_a, org_b):
    membership = MembershipFactory(organization=org_a, member_since=date(2021, 3, 1))
    MembershipFactory(organization=org_b, member_since=date(2019, 1, 1))
    DesignationEnrollmentFactory(organization=org_a, designation=Designation.MODERN_WORK)
    body = api.get(f"{BASE}/membership/").json()
    assert body["partnerGlobalId"] == org_a.partner_global_id
    assert body["status"] == "active"
    assert body["memberSince"] == "2021-03-01"
    assert body["anniversaryDate"] == membership.anniversary_date.isoformat()
    assert any("Modern Work" in offer for offer in body["offers"])
    assert set(body["benefitsSummary"]) >= {"packages", "benefits", "activated", "notActivated"}


def test_membership_is_a_404_without_one_and_needs_membership_view(api, org_a, api_for):
    assert_problem(api.get(f"{BASE}/membership/"), 404)
    MembershipFactory(organization=org_a)
    insights_only = api_for(org_a, scopes=SCOPES, roles=(Role.EXECUTIVE_REPORT_VIEWER,))
    assert_problem(insights_only.get(f"{BASE}/membership/"), 403)
    no_scope = api_for(org_a, scopes=("security:read",), roles=(Role.PARTNER_ADMIN,))
    assert_problem(no_scope.get(f"{BASE}/membership/"), 403)


# --- Benefits --------------------------------------------------------------------------------------


def _package(organization, **kwargs) -> BenefitPackage:
    today = timezone.localdate()
    defaults = {"start": today - timedelta(days=30), "end": today + timedelta(days=334)}
    return BenefitPackageFactory(organization=organization, **{**defaults, **kwargs})


def test_benefits_list_packages_with_their_consumption(api, org_a, org_b):
    package = _package(org_a, code="partner_success_core", source=PackageSource.PURCHASE)
    credit = BenefitFactory(
        organization=org_a,
        package=package,
        quantity=Decimal("4000"),
        activation_status=ActivationStatus.ACTIVATED,
        activated_at=timezone.now() - timedelta(days=20),
        expires_at=package.end,
    )
    BenefitConsumptionFactory(
        organization=org_a,
        benefit=credit,
        consumed_quantity=Decimal("1000"),
        as_of=timezone.localdate() - timedelta(days=10),
    )
    BenefitConsumptionFactory(
        organization=org_a,
        benefit=credit,
        consumed_quantity=Decimal("2950"),
        as_of=timezone.localdate() - timedelta(days=1),
    )
    BenefitFactory(organization=org_b, package=_package(org_b))
    body = api.get(f"{BASE}/benefits/").json()
    assert [row["id"] for row in body["value"]] == [package.pk]
    [line] = body["value"][0]["benefits"]
    assert line["id"] == credit.pk
    assert line["activated"] is True and line["activationStatus"] == "activated"
    assert Decimal(line["entitled"]) == 4000
    assert Decimal(line["consumed"]) == 2950
    assert Decimal(line["remaining"]) == 1050
    assert line["percentUsed"] == 74
    assert line["expiresAt"] == package.end.isoformat()


def test_a_benefit_is_activated_and_its_consumption_recorded(api, org_a):
    benefit = BenefitFactory(
        organization=org_a, package=_package(org_a), quantity=Decimal("25"), unit="seats"
    )
    activated = api.post(f"{BASE}/benefits/{benefit.pk}/activate/")
    assert activated.status_code == 200, activated.content
    assert activated.json()["activationStatus"] == "activated"
    again = assert_problem(api.post(f"{BASE}/benefits/{benefit.pk}/activate/"))
    assert "already activated" in again["errors"]["activationStatus"][0]

    today = timezone.localdate()
    recorded = api.post(
        f"{BASE}/benefits/{benefit.pk}/consumption/", {"consumedQuantity": "19", "asOf": today.isoformat()}
    )
    assert recorded.status_code == 200, recorded.content
    line = recorded.json()
    assert Decimal(line["consumed"]) == 19 and Decimal(line["remaining"]) == 6 and line["percentUsed"] == 76

    too_much = assert_problem(
        api.post(f"{BASE}/benefits/{benefit.pk}/consumption/", {"consumedQuantity": "26", "asOf": str(today)})
    )
    assert "exceeds" in too_much["errors"]["consumedQuantity"][0]
    future = assert_problem(
        api.post(
            f"{BASE}/benefits/{benefit.pk}/consumption/",
            {"consumedQuantity": "1", "asOf": str(today + timedelta(days=3))},
        )
    )
    assert "future" in future["errors"]["asOf"][0]
    missing = assert_problem(api.post(f"{BASE}/benefits/{benefit.pk}/consumption/", {"asOf": str(today)}))
    assert "consumedQuantity" in missing["errors"]


def test_benefit_writes_need_membership_manage_and_the_own_organization(api, viewer, org_a, org_b):
    mine = BenefitFactory(organization=org_a, package=_package(org_a))
    theirs = BenefitFactory(organization=org_b, package=_package(org_b))
    assert_problem(viewer.post(f"{BASE}/benefits/{mine.pk}/activate/"), 403)
    assert_problem(api.post(f"{BASE}/benefits/{theirs.pk}/activate/"), 404)
    theirs.refresh_from_db()
    assert theirs.activation_status == ActivationStatus.NOT_ACTIVATED
    assert viewer.get(f"{BASE}/benefits/").status_code == 200


def test_a_repeated_activation_with_the_same_idempotency_key_is_replayed(api, org_a):
    benefit = BenefitFactory(organization=org_a, package=_package(org_a))
    first = api.post(f"{BASE}/benefits/{benefit.pk}/activate/", HTTP_IDEMPOTENCY_KEY="activate-1")
    second = api.post(f"{BASE}/benefits/{benefit.pk}/activate/", HTTP_IDEMPOTENCY_KEY="activate-1")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


# --- Designations ----------------------------------------------------------------------------------


def _metrics(rows: dict[str, tuple[str, str, int, int, str]]) -> dict:
    return {
        code: {"achieved": achieved, "threshold": threshold, "weight": weight, "points": points, "unit": unit}
        for code, (achieved, threshold, weight, points, unit) in rows.items()
    }


#: spec §2.4: Business Applications, SMB track, 70 points → qualifies.
BUSINESS_APPS_SMB = _metrics(
    {
        "nca": ("7", "10", 15, 10, "customers"),
        "int_cert": ("10", "10", 20, 20, "people"),
        "adv_cert": ("2", "4", 15, 7, "people"),
        "usage_growth": ("14", "20", 30, 21, "percent"),
        "deployments": ("6", "10", 20, 12, "deployments"),
    }
)
#: 65 points, every metric above 0: not qualified.
BUSINESS_APPS_SMB_65 = _metrics(
    {
        "nca": ("4", "10", 15, 6, "customers"),
        "int_cert": ("9", "10", 20, 18, "people"),
        "adv_cert": ("2", "4", 15, 7, "people"),
        "usage_growth": ("14", "20", 30, 21, "percent"),
        "deployments": ("7", "10", 20, 14, "deployments"),
    }
)


def _score(organization, *, days_ago: int, metrics: dict, total: int, qualified: bool, **kwargs):
    taken_on = timezone.localdate() - timedelta(days=days_ago)
    rule_set = ScoreRuleSet.objects.filter(effective_from__lte=taken_on).order_by("-effective_from").first()
    return ScoreSnapshotFactory(
        organization=organization,
        designation=kwargs.pop("designation", Designation.BUSINESS_APPS),
        track=kwargs.pop("track", Track.SMB),
        taken_on=taken_on,
        rule_set=rule_set,
        metrics=metrics,
        total=total,
        qualified=qualified,
        is_best=kwargs.pop("is_best", True),
    )


def test_designations_list_the_score_breakdown_and_enrollment(api, org_a, org_b):
    _score(org_a, days_ago=2, metrics=BUSINESS_APPS_SMB_65, total=66, qualified=False)
    _score(org_a, days_ago=1, metrics=BUSINESS_APPS_SMB, total=70, qualified=True)
    _score(
        org_b,
        days_ago=1,
        metrics=BUSINESS_APPS_SMB,
        total=70,
        qualified=True,
        designation=Designation.SECURITY,
    )
    DesignationEnrollmentFactory(
        organization=org_a, designation=Designation.BUSINESS_APPS, status=EnrollmentStatus.ELIGIBLE
    )
    rows = api.get(f"{BASE}/designations/").json()["value"]
    assert [row["id"] for row in rows] == ["business-applications"]
    [row] = rows
    assert row["designation"] == Designation.BUSINESS_APPS
    assert row["track"] == "smb" and row["total"] == 70 and row["qualified"] is True
    assert row["gapToQualify"] == 0
    assert row["enrollment"]["status"] == "eligible"
    metrics = {metric["metric"]: metric for metric in row["metrics"]}
    assert set(metrics) == set(BUSINESS_APPS_SMB)
    nca = metrics["nca"]
    assert (Decimal(nca["achieved"]), Decimal(nca["threshold"]), nca["weight"], nca["points"]) == (
        7,
        10,
        15,
        10,
    )
    assert Decimal(nca["gap"]) == 3
    assert nca["category"] == "performance"


def test_designation_detail_has_history_window_and_suggestions(api, org_a):
    _score(org_a, days_ago=3, metrics=BUSINESS_APPS_SMB_65, total=66, qualified=False)
    _score(org_a, days_ago=1, metrics=BUSINESS_APPS_SMB_65, total=66, qualified=False)
    body = api.get(f"{BASE}/designations/business-applications/").json()
    assert body["total"] == 66 and body["qualified"] is False and body["gapToQualify"] == 4
    assert [point["total"] for point in body["history"]] == [66, 66]
    assert body["history"][0]["date"] < body["history"][1]["date"]
    assert body["qualificationWindow"]["end"] == timezone.localdate().isoformat()
    assert body["suggestions"] and all(s["gain"] > 0 for s in body["suggestions"])
    assert_problem(api.get(f"{BASE}/designations/security/"), 404)
    assert_problem(api.get(f"{BASE}/designations/no-such-area/"), 404)
    assert_problem(api.get(f"{BASE}/designations/business-applications/", {"track": "huge"}))


def test_what_if_predicts_the_score_without_storing_it(api, org_a):
    snapshot = _score(org_a, days_ago=1, metrics=BUSINESS_APPS_SMB_65, total=66, qualified=False)
    response = api.post(
        f"{BASE}/designations/business-applications/whatIf/",
        {"deltas": [{"metric": "nca", "delta": "6"}, {"metric": "int_cert", "delta": "1"}]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["before"]["total"] == 66
    # nca 10/10 → 15 points (+9), int_cert 10/10 → 20 points (+2).
    assert body["after"]["total"] == 77 and body["after"]["qualified"] is True
    assert body["deltaPoints"] == 11
    snapshot.refresh_from_db()
    assert snapshot.total == 66

    unknown = assert_problem(
        api.post(
            f"{BASE}/designations/business-applications/whatIf/",
            {"deltas": [{"metric": "trainers", "delta": 1}]},
        )
    )
    assert "trainers" in unknown["errors"]["deltas"][0]
    lower = api.post(
        f"{BASE}/designations/business-applications/whatIf/", {"deltas": [{"metric": "nca", "delta": -5}]}
    ).json()
    # nca 4 − 5 stays at 0: no points, and a metric at 0 points blocks qualification.
    assert lower["after"]["total"] == 60 and lower["deltaPoints"] == -6
    nca = next(metric for metric in lower["after"]["metrics"] if metric["metric"] == "nca")
    assert Decimal(nca["achieved"]) == 0 and nca["points"] == 0
    assert_problem(api.post(f"{BASE}/designations/business-applications/whatIf/", {"deltas": []}))
    twice = [{"metric": "nca", "delta": 1}, {"metric": "nca", "delta": 2}]
    assert_problem(api.post(f"{BASE}/designations/business-applications/whatIf/", {"deltas": twice}))


def test_enrolling_in_a_qualified_designation_grants_its_package(api, viewer, org_a):
    _score(org_a, days_ago=0, metrics=BUSINESS_APPS_SMB, total=70, qualified=True)
    DesignationEnrollmentFactory(
        organization=org_a,
        designation=Designation.BUSINESS_APPS,
        status=EnrollmentStatus.ELIGIBLE,
        last_qualified_on=timezone.localdate(),
        enrolled_on=None,
        renews_on=None,
    )
    assert_problem(viewer.post(f"{BASE}/designations/business-applications/enroll/"), 403)
    response = api.post(f"{BASE}/designations/business-applications/enroll/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "enrolled" and body["enrolledOn"] == timezone.localdate().isoformat()
    assert BenefitPackage.objects.filter(
        organization=org_a, code=designation_package_code(Designation.BUSINESS_APPS)
    ).exists()
    again = assert_problem(api.post(f"{BASE}/designations/business-applications/enroll/"))
    assert again["errors"]


def test_enrolling_without_qualifying_is_refused(api, org_a):
    _score(org_a, days_ago=0, metrics=BUSINESS_APPS_SMB_65, total=66, qualified=False)
    assert_problem(api.post(f"{BASE}/designations/business-applications/enroll/"))
    assert not DesignationEnrollment.objects.filter(
        organization=org_a, status=EnrollmentStatus.ENROLLED
    ).exists()
    assert_problem(api.post(f"{BASE}/designations/security/enroll/"), 404)


# --- ISV Success -----------------------------------------------------------------------------------


def _eligible(organization) -> None:
    MembershipFactory(organization=organization)
    VerificationCheckFactory(organization=organization, status=CheckStatus.VERIFIED, reason="")


APPLICATION = {
    "appName": "Contoso Insights",
    "appDescription": "Usage analytics for Microsoft 365 tenants.",
    "designation": Designation.MODERN_WORK.value,
    "expectedReleaseDate": "2099-03-01",
}


def test_an_isv_application_is_drafted_edited_and_submitted(api, org_a):
    _eligible(org_a)
    assert api.get(f"{BASE}/isvSuccess/eligibility/").json()["eligible"] is True
    made = api.post(f"{BASE}/isvSuccess/applications/", APPLICATION)
    assert made.status_code == 201, made.content
    draft = made.json()
    assert draft["status"] == "draft" and draft["appName"] == "Contoso Insights"
    url = f"{BASE}/isvSuccess/applications/{draft['id']}/"

    edited = api.patch(url, {"isPublished": True, "marketplaceOfferId": "contoso-insights"})
    assert edited.status_code == 200, edited.content
    assert edited.json()["isPublished"] is True and edited.json()["appName"] == "Contoso Insights"

    refused = assert_problem(api.post(f"{url}submit/", {"acceptAgreement": False}))
    assert "acceptAgreement" in refused["errors"]
    submitted = api.post(f"{url}submit/", {"acceptAgreement": True})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted" and submitted.json()["submittedDateTime"]
    assert_problem(api.patch(url, {"appName": "Late change"}))
    listed = api.get(f"{BASE}/isvSuccess/applications/").json()["results"]
    assert [row["id"] for row in listed] == [draft["id"]]


def test_isv_application_errors_name_the_api_fields(api, org_a):
    _eligible(org_a)
    published = assert_problem(
        api.post(f"{BASE}/isvSuccess/applications/", {**APPLICATION, "isPublished": True})
    )
    assert "marketplaceOfferId" in published["errors"]
    past = assert_problem(
        api.post(f"{BASE}/isvSuccess/applications/", {**APPLICATION, "expectedReleaseDate": "2020-01-01"})
    )
    assert "expectedReleaseDate" in past["errors"]
    bad = assert_problem(
        api.post(f"{BASE}/isvSuccess/applications/", {**APPLICATION, "designation": "Gaming"})
    )
    assert "designation" in bad["errors"]
    IsvSuccessApplicationFactory(organization=org_a)
    second = assert_problem(api.post(f"{BASE}/isvSuccess/applications/", APPLICATION))
    assert "already has" in str(second["errors"])


def test_submitting_needs_eligibility_and_membership_manage(api, viewer, org_a, org_b):
    application = IsvSuccessApplicationFactory(organization=org_a)
    eligibility = api.get(f"{BASE}/isvSuccess/eligibility/").json()
    assert eligibility["eligible"] is False
    assert {check["code"] for check in eligibility["checks"] if not check["ok"]} >= {"membership"}
    assert_problem(
        api.post(f"{BASE}/isvSuccess/applications/{application.pk}/submit/", {"acceptAgreement": True})
    )
    assert_problem(
        viewer.post(f"{BASE}/isvSuccess/applications/{application.pk}/submit/", {"acceptAgreement": True}),
        403,
    )
    theirs = IsvSuccessApplicationFactory(organization=org_b)
    assert_problem(api.patch(f"{BASE}/isvSuccess/applications/{theirs.pk}/", {"appName": "Mine now"}), 404)
    application.refresh_from_db()
    assert application.status == IsvStatus.DRAFT
    assert IsvSuccessApplication.objects.get(pk=theirs.pk).app_name != "Mine now"


# --- Marketplace Rewards ---------------------------------------------------------------------------


def test_rewards_status_and_years(api, org_a, org_b):
    month = timezone.localdate().replace(day=1)
    for back in range(1, 5):
        billed_on = (month - timedelta(days=28 * back)).replace(day=1)
        MarketplaceBilledSaleFactory(organization=org_a, billed_on=billed_on, amount_usd=Decimal("32500"))
    MarketplaceBilledSaleFactory(organization=org_b, amount_usd=Decimal("5000000"))
    year = RewardsYearFactory(organization=org_a, anniversary=timezone.localdate() - timedelta(days=100))
    RewardsYearFactory(organization=org_b)
    body = api.get(f"{BASE}/rewards/").json()
    assert Decimal(body["mbsTtm"]) == 130000
    assert body["tier"]["tier"] == year.tier.tier
    assert body["projectedTier"]["tier"] == 2
    assert body["nextTier"]["tier"] == 3
    assert Decimal(body["amountToNext"]) == 370000
    assert 0 <= body["progressPercent"] <= 100
    assert body["benefits"] and {"packageCode", "product", "quantity", "unit"} <= set(body["benefits"][0])
    years = api.get(f"{BASE}/rewards/years/").json()["results"]
    assert [row["id"] for row in years] == [year.pk]
    assert Decimal(years[0]["mbsTtm"]) == year.mbs_ttm_usd


# --- Reports ---------------------------------------------------------------------------------------


@pytest.fixture
def analyst(org_a, api_for):
    return api_for(org_a, scopes=("membership:read",), roles=(Role.EXECUTIVE_REPORT_VIEWER,))


def test_license_report_rows_filters_and_summary(analyst, viewer, org_a, org_b):
    us = MarketplaceLicenseFactory(
        organization=org_a, country="US", licenses_purchased=50, licenses_assigned=38
    )
    MarketplaceLicenseFactory(organization=org_a, country="DE", licenses_purchased=10, licenses_assigned=10)
    MarketplaceLicenseFactory(organization=org_b, country="US")
    rows = analyst.get(f"{BASE}/reports/marketplaceLicenses/").json()["results"]
    assert len(rows) == 2
    filtered = analyst.get(f"{BASE}/reports/marketplaceLicenses/", {"country": "us"}).json()["results"]
    assert [row["id"] for row in filtered] == [us.pk]
    row = filtered[0]
    assert (
        row["countryRegion"] == "US" and row["licensesPurchased"] == 50 and row["licenseStatus"] == "Active"
    )
    assert row["customerTenantId"] == str(us.customer_tenant_id)
    assert set(row) >= {
        "date",
        "offerName",
        "offerId",
        "planName",
        "planId",
        "subscriptionId",
        "termStart",
        "termEnd",
    }
    bad = assert_problem(analyst.get(f"{BASE}/reports/marketplaceLicenses/", {"country": "USA"}))
    assert "country" in bad["errors"]
    unknown_offer = assert_problem(analyst.get(f"{BASE}/reports/marketplaceLicenses/", {"offerId": "nope"}))
    assert "offerId" in unknown_offer["errors"]
    summary = analyst.get(f"{BASE}/reports/marketplaceLicenses/summary/").json()
    assert summary["licensesPurchased"] == 60 and summary["licensesAssigned"] == 48
    assert [c["countryRegion"] for c in summary["byCountry"]] == ["US", "DE"]
    assert_problem(viewer.get(f"{BASE}/reports/marketplaceLicenses/"), 403)


def test_vm_image_report_rows_and_summary(analyst, org_a):
    VmImageUsageFactory(organization=org_a, image_version="1.0.0", is_latest_version=False, active_vms=100)
    latest = VmImageUsageFactory(
        organization=org_a, image_version="2.0.0", is_latest_version=True, active_vms=50
    )
    rows = analyst.get(f"{BASE}/reports/vmImages/", {"latestOnly": "true"}).json()["results"]
    assert [row["id"] for row in rows] == [latest.pk]
    assert rows[0]["planSku"] == latest.plan_sku and rows[0]["isLatestVersion"] is True
    assert Decimal(rows[0]["normalizedUsageHours"]) == latest.normalized_usage_hours
    summary = analyst.get(f"{BASE}/reports/vmImages/summary/").json()
    assert summary["activeVms"] == 150 and summary["activeVmsOnLatest"] == 50
    assert_problem(analyst.get(f"{BASE}/reports/vmImages/", {"monthFrom": "2026-10", "monthTo": "2026-01"}))


def test_surface_report_new_and_historical_views_with_kpis(analyst, org_a):
    location = PartnerLocationFactory(organization=org_a)
    today = timezone.localdate()
    recent = SurfaceAssessmentFactory(organization=org_a, location=location, completed_on=today)
    SurfaceAssessmentFactory(
        organization=org_a, location=location, completed_on=today - timedelta(days=400), status="failed"
    )
    new = analyst.get(f"{BASE}/reports/surface/").json()["results"]
    assert [row["id"] for row in new] == [recent.pk]
    assert new[0]["partnerLocation"] == location.partner_id
    assert new[0]["completionDate"] == today.isoformat() and new[0]["status"] == "passed"
    historical = analyst.get(f"{BASE}/reports/surface/", {"view": "historical"}).json()["results"]
    assert len(historical) == 2
    kpis = analyst.get(f"{BASE}/reports/surface/kpis/", {"view": "historical"}).json()
    assert kpis["totalLearners"] == 2 and kpis["newLearners"] == 1 and kpis["passRate"] == 50.0
    assert_problem(analyst.get(f"{BASE}/reports/surface/", {"month": "2026-13"}))


def test_skilling_reports_by_certification_person_and_designation(analyst, org_a):
    PersonCertificationFactory(organization=org_a, learner_name="Ana", email="ana@partner.example")
    PersonCertificationFactory(
        organization=org_a,
        learner_name="Ana",
        email="ANA@partner.example",
        certification=Certification.objects.filter(designation=Designation.SECURITY).first(),
    )
    rows = analyst.get(f"{BASE}/reports/skilling/").json()["results"]
    assert len(rows) == 2 and {row["learnerName"] for row in rows} == {"Ana"}
    assert {"certificationCode", "level", "solutionArea", "earnedOn", "expiresOn"} <= set(rows[0])
    people = analyst.get(f"{BASE}/reports/skilling/people/").json()["results"]
    assert [person["id"] for person in people] == ["ana@partner.example"]
    assert people[0]["certificationCount"] == 2 and len(people[0]["certifications"]) == 2
    areas = {
        row["solutionArea"]: row
        for row in analyst.get(f"{BASE}/reports/skilling/byDesignation/").json()["value"]
    }
    assert areas[Designation.MODERN_WORK]["people"] == 1 and areas[Designation.SECURITY]["people"] == 1
    assert_problem(analyst.get(f"{BASE}/reports/skilling/", {"level": "wizard"}))


def test_action_items_are_untouched_by_reads(api, org_a):
    # Reading scores never raises Action Center items; only the nightly sync does.
    _score(org_a, days_ago=0, metrics=BUSINESS_APPS_SMB, total=70, qualified=True)
    before = ActionItem.objects.count()
    api.get(f"{BASE}/designations/")
    api.get(f"{BASE}/designations/business-applications/")
    assert ActionItem.objects.count() == before


def test_a_rejected_application_is_reopened_as_a_draft(api, org_a):
    rejected = IsvSuccessApplicationFactory(
        organization=org_a, status=IsvStatus.REJECTED, review_note="The app description is too vague."
    )
    body = api.get(f"{BASE}/isvSuccess/applications/{rejected.pk}/").json()
    assert body["status"] == "rejected" and body["reviewNote"] == "The app description is too vague."
    reopened = api.post(f"{BASE}/isvSuccess/applications/{rejected.pk}/reopen/")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "draft"
    assert_problem(api.post(f"{BASE}/isvSuccess/applications/{rejected.pk}/reopen/"))
