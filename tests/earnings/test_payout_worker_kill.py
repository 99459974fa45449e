"""Kill a real Celery worker in the middle of a payout run, start another, and end with exactly
the ledger, ineligible rows, payments and summaries that uninterrupted runs give.

The approach of tests/commerce/test_migration_worker_kill.py. A payout run covers every
organization, so the two runs cannot share the database side by side: the interrupted run goes
first (on a real worker, SIGKILLed after a few chunks, its task redelivered to a second worker),
its end state is recorded, everything the runs wrote is removed, and the same runs are repeated
uninterrupted in this process. Each time a first run of February is followed by a re-run after
a rate change, so the interrupted run writes adjustment rows, not just first earnings.
"""

from __future__ import annotations

import signal
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from earnings.choices import PaymentStatus
from earnings.models import Earning, EarningSummary, IneligibleTransaction, Payment, Transaction
from earnings.services import payout_run_create, payout_run_execute, payout_run_start
from portal.choices import JobStatus
from portal.models import JobChunk, JobRun
from tests.earnings.test_engine import build_world
from tests.factories import CustomerFactory, EarningFactory
from tests.workers import kill_worker, start_worker, wait_for_redelivery, wait_until

TRANSACTIONS = 30_000
CHUNK = 250
FEBRUARY = date(2025, 2, 1)


def _transactions(world: dict) -> None:
    """TRANSACTIONS February transactions, set-based: mostly eligible, with customers missing,
    trials, another partner role, too few seats and refunds spread through them."""
    customers = [CustomerFactory(organization=world["organization"]).pk for _ in range(20)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Transaction._meta.db_table}
                (organization_id, transaction_id, transaction_date, transaction_type, source, location_id,
                 customer_id, customer_name, customer_tenant_id, customer_country, customer_segment,
                 product_id, sku_id, product_name, subscription_id, invoice_number, solution_area,
                 partner_role, partner_association, is_trial, quantity, quantity_type,
                 transaction_currency, transaction_amount, transaction_exchange_rate,
                 transaction_amount_usd, created_at)
            SELECT %(org)s, 'KILL-' || n, date '2025-02-01' + n %% 28,
                   CASE WHEN n %% 19 = 0 THEN 'refund' ELSE 'purchase' END, 'upload', %(location)s,
                   CASE WHEN n %% 17 = 0 THEN NULL ELSE (%(customers)s::bigint[])[1 + n %% 20] END,
                   'Customer ' || n %% 20, '', 'DE', 'commercial', 'CFQ7TTC0LF8R', '', 'Microsoft 365 E3',
                   '', 'INV-' || n, 'Modern Work',
                   CASE WHEN n %% 11 = 0 THEN 'Deploy' ELSE 'Transact' END, '', n %% 13 = 0,
                   CASE WHEN n %% 23 = 0 THEN 2 ELSE 10 + n %% 90 END, 'Billed quantity', 'EUR',
                   (CASE WHEN n %% 19 = 0 THEN -1 ELSE 1 END) * (100 + n %% 5000)::numeric / 7,
                   1.0850,
                   round((CASE WHEN n %% 19 = 0 THEN -1 ELSE 1 END)
                         * (100 + n %% 5000)::numeric / 7 * 1.0850, 2),
                   now()
              FROM generate_series(1, %(n)s) AS n
            """,
            {
                "org": world["organization"].pk,
                "location": world["location"].pk,
                "customers": customers,
                "n": TRANSACTIONS,
            },
        )


def _matured(world: dict) -> None:
    """Earnings of earlier months due in February: the run's payment step pays them."""
    for amount in ("400.00", "250.50"):
        EarningFactory(
            organization=world["organization"],
            enrollment=world["enrollment"],
            program=world["program"],
            earning_amount=Decimal(amount),
            earning_amount_usd=Decimal(amount),
            earning_date=date(2024, 11, 30),
            estimated_payment_month=FEBRUARY,
        )


