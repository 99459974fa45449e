"""The usage/billing transactions file (spec §3, §8): its layout and how its valid rows are written,
through the one import pipeline (portal.imports).

The vendor uploads it in the admin for one organization. Columns are Partner Center's names; a
choice is read by its value or its label in any case ("Azure Infrastructure" is `Infra`). A
customerTenantId that is not one of the organization's customers is not an error: the row is kept
without a customer, and the payout run records it as CUSTOMER_NOT_ASSOCIATED.

Rows are written in one INSERT … SELECT: each converted to USD at the exchange rate in force on its
date (the latest `rate_date` on or before it; USD is 1), `transaction_amount_usd = round(amount ×
rate, 2)` with banker's rounding. A transactionId is unique: a row naming a transaction the file's
organization already has updates it when it differs (the next payout run of its month adjusts
what it earned), so the same file imported twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg import sql as pgsql

from accounts.models import Customer, PartnerLocation
from earnings.choices import PartnerAssociation, PartnerRole, QuantityType, SolutionArea, TransactionType
from earnings.models import ExchangeRate, Transaction, TransactionUpload
from portal.audit import audit_record
from portal.imports import (
    CHOICE,
    DATE,
    DECIMAL,
    UUID,
    Column,
    Importer,
    Layout,
    Reference,
    Rule,
    register,
)
from portal.imports.staging import CREATED, UNCHANGED, UPDATED, Staging
from portal.jobs import JobRun

__all__ = ("TRANSACTIONS", "TRANSACTIONS_IMPORTER")

T = {
    "transaction": Transaction._meta.db_table,
    "upload": TransactionUpload._meta.db_table,
    "fx": ExchangeRate._meta.db_table,
    "customer": Customer._meta.db_table,
    "location": PartnerLocation._meta.db_table,
}
#: Dates as Partner Center writes them: a date, or a UTC timestamp whose date is the transaction's.
TRANSACTION_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y",
)
#: Amounts and quantities stay below this in size (the columns keep 12 whole digits).
AMOUNT_LIMIT = 10**12


def _choices(choices) -> tuple[str, ...]:
    """A choice's value or its label: both are accepted (in any case), the label mapped to the value."""
    accepted: dict[str, str] = {}
    for value, label in choices.choices:
        for text in (str(value), str(label)):
            accepted.setdefault(text.casefold(), text)
    return tuple(accepted.values())


def _choice_sql(staged: str, choices, default: str | None = None) -> str:
    """SQL giving the stored value of a staged choice (a label becomes its value)."""
    whens = " ".join(
        f"WHEN {_quoted(str(label))} THEN {_quoted(str(value))}"
        for value, label in choices.choices
        if str(label) != str(value)
    )
    cell = f"s.{staged}" if default is None else f"coalesce(s.{staged}, {_quoted(default)})"
    return f"CASE {cell} {whens} ELSE {cell} END" if whens else cell


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _places(staged: str, places: int) -> Rule:
    return Rule(
        staged,
        f"has more than {places} decimal places",
        lambda rows: rows[staged].notna() & (rows[staged].round(places) != rows[staged]),
    )


def _size(staged: str) -> Rule:
    return Rule(
        staged, f"is {AMOUNT_LIMIT:,} or more in size", lambda rows: rows[staged].abs() >= AMOUNT_LIMIT
    )


_OPTIONAL = {"required": False, "blank": True}

