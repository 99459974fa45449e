"""The Earnings pages' read side: summary and ledger give the same figures, whatever the filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from earnings import selectors
from earnings.choices import IneligibleReason, PartnerRole, PaymentStatus, SolutionArea, TransactionType
from earnings.models import (
    Earning,
    Engagement,
    Enrollment,
    IneligibleTransaction,
    Payment,
    Program,
    Transaction,
)
from earnings.periods import add_months, month_start
from earnings.services.summary import summary_rebuild
from portal.paging import keyset_page
from tests.factories import (
    EarningFactory,
    EngagementFactory,
    EnrollmentFactory,
    IneligibleTransactionFactory,
    LeverFactory,
    PartnerLocationFactory,
    PaymentFactory,
    ProgramFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 15)
FIRST_MONTH = date(2025, 1, 1)
ROLES = (PartnerRole.TRANSACT, PartnerRole.DEPLOY)


@dataclass
class Ledger:
    program: Program
    enrollment: Enrollment
    engagements: list[Engagement]
    payment: Payment
    earnings: list[Earning]


def build_ledger(organization, rows: int, *, location=None) -> Ledger:
    """`rows` earnings over January–June 2025 under two engagements (Modern Work, Azure
    Infrastructure) × two roles, seven customers; the May rows are paid; summary rebuilt."""
    location = location or PartnerLocationFactory(organization=organization)
    program = ProgramFactory()
    enrollment = EnrollmentFactory(organization=organization, location=location, program=program)
    engagements = [
        EngagementFactory(program=program, solution_area=SolutionArea.MODERN_WORK, name="CSP Core"),
        EngagementFactory(program=program, solution_area=SolutionArea.AZURE_INFRA, name="Azure Core"),
    ]
    levers = {
        (engagement.pk, role): LeverFactory(engagement=engagement, partner_role=role, name=f"{role} core")
        for engagement in engagements
        for role in ROLES
    }
    payment = PaymentFactory(
        organization=organization,
        enrollment=enrollment,
        payment_month=date(2025, 5, 1),
        status=PaymentStatus.SENT,
        earned_usd=Decimal("500.00"),
    )
    built = []
    for i in range(rows):
        engagement = engagements[i % 2]
        role = ROLES[(i // 2) % 2]
        earning_date = add_months(FIRST_MONTH, (i // 4) % 6) + timedelta(days=i % 27)
        payment_month = add_months(month_start(earning_date), 3)
        paid = payment_month == payment.payment_month
        built.append(
            EarningFactory.build(
                organization=organization,
                enrollment=enrollment,
                program=program,
                engagement=engagement,
                lever=levers[(engagement.pk, role)],
                solution_area=engagement.solution_area,
                partner_role=role,
                earning_date=earning_date,
                calculation_date=earning_date + timedelta(days=18),
                estimated_payment_month=payment_month,
                earning_amount=Decimal(10 + i) + Decimal("0.25"),
                earning_amount_usd=Decimal(11 + i) + Decimal("0.37"),
                customer_name=f"Customer {i % 7}",
                product_name=("Microsoft 365 E3", "Azure plan")[i % 2],
                payment=payment if paid else None,
                payment_status=PaymentStatus.SENT if paid else PaymentStatus.UNPROCESSED,
            )
        )
    Earning.objects.bulk_create(built)
    summary_rebuild([organization.pk], today=TODAY)
    return Ledger(program, enrollment, engagements, payment, built)


def ledger_sum(user, **lookups) -> Decimal:
    return Earning.objects.visible_to(user).filter(**lookups).aggregate(s=Sum("earning_amount_usd"))["s"]


@pytest.fixture
def ledger(org_a):
    return build_ledger(org_a, 40)


SUMMARY_FILTERS = [
    {},
    {"solutionArea": SolutionArea.AZURE_INFRA},
    {
        "solutionArea": SolutionArea.MODERN_WORK,
        "partnerRole": PartnerRole.DEPLOY,
        "estimatedPaymentMonth": "2025-04",
    },
    {"engagementName": "Azure Core", "lever": "Transact core"},
    {"paymentStatus": PaymentStatus.SENT},
    {"earningType": "Rebate", "partnerAssociation": ""},
    {"earningDateFrom": "2025-02-01", "earningDateTo": "2025-04-30"},
]


@pytest.mark.parametrize("data", SUMMARY_FILTERS)
def test_it_answers_summary_filters_from_the_summary_with_the_ledgers_totals(bob, ledger, data):
    data = dict(data, programName=ledger.program.name, participantId=ledger.enrollment.participant_id)
    selection = selectors.earnings_selection(user=bob, data=data)

    summary = selectors.earnings_total(selection, source="summary")
    ledger_path = selectors.earnings_total(selection, source="ledger")

    assert summary[0] == "summary" and ledger_path[0] == "ledger"
    assert summary[1:] == ledger_path[1:]
    assert summary[1] == selection.ledger.aggregate(s=Sum("earning_amount_usd"))["s"]
    assert summary[2] == selection.ledger.count() > 0
    assert selectors.earnings_total(selection)[0] == "summary"


@pytest.mark.parametrize(
    "data",
    [
        {"customerName": "Customer 3"},
        {"productId": "CFQ7TTC0LF8R"},
        {"q": "Customer 1"},
        {"kind": "earning"},
        {"earningDateFrom": "2025-02-10"},
        {"earningDateTo": "2025-04-15"},
    ],
)
def test_it_aggregates_the_ledger_when_a_filter_is_not_a_summary_dimension(bob, ledger, data):
    selection = selectors.earnings_selection(user=bob, data=data)

    source, total, rows, capped = selectors.earnings_total(selection)

    assert source == "ledger"
    assert total == selection.ledger.aggregate(s=Sum("earning_amount_usd"))["s"]
    assert (rows, capped) == (selection.ledger.count(), False)
    with pytest.raises(ValueError):
        selectors.earnings_total(selection, source="summary")


def test_the_row_count_stops_at_the_cap_on_the_ledger_path(bob, ledger, monkeypatch):
    monkeypatch.setattr(selectors.ledger, "COUNT_CAP", 5)
    selection = selectors.earnings_selection(user=bob, data={"q": "Customer"})

    assert selectors.earnings_total(selection)[2:] == (5, True)


def test_month_cards_ignore_the_time_filter_and_hide_empty_months(bob, ledger):
    selection = selectors.earnings_selection(
        user=bob, data={"earningDateTo": "2025-01-31", "solutionArea": SolutionArea.AZURE_INFRA}
    )

    cards = selectors.earnings_cards(selection, today=TODAY)

    june = ledger_sum(bob, earning_date__gte=date(2025, 6, 1), solution_area=SolutionArea.AZURE_INFRA)
    may = ledger_sum(bob, earning_date__range=(date(2025, 5, 1), date(2025, 5, 31)), solution_area="Infra")
    assert cards.current_month == selectors.MonthTotal(date(2025, 6, 1), june)
    assert cards.previous_month == selectors.MonthTotal(date(2025, 5, 1), may)
    assert cards.total_usd == ledger_sum(bob, earning_date__lt=date(2025, 2, 1), solution_area="Infra")
    later = selectors.earnings_cards(selection, today=date(2026, 3, 1))
    assert later.current_month is None and later.previous_month is None


def test_month_cards_give_the_same_figures_on_both_paths(bob, ledger):
    months = [date(2025, 5, 1), date(2025, 6, 1)]
    selection = selectors.earnings_selection(user=bob, data={"partnerRole": PartnerRole.DEPLOY})

    assert selectors.month_totals(selection, months=months, source="summary") == selectors.month_totals(
        selection, months=months, source="ledger"
    )


def test_payment_cards_apply_only_the_payment_filters(bob, ledger, org_a):
    PaymentFactory(organization=org_a, enrollment=ledger.enrollment, payment_month=date(2025, 6, 1))
    everything = selectors.earnings_cards(selectors.earnings_selection(user=bob, data={}), today=TODAY)
    by_area = selectors.earnings_cards(
        selectors.earnings_selection(user=bob, data={"solutionArea": SolutionArea.AZURE_INFRA}), today=TODAY
    )
    by_month = selectors.earnings_cards(
        selectors.earnings_selection(user=bob, data={"estimatedPaymentMonth": "2025-05"}), today=TODAY
    )

    assert everything.payments_total_usd == Decimal("500.00") + Decimal("140.62")
    assert by_area.payments_total_usd == everything.payments_total_usd
    assert by_month.payments_total_usd == Decimal("500.00")
    assert everything.payments_as_of is not None


def test_as_of_is_the_calculation_date_of_the_newest_earning(bob, ledger):
    newest = max(ledger.earnings, key=lambda earning: (earning.earning_date, earning.pk))

    assert selectors.earnings_as_of(user=bob) == newest.calculation_date


def test_the_chart_stacks_levers_per_month_and_adds_up_to_the_total(bob, ledger):
    selection = selectors.earnings_selection(user=bob, data={"solutionArea": SolutionArea.MODERN_WORK})

    chart = selectors.earnings_chart(selection, today=TODAY)

    assert chart.months == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert set(chart.series) == {"Transact core", "Deploy core"}
    charted = sum(Decimal(value) for values in chart.series.values() for value in values)
    assert charted == selectors.earnings_total(selection)[1]
    ledger_chart = selectors.earnings_chart(
        selectors.earnings_selection(user=bob, data={"solutionArea": "Modern Work", "kind": "earning"}),
        today=TODAY,
    )
    assert ledger_chart == chart


def test_top_customers_are_ordered_by_what_they_earned(bob, ledger):
    selection = selectors.earnings_selection(user=bob, data={"estimatedPaymentMonth": "2025-05"})

    customers, since = selectors.top_customers(selection, today=TODAY)

    expected = {}
    for earning in ledger.earnings:
        if earning.estimated_payment_month == date(2025, 5, 1):
            expected[earning.customer_name] = (
                expected.get(earning.customer_name, 0) + earning.earning_amount_usd
            )
    assert since is None
    assert [(c.customer_name, c.amount_usd) for c in customers] == sorted(
        expected.items(), key=lambda item: (-item[1], item[0])
    )


def test_top_customers_without_a_period_look_at_recent_months(bob, ledger):
    customers, since = selectors.top_customers(selectors.earnings_selection(user=bob, data={}), today=TODAY)

    assert since == date(2024, 7, 1)
    assert sum(c.amount_usd for c in customers) == ledger_sum(bob, earning_date__gte=since)


def test_keyset_pages_continue_after_the_cursor_without_overlap(bob, ledger):
    base = Earning.objects.visible_to(bob)
    first = keyset_page(base, field_name="earning_date", after=None, size=15)
    second = keyset_page(base, field_name="earning_date", after=first.next_cursor, size=15)
    third = keyset_page(base, field_name="earning_date", after=second.next_cursor, size=15)

    ids = [row.pk for page in (first, second, third) for row in page.rows]
    assert ids == list(base.order_by("-earning_date", "-id").values_list("pk", flat=True))
    assert third.next_cursor is None and first.first and not second.first
    assert keyset_page(base, field_name="earning_date", after="junk").first


def test_revenue_counts_each_transaction_once_and_leaves_out_modern_work_usage(bob, org_a, ledger):
    earned = TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("100.00"))
    for lever_engagement in ledger.engagements:
        EarningFactory(
            organization=org_a, enrollment=ledger.enrollment, transaction=earned, engagement=lever_engagement
        )
    parked = TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("40.00"))
    for engagement in ledger.engagements:
        IneligibleTransactionFactory(organization=org_a, transaction=parked, engagement=engagement)
    usage = TransactionFactory(
        organization=org_a,
        transaction_type=TransactionType.USAGE,
        solution_area=SolutionArea.MODERN_WORK,
        transaction_amount_usd=Decimal("7.00"),
    )
    IneligibleTransactionFactory(organization=org_a, transaction=usage)
    TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("9.00"))  # not assessed yet

    totals = selectors.revenue_totals(Transaction.objects.visible_to(bob))

    assert totals == selectors.RevenueTotals(Decimal("100.00"), 1, Decimal("40.00"), 1)


def test_ineligible_reasons_sum_distinct_transactions_per_reason(bob, org_a):
    parked = TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("40.00"))
    other = TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("2.50"))
    for _ in range(2):
        IneligibleTransactionFactory(organization=org_a, transaction=parked)
    IneligibleTransactionFactory(
        organization=org_a, transaction=other, reason_code=IneligibleReason.CUSTOMER_NOT_ASSOCIATED
    )

    reasons = selectors.ineligible_reasons(IneligibleTransaction.objects.visible_to(bob))

    assert reasons == [
        selectors.ReasonTotal(
            "PRODUCT_NOT_ELIGIBLE", IneligibleReason.PRODUCT_NOT_ELIGIBLE.label, 1, Decimal("40.00")
        ),
        selectors.ReasonTotal(
            "CUSTOMER_NOT_ASSOCIATED", IneligibleReason.CUSTOMER_NOT_ASSOCIATED.label, 1, Decimal("2.50")
        ),
    ]


def test_the_remittance_sums_the_payments_earnings_per_currency(ledger):
    paid = [e for e in ledger.earnings if e.payment_id]

    lines = selectors.remittance(ledger.payment)

    assert [(line.currency, line.amount, line.amount_usd, line.earning_count) for line in lines] == [
        ("EUR", sum(e.earning_amount for e in paid), sum(e.earning_amount_usd for e in paid), len(paid))
    ]