def _state() -> dict:
    earnings = [
        f.attname
        for f in Earning._meta.concrete_fields
        if f.name not in {"id", "created_at", "job", "payment"}
    ]
    payments = [
        f.attname for f in Payment._meta.concrete_fields if f.name not in {"id", "created_at", "updated_at"}
    ]
    summary = [f.attname for f in EarningSummary._meta.concrete_fields if f.name != "id"]
    return {
        "earnings": list(
            Earning.objects.order_by("earning_id").values_list(*earnings, "payment__payment_id")
        ),
        "ineligible": list(
            IneligibleTransaction.objects.order_by("transaction_id", "engagement_id").values_list(
                "transaction_id", "engagement_id", "reason_code", "calculation_date"
            )
        ),
        "payments": list(Payment.objects.order_by("payment_id").values_list(*payments)),
        "summary": sorted(EarningSummary.objects.values_list(*summary)),
    }


def _reset(world: dict) -> None:
    """Back to the state before the first run: no run output, the original rate."""
    Earning.objects.filter(job__isnull=False).delete()
    Earning.objects.update(payment=None, payment_status=PaymentStatus.UNPROCESSED)
    Payment.objects.all().delete()
    IneligibleTransaction.objects.all().delete()
    EarningSummary.objects.all().delete()
    _set_rate(world, "0.04")


def _set_rate(world: dict, rate: str) -> None:
    world["rate"].rate = Decimal(rate)
    world["rate"].save()


def _result(job_id: int) -> dict:
    return JobRun.objects.get(pk=job_id).result


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_the_payout_run_to_the_uninterrupted_result(org_a, alice, settings):
    from portal.celery import app  # noqa: PLC0415 - the conftest made it eager; this test needs the broker

    app.conf.task_always_eager = False
    settings.EARNINGS_PAYOUT_CHUNK_SIZE = CHUNK
    app.control.purge()
    world = build_world(org_a)
    _transactions(world)
    _matured(world)
    chunks = -(-TRANSACTIONS // CHUNK)

    payout_run_execute(payout_run_create(period=FEBRUARY, actor=alice))
    _set_rate(world, "0.05")
    first = start_worker("first")
    try:
        job = payout_run_start(period=FEBRUARY, actor=alice)
        wait_until(lambda: JobRun.objects.get(pk=job.pk).done >= 3 * CHUNK, 120, "the first chunks")
    finally:
        kill_worker(first)
    killed_at = JobRun.objects.get(pk=job.pk).done
    assert 0 < killed_at < TRANSACTIONS, "the worker must die mid-run"
    wait_for_redelivery()
    second = start_worker("second")
    try:
        wait_until(
            lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, 240, "the resumed run"
        )
    finally:
        kill_worker(second, signal.SIGTERM)
    resumed, resumed_result = _state(), _result(job.pk)
    resumed_job = JobRun.objects.get(pk=job.pk)

    _reset(world)
    payout_run_execute(payout_run_create(period=FEBRUARY, actor=alice))
    _set_rate(world, "0.05")
    reference_job = payout_run_create(period=FEBRUARY, actor=alice)
    payout_run_execute(reference_job)

    assert resumed == _state()
    assert resumed_result == _result(reference_job.pk)
    assert (resumed_job.done, resumed_job.total) == (TRANSACTIONS, TRANSACTIONS)
    assert JobChunk.objects.filter(job=resumed_job).count() == chunks + 3  # + claims + payments + one summary
    # Exactly once: one adjustment per earning of the first run, no first earnings written twice.
    adjustments, earned = resumed_result["adjustments"], _result(reference_job.pk)["adjustments"]
    assert adjustments == earned > TRANSACTIONS // 2
    assert resumed_result["earnings"] == 0
    assert len(resumed["payments"]) == 1
    assert {row[-1] for row in resumed["earnings"] if row[-1]} == {resumed["payments"][0][1]}