TRANSACTIONS = Layout(
    name="earnings.transactions",
    title="Usage or billing transactions",
    columns=(
        Column("transactionId", max_length=64, field="transaction_id"),
        Column("transactionDate", kind=DATE, formats=TRANSACTION_DATE_FORMATS, field="transaction_date"),
        Column(
            "transactionType",
            kind=CHOICE,
            choices=_choices(TransactionType),
            field="transaction_type",
            **_OPTIONAL,
        ),
        Column("customerTenantId", kind=UUID, field="customer_tenant_id", **_OPTIONAL),
        Column("customerName", max_length=200, field="customer_name", **_OPTIONAL),
        Column("productId", max_length=12, field="product_id"),
        Column("SkuId", max_length=4, field="sku_id", **_OPTIONAL),
        Column("productName", max_length=200, field="product_name"),
        Column("subscriptionId", max_length=40, field="subscription_id", **_OPTIONAL),
        Column("invoiceNumber", max_length=40, field="invoice_number", **_OPTIONAL),
        Column("solutionArea", kind=CHOICE, choices=_choices(SolutionArea), field="solution_area"),
        Column("partnerRole", kind=CHOICE, choices=_choices(PartnerRole), field="partner_role"),
        Column(
            "partnerAssociation",
            kind=CHOICE,
            choices=_choices(PartnerAssociation),
            field="partner_association",
            **_OPTIONAL,
        ),
        Column("partnerId", max_length=7, field="partner_id"),
        Column("quantity", kind=DECIMAL, field="quantity", **_OPTIONAL),
        Column(
            "quantityType", kind=CHOICE, choices=_choices(QuantityType), field="quantity_type", **_OPTIONAL
        ),
        Column(
            "transactionCurrency",
            pattern=r"[A-Za-z]{3}",
            pattern_help="is not an ISO 4217 currency code",
            upper=True,
            field="transaction_currency",
        ),
        Column("transactionAmount", kind=DECIMAL, field="transaction_amount"),
    ),
    key=("transactionId",),
    rules=(
        _places("quantity", 2),
        _size("quantity"),
        _places("transaction_amount", 6),
        _size("transaction_amount"),
        Rule(
            "customer_name",
            "is empty and there is no customerTenantId to find the customer by",
            lambda rows: rows["customer_name"].isna() & rows["customer_tenant_id"].isna(),
        ),
    ),
    # The staged row is `s` in these checks (portal.imports.staging.missing_references): a value is
    # allowed when the correlated query returns it. The first two run before any other reference
    # marks a row, so `s.errors IS NOT NULL` means a cell of the row is wrong (its cells are then
    # staged as written, and its date may not be one) or its transactionId repeats an earlier row's.
    references=(
        Reference(
            "transactionCurrency",
            f"""SELECT s.transaction_currency WHERE CASE
                    WHEN s.errors IS NOT NULL OR s.transaction_currency = 'USD' THEN true
                    ELSE EXISTS (SELECT 1 FROM {T["fx"]} r WHERE r.currency = s.transaction_currency
                                 AND r.rate_date <= s.transaction_date::date) END""",
            "has no exchange rate on or before the transactionDate",
        ),
        Reference(
            "customerTenantId",
            f"""SELECT s.customer_tenant_id WHERE s.errors IS NOT NULL OR s.customer_name IS NOT NULL
                    OR s.customer_tenant_id IN (SELECT tenant_id::text FROM {T["customer"]}
                                                WHERE organization_id = %(organization)s)""",
            "is not one of the organization's customers and customerName is empty",
        ),
        Reference(
            "partnerId",
            # '': an empty cell of a row with a problem (staged as written); its column reports it.
            f"SELECT partner_id FROM {T['location']} WHERE organization_id = %(organization)s "
            "UNION ALL SELECT ''",
            "is not a PartnerID of this organization's locations",
        ),
        Reference(
            "transactionId",
            f"""SELECT s.transaction_id WHERE NOT EXISTS (
                    SELECT 1 FROM {T["transaction"]} t WHERE t.transaction_id = s.transaction_id
                    AND t.organization_id IS DISTINCT FROM %(organization)s)""",
            "is a transaction of another organization",
        ),
        Reference(
            "transactionId",
            f"""SELECT s.transaction_id WHERE NOT EXISTS (
                    SELECT 1 FROM {T["transaction"]} t WHERE t.transaction_id = s.transaction_id
                    AND t.organization_id = %(organization)s AND t.source <> 'upload')""",
            "is a transaction billed from a new-commerce subscription; a file cannot replace it",
        ),
    ),
)

_WRITTEN = [
    "transaction_date",
    "transaction_type",
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
    "quantity",
    "quantity_type",
    "transaction_currency",
    "transaction_amount",
    "transaction_exchange_rate",
    "transaction_amount_usd",
]

# Banker's rounding to cents (portal.money.round_money), which PostgreSQL's round() is not.
_USD = """(CASE WHEN abs(v.usd - trunc(v.usd)) = 0.5 THEN trunc(v.usd) + trunc(v.usd) %% 2
                ELSE round(v.usd) END) / 100"""

