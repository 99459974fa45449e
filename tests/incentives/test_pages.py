"""The Incentives pages: who may open them, filters, the claim wizard, proof uploads, the public
consent page, outcomes, and query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import CustomerSegment
from accounts.models import Organization
from earnings.choices import EarningType, PartnerRole, SolutionArea
from incentives.choices import ClaimStatus, OpportunityStage, PayPattern, ProofKind
from incentives.models import ActivityType, Claim, Opportunity, OutcomeLink, ProofDocument
from incentives.selectors import PAGE_SIZE
from incentives.services.eligibility import Eligibility
from incentives.services.summary import claim_summary_rebuild
from portal.history import history_record
from portal.roles import Role
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    CustomerFactory,
    EarningFactory,
    EngagementFactory,
    EnrollmentFactory,
    LeverFactory,
    OpportunityFactory,
    PartnerLocationFactory,
    ProgramFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST_PAGES = ["index", "catalogue", "opportunity-list", "claim-list", "claim-new"]
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    organization: Organization
    location: object
    fixed: ActivityType
    variable: ActivityType
    customer: object
    opportunity: Opportunity
    claim: Claim


def activity(program, *, code: str, pattern: str, area: str, **fields) -> ActivityType:
    engagement = EngagementFactory(program=program, name=f"{code} engagement", solution_area=area)
    lever = LeverFactory(engagement=engagement, name=code, partner_role=PartnerRole.BUILD_INTENT)
    return ActivityTypeFactory(code=code, engagement=engagement, lever=lever, pay_pattern=pattern, **fields)


def build_world(organization) -> World:
    """One location enrolled in MCI, a fixed and a variable activity, a customer with an opportunity."""
    program = ProgramFactory(name="Microsoft Commerce Incentives")
    location = PartnerLocationFactory(organization=organization, country="DE", is_headquarters=True)
    EnrollmentFactory(organization=organization, location=location, program=program)
    fixed = activity(
        program,
        code="MW-WS-COPILOT",
        pattern=PayPattern.FIXED,
        area=SolutionArea.MODERN_WORK,
        name="Copilot readiness workshop",
    )
    ActivityRateFactory(activity_type=fixed, fixed_fee_usd=Decimal("5000"))
    variable = activity(
        program,
        code="AZ-MIG-EXEC",
        pattern=PayPattern.VARIABLE,
        area=SolutionArea.AZURE_INFRA,
        name="Azure migration execution",
    )
    ActivityRateFactory(
        activity_type=variable, fixed_fee_usd=None, rate=Decimal("0.05"), cap_per_claim_usd=Decimal("50000")
    )
    customer = CustomerFactory(organization=organization, name="Northwind Traders", employee_count=500)
    opportunity = OpportunityFactory(
        organization=organization,
        customer=customer,
        solution_area=SolutionArea.AZURE_INFRA,
        estimated_value_usd=Decimal("1200000"),
        name="Northwind datacenter exit",
    )
    claim = ClaimFactory(
        organization=organization, activity_type=fixed, location=location, friendly_name="Fabrikam workshop"
    )
    return World(organization, location, fixed, variable, customer, opportunity, claim)


@pytest.fixture
def world(org_a) -> World:
    return build_world(org_a)


@pytest.fixture
def bob_client(bob, verified_client) -> Client:
    return verified_client(bob)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def object_pages(world: World) -> dict[str, str]:
    return {
        "activity-detail": reverse("incentives:activity-detail", args=[world.fixed.pk]),
        "opportunity-detail": reverse("incentives:opportunity-detail", args=[world.opportunity.pk]),
        "claim-detail": reverse("incentives:claim-detail", args=[world.claim.pk]),
        "claim-outcomes": reverse("incentives:claim-outcomes", args=[world.claim.pk]),
    }


def claim_in(world: World, status: str, **fields) -> Claim:
    return ClaimFactory(
        organization=world.organization,
        activity_type=world.fixed,
        location=world.location,
        status=status,
        **fields,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LIST_PAGES)
def test_it_renders_every_page_for_an_incentives_user(bob_client, world, name):
    response = bob_client.get(reverse(f"incentives:{name}"))

    assert response.status_code == 200
    assert b'aria-label="Incentives pages"' in response.content


def test_it_renders_the_object_pages(bob_client, world):
    for name, path in object_pages(world).items():
        response = bob_client.get(path)
        assert response.status_code == 200, name


@pytest.mark.parametrize("name", LIST_PAGES)
def test_it_refuses_people_whose_roles_lack_incentives_view(org_a, verified_client, world, name):
    referrals_only = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])

    assert verified_client(referrals_only).get(reverse(f"incentives:{name}")).status_code == 403


def test_it_refuses_the_object_pages_and_actions_without_the_capability(org_a, verified_client, world):
    client = verified_client(UserFactory(organization=org_a, roles=[Role.REFERRALS_USER]))
    for path in object_pages(world).values():
        assert client.get(path).status_code == 403
    cancel = reverse("incentives:claim-cancel", args=[world.claim.pk])

    assert client.post(cancel).status_code == 403
    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.DRAFT


def test_it_sends_anonymous_visitors_to_sign_in(client, world):
    assert client.get(reverse("incentives:index")).status_code == 302


def test_another_organizations_claim_is_a_404_on_every_page_and_action(charlie, verified_client, world):
    client = verified_client(charlie)
    for name in ("opportunity-detail", "claim-detail", "claim-outcomes"):
        assert client.get(object_pages(world)[name]).status_code == 404
    for name in ("claim-consent-request", "claim-submit", "claim-respond", "claim-cancel", "claim-proof"):
        assert client.post(reverse(f"incentives:{name}", args=[world.claim.pk])).status_code == 404

    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.DRAFT


def test_another_organizations_claims_never_show_on_the_list(org_b, verified_client, world):
    beta_user = UserFactory(organization=org_b, roles=[Role.INCENTIVES_USER])

    response = verified_client(beta_user).get(reverse("incentives:claim-list"))

    assert response.status_code == 200
    assert response.context["page"].rows == []
    assert world.claim.claim_id.encode() not in response.content


# --- Overview, catalogue, opportunities -----------------------------------------------------------


def test_the_overview_counts_and_sums_by_status_and_lists_what_needs_the_partner(bob_client, world):
    claim_in(world, ClaimStatus.APPROVED, approved_payout_usd=Decimal("5000"), decided_at=timezone.now())
    waiting = claim_in(world, ClaimStatus.PARTNER_ACTION_REQUIRED, potential_payout_usd=Decimal("6000"))
    claim_summary_rebuild([world.organization.pk])  # the factory writes claims past the services

    response = bob_client.get(reverse("incentives:index"))

    totals = {row.status: row for row in response.context["totals"]}
    assert totals[ClaimStatus.APPROVED].approved_usd == Decimal("5000")
    assert totals[ClaimStatus.DRAFT].count == 1
    assert response.context["claim_count"] == 3
    assert {c.pk for c in response.context["waiting"]} == {world.claim.pk, waiting.pk}
    chart = response.context["chart"]
    assert len(chart["labels"]) == 12
    assert chart["datasets"][0]["data"][-1] == "5000.00"
    assert chart["datasets"][1]["data"][-1] == 3
    assert b"incentives-chart-data" in response.content


def test_the_catalogue_filters_by_pattern_and_shows_the_rate_and_cap(bob_client, world):
    response = bob_client.get(reverse("incentives:catalogue"), {"payPattern": PayPattern.VARIABLE})

    assert list(response.context["activities"]) == [world.variable]
    assert b"5 % of the opportunity value, cap 50,000.00 USD per claim" in response.content


def test_the_activity_page_shows_rates_rules_and_required_proof(bob_client, world):
    ActivityType.objects.filter(pk=world.fixed.pk).update(customer_countries=["DE", "AT"])

    response = bob_client.get(reverse("incentives:activity-detail", args=[world.fixed.pk]))

    assert b"5,000.00 USD per activity" in response.content
    assert b"DE, AT" in response.content
    assert response.context["required_proof"] == [ProofKind.INVOICE.label, ProofKind.FINDINGS.label]
    assert b"Findings &amp; recommendations document" in response.content


def test_the_opportunity_list_shows_open_opportunities_unless_asked(bob_client, world):
    lost = OpportunityFactory(organization=world.organization, stage=OpportunityStage.LOST)

    shown = bob_client.get(reverse("incentives:opportunity-list")).context["page"].rows
    closed = bob_client.get(reverse("incentives:opportunity-list"), {"open": "false"}).context["page"].rows

    assert world.opportunity in shown and lost not in shown
    assert closed == [lost]


def test_the_opportunity_page_explains_the_potential_payout_and_offers_the_claim(bob_client, world):
    response = bob_client.get(reverse("incentives:opportunity-detail", args=[world.opportunity.pk]))

    [offer] = response.context["offers"]
    assert offer.activity == world.variable
    assert offer.payout.amount_usd == Decimal("50000")
    assert offer.payout.lines
    assert offer.eligible
    assert b"limited by the per-claim cap" in response.content
    assert f"opportunity={world.opportunity.pk}".encode() in response.content


# --- Claim list -----------------------------------------------------------------------------------


def test_filters_and_search_narrow_the_claims(bob_client, world):
    other_customer = CustomerFactory(organization=world.organization, name="Contoso Pharma")
    variable = ClaimFactory(
        organization=world.organization,
        activity_type=world.variable,
        location=world.location,
        customer=world.customer,
        opportunity=world.opportunity,
        status=ClaimStatus.SUBMITTED,
        friendly_name="Northwind migration",
    )
    old = claim_in(world, ClaimStatus.APPROVED, customer=other_customer)
    Claim.objects.filter(pk=old.pk).update(created_at=timezone.make_aware(timezone.datetime(2024, 3, 10)))
    url = reverse("incentives:claim-list")

    def rows(**params) -> set[int]:
        return {claim.pk for claim in bob_client.get(url, params).context["page"].rows}

    assert rows() == {world.claim.pk, variable.pk, old.pk}
    assert rows(status=ClaimStatus.SUBMITTED) == {variable.pk}
    assert rows(payPattern=PayPattern.VARIABLE) == {variable.pk}
    assert rows(solutionArea=SolutionArea.MODERN_WORK) == {world.claim.pk, old.pk}
    assert rows(customer=other_customer.pk) == {old.pk}
    assert rows(q="northwind") == {variable.pk}
    assert rows(q=old.claim_id) == {old.pk}
    assert rows(createdMonth="2024-03") == {old.pk}
    assert rows(fiscalYear=2024) == {old.pk}
    assert old.pk not in rows(fiscalYear=2025)


def test_htmx_requests_get_the_table_only(bob_client, world):
    response = bob_client.get(reverse("incentives:claim-list"), headers={"HX-Request": "true"})

    assert b'data-testid="claim-table"' in response.content
    assert b"<html" not in response.content


def test_the_claim_list_pages_by_cursor(bob_client, world):
    for _ in range(PAGE_SIZE + 5):
        claim_in(world, ClaimStatus.DRAFT, customer=CustomerFactory(organization=world.organization))
    first = bob_client.get(reverse("incentives:claim-list"))
    page = first.context["page"]
    second = bob_client.get(reverse("incentives:claim-list"), {"after": page.next_cursor}).context["page"]

    assert len(page.rows) == PAGE_SIZE and len(second.rows) == 6
    assert not {c.pk for c in page.rows} & {c.pk for c in second.rows}
    assert second.next_cursor is None


def test_the_claim_list_takes_the_same_number_of_queries_for_3_or_30_claims(bob_client, world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bob_client.get(reverse("incentives:claim-list")).status_code == 200
        return len(captured)

    for _ in range(2):
        claim_in(world, ClaimStatus.DRAFT, customer=CustomerFactory(organization=world.organization))
    queries()  # the first request of the session renews it (portal.middleware.SlidingSessionMiddleware)
    few = queries()
    for _ in range(27):
        claim_in(world, ClaimStatus.SUBMITTED, customer=CustomerFactory(organization=world.organization))

    assert Claim.objects.count() == 30
    assert queries() == few


# --- The wizard -----------------------------------------------------------------------------------


def wizard_url(world: World, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('incentives:claim-new')}?{query}"


DETAILS = {
    "friendly_name": "Northwind Copilot workshop",
    "customer_id_type": "tenant_id",
    "contact_name": "Nora North",
    "contact_email": "nora@northwind.example",
    "estimated_deal_size_usd": "80000",
}


def test_the_wizard_walks_through_the_steps_and_creates_the_claim(bob, bob_client, world):
    step1 = bob_client.get(reverse("incentives:claim-new"))
    assert step1.context["step"] == 1
    step2 = bob_client.get(wizard_url(world, activity=world.fixed.pk, location=world.location.pk))
    assert step2.context["step"] == 2
    url = wizard_url(world, activity=world.fixed.pk, location=world.location.pk, customer=world.customer.pk)
    step3 = bob_client.get(url)
    assert step3.context["step"] == 3
    assert step3.context["eligibility"].eligible
    assert step3.context["payout"].amount_usd == Decimal("5000")

    response = bob_client.post(url, DETAILS)

    claim = Claim.objects.get(friendly_name=DETAILS["friendly_name"])
    assert response.status_code == 302
    assert response["Location"] == reverse("incentives:claim-detail", args=[claim.pk])
    assert claim.customer == world.customer and claim.created_by == bob
    assert claim.potential_payout_usd == Decimal("5000")


def test_the_wizard_starts_from_an_opportunity_and_creates_the_variable_claim(bob_client, world):
    url = wizard_url(
        world, activity=world.variable.pk, location=world.location.pk, opportunity=world.opportunity.pk
    )
    step = bob_client.get(url)
    assert step.context["step"] == 3
    assert step.context["customer"] == world.customer

    bob_client.post(url, DETAILS)

    claim = Claim.objects.get(friendly_name=DETAILS["friendly_name"])
    assert claim.opportunity == world.opportunity
    assert claim.potential_payout_usd == Decimal("50000")


def test_the_wizard_refuses_an_ineligible_customer_naming_every_failed_rule(bob_client, world):
    ActivityType.objects.filter(pk=world.fixed.pk).update(
        customer_segments=[CustomerSegment.EDUCATION], customer_countries=["FR"], min_customer_employees=1000
    )
    claims_before = Claim.objects.count()
    url = wizard_url(world, activity=world.fixed.pk, location=world.location.pk, customer=world.customer.pk)

    shown = bob_client.get(url)
    posted = bob_client.post(url, DETAILS)

    for response in (shown, posted):
        assert response.status_code == 200
        assert response.context["step"] == 2
        codes = {failure.code for failure in response.context["eligibility"].failures}
        assert codes == {"CUSTOMER_SEGMENT", "CUSTOMER_COUNTRY", "CUSTOMER_SIZE"}
        for code in codes:
            assert f'data-code="{code}"'.encode() in response.content
        assert "step3" not in response.context
    assert Claim.objects.count() == claims_before


def test_the_wizard_shows_every_rule_of_a_refusal_by_the_service(bob_client, world):
    # A claim by another partner lands between the check and the submit: claim_create refuses it.
    ClaimFactory(
        activity_type=world.fixed, customer=world.customer, customer_tenant_id=world.customer.tenant_id
    )
    claims_before = Claim.objects.count()
    url = wizard_url(world, activity=world.fixed.pk, location=world.location.pk, customer=world.customer.pk)

    with mock.patch("incentives.views.customer_eligibility", return_value=Eligibility()):
        response = bob_client.post(url, DETAILS)

    assert response.status_code == 200
    assert [failure.code for failure in response.context["refused"]] == ["DUPLICATE_CLAIM"]
    assert b'data-testid="refused"' in response.content
    assert Claim.objects.count() == claims_before


# --- Claim page and actions -----------------------------------------------------------------------


def test_the_claim_page_shows_history_earnings_and_what_to_do(bob, bob_client, world):
    history_record(
        subject=world.claim, actor=bob, from_status="", to_status=ClaimStatus.DRAFT, note="Created."
    )
    earning = EarningFactory(
        organization=world.organization, claim_id=world.claim.claim_id, earning_type=EarningType.REBATE
    )

    response = bob_client.get(reverse("incentives:claim-detail", args=[world.claim.pk]))

    assert b"Send the consent request to the customer contact." in response.content
    assert b'data-testid="consent-request"' in response.content
    assert bob.email.encode() in response.content and b"Created." in response.content
    assert reverse("earnings:earning-detail", args=[earning.pk]).encode() in response.content


def test_the_consent_request_then_the_public_consent_page(bob_client, world):
    Claim.objects.filter(pk=world.claim.pk).update(contact_email="nora@northwind.example")

    response = bob_client.post(
        reverse("incentives:claim-consent-request", args=[world.claim.pk]), follow=True
    )
    link = response.context["consent_url"]
    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.PENDING_CONSENT

    anonymous = Client()
    page = anonymous.get(link)
    assert page.status_code == 200
    assert world.claim.friendly_name.encode() in page.content
    answered = anonymous.post(link, {"decision": "accept", "note": ""})

    assert answered.status_code == 200
    assert b"Thank you" in answered.content
    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.IN_PROGRESS


def test_a_tampered_consent_link_is_refused(client):
    response = client.get(reverse("incentives:consent", args=["not-a-token"]))

    assert response.status_code == 404
    assert b"This consent link is not valid." in response.content


def test_a_proof_of_the_wrong_type_is_refused_with_the_reason(bob_client, world):
    claim = claim_in(
        world, ClaimStatus.IN_PROGRESS, customer=CustomerFactory(organization=world.organization)
    )
    fake = SimpleUploadedFile(
        "invoice.pdf", b"customer,amount\nNorthwind,5000\n", content_type="application/pdf"
    )

    response = bob_client.post(
        reverse("incentives:claim-proof", args=[claim.pk]),
        {"kind": ProofKind.INVOICE, "file": fake},
        follow=True,
    )

    assert messages_of(response) == ["The file is CSV; expected DOCX, JPEG, PDF, PNG, PPTX, XLSX."]
    assert not ProofDocument.objects.filter(claim=claim).exists()
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.IN_PROGRESS


def test_proof_upload_remove_and_submit(bob_client, world):
    claim = claim_in(
        world, ClaimStatus.IN_PROGRESS, customer=CustomerFactory(organization=world.organization)
    )
    proof_url = reverse("incentives:claim-proof", args=[claim.pk])
    for kind in (ProofKind.INVOICE, ProofKind.FINDINGS, ProofKind.POE):
        upload = SimpleUploadedFile(f"{kind}.pdf", PDF, content_type="application/pdf")
        bob_client.post(proof_url, {"kind": kind, "file": upload})
    extra = ProofDocument.objects.get(claim=claim, kind=ProofKind.POE)
    bob_client.post(reverse("incentives:claim-proof-remove", args=[extra.pk]))

    response = bob_client.post(
        reverse("incentives:claim-submit", args=[claim.pk]),
        {"delivered_on": (timezone.localdate() - timedelta(days=2)).isoformat()},
        follow=True,
    )

    assert set(ProofDocument.objects.filter(claim=claim).values_list("kind", flat=True)) == {
        ProofKind.INVOICE,
        ProofKind.FINDINGS,
    }
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED
    assert messages_of(response)[-1] == f"Claim {claim.claim_id} is now Submitted."


def test_a_submit_the_service_refuses_shows_its_message(bob_client, world):
    claim = claim_in(
        world, ClaimStatus.PENDING_POE, customer=CustomerFactory(organization=world.organization)
    )

    response = bob_client.post(
        reverse("incentives:claim-submit", args=[claim.pk]),
        {"delivered_on": date.today().isoformat()},
        follow=True,
    )

    assert any(message.startswith("Proof of execution is missing") for message in messages_of(response))
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.PENDING_POE


def test_cancel(bob_client, world):
    bob_client.post(
        reverse("incentives:claim-cancel", args=[world.claim.pk]), {"note": "Customer postponed."}
    )

    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.CANCELED


def test_outcomes_link_transactions_of_the_same_customer_only(bob_client, world):
    claim = claim_in(
        world, ClaimStatus.APPROVED, customer=world.customer, approved_payout_usd=Decimal("5000")
    )
    own = TransactionFactory(organization=world.organization, customer=world.customer)
    other = TransactionFactory(organization=world.organization)
    url = reverse("incentives:claim-outcomes", args=[claim.pk])

    page = bob_client.get(url)
    assert [tx.pk for tx in page.context["page"].rows] == [own.pk]
    bob_client.post(url, {"transactions": [own.pk, other.pk]})

    assert list(OutcomeLink.objects.filter(claim=claim).values_list("transaction_id", flat=True)) == [own.pk]
