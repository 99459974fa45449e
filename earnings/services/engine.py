"""The payout run: transactions of a month → earnings, ineligible rows, payments, summaries.

A run for period P (spec/earnings.md §3–§5, §8) is a `JobRun` in chunks, each committed once by
`portal.jobs.job_run_chunks`:

1. one chunk per range of transaction ids dated in P: every transaction × engagement of its
   solution area in force on its date is assessed in SQL; the first failed rule is recorded as an
   `IneligibleTransaction`, and for each (transaction, lever) the ledger is brought to what the
   rules give now: a first earning row, or ONE adjustment or reversal row for the difference;
2. one chunk "claims": approved Incentives claims of P or before become earnings, or ONE
   adjustment per earning type when their payout changed (the workspaces answering
   `earnings.signals.payout_run_earnings_due`, e.g. Incentives);
3. one chunk "payments": the due, unblocked Unprocessed earnings become payment orders;
4. one chunk per organization touched: its `EarningSummary` rows of the months that changed.

Every chunk is a few INSERT … SELECT statements, never a loop over rows. Replays are no-ops: a
committed chunk is skipped by its marker, and rows are unique per (transaction, lever,
revision) and per (enrollment, payment month, currency), written with ON CONFLICT DO NOTHING.
The chunk boundaries and the calculation date are stored in the job's parameters on the first
attempt, so a resumed run works on exactly the ranges it started with.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from earnings.choices import AdjustmentReason, EarningKind, EarningType, IneligibleReason, PaymentStatus
from earnings.models import (
    Earning,
    EarningRate,
    Engagement,
    Enrollment,
    ExchangeRate,
    IneligibleTransaction,
    Lever,
    Payment,
    Program,
    Transaction,
)
from earnings.periods import format_month, month_end, month_start, parse_month
from earnings.services.summary import summary_rebuild
from earnings.signals import payout_run_earnings_due
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start

__all__ = (
    "JOB_KIND_PAYOUT_RUN",
    "payout_run_create",
    "payout_run_execute",
    "payout_run_start",
)

JOB_KIND_PAYOUT_RUN = "earnings.payout_run"

_TABLES = {
    "transaction": Transaction,
    "engagement": Engagement,
    "program": Program,
    "enrollment": Enrollment,
    "lever": Lever,
    "rate": EarningRate,
    "fx": ExchangeRate,
    "earning": Earning,
    "ineligible": IneligibleTransaction,
    "payment": Payment,
}
T = {name: model._meta.db_table for name, model in _TABLES.items()}

#: The corrections' reason (spec §4.2), by why the transaction no longer earns what it did.
_CORRECTION_REASON = f"""
    CASE a.reason
        WHEN '{IneligibleReason.AR_OVERDUE}' THEN '{AdjustmentReason.AR_COMPLIANCE}'
        WHEN '{IneligibleReason.NOT_ENROLLED}' THEN '{AdjustmentReason.INCORRECT_ENROLLMENT}'
        ELSE '{AdjustmentReason.INCORRECT_CALCULATION}'
    END"""

# Candidates of a chunk and the first rule each fails (NULL: eligible), in the order of the
# brief: customer, enrollment, AR compliance, segment, trial/free, partner of record, product,
# seats, threshold. Refunds and reversals (negative amounts) skip the threshold; seats compare
# by size so a refund of 100 seats is not "below the minimum".
ASSESSED_SQL = f"""
assessed AS MATERIALIZED (
    SELECT t.id AS transaction_id, t.organization_id, t.transaction_date, t.transaction_amount,
           t.transaction_currency, t.transaction_exchange_rate, t.customer_id, t.customer_name,
           t.product_id, t.product_name,
           t.solution_area, t.partner_role, t.partner_association,
           g.id AS engagement_id, g.program_id, p.payment_lag_months,
           en.id AS enrollment_id, l.id AS lever_id, l.earning_type, r.rate,
           CASE
               WHEN t.customer_id IS NULL THEN '{IneligibleReason.CUSTOMER_NOT_ASSOCIATED}'
               WHEN en.id IS NULL THEN '{IneligibleReason.NOT_ENROLLED}'
               WHEN en.ar_overdue THEN '{IneligibleReason.AR_OVERDUE}'
               WHEN t.customer_segment <> '' AND t.customer_segment = ANY (g.excluded_segments)
                   THEN '{IneligibleReason.CUSTOMER_SEGMENT}'
               WHEN t.is_trial OR (t.transaction_amount = 0 AND t.transaction_type = 'purchase')
                   THEN '{IneligibleReason.TRIAL_OR_FREE}'
               WHEN l.id IS NULL OR (l.partner_association <> ''
                                     AND l.partner_association <> t.partner_association)
                   THEN '{IneligibleReason.NOT_POR}'
               WHEN r.rate IS NULL THEN '{IneligibleReason.PRODUCT_NOT_ELIGIBLE}'
               WHEN abs(t.quantity) < r.min_quantity THEN '{IneligibleReason.BELOW_MIN_SEATS}'
               WHEN t.transaction_amount >= 0 AND t.transaction_amount_usd < g.min_transaction_usd
                   THEN '{IneligibleReason.BELOW_THRESHOLD}'
           END AS reason
      FROM {T["transaction"]} t
      JOIN {T["engagement"]} g
        ON g.solution_area = t.solution_area AND g.starts_on <= t.transaction_date
       AND (g.ends_on IS NULL OR g.ends_on >= t.transaction_date)
      JOIN {T["program"]} p
        ON p.id = g.program_id AND p.starts_on <= t.transaction_date
       AND (p.ends_on IS NULL OR p.ends_on >= t.transaction_date)
      LEFT JOIN LATERAL (
            SELECT e.id, e.ar_overdue FROM {T["enrollment"]} e
             WHERE e.location_id = t.location_id AND e.program_id = g.program_id
               AND e.enrolled_from <= t.transaction_date
               AND (e.enrolled_to IS NULL OR e.enrolled_to > t.transaction_date)
             ORDER BY e.enrolled_from DESC, e.id DESC LIMIT 1
      ) en ON true
      LEFT JOIN {T["lever"]} l ON l.engagement_id = g.id AND l.partner_role = t.partner_role
      LEFT JOIN LATERAL (
            SELECT r.rate, r.min_quantity FROM {T["rate"]} r
             WHERE r.lever_id = l.id AND r.product_id = t.product_id
               AND r.segment IN ('', t.customer_segment)
               AND r.valid_from <= t.transaction_date
               AND (r.valid_to IS NULL OR r.valid_to > t.transaction_date)
             ORDER BY r.segment DESC, r.valid_from DESC LIMIT 1
      ) r ON true
     WHERE t.id BETWEEN %(lo)s AND %(hi)s AND t.transaction_date BETWEEN %(start)s AND %(end)s
)"""

# What each eligible (transaction, lever) earns now: rate × amount in the transaction currency,
# converted at the currency's latest rate on or before the earning date (USD: 1; no rate: the
# transaction's own).
EXPECTED_SQL = f"""
fx AS (
    SELECT DISTINCT ON (currency) currency, rate_to_usd, rate_date
      FROM {T["fx"]} WHERE rate_date <= %(earning_date)s
     ORDER BY currency, rate_date DESC
),
expected AS (
    SELECT a.*, round(a.transaction_amount * a.rate, 2) AS amount, x.fx_rate, x.fx_date,
           round(round(a.transaction_amount * a.rate, 2) * x.fx_rate, 2) AS amount_usd
      FROM assessed a
      LEFT JOIN fx ON fx.currency = a.transaction_currency
     CROSS JOIN LATERAL (
            SELECT CASE WHEN a.transaction_currency = 'USD' THEN 1
                        ELSE coalesce(fx.rate_to_usd, a.transaction_exchange_rate) END AS fx_rate,
                   CASE WHEN a.transaction_currency = 'USD' THEN %(earning_date)s::date
                        ELSE coalesce(fx.rate_date, a.transaction_date) END AS fx_date
     ) x
     WHERE a.reason IS NULL
)"""

# The ledger of the chunk's transactions: per (transaction, lever) its sums and last row.
LEDGER_SQL = f"""
ledger AS (
    SELECT e.transaction_id, e.lever_id, sum(e.earning_amount) AS amount,
           sum(e.earning_amount_usd) AS amount_usd, max(e.revision) AS revision,
           (array_agg(e.id ORDER BY e.revision DESC))[1] AS last_id
      FROM {T["earning"]} e
      JOIN {T["transaction"]} t ON t.id = e.transaction_id
     WHERE e.transaction_id BETWEEN %(lo)s AND %(hi)s
       AND t.transaction_date BETWEEN %(start)s AND %(end)s
     GROUP BY e.transaction_id, e.lever_id
)"""

_EARNING_COLUMNS = """
    organization_id, earning_id, kind, reason_code, note, enrollment_id, program_id, engagement_id,
    lever_id, transaction_id, revision, claim_id, earning_type, earning_rate, earning_amount, currency,
    earning_exchange_rate, exchange_rate_date, earning_amount_usd, earning_date, calculation_date,
    estimated_payment_month, payment_id, payment_status, solution_area, partner_role,
    partner_association, customer_id, customer_name, product_id, product_name, job_id, created_by_id,
    created_at"""

CHUNK_SQL = f"""
WITH {ASSESSED_SQL},
{EXPECTED_SQL},
{LEDGER_SQL},
ineligible AS (
    INSERT INTO {T["ineligible"]}
        (organization_id, transaction_id, engagement_id, program_id, reason_code, calculation_date, job_id)
    SELECT organization_id, transaction_id, engagement_id, program_id, reason, %(calculation_date)s,
           %(job)s
      FROM assessed WHERE reason IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING 1
),
written AS (
    INSERT INTO {T["earning"]} ({_EARNING_COLUMNS})
    SELECT coalesce(x.organization_id, le.organization_id),
           'E-' || coalesce(x.transaction_id, l.transaction_id) || '-' || coalesce(x.lever_id, l.lever_id)
               || '-' || coalesce(l.revision + 1, 1),
           c.kind,
           CASE WHEN c.kind = '{EarningKind.EARNING}' THEN '' ELSE {_CORRECTION_REASON} END,
           CASE WHEN c.kind = '{EarningKind.EARNING}' THEN ''
                ELSE 'Recalculated by the ' || %(period)s || ' payout run: earned '
                     || round(l.amount, 2) || ', now ' || round(coalesce(x.amount, 0), 2) || ' '
                     || coalesce(x.transaction_currency, le.currency) END,
           coalesce(x.enrollment_id, le.enrollment_id),
           coalesce(x.program_id, le.program_id),
           coalesce(x.engagement_id, le.engagement_id),
           coalesce(x.lever_id, l.lever_id),
           coalesce(x.transaction_id, l.transaction_id),
           coalesce(l.revision + 1, 1),
           '',
           coalesce(x.earning_type, le.earning_type),
           coalesce(x.rate, le.earning_rate),
           coalesce(x.amount, 0) - coalesce(l.amount, 0),
           coalesce(x.transaction_currency, le.currency),
           coalesce(x.fx_rate, le.earning_exchange_rate),
           coalesce(x.fx_date, le.exchange_rate_date),
           coalesce(x.amount_usd, 0) - coalesce(l.amount_usd, 0),
           CASE WHEN x.transaction_id IS NULL THEN le.earning_date ELSE %(earning_date)s::date END,
           %(calculation_date)s,
           CASE WHEN x.transaction_id IS NULL THEN le.estimated_payment_month
                WHEN x.earning_type = '{EarningType.COOP}' THEN NULL
                ELSE (%(start)s::date + make_interval(months => x.payment_lag_months))::date END,
           NULL,
           '{PaymentStatus.UNPROCESSED}',
           coalesce(x.solution_area, le.solution_area),
           coalesce(x.partner_role, le.partner_role),
           coalesce(x.partner_association, le.partner_association),
           coalesce(x.customer_id, le.customer_id),
           coalesce(x.customer_name, le.customer_name),
           coalesce(x.product_id, le.product_id),
           coalesce(x.product_name, le.product_name),
           %(job)s,
           %(actor)s,
           %(now)s
      FROM expected x
      FULL JOIN ledger l ON l.transaction_id = x.transaction_id AND l.lever_id = x.lever_id
      LEFT JOIN {T["earning"]} le ON le.id = l.last_id
      LEFT JOIN assessed a ON a.transaction_id = l.transaction_id AND a.engagement_id = le.engagement_id
     CROSS JOIN LATERAL (
            SELECT CASE WHEN l.transaction_id IS NULL THEN '{EarningKind.EARNING}'
                        WHEN coalesce(x.amount, 0) = 0 THEN '{EarningKind.REVERSAL}'
                        ELSE '{EarningKind.ADJUSTMENT}' END AS kind
     ) c
     WHERE l.transaction_id IS NULL
        OR coalesce(x.amount, 0) <> l.amount
        OR coalesce(x.amount_usd, 0) <> l.amount_usd
    ON CONFLICT DO NOTHING
    RETURNING kind
)
SELECT (SELECT count(*) FROM ineligible),
       count(*) FILTER (WHERE kind = '{EarningKind.EARNING}'),
       count(*) FILTER (WHERE kind = '{EarningKind.ADJUSTMENT}'),
       count(*) FILTER (WHERE kind = '{EarningKind.REVERSAL}')
  FROM written
