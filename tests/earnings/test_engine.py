"""The payout engine: X1, every ineligible reason, idempotent re-runs, corrections, resumption."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.choices import CustomerSegment
from earnings.choices import (
    AdjustmentReason,
    EarningKind,
    EarningType,
    IneligibleReason,
    PartnerAssociation,
    PartnerRole,
    PaymentStatus,
    TransactionType,
)
from earnings.models import Earning, EarningSummary, IneligibleTransaction
from earnings.services import engine
from earnings.services.engine import payout_run_create, payout_run_execute
from portal.models import JobChunk
from tests.factories import (
    EarningRateFactory,
    EngagementFactory,
    EnrollmentFactory,
    ExchangeRateFactory,
    LeverFactory,
    PartnerLocationFactory,
    ProgramFactory,
    TransactionFactory,
)

FEBRUARY = date(2025, 2, 1)
E3 = "CFQ7TTC0LF8R"


def build_world(organization, *, tax_rate: Decimal = Decimal(0)) -> dict:
    """MCI with a Modern Work engagement (no government customers, 10 USD minimum), a Transact
    lever earning 4 % on M365 E3 from 5 seats, EUR rates around February 2025, and an enrolled
    partner location of `organization`."""
    program = ProgramFactory(payment_lag_months=3)
    engagement = EngagementFactory(
        program=program,
        excluded_segments=[CustomerSegment.GOVERNMENT],
        min_transaction_usd=Decimal("10"),
    )
    lever = LeverFactory(engagement=engagement, partner_role=PartnerRole.TRANSACT)
    rate = EarningRateFactory(lever=lever, product_id=E3, rate=Decimal("0.04"), min_quantity=5)
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 1, 1), rate_to_usd=Decimal("1.0500"))
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 2, 20), rate_to_usd=Decimal("1.0850"))
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 3, 1), rate_to_usd=Decimal("1.2000"))
    location = PartnerLocationFactory(organization=organization)
    enrollment = EnrollmentFactory(
        organization=organization, location=location, program=program, sales_tax_rate=tax_rate
    )
    return {
        "organization": organization,
        "program": program,
        "engagement": engagement,
        "lever": lever,
        "rate": rate,
        "location": location,
        "enrollment": enrollment,
    }


def transaction_for(world: dict, **fields):
    """X1's transaction (3,240.00 EUR, 100 seats of M365 E3 on 2025-02-14) with `fields` changed."""
    fields.setdefault("location", world["location"])
    return TransactionFactory(organization=world["organization"], **fields)


def run(period: date = FEBRUARY, actor=None) -> dict:
    return payout_run_execute(payout_run_create(period=period, actor=actor))


_VOLATILE = {"id", "created_at", "job"}


def ledger_snapshot() -> list[tuple]:
    """Every ledger row with every column but its id, job and timestamps."""
    names = [f.attname for f in Earning._meta.concrete_fields if f.name not in _VOLATILE]
    return list(Earning.objects.order_by("earning_id").values_list(*names))


def ineligible_snapshot() -> list[tuple]:
    return list(
        IneligibleTransaction.objects.order_by("transaction_id", "engagement_id").values_list(
            "transaction__transaction_id", "engagement_id", "program_id", "reason_code", "calculation_date"
        )
    )


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.EARNINGS_PAYOUT_CHUNK_SIZE = 2


@pytest.fixture
def world(org_a):
    return build_world(org_a)


