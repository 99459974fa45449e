"""Payments of the payout run (threshold, holds, tax, co-op, currencies) and their statuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from earnings.choices import AdjustmentReason, EarningKind, EarningType, PaymentStatus
from earnings.models import Earning, EarningSummary, Payment
from earnings.services import adjustment_create, hold_set, payment_status_change
from portal.history import history_for
from portal.models import AuditEvent, WebhookDelivery
from tests.earnings.test_engine import build_world, run
from tests.factories import EarningFactory, EnrollmentFactory, WebhookEndpointFactory

MAY, JUNE, JULY = date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)


def earning(enrollment, amount: str, *, usd: str | None = None, month: date | None = MAY, **fields):
    return EarningFactory(
        organization=enrollment.organization,
        enrollment=enrollment,
        program=enrollment.program,
        earning_amount=Decimal(amount),
        earning_amount_usd=Decimal(usd or amount),
        estimated_payment_month=month,
        **fields,
    )


@pytest.fixture
def world(org_a):
    return build_world(org_a, tax_rate=Decimal("0.19"))


@pytest.fixture
def enrollment(world):
    return world["enrollment"]


def test_x3_cash_earnings_are_paid_with_sales_tax_and_co_op_is_not(enrollment):
    rebate = earning(enrollment, "129.60", usd="140.62")
    claim = earning(enrollment, "2700.00", usd="2929.50", claim_id="CLM-1")
    coop = earning(enrollment, "1800.00", month=None, earning_type=EarningType.COOP)

    result = run(MAY)

    payment = Payment.objects.get()
    assert result["payments"] == 1 and result["paid_earnings"] == 2
    assert (payment.payment_month, payment.currency, payment.status) == (MAY, "EUR", PaymentStatus.UPCOMING)
    assert (payment.earned, payment.earned_usd) == (Decimal("2829.60"), Decimal("3070.12"))
    assert (payment.sales_tax, payment.service_fee_tax) == (Decimal("537.62"), Decimal(0))
    assert payment.total_payment == Decimal("3367.22")
    assert payment.payment_id == f"P-2505-{enrollment.pk}-EUR"
    assert (payment.enrollment, payment.program, payment.organization) == (
        enrollment,
        enrollment.program,
        enrollment.organization,
    )
    for row in (rebate, claim):
        row.refresh_from_db()
        assert (row.payment, row.payment_status) == (payment, PaymentStatus.UPCOMING)
    coop.refresh_from_db()
    assert (coop.payment, coop.payment_status) == (None, PaymentStatus.UNPROCESSED)
    statuses = dict(
        EarningSummary.objects.filter(organization=enrollment.organization).values_list(
            "payment_status", "earning_count"
        )
    )
    assert statuses == {PaymentStatus.UPCOMING: 2, PaymentStatus.UNPROCESSED: 1}


def test_earnings_not_yet_due_wait_for_their_month(enrollment):
    earning(enrollment, "100.00", month=JUNE)
    run(MAY)
    assert not Payment.objects.exists()
    run(JUNE)
    assert Payment.objects.get().payment_month == JUNE


def test_a_sum_below_the_program_minimum_waits(enrollment):
    enrollment.program.min_payment_usd = Decimal("50")
    enrollment.program.save()
    earning(enrollment, "40.00")
    assert run(MAY)["payments"] == 0
    earning(enrollment, "20.00", month=JUNE)
    run(JUNE)
    assert Payment.objects.get().earned == Decimal("60.00")


def test_a_net_negative_balance_is_not_paid(enrollment):
    earning(enrollment, "40.00")
    earning(enrollment, "-60.00", kind=EarningKind.REVERSAL, reason_code=AdjustmentReason.OPERATIONAL)
    assert run(MAY)["payments"] == 0


def test_x4_a_hold_keeps_earnings_unprocessed_until_lifted(enrollment, alice):
    hold_set(enrollment=enrollment, hold=True, actor=alice)
    june = earning(enrollment, "4100.00", month=JUNE, currency="USD")

    assert run(JUNE)["payments"] == 0
    june.refresh_from_db()
    assert (june.payment, june.payment_status) == (None, PaymentStatus.UNPROCESSED)

    hold_set(enrollment=enrollment, hold=False, actor=alice)
    run(JULY)
    payment = Payment.objects.get()
    assert (payment.payment_month, payment.earned_usd) == (JULY, Decimal("4100.00"))
    assert AuditEvent.objects.filter(action__startswith="earnings.enrollment.hold").count() == 2


@pytest.mark.parametrize("blocker", ["bank_profile_ok", "tax_profile_ok"])
def test_an_unvalidated_profile_blocks_the_payment(enrollment, blocker):
    setattr(enrollment, blocker, False)
    enrollment.save()
    earning(enrollment, "100.00")
    assert run(MAY)["payments"] == 0


def test_each_currency_is_its_own_payment(enrollment, org_b):
    earning(enrollment, "100.00", usd="108.50")
    earning(enrollment, "50.00", currency="USD")
    other = EnrollmentFactory(organization=org_b)
    earning(other, "70.00")

    run(MAY)

    payments = set(Payment.objects.values_list("enrollment_id", "currency", "earned"))
    assert payments == {
        (enrollment.pk, "EUR", Decimal("100.00")),
        (enrollment.pk, "USD", Decimal("50.00")),
        (other.pk, "EUR", Decimal("70.00")),
    }


def test_a_rerun_of_the_payment_month_creates_nothing_more(enrollment):
    earning(enrollment, "100.00")
    run(MAY)
    earning(enrollment, "30.00")
    assert run(MAY)["payments"] == 0
    assert Payment.objects.get().earned == Decimal("100.00")
    assert run(JUNE)["payments"] == 1


def test_a_transaction_earning_is_paid_in_its_estimated_month(world):
    from tests.earnings.test_engine import transaction_for  # noqa: PLC0415

    transaction_for(world)
    run(date(2025, 2, 1))
    assert run(date(2025, 4, 1))["payments"] == 0
    run(MAY)
    payment = Payment.objects.get()
    assert (payment.earned, payment.earned_usd, payment.sales_tax) == (
        Decimal("129.60"),
        Decimal("140.62"),
        Decimal("24.62"),
    )


@pytest.fixture
def payment(enrollment):
    earning(enrollment, "1250.00", currency="USD")
    run(MAY)
    return Payment.objects.get()


def test_x5_a_reversed_payment_is_resent(payment, alice):
    WebhookEndpointFactory(organization=payment.organization, events=["earnings.payment.status_changed"])
    for status in (
        PaymentStatus.IN_PROGRESS,
        PaymentStatus.SENT,
        PaymentStatus.REVERSAL_IN_PROGRESS,
        PaymentStatus.REVERSED,
        PaymentStatus.IN_PROGRESS,
        PaymentStatus.SENT,
    ):
        payment = payment_status_change(payment=payment, to_status=status, actor=alice, note="bank")

    payment.refresh_from_db()
    assert (payment.status, payment.payment_date) == (PaymentStatus.SENT, timezone.localdate())
    assert set(payment.earnings.values_list("payment_status", flat=True)) == {PaymentStatus.SENT}
    steps = [(event.from_status, event.to_status) for event in history_for(payment).order_by("at", "id")]
    assert steps == [
        ("Upcoming", "In progress"),
        ("In progress", "Sent"),
        ("Sent", "Reversal in progress"),
        ("Reversal in progress", "Reversed"),
        ("Reversed", "In progress"),
        ("In progress", "Sent"),
    ]
    assert AuditEvent.objects.filter(action="earnings.payment.status_changed").count() == 6
    assert WebhookDelivery.objects.filter(event="earnings.payment.status_changed").count() == 6
    assert EarningSummary.objects.get().payment_status == PaymentStatus.SENT


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], PaymentStatus.SENT),
        ([], PaymentStatus.UNPROCESSED),
        ([PaymentStatus.IN_PROGRESS, PaymentStatus.SENT], PaymentStatus.UPCOMING),
        ([PaymentStatus.IN_PROGRESS, PaymentStatus.SENT], PaymentStatus.FAILED),
        ([PaymentStatus.TAX_INVOICE_PENDING], PaymentStatus.SENT),
    ],
)
def test_illegal_transitions_are_refused(payment, alice, path, illegal):
    for status in path:
        payment_status_change(payment=payment, to_status=status, actor=alice)
    payment.refresh_from_db()
    before = payment.status

    with pytest.raises(ValidationError, match="cannot move"):
        payment_status_change(payment=payment, to_status=illegal, actor=alice)

    payment.refresh_from_db()
    assert payment.status == before
    assert set(payment.earnings.values_list("payment_status", flat=True)) == {before}


def test_a_manual_adjustment_is_booked_and_paid_with_the_next_run(enrollment, alice):
    original = earning(enrollment, "100.00", usd="108.50")
    today = timezone.localdate()

    row = adjustment_create(
        enrollment=enrollment,
        amount=Decimal("-25.00"),
        currency="EUR",
        reason_code=AdjustmentReason.POLICY_EXCEPTION,
        note="Duplicate claim",
        actor=alice,
        earning=original,
    )

    assert (row.kind, row.reason_code, row.earning_amount) == (
        EarningKind.ADJUSTMENT,
        AdjustmentReason.POLICY_EXCEPTION,
        Decimal("-25.00"),
    )
    assert (row.transaction, row.product_id, row.customer) == (None, "", None)
    assert row.estimated_payment_month == today.replace(day=1)
    assert row.created_by == alice
    run(today.replace(day=1))
    assert Payment.objects.get().earned == Decimal("75.00")


def test_an_adjustment_with_an_unknown_reason_is_refused(enrollment, alice):
    with pytest.raises(ValidationError) as error:
        adjustment_create(
            enrollment=enrollment,
            amount=Decimal("10"),
            currency="EUR",
            reason_code="Because",
            note="x",
            actor=alice,
        )
    assert "reason_code" in error.value.message_dict
    assert not Earning.objects.exists()