"""

# A re-run replaces the chunk's ineligible rows, so they always reflect the latest rules.
CLEAR_INELIGIBLE_SQL = f"""
DELETE FROM {T["ineligible"]} i
 USING {T["transaction"]} t
 WHERE i.transaction_id = t.id AND t.id BETWEEN %(lo)s AND %(hi)s
   AND t.transaction_date BETWEEN %(start)s AND %(end)s
"""

# Step 2 (spec §4.1, §8): per enrollment and currency, the Unprocessed earnings due by the
# payment month, if the enrollment has both profiles validated, no hold, and the sum reaches the
# program's minimum. Co-op earnings have no estimated month and are never paid as cash.
PAYMENTS_SQL = f"""
WITH due AS (
    SELECT e.enrollment_id, e.currency, sum(e.earning_amount) AS earned,
           sum(e.earning_amount_usd) AS earned_usd
      FROM {T["earning"]} e
      JOIN {T["enrollment"]} en ON en.id = e.enrollment_id
     WHERE e.payment_id IS NULL AND e.payment_status = '{PaymentStatus.UNPROCESSED}'
       AND e.estimated_payment_month <= %(month)s
       AND en.bank_profile_ok AND en.tax_profile_ok AND NOT en.hold_payment
     GROUP BY e.enrollment_id, e.currency
),
created AS (
    INSERT INTO {T["payment"]}
        (organization_id, payment_id, enrollment_id, program_id, payment_month, status, method, currency,
         earned, earned_usd, sales_tax, service_fee_tax, total_payment, payment_date, ci_reference_number,
         created_at, updated_at)
    SELECT en.organization_id, 'P-' || to_char(%(month)s::date, 'YYMM') || '-' || en.id || '-' || d.currency,
           en.id, en.program_id, %(month)s, '{PaymentStatus.UPCOMING}', en.payment_method, d.currency,
           d.earned, d.earned_usd, round(d.earned * en.sales_tax_rate, 2), 0,
           d.earned + round(d.earned * en.sales_tax_rate, 2), NULL, '', %(now)s, %(now)s
      FROM due d
      JOIN {T["enrollment"]} en ON en.id = d.enrollment_id
      JOIN {T["program"]} p ON p.id = en.program_id
     WHERE d.earned > 0 AND d.earned_usd >= p.min_payment_usd
    ON CONFLICT DO NOTHING
    RETURNING id, enrollment_id, currency
),
assigned AS (
    UPDATE {T["earning"]} e
       SET payment_id = c.id, payment_status = '{PaymentStatus.UPCOMING}'
      FROM created c
     WHERE e.enrollment_id = c.enrollment_id AND e.currency = c.currency AND e.payment_id IS NULL
       AND e.payment_status = '{PaymentStatus.UNPROCESSED}' AND e.estimated_payment_month <= %(month)s
    RETURNING e.id
)
SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM assigned)
"""


def _chunk_size() -> int:
    return settings.EARNINGS_PAYOUT_CHUNK_SIZE


def payout_run_create(*, period: date, actor: Any) -> JobRun:
    """The JobRun of a payout run for `period`'s month, not queued (`payout_run_start` queues it)."""
    return job_create(
        kind=JOB_KIND_PAYOUT_RUN,
        parameters={"period": format_month(month_start(period)), "chunk_size": _chunk_size()},
        actor=actor,
    )


