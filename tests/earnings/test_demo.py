"""The earnings demo: quick, deterministic, idempotent, and showing every case a partner meets."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from accounts.demo import ORGANIZATIONS, seed_demo_data
from commerce.demo import commerce_demo_seed
from earnings.choices import EarningKind, IneligibleReason, PaymentStatus
from earnings.demo import earnings_demo_loaded, earnings_demo_seed
from earnings.models import (
    Earning,
    EarningSummary,
    Enrollment,
    ExchangeRate,
    IneligibleTransaction,
    Payment,
    Program,
    Transaction,
)
from incentives.demo import incentives_demo_seed
from portal.models import HistoryEvent

pytestmark = pytest.mark.django_db

#: The rules the payout engine applies, each met by some demo transaction.
REASONS = {
    IneligibleReason.CUSTOMER_NOT_ASSOCIATED,
    IneligibleReason.NOT_ENROLLED,
    IneligibleReason.AR_OVERDUE,
    IneligibleReason.CUSTOMER_SEGMENT,
    IneligibleReason.TRIAL_OR_FREE,
    IneligibleReason.NOT_POR,
    IneligibleReason.PRODUCT_NOT_ELIGIBLE,
    IneligibleReason.BELOW_MIN_SEATS,
    IneligibleReason.BELOW_THRESHOLD,
}


def ledger_state() -> dict:
    return {
        "transactions": sorted(Transaction.objects.values_list("transaction_id", "transaction_amount_usd")),
        "earnings": sorted(Earning.objects.values_list("earning_id", "earning_amount_usd", "payment_status")),
        "ineligible": sorted(
            IneligibleTransaction.objects.values_list("transaction__transaction_id", "reason_code")
        ),
        "payments": sorted(Payment.objects.values_list("payment_id", "status", "earned")),
    }


@pytest.fixture
def seeded(db):
    seed_demo_data(seed=7)
    commerce_demo_seed(seed=7)
    return earnings_demo_seed(seed=7)


def test_the_demo_earns_pays_and_shows_every_ineligible_reason(seeded):
    report = seeded

    assert set(report.ineligible_reasons) >= REASONS
    assert report.payout_runs == 12 and report.earnings > 1000 and report.payments > 10
    assert Program.objects.filter(code__in=["MCI", "COOP"]).count() == 2
    assert ExchangeRate.objects.filter(currency="EUR").count() == 18
    assert {"EUR", "GBP", "JPY"} <= set(ExchangeRate.objects.values_list("currency", flat=True))
    # Commerce's new-commerce subscriptions are billed too.
    assert Transaction.objects.filter(source="commerce").exists()
    # Every organization earns, and the summary cards have rows to read.
    for demo in ORGANIZATIONS:
        assert Earning.objects.filter(
            organization__partner_global_id=demo.partner_global_id, kind=EarningKind.EARNING
        ).exists(), demo.legal_name
    assert EarningSummary.objects.exists()
    assert Earning.objects.filter(earning_type="Co-op", estimated_payment_month__isnull=True).exists()


def test_payments_follow_the_prerequisites_and_one_is_reversed_and_resent(seeded):
    held = Enrollment.objects.get(participant_id="6120001", program__code="MCI")
    no_tax = Enrollment.objects.get(participant_id="5230003", program__code="MCI")
    assert held.hold_payment and not no_tax.tax_profile_ok
    assert not Enrollment.objects.filter(participant_id="8420003").exists()
    for blocked in (held, no_tax):
        assert not Payment.objects.filter(enrollment=blocked).exists()
        assert Earning.objects.filter(enrollment=blocked, payment_status=PaymentStatus.UNPROCESSED).exists()

    statuses = set(Payment.objects.values_list("status", flat=True))
    assert {PaymentStatus.SENT, PaymentStatus.UPCOMING} <= statuses
    resent = Payment.objects.get(pk=HistoryEvent.objects.get(to_status=PaymentStatus.REVERSED).object_id)
    steps = list(
        HistoryEvent.objects.filter(object_id=str(resent.pk))
        .order_by("at", "pk")
        .values_list("to_status", flat=True)
    )
    assert steps == ["In progress", "Sent", "Reversed", "In progress", "Sent"]
    assert resent.status == PaymentStatus.SENT and resent.payment_date is not None
    assert (
        not Earning.objects.filter(payment__status=PaymentStatus.SENT).exclude(payment_status="Sent").exists()
    )


def test_a_second_seed_adds_nothing_and_if_empty_skips_it(seeded):
    before = ledger_state()

    again = earnings_demo_seed(seed=7)

    assert again.created_transactions == 0 and again.payments_sent == 0
    assert ledger_state() == before
    assert earnings_demo_loaded()
    incentives_demo_seed(seed=7)  # so that --if-empty finds every workspace's demo loaded
    before = ledger_state()
    payment_events = HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Payment))
    runs = payment_events.count()
    call_command("seed_demo", "--if-empty", "--quiet")
    assert payment_events.count() == runs
    assert ledger_state() == before