def test_it_computes_x1_exactly(world, alice):
    transaction = transaction_for(world, customer_segment=CustomerSegment.COMMERCIAL)

    result = run(actor=alice)

    earning = Earning.objects.get()
    assert (earning.earning_amount, earning.currency) == (Decimal("129.60"), "EUR")
    assert earning.earning_rate == Decimal("0.04")
    assert earning.earning_exchange_rate == Decimal("1.0850")
    assert earning.exchange_rate_date == date(2025, 2, 20)
    assert earning.earning_amount_usd == Decimal("140.62")
    assert earning.earning_date == date(2025, 2, 28)
    assert earning.calculation_date == timezone.localdate()
    assert earning.estimated_payment_month == date(2025, 5, 1)
    assert earning.payment_status == PaymentStatus.UNPROCESSED
    assert (earning.kind, earning.revision, earning.reason_code) == (EarningKind.EARNING, 1, "")
    assert earning.earning_id == f"E-{transaction.pk}-{world['lever'].pk}-1"
    assert (earning.enrollment, earning.program, earning.engagement, earning.lever) == (
        world["enrollment"],
        world["program"],
        world["engagement"],
        world["lever"],
    )
    assert (earning.customer_id, earning.customer_name, earning.product_id, earning.product_name) == (
        transaction.customer_id,
        transaction.customer_name,
        E3,
        "Microsoft 365 E3",
    )
    assert (earning.solution_area, earning.partner_role) == (transaction.solution_area, PartnerRole.TRANSACT)
    assert earning.created_by == alice
    assert result["earnings"] == 1 and result["ineligible"] == 0
    assert not IneligibleTransaction.objects.exists()
    summary = EarningSummary.objects.get()
    assert (summary.earning_month, summary.earning_count, summary.earning_amount_usd) == (
        FEBRUARY,
        1,
        Decimal("140.62"),
    )


def test_a_usd_transaction_converts_at_one(world):
    transaction_for(
        world,
        transaction_currency="USD",
        transaction_amount=Decimal("1000.00"),
        transaction_exchange_rate=Decimal(1),
        transaction_amount_usd=Decimal("1000.00"),
    )
    run()
    earning = Earning.objects.get()
    assert (earning.earning_amount, earning.earning_amount_usd, earning.earning_exchange_rate) == (
        Decimal("40.00"),
        Decimal("40.00"),
        Decimal(1),
    )


def test_co_op_earnings_have_no_estimated_payment_month(world):
    world["lever"].earning_type = EarningType.COOP
    world["lever"].save()
    transaction_for(world)
    run()
    assert Earning.objects.get().estimated_payment_month is None


def _not_enrolled(world):
    return {"location": PartnerLocationFactory(organization=world["organization"])}


def _ar_overdue(world):
    location = PartnerLocationFactory(organization=world["organization"])
    EnrollmentFactory(
        organization=world["organization"], location=location, program=world["program"], ar_overdue=True
    )
    return {"location": location}


def _enrolled_too_late(world):
    location = PartnerLocationFactory(organization=world["organization"])
    EnrollmentFactory(
        organization=world["organization"],
        location=location,
        program=world["program"],
        enrolled_from=date(2025, 2, 15),
    )
    return {"location": location}


def _wrong_association(world):
    world["lever"].partner_association = PartnerAssociation.RESELLER
    world["lever"].save()
    return {"partner_association": PartnerAssociation.INDIRECT_PROVIDER}


@pytest.mark.parametrize(
    ("reason", "make"),
    [
        (IneligibleReason.CUSTOMER_NOT_ASSOCIATED, lambda w: {"customer": None, "customer_name": "Unknown"}),
        (IneligibleReason.NOT_ENROLLED, _not_enrolled),
        (IneligibleReason.NOT_ENROLLED, _enrolled_too_late),
        (IneligibleReason.AR_OVERDUE, _ar_overdue),
        (IneligibleReason.CUSTOMER_SEGMENT, lambda w: {"customer_segment": CustomerSegment.GOVERNMENT}),
        (IneligibleReason.TRIAL_OR_FREE, lambda w: {"is_trial": True}),
        (
            IneligibleReason.TRIAL_OR_FREE,
            lambda w: {"transaction_amount": Decimal(0), "transaction_amount_usd": Decimal(0)},
        ),
        (IneligibleReason.NOT_POR, lambda w: {"partner_role": PartnerRole.DEPLOY}),
        (IneligibleReason.NOT_POR, _wrong_association),
        (IneligibleReason.PRODUCT_NOT_ELIGIBLE, lambda w: {"product_id": "CFQ7TTC0OTHER"[:12]}),
        (IneligibleReason.BELOW_MIN_SEATS, lambda w: {"quantity": Decimal(4)}),
        (
            IneligibleReason.BELOW_THRESHOLD,
            lambda w: {"transaction_amount": Decimal("9.00"), "transaction_amount_usd": Decimal("9.77")},
        ),
    ],
)
def test_it_records_the_first_rule_a_transaction_fails(world, reason, make):
    transaction = transaction_for(world, **make(world))

    result = run()

    assert not Earning.objects.exists()
    ineligible = IneligibleTransaction.objects.get()
    assert (ineligible.transaction, ineligible.engagement, ineligible.program) == (
        transaction,
        world["engagement"],
        world["program"],
    )
    assert ineligible.reason_code == reason
    assert ineligible.organization == world["organization"]
    assert result["ineligible"] == 1


