"""The summaries the Earnings pages read instead of the ledger, rebuilt when the ledger changes.

- `EarningSummary`: earnings per month and filter dimensions (cards and chart);
- `RevenueSummary`: assessed transactions per month and filter, earned or not (Revenue totals);
- `IneligibleSummary`: ineligible transactions per month, reason and filter (the reasons);
- `CustomerEarningTotal`: what each customer earned in the trailing year (top customers).

`summary_rebuild` recomputes them all: the payout run, manual adjustments and the seeders call
it. A payment's status change moves no amount between months, customers or transactions, so it
rebuilds only the status column's summary (`payment_status_summary_rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from earnings.models import (
    CustomerEarningTotal,
    Earning,
    EarningSummary,
    Engagement,
    IneligibleSummary,
    IneligibleTransaction,
    RevenueSummary,
    Transaction,
)
from earnings.periods import add_months, month_start

__all__ = ("CUSTOMER_MONTHS", "payment_status_summary_rebuild", "summary_rebuild")

#: Top customers look at this many months, the current one included.
CUSTOMER_MONTHS = 12

_EARNING = Earning._meta.db_table
_TRANSACTION = Transaction._meta.db_table
_INELIGIBLE = IneligibleTransaction._meta.db_table

_DIMENSIONS = """
    organization_id, estimated_payment_month, program_id, engagement_id, lever_id, enrollment_id,
    solution_area, partner_role, partner_association, earning_type, payment_status"""
_EARNINGS = f"""
INSERT INTO {EarningSummary._meta.db_table}
    (earning_month, {_DIMENSIONS}, earning_count, earning_amount_usd)
SELECT date_trunc('month', earning_date)::date, {_DIMENSIONS}, count(*), sum(earning_amount_usd)
  FROM {_EARNING}
 WHERE organization_id = ANY (%(organizations)s) {{months}}
 GROUP BY date_trunc('month', earning_date), {_DIMENSIONS}
"""

# "Earned": some earning row names the transaction; "assessed": a payout run looked at it (it has
# earnings or ineligible rows). Transactions not assessed yet count on neither side.
_REVENUE = f"""
INSERT INTO {RevenueSummary._meta.db_table}
    (organization_id, location_id, transaction_month, solution_area, partner_role, partner_association,
     transaction_type, eligible_count, eligible_usd, ineligible_count, ineligible_usd)
SELECT t.organization_id, t.location_id, date_trunc('month', t.transaction_date)::date, t.solution_area,
       t.partner_role, t.partner_association, t.transaction_type,
       count(*) FILTER (WHERE s.earned),
       coalesce(sum(t.transaction_amount_usd) FILTER (WHERE s.earned), 0),
       count(*) FILTER (WHERE NOT s.earned),
       coalesce(sum(t.transaction_amount_usd) FILTER (WHERE NOT s.earned), 0)
  FROM {_TRANSACTION} t
 CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM {_EARNING} e WHERE e.transaction_id = t.id) AS earned,
               EXISTS (SELECT 1 FROM {_INELIGIBLE} i WHERE i.transaction_id = t.id) AS parked
 ) s
 WHERE t.organization_id = ANY (%(organizations)s) AND (s.earned OR s.parked) {{months}}
 GROUP BY 1, 2, 3, 4, 5, 6, 7
"""

# A transaction ineligible under two engagements for the same reason counts once.
_INELIGIBLE_REASONS = f"""
INSERT INTO {IneligibleSummary._meta.db_table}
    (organization_id, location_id, transaction_month, reason_code, solution_area, partner_role,
     transaction_count, amount_usd)
SELECT t.organization_id, t.location_id, date_trunc('month', t.transaction_date)::date, r.reason_code,
       r.solution_area, t.partner_role, count(*), sum(t.transaction_amount_usd)
  FROM (
        SELECT DISTINCT i.transaction_id, i.reason_code, g.solution_area
          FROM {_INELIGIBLE} i
          JOIN {Engagement._meta.db_table} g ON g.id = i.engagement_id
          JOIN {_TRANSACTION} t ON t.id = i.transaction_id
         WHERE i.organization_id = ANY (%(organizations)s) {{months}}
  ) r
  JOIN {_TRANSACTION} t ON t.id = r.transaction_id
 GROUP BY 1, 2, 3, 4, 5, 6
"""

_CUSTOMERS = f"""
INSERT INTO {CustomerEarningTotal._meta.db_table}
    (organization_id, since, customer_name, earning_count, earning_amount_usd)
SELECT organization_id, %(since)s, customer_name, count(*), sum(earning_amount_usd)
  FROM {_EARNING}
 WHERE organization_id = ANY (%(organizations)s) AND earning_date >= %(since)s AND customer_name <> ''
 GROUP BY organization_id, customer_name
"""


def _delete(model, column: str | None = None) -> str:
    month = f" AND {column} = %(start)s" if column else ""
    return f"DELETE FROM {model._meta.db_table} WHERE organization_id = ANY (%(organizations)s){month}"


def _in_month(column: str) -> str:
    return f"AND {column} >= %(start)s AND {column} < %(next)s"


def _month_starts(months: Iterable[date]) -> list[date]:
    return sorted({month_start(month) for month in months})


def _rebuild_earnings(cursor, params: dict, *, partial: bool) -> None:
    cursor.execute(_delete(EarningSummary, "earning_month" if partial else None), params)
    cursor.execute(_EARNINGS.format(months=_in_month("earning_date") if partial else ""), params)


def _rebuild_transactions(cursor, params: dict, *, partial: bool) -> None:
    months = _in_month("t.transaction_date") if partial else ""
    cursor.execute(_delete(RevenueSummary, "transaction_month" if partial else None), params)
    cursor.execute(_REVENUE.format(months=months), params)
    cursor.execute(_delete(IneligibleSummary, "transaction_month" if partial else None), params)
    cursor.execute(_INELIGIBLE_REASONS.format(months=months), params)


@transaction.atomic
def summary_rebuild(
    organization_ids: Iterable[int], *, months: Iterable[date] | None = None, today: date | None = None
) -> None:
    """Recompute the organizations' summaries from the ledger: all of them, or only the earning and
    transaction `months` given (what a payout run or an adjustment touched). The customers' totals
    are always those of the trailing CUSTOMER_MONTHS months up to `today`."""
    organizations = sorted(set(organization_ids))
    if not organizations:
        return
    since = add_months(month_start(today or timezone.localdate()), 1 - CUSTOMER_MONTHS)
    params = {"organizations": organizations, "since": since}
    with connection.cursor() as cursor:
        if months is None:
            _rebuild_earnings(cursor, params, partial=False)
            _rebuild_transactions(cursor, params, partial=False)
        for start in _month_starts(months or ()):
            month = {**params, "start": start, "next": add_months(start, 1)}
            _rebuild_earnings(cursor, month, partial=True)
            _rebuild_transactions(cursor, month, partial=True)
        cursor.execute(_delete(CustomerEarningTotal), params)
        cursor.execute(_CUSTOMERS, params)


@transaction.atomic
def payment_status_summary_rebuild(organization_ids: Iterable[int], *, months: Iterable[date]) -> None:
    """Recompute only `EarningSummary` for the earning `months` (its payment status column)."""
    organizations = sorted(set(organization_ids))
    if not organizations:
        return
    with connection.cursor() as cursor:
        for start in _month_starts(months):
            params = {"organizations": organizations, "start": start, "next": add_months(start, 1)}
            _rebuild_earnings(cursor, params, partial=True)
