"""The Incentives read side: the overview's summary kept by the services, the customer search of the
wizard and the lists, keyset pages, and the capability checked by the page and the API policy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from incentives import selectors
from incentives.choices import ClaimStatus, ProofKind
from incentives.models import ClaimSummary, ProofDocument
from incentives.services import claim_cancel, claim_create, claim_payouts_compute, consent_request
from incentives.services.summary import claim_summary_rebuild
from portal.roles import Role
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    CustomerFactory,
    EnrollmentFactory,
    OpportunityFactory,
    PartnerLocationFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def workshop(org_a):
    """A fixed 5,000 USD workshop, and a location of Alpha enrolled in its program."""
    activity = ActivityTypeFactory(claim_window_days=90)
    ActivityRateFactory(activity_type=activity, fixed_fee_usd=Decimal("5000"))
    location = PartnerLocationFactory(organization=org_a, country="DE", is_headquarters=True)
    EnrollmentFactory(organization=org_a, location=location, program=activity.engagement.program)
    return activity, location


def summary_rows(organization) -> list[tuple]:
    return sorted(
        ClaimSummary.objects.filter(organization=organization).values_list(
            "status",
            "created_month",
            "decided_month",
            "claim_count",
            "potential_payout_usd",
            "approved_payout_usd",
        )
    )


def test_the_services_keep_the_overview_summary_equal_to_a_full_rebuild(
    org_a, bob, workshop, django_capture_on_commit_callbacks
):
    activity, location = workshop
    with django_capture_on_commit_callbacks(execute=True):
        claims = [
            claim_create(
                actor=bob,
                activity_type=activity,
                location=location,
                customer=CustomerFactory(organization=org_a),
                friendly_name=f"Workshop {n}",
                contact_email="it@customer.example",
            )
            for n in range(3)
        ]
        consent_request(claim=claims[0], actor=bob)
        claim_cancel(claim=claims[1], actor=bob)
    kept = summary_rows(org_a)

    claim_summary_rebuild([org_a.pk])

    assert kept == summary_rows(org_a)
    assert {row[0]: row[3] for row in kept} == {
        ClaimStatus.DRAFT: 1,
        ClaimStatus.PENDING_CONSENT: 1,
        ClaimStatus.CANCELED: 1,
    }


def test_a_recomputed_approved_payout_reaches_the_summary(
    org_a, workshop, django_capture_on_commit_callbacks
):
    activity, location = workshop
    claim = ClaimFactory(
        organization=org_a,
        activity_type=activity,
        location=location,
        status=ClaimStatus.APPROVED,
        decided_at=timezone.now(),
    )
    claim_summary_rebuild([org_a.pk])

    with django_capture_on_commit_callbacks(execute=True):
        assert claim_payouts_compute(claim_ids=[claim.pk]) == 1

    [approved] = selectors.status_totals(user=UserFactory(organization=org_a, roles=[Role.INCENTIVES_USER]))
    assert approved.approved_usd == Decimal("5000")


def test_the_overview_reads_only_the_organizations_own_summary(org_a, org_b, workshop):
    ClaimFactory(organization=org_a)
    ClaimFactory(organization=org_b)
    ClaimFactory(organization=org_b)
    claim_summary_rebuild([org_a.pk, org_b.pk])

    totals = selectors.status_totals(user=UserFactory(organization=org_a, roles=[Role.INCENTIVES_USER]))

    assert [(total.status, total.count) for total in totals] == [(ClaimStatus.DRAFT, 1)]


# --- Finding a customer -----------------------------------------------------------------------------


def test_a_customer_is_found_by_name_domain_tenant_or_id_and_never_another_organizations(org_a, org_b):
    user = UserFactory(organization=org_a, roles=[Role.INCENTIVES_USER])
    northwind = CustomerFactory(organization=org_a, name="Northwind Traders", domain="northwind.example")
    CustomerFactory(organization=org_b, name="Northwind Beta")

    assert selectors.customers_matching(user=user, text="northwind") == [northwind]
    assert selectors.customers_matching(user=user, text="wind.exam") == [northwind]
    assert selectors.customers_matching(user=user, text=str(northwind.tenant_id)) == [northwind]
    assert selectors.customers_matching(user=user, text=str(northwind.pk)) == [northwind]
    assert selectors.customers_matching(user=user, text="  ") == []


def test_the_wizard_finds_the_customer_and_offers_a_choice_when_several_match(bob_client, org_a, workshop):
    activity, location = workshop
    for name in ("Contoso Pharma", "Contoso Retail"):
        CustomerFactory(organization=org_a, name=name)
    only = CustomerFactory(organization=org_a, name="Fabrikam Ltd", employee_count=800)
    start = f"{reverse('incentives:claim-new')}?activity={activity.pk}&location={location.pk}"

    several = bob_client.get(f"{start}&find=contoso")
    one = bob_client.get(f"{start}&find=fabrikam")
    none = bob_client.get(f"{start}&find=tailspin")

    assert several.context["customer"] is None
    assert [match.name for match in several.context["matches"]] == ["Contoso Pharma", "Contoso Retail"]
    assert b'data-testid="customer-matches"' in several.content
    assert one.context["customer"] == only and one.context["eligibility"] is not None
    assert none.context["customer"] is None and none.context["step2"].errors["find"]


def test_the_wizard_lists_only_the_chosen_customers_open_opportunities(bob_client, org_a, workshop):
    activity, location = workshop
    variable = ActivityTypeFactory(pay_pattern="VARIABLE", engagement__program=activity.engagement.program)
    customer = CustomerFactory(organization=org_a)
    own = OpportunityFactory(organization=org_a, customer=customer)
    OpportunityFactory(organization=org_a)  # another customer's

    page = bob_client.get(
        f"{reverse('incentives:claim-new')}?activity={variable.pk}&location={location.pk}&customer={customer.pk}"
    )

    assert list(page.context["step2"].fields["opportunity"].queryset) == [own]


@pytest.fixture
def bob_client(bob, verified_client):
    return verified_client(bob)


def test_the_claim_list_filters_by_a_customer_typed_in_not_picked_from_a_list(bob_client, org_a):
    northwind = CustomerFactory(organization=org_a, name="Northwind Traders")
    theirs = ClaimFactory(organization=org_a, customer=northwind)
    ClaimFactory(organization=org_a)
    url = reverse("incentives:claim-list")

    def shown(value) -> list:
        return [claim.pk for claim in bob_client.get(url, {"customer": value}).context["page"].rows]

    assert shown("northwind") == [theirs.pk]
    assert shown(str(northwind.tenant_id)) == [theirs.pk]
    assert shown(str(northwind.pk)) == [theirs.pk]
    assert b'<select name="customer"' not in bob_client.get(url).content


def test_the_outcome_candidates_page_by_keyset(bob_client, org_a, workshop):
    activity, location = workshop
    customer = CustomerFactory(organization=org_a)
    claim = ClaimFactory(organization=org_a, customer=customer, status=ClaimStatus.APPROVED)
    today = timezone.localdate()
    for day in range(selectors.PAGE_SIZE + 3):
        TransactionFactory(
            organization=org_a, customer=customer, transaction_date=today - timedelta(days=day)
        )
    url = reverse("incentives:claim-outcomes", args=[claim.pk])

    first = bob_client.get(url).context["page"]
    second = bob_client.get(url, {"after": first.next_cursor}).context["page"]

    assert len(first.rows) == selectors.PAGE_SIZE and len(second.rows) == 3
    assert second.next_cursor is None


# --- Who may act: the page and the API policy, not the services ------------------------------------


def test_the_api_asks_for_the_claims_capability_to_attach_proof(org_a, workshop, api_for):
    activity, location = workshop
    claim = ClaimFactory(
        organization=org_a, activity_type=activity, location=location, status=ClaimStatus.IN_PROGRESS
    )
    path = f"/api/v1/incentives/claims/{claim.pk}/proof/"
    upload = {"kind": ProofKind.INVOICE, "file": SimpleUploadedFile("invoice.pdf", b"%PDF-1.4\n%%EOF\n")}
    scopes = ("incentives:read", "incentives:write")

    refused = api_for(org_a, scopes=scopes, roles=(Role.BILLING_ADMIN,)).post(
        path, upload, format="multipart"
    )

    assert refused.status_code == 403
    assert not ProofDocument.objects.exists()
