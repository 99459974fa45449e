"""The Incentives API: catalogue, opportunities, claims and their actions; problem+json on bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.choices import CustomerSegment
from earnings.choices import SolutionArea
from incentives.choices import ClaimStatus, OpportunityStage, PayPattern, ProofKind
from incentives.models import Claim, Opportunity
from incentives.services.eligibility import EligibilityCode
from portal.history import history_record
from portal.roles import Role
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    ClaimReviewFactory,
    CustomerFactory,
    EnrollmentFactory,
    OpportunityFactory,
    PartnerLocationFactory,
    ProofDocumentFactory,
)

pytestmark = pytest.mark.django_db

READ = ("incentives:read",)
READ_WRITE = ("incentives:read", "incentives:write")
ROLES = (Role.INCENTIVES_ADMIN,)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.fixture
def setup(org_a):
    """A FIXED workshop (5,000 USD in Market A) and a VARIABLE migration (5 %, cap 50,000),
    a location enrolled in their program, and a customer with an open opportunity."""
    workshop = ActivityTypeFactory(code="MW-WS-COPILOT", name="Copilot readiness workshop")
    ActivityRateFactory(activity_type=workshop, market_tier="A", fixed_fee_usd=Decimal("5000"))
    ActivityRateFactory(activity_type=workshop, market_tier="B", fixed_fee_usd=Decimal("3750"))
    migration = ActivityTypeFactory(
        code="AZ-MIG-EXEC",
        name="Azure migration execution",
        pay_pattern=PayPattern.VARIABLE,
        engagement__program=workshop.engagement.program,
        engagement__solution_area=SolutionArea.AZURE_INFRA,
    )
    ActivityRateFactory(
        activity_type=migration, fixed_fee_usd=None, rate=Decimal("0.05"), cap_per_claim_usd=Decimal("50000")
    )
    location = PartnerLocationFactory(organization=org_a, country="DE", is_headquarters=True)
    EnrollmentFactory(organization=org_a, location=location, program=workshop.engagement.program)
    customer = CustomerFactory(organization=org_a, name="Fabrikam Ltd", employee_count=500)
    opportunity = OpportunityFactory(
        organization=org_a,
        customer=customer,
        msx_opportunity_id="7-3KXYZ12AB",
        estimated_value_usd=Decimal("1200000"),
        solution_area=SolutionArea.AZURE_INFRA,
    )
    return {
        "workshop": workshop,
        "migration": migration,
        "location": location,
        "customer": customer,
        "opportunity": opportunity,
    }


def all_rows(api, path, params=None) -> list[dict]:
    rows, url, params = [], path, dict(params or {})
    while url:
        response = api.get(url, params)
        assert response.status_code == 200, response.content[:400]
        body = response.json()
        rows += body["results"]
        url, params = body["next"], None
    return rows


def claim_body(setup, **overrides) -> dict:
    body = {
        "activityType": setup["workshop"].code,
        "location": setup["location"].pk,
        "customer": setup["customer"].pk,
        "friendlyName": "Fabrikam Copilot workshop",
        "contactName": "Jo Customer",
        "contactEmail": "jo@fabrikam.example",
    }
    return {**body, **overrides}


# --- The catalogue ---------------------------------------------------------------------------------


def test_the_catalogue_lists_each_activity_with_its_rates_per_tier(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)

    rows = {row["code"]: row for row in all_rows(api, "/api/v1/incentives/activities/")}

    workshop = rows["MW-WS-COPILOT"]
    assert workshop["payPattern"] == "FIXED"
    assert workshop["availability"] == "Active"
    assert workshop["requiredProof"] == ["INVOICE", "FINDINGS"]
    assert [(r["marketTier"], r["fixedFeeUSD"], r["rate"]) for r in workshop["rates"]] == [
        ("A", "5000.00", None),
        ("B", "3750.00", None),
    ]
    migration = rows["AZ-MIG-EXEC"]
    assert [(r["marketTier"], r["rate"], r["capPerClaimUSD"]) for r in migration["rates"]] == [
        ("A", "0.05000000", "50000.00")
    ]
    assert migration["solutionArea"] == SolutionArea.AZURE_INFRA
    assert api.get(f"/api/v1/incentives/activities/{setup['workshop'].pk}/").json() == workshop


def test_the_catalogue_filters_like_the_page(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)
    ActivityTypeFactory(
        code="OLD", name="Legacy assessment", starts_on=date(2020, 7, 1), ends_on=date(2021, 6, 30)
    )

    variable = all_rows(api, "/api/v1/incentives/activities/", {"payPattern": "VARIABLE"})
    expired = all_rows(api, "/api/v1/incentives/activities/", {"availability": "Expired"})
    searched = all_rows(api, "/api/v1/incentives/activities/", {"q": "copilot"})

    assert [row["code"] for row in variable] == ["AZ-MIG-EXEC"]
    assert [row["code"] for row in expired] == ["OLD"]
    assert [row["code"] for row in searched] == ["MW-WS-COPILOT"]


def test_a_role_without_incentives_access_is_refused(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ, roles=(Role.ADMIN_AGENT,))

    assert api.get("/api/v1/incentives/activities/").status_code == 403
    assert api.get("/api/v1/incentives/claims/").status_code == 403


# --- Opportunities -----------------------------------------------------------------------------------


def test_opportunities_are_the_organizations_own_and_page_by_cursor(org_a, org_b, setup, api_for):
    for number in range(4):
        OpportunityFactory(organization=org_a, stage=OpportunityStage.LOST if number == 0 else "Develop")
    OpportunityFactory(organization=org_b, msx_opportunity_id="7-BETAONLY1")
    api = api_for(org_a, scopes=READ, roles=ROLES)

    rows = all_rows(api, "/api/v1/incentives/opportunities/", {"page_size": 2})
    open_rows = all_rows(api, "/api/v1/incentives/opportunities/", {"open": "true"})

    assert len(rows) == 5
    assert "7-BETAONLY1" not in {row["msxOpportunityId"] for row in rows}
    assert len(open_rows) == 4
    row = next(r for r in rows if r["msxOpportunityId"] == "7-3KXYZ12AB")
    assert (row["customerName"], row["estimatedValueUSD"], row["customerTenantId"]) == (
        "Fabrikam Ltd",
        "1200000.00",
        str(setup["customer"].tenant_id),
    )


def test_an_opportunity_is_shared_then_updated_through_the_api(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    body = {
        "msxOpportunityId": "7-NEWOPP001",
        "name": "Northwind data platform",
        "customerTenantId": str(setup["customer"].tenant_id),
        "solutionArea": SolutionArea.DATA_AI,
        "estimatedValueUSD": "250000.00",
        "sellerName": "Sam Seller",
        "sellerEmail": "sam@vendor.example",
        "closeDate": "2026-12-31",
    }

    first = api.post("/api/v1/incentives/opportunities/", body, format="json")
    again = api.post(
        "/api/v1/incentives/opportunities/",
        {**body, "stage": "Propose", "estimatedValueUSD": "300000"},
        format="json",
    )

    assert first.status_code == 201, first.content
    assert first.json()["stage"] == "Qualify"
    assert again.status_code == 200, again.content
    opportunity = Opportunity.objects.get(msx_opportunity_id="7-NEWOPP001")
    assert (opportunity.stage, opportunity.estimated_value_usd, opportunity.organization) == (
        "Propose",
        Decimal("300000.00"),
        org_a,
    )


def test_a_bad_opportunity_names_each_field_and_writes_nothing(org_a, org_b, setup, api_for):
    OpportunityFactory(organization=org_b, msx_opportunity_id="7-TAKEN0001")
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    body = {
        "msxOpportunityId": "7-TAKEN0001",
        "name": "Someone else's",
        "customerTenantId": str(CustomerFactory(organization=org_b).tenant_id),
        "solutionArea": "Gardening",
        "estimatedValueUSD": "-5",
        "sellerName": "Sam Seller",
    }

    response = api.post("/api/v1/incentives/opportunities/", body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert errors["msxOpportunityId"] == ["7-TAKEN0001 is shared with another partner organization"]
    assert "is not the tenant ID of a customer of the organization" in errors["customerTenantId"][0]
    assert set(errors) == {"msxOpportunityId", "customerTenantId", "solutionArea", "estimatedValueUSD"}
    assert not Opportunity.objects.filter(organization=org_a, msx_opportunity_id="7-TAKEN0001").exists()


def test_the_opportunity_payout_is_explained_line_by_line(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)
    path = f"/api/v1/incentives/opportunities/{setup['opportunity'].pk}/payout/"

    response = api.get(path, {"activityType": "AZ-MIG-EXEC"})
    missing = api.get(path)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["amountUSD"] == "50000.00"  # min(5 % × 1,200,000; cap 50,000)
    assert body["limitedBy"] == "per_claim_cap"
    assert body["lines"] and all({"label", "text"} == set(line) for line in body["lines"])
    assert missing.status_code == 400
    assert "activityType" in missing.json()["errors"]


# --- Claims ------------------------------------------------------------------------------------------


def test_a_claim_is_created_listed_and_its_history_shown(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    response = api.post("/api/v1/incentives/claims/", claim_body(setup), format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert (
        created["status"],
        created["activityType"],
        created["potentialPayoutUSD"],
        created["marketTier"],
    ) == (
        "Draft",
        "MW-WS-COPILOT",
        "5000.00",
        "A",
    )
    assert created["claimId"].startswith("CLM-")
    listed = all_rows(api, "/api/v1/incentives/claims/", {"status": "Draft"})
    assert [row["claimId"] for row in listed] == [created["claimId"]]
    history = api.get(f"/api/v1/incentives/claims/{created['id']}/history/").json()
    assert [(e["fromStatus"], e["toStatus"]) for e in history] == [("", "Draft")]


def test_a_repeated_create_with_the_same_idempotency_key_makes_one_claim(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    first = api.post(
        "/api/v1/incentives/claims/", claim_body(setup), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    second = api.post(
        "/api/v1/incentives/claims/", claim_body(setup), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Claim.objects.count() == 1


def _duplicate(org_a, org_b, setup):
    other = ClaimFactory(organization=org_b, activity_type=setup["workshop"], status=ClaimStatus.IN_PROGRESS)
    Claim.objects.filter(pk=other.pk).update(customer_tenant_id=setup["customer"].tenant_id)
    return {}


def _not_enrolled(org_a, org_b, setup):
    return {"location": PartnerLocationFactory(organization=org_a, country="FR").pk}


def _segment(org_a, org_b, setup):
    setup["workshop"].customer_segments = [CustomerSegment.EDUCATION]
    setup["workshop"].save(update_fields=["customer_segments"])
    return {}


def _country(org_a, org_b, setup):
    setup["workshop"].customer_countries = ["US"]
    setup["workshop"].save(update_fields=["customer_countries"])
    return {}


def _size(org_a, org_b, setup):
    setup["workshop"].min_customer_employees = 1000
    setup["workshop"].save(update_fields=["min_customer_employees"])
    return {}


def _inactive(org_a, org_b, setup):
    today = timezone.localdate()
    setup["workshop"].starts_on, setup["workshop"].ends_on = (
        today + timedelta(days=30),
        today + timedelta(days=90),
    )
    setup["workshop"].save(update_fields=["starts_on", "ends_on"])
    return {}


def _no_opportunity(org_a, org_b, setup):
    return {"activityType": "AZ-MIG-EXEC"}


REFUSALS = {
    EligibilityCode.DUPLICATE_CLAIM: _duplicate,
    EligibilityCode.LOCATION_NOT_ENROLLED: _not_enrolled,
    EligibilityCode.CUSTOMER_SEGMENT: _segment,
    EligibilityCode.CUSTOMER_COUNTRY: _country,
    EligibilityCode.CUSTOMER_SIZE: _size,
    EligibilityCode.ACTIVITY_NOT_ACTIVE: _inactive,
    EligibilityCode.OPPORTUNITY_REQUIRED: _no_opportunity,
}


@pytest.mark.parametrize("code", list(REFUSALS), ids=str)
def test_an_ineligible_claim_is_refused_naming_the_rule(org_a, org_b, setup, api_for, code):
    overrides = REFUSALS[code](org_a, org_b, setup)
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    before = Claim.objects.count()

    response = api.post("/api/v1/incentives/claims/", claim_body(setup, **overrides), format="json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "claim_refused"
    assert code in [rule["code"] for rule in problem["errors"]["rules"]]
    assert all(rule["message"] for rule in problem["errors"]["rules"])
    assert problem["errors"]["non_field_errors"] == [rule["message"] for rule in problem["errors"]["rules"]]
    assert Claim.objects.count() == before


def test_a_claim_on_another_organizations_customer_is_a_field_error(org_a, org_b, setup, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    response = api.post(
        "/api/v1/incentives/claims/",
        claim_body(setup, customer=CustomerFactory(organization=org_b).pk),
        format="json",
    )

    assert response.status_code == 400
    assert "customer" in response.json()["errors"]
    assert not Claim.objects.exists()


def test_a_read_only_token_cannot_create_claims(org_a, setup, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)

    assert api.post("/api/v1/incentives/claims/", claim_body(setup), format="json").status_code == 403


@pytest.fixture
def in_progress(org_a, setup):
    return ClaimFactory(
        organization=org_a,
        activity_type=setup["workshop"],
        location=setup["location"],
        customer=setup["customer"],
        status=ClaimStatus.IN_PROGRESS,
        expires_at=timezone.now() + timedelta(days=60),
    )


def test_proof_is_uploaded_listed_and_the_claim_submitted(org_a, setup, in_progress, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    path = f"/api/v1/incentives/claims/{in_progress.pk}"

    invoice = api.post(
        f"{path}/proof/",
        {"kind": ProofKind.INVOICE, "file": SimpleUploadedFile("invoice.pdf", PDF)},
        format="multipart",
    )
    findings = api.post(
        f"{path}/proof/",
        {"kind": ProofKind.FINDINGS, "file": SimpleUploadedFile("f.png", PNG)},
        format="multipart",
    )
    listed = api.get(f"{path}/proof/").json()
    submitted = api.post(f"{path}/submit/", {"deliveredOn": timezone.localdate().isoformat()}, format="json")

    assert invoice.status_code == findings.status_code == 201, (invoice.content, findings.content)
    assert invoice.json()["contentType"] == "application/pdf"
    assert sorted((d["kind"], d["fileName"]) for d in listed) == [
        ("FINDINGS", "f.png"),
        ("INVOICE", "invoice.pdf"),
    ]
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "Submitted"
    history = api.get(f"{path}/history/").json()
    assert [e["toStatus"] for e in history] == ["Pending POE", "Submitted"]


def test_proof_of_the_wrong_type_is_a_400_and_attaches_nothing(org_a, setup, in_progress, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    response = api.post(
        f"/api/v1/incentives/claims/{in_progress.pk}/proof/",
        {
            "kind": ProofKind.INVOICE,
            "file": SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\xff\xfe"),
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "file" in response.json()["errors"]
    assert not in_progress.proof.exists()
    in_progress.refresh_from_db()
    assert in_progress.status == ClaimStatus.IN_PROGRESS


def test_submitting_without_the_required_proof_is_refused(org_a, setup, in_progress, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    response = api.post(f"/api/v1/incentives/claims/{in_progress.pk}/submit/", {}, format="json")

    assert response.status_code == 400
    assert "proof" in response.json()["errors"]


def test_the_partner_answers_a_request_for_information(org_a, setup, api_for):
    claim = ClaimFactory(
        organization=org_a,
        activity_type=setup["workshop"],
        location=setup["location"],
        customer=setup["customer"],
        status=ClaimStatus.PARTNER_ACTION_REQUIRED,
        delivered_on=timezone.localdate() - timedelta(days=3),
        action_due_at=timezone.now() + timedelta(days=10),
    )
    for kind in (ProofKind.INVOICE, ProofKind.FINDINGS):
        ProofDocumentFactory(claim=claim, kind=kind)
    review = ClaimReviewFactory(claim=claim)
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    response = api.post(
        f"/api/v1/incentives/claims/{claim.pk}/respond/",
        {"response": "Tailored report attached."},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "Submitted"
    review.refresh_from_db()
    assert review.partner_response == "Tailored report attached."


def test_a_claim_is_canceled_and_a_final_one_cannot_be(org_a, setup, in_progress, api_for):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    path = f"/api/v1/incentives/claims/{in_progress.pk}/cancel/"

    first = api.post(path, {"note": "Customer postponed."}, format="json")
    again = api.post(path, {}, format="json")

    assert first.status_code == 200
    assert first.json()["status"] == "Canceled"
    assert again.status_code == 400
    assert again["Content-Type"] == "application/problem+json"


def test_the_claims_payout_is_explained(org_a, setup, in_progress, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)

    body = api.get(f"/api/v1/incentives/claims/{in_progress.pk}/payout/").json()

    assert body["amountUSD"] == "5000.00"
    assert body["marketTier"] == "A"


def test_another_organizations_claim_history_is_a_404(org_b, in_progress, api_for):
    history_record(subject=in_progress, actor=None, to_status="In progress")
    api = api_for(org_b, scopes=READ, roles=ROLES)

    assert api.get(f"/api/v1/incentives/claims/{in_progress.pk}/history/").status_code == 404
