"""`EarningSummary`: the ledger rolled up per month and filter dimensions for cards and charts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from earnings.models import Earning, EarningSummary
from earnings.periods import add_months, month_start

__all__ = ("summary_rebuild",)

_DIMENSIONS = """
    organization_id, estimated_payment_month, program_id, engagement_id, lever_id, enrollment_id,
    solution_area, partner_role, partner_association, earning_type, payment_status"""

_DELETE = f"DELETE FROM {EarningSummary._meta.db_table} WHERE organization_id = ANY (%(organizations)s)"
_INSERT = f"""
INSERT INTO {EarningSummary._meta.db_table}
    (earning_month, {_DIMENSIONS}, earning_count, earning_amount_usd)
SELECT date_trunc('month', earning_date)::date, {_DIMENSIONS}, count(*), sum(earning_amount_usd)
  FROM {Earning._meta.db_table}
 WHERE organization_id = ANY (%(organizations)s)
"""
_GROUP = f" GROUP BY date_trunc('month', earning_date), {_DIMENSIONS}"
_MONTH = " AND earning_date >= %(start)s AND earning_date < %(next)s"


@transaction.atomic
def summary_rebuild(organization_ids: Iterable[int], *, months: Iterable[date] | None = None) -> None:
    """Recompute the organizations' summary rows from the ledger: all of them, or only the
    earning `months` given (what a payout run or a status change touched)."""
    organizations = sorted(set(organization_ids))
    if not organizations:
        return
    with connection.cursor() as cursor:
        if months is None:
            params = {"organizations": organizations}
            cursor.execute(_DELETE, params)
            cursor.execute(_INSERT + _GROUP, params)
            return
        for month in sorted({month_start(month) for month in months}):
            params = {"organizations": organizations, "start": month, "next": add_months(month, 1)}
            cursor.execute(_DELETE + " AND earning_month = %(start)s", params)
            cursor.execute(_INSERT + _MONTH + _GROUP, params)