def test_the_first_failing_rule_wins(world):
    transaction_for(world, customer=None, customer_name="Unknown", is_trial=True, quantity=Decimal(1))
    run()
    assert IneligibleTransaction.objects.get().reason_code == IneligibleReason.CUSTOMER_NOT_ASSOCIATED


def test_a_rate_for_the_customer_segment_beats_the_general_rate(world):
    EarningRateFactory(
        lever=world["lever"], product_id=E3, segment=CustomerSegment.EDUCATION, rate=Decimal("0.06")
    )
    transaction_for(world, customer_segment=CustomerSegment.EDUCATION)
    transaction_for(world, customer_segment=CustomerSegment.COMMERCIAL)
    run()
    assert sorted(Earning.objects.values_list("earning_amount", flat=True)) == [
        Decimal("129.60"),
        Decimal("194.40"),
    ]


def test_refunds_earn_negative_amounts_whatever_their_size(world):
    transaction_for(
        world,
        transaction_type=TransactionType.REFUND,
        transaction_amount=Decimal("-5.00"),
        transaction_amount_usd=Decimal("-5.43"),
        quantity=Decimal(-100),
    )
    run()
    earning = Earning.objects.get()
    assert (earning.earning_amount, earning.earning_amount_usd) == (Decimal("-0.20"), Decimal("-0.22"))


def _mixed_period(world) -> None:
    for amount in ("3240.00", "1000.00", "250.00", "4.00"):
        transaction_for(world, transaction_amount=Decimal(amount), transaction_amount_usd=Decimal(amount))
    transaction_for(world, customer=None, customer_name="Unknown")
    transaction_for(world, is_trial=True)
    transaction_for(world, transaction_date=date(2025, 3, 1))  # another period


def test_a_rerun_of_the_period_changes_nothing(world):
    _mixed_period(world)
    first = run()
    ledger, ineligible = ledger_snapshot(), ineligible_snapshot()

    second = run()

    assert (first["earnings"], first["ineligible"]) == (3, 3)
    assert (second["earnings"], second["adjustments"], second["reversals"]) == (0, 0, 0)
    assert ledger_snapshot() == ledger
    assert ineligible_snapshot() == ineligible
    assert Earning.objects.filter(transaction__transaction_date__month=3).count() == 0


def test_a_changed_rate_writes_one_adjustment_row(world):
    transaction = transaction_for(world)
    run()
    before = ledger_snapshot()
    world["rate"].rate = Decimal("0.05")
    world["rate"].save()

    result = run()

    assert result["adjustments"] == 1
    assert ledger_snapshot()[:1] == before
    adjustment = Earning.objects.get(revision=2)
    assert adjustment.kind == EarningKind.ADJUSTMENT
    assert adjustment.reason_code == AdjustmentReason.INCORRECT_CALCULATION
    assert (adjustment.earning_amount, adjustment.earning_amount_usd) == (Decimal("32.40"), Decimal("35.15"))
    assert adjustment.earning_rate == Decimal("0.05")
    assert adjustment.earning_id == f"E-{transaction.pk}-{world['lever'].pk}-2"
    assert adjustment.estimated_payment_month == date(2025, 5, 1)
    assert "129.60, now 162.00 EUR" in adjustment.note
    totals = Earning.objects.filter(transaction=transaction)
    assert sum(totals.values_list("earning_amount", flat=True)) == Decimal("162.00")
    assert sum(totals.values_list("earning_amount_usd", flat=True)) == Decimal("175.77")
    snapshot = ledger_snapshot()
    assert run()["adjustments"] == 0
    assert ledger_snapshot() == snapshot


