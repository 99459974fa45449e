"""The summaries the Revenue, Ineligible revenue and top-customers views read: rebuilt from the
ledger, they give the same figures as aggregating it, for every filter they answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import RoleAssignment
from earnings import selectors
from earnings.choices import (
    EarningType,
    IneligibleReason,
    PartnerAssociation,
    PartnerRole,
    SolutionArea,
    TransactionType,
)
from earnings.filters import IneligibleFilterSet, TransactionFilterSet
from earnings.models import CustomerEarningTotal, IneligibleTransaction, Transaction
from earnings.services.summary import summary_rebuild
from portal.roles import Role
from tests.factories import (
    EarningFactory,
    EngagementFactory,
    EnrollmentFactory,
    IneligibleTransactionFactory,
    PartnerLocationFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 15)
AREAS = (SolutionArea.MODERN_WORK, SolutionArea.AZURE_INFRA)


@pytest.fixture
def assessed(org_a):
    """Transactions over three months, two areas, roles and types: some earned (one of them under
    two engagements), some ineligible (one under two engagements for the same reason), Modern
    Work usage, and one not assessed yet; the summaries rebuilt."""
    location = PartnerLocationFactory(organization=org_a)
    enrollment = EnrollmentFactory(organization=org_a, location=location)
    engagements = {area: [EngagementFactory(solution_area=area) for _ in range(2)] for area in AREAS}
    reasons = (IneligibleReason.NOT_ENROLLED, IneligibleReason.BELOW_MIN_SEATS)
    for n in range(18):
        area = AREAS[n % 2]
        transaction = TransactionFactory(
            organization=org_a,
            location=location,
            transaction_date=date(2025, 3 + n % 3, 1 + n),
            solution_area=area,
            partner_role=(PartnerRole.TRANSACT, PartnerRole.DEPLOY)[n // 2 % 2],
            partner_association=(PartnerAssociation.RESELLER, "")[n // 6 % 2],
            transaction_type=(TransactionType.PURCHASE, TransactionType.USAGE)[n // 3 % 2],
            transaction_amount_usd=Decimal(100 + n),
            customer_name=f"Customer {n % 4}",
        )
        if n % 3 == 0:
            for engagement in engagements[area][: 1 + n % 2]:
                EarningFactory(
                    organization=org_a,
                    enrollment=enrollment,
                    transaction=transaction,
                    engagement=engagement,
                    earning_date=transaction.transaction_date,
                    earning_amount_usd=Decimal(10 + n),
                    customer_name=transaction.customer_name,
                )
        elif n % 3 == 1:
            for engagement in engagements[area][: 1 + n % 2]:
                IneligibleTransactionFactory(
                    organization=org_a,
                    transaction=transaction,
                    engagement=engagement,
                    program=engagement.program,
                    reason_code=reasons[n // 4 % 2],
                )
    summary_rebuild([org_a.pk], today=TODAY)
    return location


REVENUE_FILTERS = [
    {},
    {"solutionArea": SolutionArea.AZURE_INFRA},
    {"partnerRole": PartnerRole.DEPLOY, "transactionType": TransactionType.PURCHASE},
    {"partnerAssociation": PartnerAssociation.RESELLER},
    {"transactionMonth": "2025-04"},
    {"eligible": "true"},
    {"eligible": "false", "solutionArea": SolutionArea.AZURE_INFRA},
]


@pytest.mark.parametrize("data", REVENUE_FILTERS)
def test_revenue_totals_are_the_same_from_the_summary_and_the_transactions(bob, assessed, data):
    filterset = TransactionFilterSet(data, queryset=Transaction.objects.visible_to(bob))

    summary = selectors.revenue_page_totals(user=bob, filterset=filterset, source="summary")
    ledger = selectors.revenue_page_totals(user=bob, filterset=filterset, source="ledger")

    assert summary == ledger
    assert summary.eligible_count + summary.ineligible_count > 0


def test_a_revenue_filter_the_summary_cannot_answer_reads_the_transactions(bob, assessed):
    filterset = TransactionFilterSet(
        {"customerName": "Customer 1"}, queryset=Transaction.objects.visible_to(bob)
    )

    with pytest.raises(ValueError):
        selectors.revenue_page_totals(user=bob, filterset=filterset, source="summary")
    assert selectors.revenue_page_totals(user=bob, filterset=filterset) == selectors.revenue_totals(
        filterset.qs
    )


INELIGIBLE_FILTERS = [
    {},
    {"reasonCode": IneligibleReason.NOT_ENROLLED},
    {"solutionArea": SolutionArea.AZURE_INFRA, "partnerRole": PartnerRole.TRANSACT},
    {"transactionMonth": "2025-04"},
]


@pytest.mark.parametrize("data", INELIGIBLE_FILTERS)
def test_ineligible_reasons_are_the_same_from_the_summary_and_the_rows(bob, assessed, data):
    filterset = IneligibleFilterSet(data, queryset=IneligibleTransaction.objects.visible_to(bob))

    summary = selectors.ineligible_page_reasons(user=bob, filterset=filterset, source="summary")
    ledger = selectors.ineligible_page_reasons(user=bob, filterset=filterset, source="ledger")

    assert summary == ledger
    assert summary


def test_top_customers_are_the_same_from_the_summary_and_the_ledger(bob, assessed):
    selection = selectors.earnings_selection(user=bob, data={})

    summary = selectors.top_customers(selection, today=TODAY, source="summary")
    ledger = selectors.top_customers(selection, today=TODAY, source="ledger")

    assert summary == ledger
    assert summary[1] == date(2024, 7, 1) and summary[0]


def test_a_location_scoped_person_gets_top_customers_of_their_own_locations_only(org_a, assessed):
    elsewhere = PartnerLocationFactory(organization=org_a)
    EarningFactory(
        organization=org_a,
        enrollment=EnrollmentFactory(organization=org_a, location=elsewhere),
        earning_date=TODAY,
        earning_amount_usd=Decimal("99999"),
        customer_name="Elsewhere Ltd",
    )
    summary_rebuild([org_a.pk], today=TODAY)
    scoped = UserFactory(organization=org_a)
    RoleAssignment.objects.create(
        organization=org_a, user=scoped, role=Role.INCENTIVES_USER, location=assessed
    )

    customers, _since = selectors.top_customers(
        selectors.earnings_selection(user=scoped, data={}), today=TODAY
    )

    assert not CustomerEarningTotal.objects.visible_to(scoped).exists()
    assert customers and "Elsewhere Ltd" not in {customer.customer_name for customer in customers}


def test_the_pages_show_the_summaries(bob_client, assessed):
    revenue = bob_client.get(reverse("earnings:revenue")).context["totals"]
    reasons = bob_client.get(reverse("earnings:ineligible")).context["reasons"]

    transactions = Transaction.objects.filter(location=assessed)
    assert revenue == selectors.revenue_totals(transactions)
    assert reasons == selectors.ineligible_reasons(IneligibleTransaction.objects.all())


@pytest.fixture
def bob_client(bob, verified_client):
    return verified_client(bob)


def test_an_ineligible_row_carries_its_transactions_date_whoever_writes_it(org_a):
    march = TransactionFactory(organization=org_a, transaction_date=date(2025, 3, 9))
    april = TransactionFactory(organization=org_a, transaction_date=date(2025, 4, 2))
    row = IneligibleTransactionFactory(organization=org_a, transaction=march)

    assert IneligibleTransaction.objects.get(pk=row.pk).transaction_date == date(2025, 3, 9)
    IneligibleTransaction.objects.filter(pk=row.pk).update(transaction=april)
    assert IneligibleTransaction.objects.get(pk=row.pk).transaction_date == date(2025, 4, 2)


def test_a_claims_earning_shows_its_other_revisions(bob_client, org_a):
    enrollment = EnrollmentFactory(organization=org_a)
    first = EarningFactory(
        organization=org_a, enrollment=enrollment, claim_id="CLM-2025-000001", earning_type=EarningType.REBATE
    )
    second = EarningFactory(
        organization=org_a,
        enrollment=enrollment,
        claim_id="CLM-2025-000001",
        earning_type=EarningType.REBATE,
        revision=2,
    )

    response = bob_client.get(reverse("earnings:earning-detail", args=[first.pk]))

    assert response.context["corrections"] == [second]
