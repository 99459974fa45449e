"""Transactions in: billed new-commerce subscriptions, and usage/billing files (spec §3, §8).

Both paths convert to USD with the exchange rate in force on the transaction date (the latest
`rate_date` on or before it; USD is 1) and write `transaction_amount_usd = round(amount × rate, 2)`.
A file is imported by the import pipeline (its layout and loader: earnings.imports).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import Organization
from earnings.choices import (
    PartnerAssociation,
    PartnerRole,
    QuantityType,
    SolutionArea,
    TransactionSource,
    TransactionType,
)
from earnings.imports import TRANSACTIONS_IMPORTER
from earnings.periods import month_end, month_start
from portal.imports import import_start
from portal.jobs import JobRun

__all__ = (
    "solution_area_of",
    "transactions_from_commerce",
    "transactions_import_start",
)

# --- Billed transactions from new-commerce subscriptions -----------------------------------------

#: Product title patterns → solution area, first match wins (case-insensitive, SQL `~*` and
#: Python `re` read them alike). License-based new commerce sells Microsoft 365 and its relatives,
#: so a title matching nothing is Modern Work.
SOLUTION_AREA_BY_TITLE: list[tuple[str, str]] = [
    (r"defender|sentinel|entra|purview|intune", SolutionArea.SECURITY),
    (r"dynamics 365|power (bi|apps|automate|pages)", SolutionArea.BUSINESS_APPS),
    (r"azure", SolutionArea.AZURE_INFRA),
    (r"microsoft 365|office 365|teams|exchange|sharepoint|onedrive|visio|project", SolutionArea.MODERN_WORK),
]
DEFAULT_SOLUTION_AREA = SolutionArea.MODERN_WORK


def solution_area_of(product_title: str) -> str:
    for pattern, area in SOLUTION_AREA_BY_TITLE:
        if re.search(pattern, product_title, re.IGNORECASE):
            return area
    return DEFAULT_SOLUTION_AREA


def _solution_area_sql(column: str) -> tuple[str, dict[str, str]]:
    """The mapping above as an SQL CASE with named parameters."""
    whens, params = [], {"area_default": DEFAULT_SOLUTION_AREA}
    for index, (pattern, area) in enumerate(SOLUTION_AREA_BY_TITLE):
        whens.append(f"WHEN {column} ~* %(area_pattern{index})s THEN %(area{index})s")
        params.update({f"area_pattern{index}": pattern, f"area{index}": area})
    return f"CASE {' '.join(whens)} ELSE %(area_default)s END", params


# The month's charge of each active subscription. Billing day: the term start's day of month
# (the month's last day when shorter); the subscription bills in a month when that day lies in
# its term. `unit_price` is the price of the whole term, so a monthly plan bills
# quantity × unit_price / term months each month, an annual plan 12 months' worth on each
# anniversary, a triennial plan (and a one-month term) the whole term once.
_CANDIDATES = """
WITH billed AS (
    SELECT s.*,
           LEAST(%(month)s::date + (EXTRACT(DAY FROM s.term_start)::int - 1), %(month_end)s::date)
               AS billing_day,
           CASE s.term_duration WHEN 'P1M' THEN 1 WHEN 'P1Y' THEN 12 ELSE 36 END AS term_months,
           (EXTRACT(YEAR FROM %(month)s::date) * 12 + EXTRACT(MONTH FROM %(month)s::date)
            - EXTRACT(YEAR FROM s.term_start) * 12 - EXTRACT(MONTH FROM s.term_start))::int AS months_in
    FROM commerce_ncesubscription s
    WHERE s.status = 'active' AND s.term_start <= %(month_end)s AND s.term_end >= %(month)s
), charged AS (
    SELECT b.*,
           CASE
               WHEN b.billing_cycle = 'Annual' THEN
                   CASE WHEN b.months_in %% 12 = 0 THEN LEAST(12, b.term_months) END
               WHEN b.billing_cycle = 'Triennial' THEN CASE WHEN b.months_in = 0 THEN b.term_months END
               ELSE 1
           END AS months_billed,
           CASE WHEN b.currency = 'USD' THEN 1::numeric ELSE fx.rate_to_usd END AS fx_rate
    FROM billed b
    LEFT JOIN LATERAL (
        SELECT rate_to_usd FROM earnings_exchangerate
        WHERE currency = b.currency AND rate_date <= b.billing_day
        ORDER BY rate_date DESC LIMIT 1
    ) fx ON true
    WHERE b.billing_day BETWEEN b.term_start AND b.term_end
)
"""

_INSERT_COLUMNS = [
    "organization_id",
    "transaction_id",
    "transaction_date",
    "transaction_type",
    "source",
    "location_id",
    "customer_id",
    "customer_name",
    "customer_tenant_id",
    "customer_country",
    "customer_segment",
    "product_id",
    "sku_id",
    "product_name",
    "subscription_id",
    "invoice_number",
    "solution_area",
    "partner_role",
    "partner_association",
    "is_trial",
    "quantity",
    "quantity_type",
    "transaction_currency",
    "transaction_amount",
    "transaction_exchange_rate",
    "transaction_amount_usd",
    "created_at",
]


def transactions_from_commerce(*, month: date) -> int:
    """Bill the month's active new-commerce subscriptions as Transactions; return how many were new.

    One INSERT … SELECT. A transaction's id is derived from its subscription and month, so a
    re-run inserts nothing new. The location is the customer's, else the organization's
    headquarters (else its first location); an organization without any location cannot earn
    and is skipped. A currency without an exchange rate on a billing day writes nothing and
    raises ValidationError naming the currency and the date.
    """
    month = month_start(month)
    area_sql, area_params = _solution_area_sql("p.title")
    params: dict[str, Any] = {
        "month": month,
        "month_end": month_end(month),
        "purchase": TransactionType.PURCHASE,
        "source": TransactionSource.COMMERCE,
        "role": PartnerRole.TRANSACT,
        "association": PartnerAssociation.RESELLER,
        "quantity_type": QuantityType.BILLED,
        **area_params,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _CANDIDATES
            + """
            SELECT currency, MIN(billing_day) FROM charged
            WHERE fx_rate IS NULL AND months_billed IS NOT NULL
            GROUP BY currency ORDER BY currency
            """,
            params,
        )
        missing = cursor.fetchall()
        if missing:
            raise ValidationError(
                [
                    f"No exchange rate for {currency} on or before {day:%Y-%m-%d}; add one under "
                    "Earnings › Exchange rates and run again. Nothing was written."
                    for currency, day in missing
                ]
            )
        amount = "round(c.quantity * c.unit_price * c.months_billed / c.term_months, 2)"
        cursor.execute(
            _CANDIDATES
            + f"""
            INSERT INTO earnings_transaction ({", ".join(_INSERT_COLUMNS)})
            SELECT c.organization_id,
                   'NCE-' || c.subscription_id::text || '-' || to_char(%(month)s::date, 'YYYYMM'),
                   c.billing_day, %(purchase)s, %(source)s,
                   COALESCE(cu.location_id, hq.id), cu.id, cu.name, cu.tenant_id::text, cu.country,
                   cu.segment, k.product_id, k.sku_id, p.title, c.subscription_id::text,
                   'INV-' || o.partner_global_id || '-' || to_char(%(month)s::date, 'YYYYMM'),
                   {area_sql}, %(role)s, %(association)s,
                   k.is_trial OR c.unit_price = 0, c.quantity, %(quantity_type)s, c.currency,
                   {amount}, c.fx_rate, round({amount} * c.fx_rate, 2), now()
            FROM charged c
            JOIN accounts_customer cu ON cu.id = c.customer_id
            JOIN accounts_organization o ON o.id = c.organization_id
            JOIN commerce_availability a ON a.id = c.availability_id
            JOIN commerce_sku k ON k.id = a.sku_id
            JOIN commerce_product p ON p.product_id = k.product_id
            LEFT JOIN LATERAL (
                SELECT l.id FROM accounts_partnerlocation l WHERE l.organization_id = c.organization_id
                ORDER BY l.is_headquarters DESC, l.id LIMIT 1
            ) hq ON true
            WHERE c.months_billed IS NOT NULL AND COALESCE(cu.location_id, hq.id) IS NOT NULL
            ORDER BY c.id
            ON CONFLICT (transaction_id) DO NOTHING
            """,
            params,
        )
        return cursor.rowcount


# --- Usage and billing files ----------------------------------------------------------------------


@transaction.atomic
def transactions_import_start(
    *, organization: Organization, upload, actor: Any, valid_rows_only: bool = False
) -> JobRun:
    """Queue the import of a usage/billing file for `organization` (earnings.imports).

    The file's type, size and header are checked now (UploadRejected, no job, when it cannot be
    imported at all); the job checks every row and writes all of them or none, unless the valid
    rows only are asked for.
    """
    return import_start(
        TRANSACTIONS_IMPORTER,
        upload,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
    )