def test_a_transaction_made_ineligible_is_reversed_with_the_reason(world):
    transaction = transaction_for(world)
    run()
    world["enrollment"].ar_overdue = True
    world["enrollment"].save()

    result = run()

    assert result["reversals"] == 1
    reversal = Earning.objects.get(revision=2)
    assert reversal.kind == EarningKind.REVERSAL
    assert reversal.reason_code == AdjustmentReason.AR_COMPLIANCE
    assert (reversal.earning_amount, reversal.earning_amount_usd) == (Decimal("-129.60"), Decimal("-140.62"))
    assert sum(Earning.objects.filter(transaction=transaction).values_list("earning_amount", flat=True)) == 0
    assert IneligibleTransaction.objects.get().reason_code == IneligibleReason.AR_OVERDUE
    assert run()["reversals"] == 0
    assert Earning.objects.count() == 2

    # Eligible again: earned once more, as a third row.
    world["enrollment"].ar_overdue = False
    world["enrollment"].save()
    assert run()["adjustments"] == 1
    assert Earning.objects.get(revision=3).earning_amount == Decimal("129.60")
    assert not IneligibleTransaction.objects.exists()


def test_a_refunded_amount_is_reversed(world):
    transaction = transaction_for(world)
    run()
    transaction.transaction_amount = transaction.transaction_amount_usd = Decimal(0)
    transaction.transaction_type = TransactionType.USAGE
    transaction.save()
    run()
    reversal = Earning.objects.get(revision=2)
    assert (reversal.kind, reversal.earning_amount) == (EarningKind.REVERSAL, Decimal("-129.60"))


def test_paid_rows_are_never_edited(world, alice):
    from earnings.services.payments import payment_status_change  # noqa: PLC0415 - payments' own module

    transaction = transaction_for(world)
    run()
    assert run(date(2025, 5, 1))["payments"] == 1
    paid = Earning.objects.get()
    payment = paid.payment
    payment_status_change(payment=payment, to_status=PaymentStatus.IN_PROGRESS, actor=alice)
    payment_status_change(payment=payment, to_status=PaymentStatus.SENT, actor=alice)
    paid_row = ledger_snapshot()
    world["rate"].rate = Decimal("0.03")
    world["rate"].save()

    run()

    assert ledger_snapshot()[:1] == paid_row
    adjustment = Earning.objects.get(revision=2)
    assert (adjustment.earning_amount, adjustment.payment, adjustment.payment_status) == (
        Decimal("-32.40"),
        None,
        PaymentStatus.UNPROCESSED,
    )
    assert Earning.objects.get(transaction=transaction, revision=1).payment_status == PaymentStatus.SENT


def test_an_interrupted_run_resumes_to_the_single_run_result(world, monkeypatch):
    _mixed_period(world)
    job = payout_run_create(period=FEBRUARY, actor=None)
    real = engine.job_run_chunks
    calls = {"n": 0}

    def crash_after_two_chunks(job, chunks):
        def limited():
            for chunk in chunks:
                calls["n"] += 1
                if calls["n"] > 2:
                    raise RuntimeError("worker lost")
                yield chunk

        return real(job, limited())

    monkeypatch.setattr(engine, "job_run_chunks", crash_after_two_chunks)
    with pytest.raises(RuntimeError):
        payout_run_execute(job)
    assert JobChunk.objects.filter(job=job).count() == 2
    bounds = job.parameters["bounds"]
    monkeypatch.setattr(engine, "job_run_chunks", real)
    job.refresh_from_db()

    resumed = payout_run_execute(job)

    job.refresh_from_db()
    assert job.parameters["bounds"] == bounds
    assert JobChunk.objects.filter(job=job).count() == len(bounds) + 3  # + claims + payments + one summary
    resumed_ledger, resumed_ineligible = ledger_snapshot(), ineligible_snapshot()
    Earning.objects.all().delete()
    IneligibleTransaction.objects.all().delete()
    clean = run()
    assert ledger_snapshot() == resumed_ledger
    assert ineligible_snapshot() == resumed_ineligible
    assert {k: v for k, v in resumed.items()} == clean


def test_a_corrected_exchange_rate_adjusts_the_usd_amount_only(world):
    transaction_for(world)
    run()
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 2, 27), rate_to_usd=Decimal("1.1000"))

    assert run()["adjustments"] == 1

    adjustment = Earning.objects.get(revision=2)
    assert (adjustment.earning_amount, adjustment.earning_amount_usd) == (Decimal(0), Decimal("1.94"))
    assert (adjustment.earning_exchange_rate, adjustment.exchange_rate_date) == (
        Decimal("1.1000"),
        date(2025, 2, 27),
    )