_LOAD = f"""
WITH source AS MATERIALIZED (
    SELECT s.line, s.transaction_id, s.transaction_date::date AS transaction_date,
           {_choice_sql("transaction_type", TransactionType, TransactionType.PURCHASE)} AS transaction_type,
           l.id AS location_id, c.id AS customer_id,
           coalesce(s.customer_name, c.name) AS customer_name,
           coalesce(s.customer_tenant_id, '') AS customer_tenant_id,
           coalesce(c.country, '') AS customer_country, coalesce(c.segment, '') AS customer_segment,
           s.product_id, coalesce(s.sku_id, '') AS sku_id, s.product_name,
           coalesce(s.subscription_id, '') AS subscription_id,
           coalesce(s.invoice_number, '') AS invoice_number,
           {_choice_sql("solution_area", SolutionArea)} AS solution_area,
           {_choice_sql("partner_role", PartnerRole)} AS partner_role,
           {_choice_sql("partner_association", PartnerAssociation, "")} AS partner_association,
           coalesce(s.quantity::numeric, 0) AS quantity,
           {_choice_sql("quantity_type", QuantityType, QuantityType.BILLED)} AS quantity_type,
           s.transaction_currency, s.transaction_amount::numeric AS transaction_amount,
           fx.rate AS transaction_exchange_rate,
           {_USD} AS transaction_amount_usd
      FROM {{staging}} s
      JOIN {T["location"]} l ON l.partner_id = s.partner_id AND l.organization_id = %(organization)s
      LEFT JOIN {T["customer"]} c
        ON c.tenant_id = s.customer_tenant_id::uuid AND c.organization_id = %(organization)s
     CROSS JOIN LATERAL (
            SELECT CASE WHEN s.transaction_currency = 'USD' THEN 1::numeric ELSE (
                SELECT r.rate_to_usd FROM {T["fx"]} r
                 WHERE r.currency = s.transaction_currency AND r.rate_date <= s.transaction_date::date
                 ORDER BY r.rate_date DESC LIMIT 1) END AS rate
     ) fx
     CROSS JOIN LATERAL (SELECT s.transaction_amount::numeric * fx.rate * 100 AS usd) v
     WHERE s.errors IS NULL
), written AS (
    INSERT INTO {T["transaction"]} AS t
           (organization_id, transaction_id, source, upload_id, is_trial, created_at, {", ".join(_WRITTEN)})
    SELECT %(organization)s, transaction_id, 'upload', %(upload)s, false, %(now)s, {", ".join(_WRITTEN)}
      FROM source
    ON CONFLICT (transaction_id) DO UPDATE SET {", ".join(f"{name} = EXCLUDED.{name}" for name in _WRITTEN)}
     WHERE t.organization_id = EXCLUDED.organization_id AND t.source = 'upload'
       AND ({", ".join(f"t.{name}" for name in _WRITTEN)})
           IS DISTINCT FROM ({", ".join(f"EXCLUDED.{name}" for name in _WRITTEN)})
    RETURNING t.id, t.transaction_id, (t.xmax = 0) AS created
), marked AS (
    UPDATE {{staging}} s
       SET outcome = CASE WHEN w.created THEN %(created)s WHEN w.transaction_id IS NULL THEN %(unchanged)s
                          ELSE %(updated)s END
      FROM source r LEFT JOIN written w ON w.transaction_id = r.transaction_id
     WHERE s.line = r.line
    RETURNING s.outcome
)
SELECT count(*) FILTER (WHERE outcome = %(created)s), count(*) FILTER (WHERE outcome = %(updated)s)
  FROM marked
"""


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    """The valid rows written in one statement; the upload row records the transactions it brought."""
    now = timezone.now()
    upload = TransactionUpload.objects.create(
        organization_id=staging.organization_id,
        file_name=job.parameters.get("file_name", "upload")[:255],
        uploaded_by=job.created_by,
        uploaded_at=now,
    )
    params = {
        "organization": staging.organization_id,
        "upload": upload.pk,
        "now": now,
        "created": CREATED,
        "updated": UPDATED,
        "unchanged": UNCHANGED,
    }
    with connection.cursor() as cursor:
        statement = pgsql.SQL(_LOAD).format(staging=staging.identifier).as_string(cursor.cursor)
        cursor.execute(statement, params)
        created, updated = cursor.fetchone()
    if created:
        TransactionUpload.objects.filter(pk=upload.pk).update(row_count=created)
    else:
        upload.delete()  # nothing new came with this file: it is not an upload of any transaction
        upload = None
    audit_record(
        actor=job.created_by,
        action="earnings.transactions_imported",
        organization_id=staging.organization_id,
        target=upload or job,
        changes={"file_name": job.parameters.get("file_name", ""), "rows": created, "updated": updated},
    )
    return {"upload": upload.pk if upload else None}


TRANSACTIONS_IMPORTER = register(Importer(layout=TRANSACTIONS, load=_load))
