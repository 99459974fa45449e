"""The vendor's incentives admin: pages load, the review actions call claim_review, imports check rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from incentives.choices import ClaimStatus, ReviewDecision
from incentives.models import ActivityRate, Claim, ClaimReview, Opportunity
from portal.history import history_for, history_record
from portal.models import JobRun
from tests.factories import (
    ActivityRateFactory,
    ClaimFactory,
    ClaimReviewFactory,
    CountryMarketTierFactory,
    CustomerFactory,
    OpportunityFactory,
    OutcomeLinkFactory,
    ProofDocumentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="reviewer@vendor.example")


@pytest.fixture
def client(staff, verified_client):
    return verified_client(staff)


@pytest.fixture
def submitted(org_a):
    claim = ClaimFactory(organization=org_a, status=ClaimStatus.SUBMITTED, submitted_at=timezone.now())
    ActivityRateFactory(activity_type=claim.activity_type, fixed_fee_usd=Decimal("5000"))
    return claim


def _action(client, claim_ids, action, **data):
    return client.post(
        reverse("admin:incentives_claim_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in claim_ids], **data},
    )


def test_every_incentives_admin_page_loads(client, org_a, submitted):
    document = ProofDocumentFactory(claim=submitted)
    review = ClaimReviewFactory(claim=submitted, comment="Findings are generic.")
    link = OutcomeLinkFactory(claim=submitted)
    history_record(
        subject=submitted, actor=None, from_status="Pending POE", to_status="Submitted", note="Sent."
    )
    tier = CountryMarketTierFactory(country="IN", market_tier="B")
    opportunity = OpportunityFactory(organization=org_a)
    pages = [
        reverse("admin:app_list", args=["incentives"]),
        reverse("admin:incentives_activitytype_changelist"),
        reverse("admin:incentives_activitytype_changelist") + "?availability=Active",
        reverse("admin:incentives_activitytype_change", args=[submitted.activity_type_id]),
        reverse("admin:incentives_activitytype_add"),
        reverse("admin:incentives_countrymarkettier_change", args=[tier.pk]),
        reverse("admin:incentives_opportunity_changelist"),
        reverse("admin:incentives_opportunity_change", args=[opportunity.pk]),
        reverse("admin:incentives_opportunity_import"),
        reverse("admin:incentives_claim_changelist") + "?status__exact=Submitted&q=" + submitted.claim_id,
        reverse("admin:incentives_claimreview_changelist"),
        reverse("admin:incentives_claimreview_change", args=[review.pk]),
        reverse("admin:incentives_outcomelink_changelist"),
        reverse("admin:incentives_outcomelink_change", args=[link.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page

    detail = client.get(reverse("admin:incentives_claim_change", args=[submitted.pk])).content.decode()
    assert 'id="claim-history"' in detail
    assert "Sent." in detail
    assert reverse("admin:incentives_claim_proof", args=[document.pk]) in detail
    assert "Findings are generic." in detail


def test_the_claim_list_searches_by_claim_id_and_customer(client, org_a, submitted):
    other = ClaimFactory(
        organization=org_a, customer=CustomerFactory(organization=org_a, name="Wingtip Toys")
    )
    url = reverse("admin:incentives_claim_changelist")

    by_id = client.get(url, {"q": submitted.claim_id}).content.decode()
    by_customer = client.get(url, {"q": "Wingtip"}).content.decode()

    assert submitted.claim_id in by_id and other.claim_id not in by_id
    assert other.claim_id in by_customer and submitted.claim_id not in by_customer


def test_proof_downloads_as_an_attachment(client, submitted):
    document = ProofDocumentFactory(claim=submitted, original_name="invoice.pdf")

    response = client.get(reverse("admin:incentives_claim_proof", args=[document.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="invoice.pdf"')
    assert b"".join(response.streaming_content) == b"%PDF-1.4 invoice"


def test_approve_asks_for_the_form_then_calls_claim_review(client, staff, submitted):
    form = _action(client, [submitted.pk], "review_approve")
    assert form.status_code == 200
    assert b'name="comment"' in form.content

    response = _action(client, [submitted.pk], "review_approve", apply="1", comment="Good POE.")

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ClaimStatus.APPROVED
    assert submitted.approved_payout_usd == Decimal("5000.00")
    review = ClaimReview.objects.get(claim=submitted)
    assert (review.decision, review.reviewer, review.comment) == (ReviewDecision.APPROVE, staff, "Good POE.")
    assert history_for(submitted).last().to_status == ClaimStatus.APPROVED


@pytest.mark.parametrize(
    ("action", "reason", "status"),
    [
        ("review_request_info", "GENERIC_CONTENT", ClaimStatus.PARTNER_ACTION_REQUIRED),
        ("review_reject", "SURVEY_MISSING", ClaimStatus.REJECTED),
        ("review_final_reject", "DUPLICATE_ACTIVITY", ClaimStatus.FINAL_REJECTED),
    ],
)
def test_the_other_decisions_need_a_reason_and_record_it(client, submitted, action, reason, status):
    without = _action(client, [submitted.pk], action, apply="1", comment="no reason")
    assert without.status_code == 200  # the form again, with its error
    submitted.refresh_from_db()
    assert submitted.status == ClaimStatus.SUBMITTED

    _action(client, [submitted.pk], action, apply="1", reason_code=reason, comment="See the note.")

    submitted.refresh_from_db()
    assert submitted.status == status
    assert ClaimReview.objects.get(claim=submitted).reason_code == reason


def test_the_services_refusal_is_shown_and_the_other_claims_go_on(client, org_a, submitted):
    draft = ClaimFactory(organization=org_a, status=ClaimStatus.DRAFT)

    response = _action(client, [submitted.pk, draft.pk], "review_approve", apply="1", comment="")

    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any(draft.claim_id in m and "Only submitted claims can be reviewed" in m for m in messages)
    assert Claim.objects.get(pk=draft.pk).status == ClaimStatus.DRAFT
    assert Claim.objects.get(pk=submitted.pk).status == ClaimStatus.APPROVED


def test_claims_are_read_only_in_the_admin(client, submitted):
    before = Claim.objects.filter(pk=submitted.pk).values().get()

    client.post(reverse("admin:incentives_claim_change", args=[submitted.pk]), {"status": "Approved"})

    assert Claim.objects.filter(pk=submitted.pk).values().get() == before
    assert client.get(reverse("admin:incentives_claim_add")).status_code == 403


def test_the_opportunity_import_view_imports_or_lists_each_row_error(
    client, org_a, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(organization=org_a)
    header = "msxOpportunityId,name,customerTenantId,solutionArea,estimatedValueUSD,sellerName\n"
    good = f"7-ADMIN0001,Datacenter exit,{customer.tenant_id},Infra,500000,Sam Seller\n"
    bad = "7-ADMIN0002,Bad one,not-a-tenant,Infra,nothing,Sam Seller\n"
    url = reverse("admin:incentives_opportunity_import")

    wrong_header = client.post(
        url, {"organization": org_a.pk, "file": SimpleUploadedFile("o.csv", b"name\nX\n")}
    )
    assert wrong_header.status_code == 200
    assert 'id="row-errors"' in wrong_header.content.decode() and not JobRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        rejected = client.post(
            url,
            {"organization": org_a.pk, "file": SimpleUploadedFile("o.csv", (header + good + bad).encode())},
        )
    job = JobRun.objects.get()
    assert rejected.status_code == 302
    assert rejected["Location"] == reverse("admin:incentives_opportunity_import_job", args=[job.pk])
    page = client.get(rejected["Location"]).content.decode()
    assert "nothing was imported" in page
    assert 'id="row-errors"' in page and "customerTenantId" in page and "estimatedValueUSD" in page
    assert "not-a-tenant" in page
    assert not Opportunity.objects.exists()
    result = client.get(reverse("admin:incentives_opportunity_import_result", args=[job.pk]))
    lines = b"".join(result.streaming_content).decode().splitlines()
    assert lines[0].startswith("Line,msxOpportunityId") and len(lines) == 3

    with django_capture_on_commit_callbacks(execute=True):
        partial = client.post(
            url,
            {
                "organization": org_a.pk,
                "file": SimpleUploadedFile("o.csv", (header + good + bad).encode()),
                "valid_rows_only": "on",
            },
        )
    page = client.get(partial["Location"]).content.decode()
    assert 'id="import-counts"' in page
    assert Opportunity.objects.get().msx_opportunity_id == "7-ADMIN0001"
    assert Opportunity.objects.get().organization == org_a


def test_an_opportunity_import_page_is_for_opportunity_imports_and_their_importers(client, org_a):
    other = JobRun.objects.create(kind="import:accounts.customers", organization=org_a)
    assert client.get(reverse("admin:incentives_opportunity_import_job", args=[other.pk])).status_code == 404
    assert (
        client.get(reverse("admin:incentives_opportunity_import_result", args=[other.pk])).status_code == 404
    )


def test_rates_are_a_fee_or_a_rate_and_never_overlap(client, submitted):
    activity = submitted.activity_type
    existing = activity.rates.get()
    url = reverse("admin:incentives_activitytype_change", args=[activity.pk])
    page = client.get(url)
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list)
    }
    data.update(
        {
            "customer_segments": "",
            "customer_countries": "",
            "required_proof": ",".join(activity.required_proof),
            "rates-TOTAL_FORMS": "2",
            "rates-INITIAL_FORMS": "1",
            "rates-0-id": existing.pk,
            "rates-0-activity_type": activity.pk,
            "rates-0-market_tier": "A",
            "rates-0-fixed_fee_usd": "5000",
            "rates-0-valid_from": "2024-07-01",
            "rates-1-activity_type": activity.pk,
            "rates-1-market_tier": "A",
            "rates-1-fixed_fee_usd": "6000",
            "rates-1-rate": "0.05",
            "rates-1-valid_from": "2025-07-01",
        }
    )

    both = client.post(url, data)
    data.pop("rates-1-rate")
    overlapping = client.post(url, data)

    assert "not both" in both.content.decode()
    assert "overlap" in overlapping.content.decode()
    assert ActivityRate.objects.filter(activity_type=activity).count() == 1