@transaction.atomic
def payout_run_start(*, period: date, actor: Any) -> JobRun:
    """Create the run and queue it on Celery once the transaction commits."""
    job = payout_run_create(period=period, actor=actor)
    # Imported here to prevent an import cycle: tasks import this module.
    from earnings.tasks import payout_run_task

    transaction.on_commit(lambda: payout_run_task.delay(job.pk))
    return job


def _plan(job: JobRun, start: date, end: date) -> dict[str, Any]:
    """The chunk boundaries, organizations and calculation date, fixed at the first attempt."""
    if "bounds" in job.parameters:
        return job.parameters
    size = int(job.parameters.get("chunk_size") or _chunk_size())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), coalesce(array_agg(DISTINCT organization_id), '{{}}')
              FROM {T["transaction"]} WHERE transaction_date BETWEEN %s AND %s
            """,
            [start, end],
        )
        total, organizations = cursor.fetchone()
        cursor.execute(
            f"""
            SELECT id, n FROM (
                SELECT id, row_number() OVER (ORDER BY id) AS n
                  FROM {T["transaction"]} WHERE transaction_date BETWEEN %s AND %s
            ) s WHERE (n - 1) %% %s = 0 OR n = %s ORDER BY id
            """,
            [start, end, size, total],
        )
        marks = cursor.fetchall()
    bounds = []
    for index, (first, n) in enumerate(marks):
        if (n - 1) % size:
            continue  # the last transaction: closes the last range
        following = marks[index + 1] if index + 1 < len(marks) else None
        if following is None:
            hi, count = first, 1
        elif (following[1] - 1) % size == 0:
            hi, count = following[0] - 1, following[1] - n
        else:
            hi, count = following[0], following[1] - n + 1
        bounds.append([first, hi, count])
    parameters = {
        **job.parameters,
        "bounds": bounds,
        "organizations": sorted(organizations),
        "calculation_date": timezone.localdate().isoformat(),
    }
    JobRun.objects.filter(pk=job.pk).update(parameters=parameters, total=total)
    job.parameters, job.total = parameters, total
    return parameters


def _tally(job: JobRun, **counts: int) -> None:
    """Add a chunk's counts to the run's result, in the chunk's transaction (exactly once)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {JobRun._meta.db_table}
               SET result = result || (
                   SELECT jsonb_object_agg(key, coalesce((result ->> key)::bigint, 0) + value::bigint)
                     FROM jsonb_each_text(%s::jsonb)
               )
             WHERE id = %s
            """,
            [json.dumps(counts), job.pk],
        )


def payout_run_execute(job: JobRun) -> dict:
    """Run (or resume) the payout run in this process; returns the run's result."""
    period = parse_month(job.parameters["period"])
    start, end = period, month_end(period)
    job_start(job)
    plan = _plan(job, start, end)
    calculation_date = date.fromisoformat(plan["calculation_date"])
    actor_id = job.created_by_id
    base = {
        "start": start,
        "end": end,
        "earning_date": end,
        "period": plan["period"],
        "calculation_date": calculation_date,
        "job": job.pk,
        "actor": actor_id,
    }

    def assess(lo: int, hi: int):
        def work() -> None:
            params = {**base, "lo": lo, "hi": hi, "now": timezone.now()}
            with connection.cursor() as cursor:
                cursor.execute(CLEAR_INELIGIBLE_SQL, params)
                cursor.execute(CHUNK_SQL, params)
                ineligible, earnings, adjustments, reversals = cursor.fetchone()
            _tally(
                job, ineligible=ineligible, earnings=earnings, adjustments=adjustments, reversals=reversals
            )

        return work

    def pay() -> None:
        with connection.cursor() as cursor:
            cursor.execute(PAYMENTS_SQL, {"month": period, "now": timezone.now()})
            payments, paid = cursor.fetchone()
        _tally(job, payments=payments, paid_earnings=paid)

    def claims() -> None:
        counts: dict[str, int] = {}
        for _receiver, answer in payout_run_earnings_due.send(sender=JobRun, period=period, job=job):
            for key, value in (answer or {}).items():
                counts[key] = counts.get(key, 0) + value
        _tally(job, **counts)

    def summarize(organization_id: int, months: list[date]):
        return lambda: summary_rebuild([organization_id], months=months)

    job_run_chunks(job, ((f"tx:{lo}-{hi}", count, assess(lo, hi)) for lo, hi, count in plan["bounds"]))
    job_run_chunks(job, [("claims", 0, claims)])
    job_run_chunks(job, [("payments", 0, pay)])
    months = _summary_months(period, plan["organizations"], job)
    job_run_chunks(
        job,
        (
            (f"summary:{organization_id}", 0, summarize(organization_id, org_months))
            for organization_id, org_months in sorted(months.items())
        ),
    )
    job.refresh_from_db()
    result = {"period": plan["period"], "transactions": job.total, **job.result}
    job_finish(job, result=result)
    return result


def _summary_months(period: date, organizations: list[int], job: JobRun) -> dict[int, list[date]]:
    """Per organization touched, the earning months whose rows the run changed: the period's
    own, those of the claims' earnings it wrote, and those of earnings it put into a payment."""
    months: dict[int, set[date]] = {organization_id: {period} for organization_id in organizations}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT DISTINCT p.organization_id, date_trunc('month', e.earning_date)::date
              FROM {T["payment"]} p JOIN {T["earning"]} e ON e.payment_id = p.id
             WHERE p.payment_month = %s
            """,
            [period],
        )
        for organization_id, month in cursor.fetchall():
            months.setdefault(organization_id, {period}).add(month)
        cursor.execute(
            f"""
            SELECT DISTINCT organization_id, date_trunc('month', earning_date)::date
              FROM {T["earning"]} WHERE job_id = %s AND claim_id <> ''
            """,
            [job.pk],
        )
        for organization_id, month in cursor.fetchall():
            months.setdefault(organization_id, {period}).add(month)
    return {organization_id: sorted(values) for organization_id, values in months.items()}
