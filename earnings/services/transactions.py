"""Transactions in: billed new-commerce subscriptions, and usage/billing files (spec §3, §8).

Both paths convert to USD with the exchange rate in force on the transaction date (the latest
`rate_date` on or before it; USD is 1) and write `transaction_amount_usd = round(amount × rate, 2)`.
"""

from __future__ import annotations

import bisect
import re
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Customer, Organization, PartnerLocation
from earnings.choices import (
    PartnerAssociation,
    PartnerRole,
    QuantityType,
    SolutionArea,
    TransactionSource,
    TransactionType,
)
from earnings.models import ExchangeRate, Transaction, TransactionUpload
from earnings.periods import month_end, month_start
from portal.audit import audit_record
from portal.money import round_money
from portal.uploads import RowError, parse_date_cell, read_table, validate_rows

__all__ = (
    "TRANSACTION_COLUMNS",
    "exchange_rates_load",
    "solution_area_of",
    "transactions_from_commerce",
    "transactions_import",
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

#: Partner Center's column names, in the order a template file lists them.
TRANSACTION_COLUMNS = [
    "transactionId",
    "transactionDate",
    "transactionType",
    "customerTenantId",
    "customerName",
    "productId",
    "SkuId",
    "productName",
    "subscriptionId",
    "invoiceNumber",
    "solutionArea",
    "partnerRole",
    "partnerAssociation",
    "partnerId",
    "quantity",
    "quantityType",
    "transactionCurrency",
    "transactionAmount",
]
_REQUIRED = [
    "transactionId",
    "transactionDate",
    "productId",
    "productName",
    "solutionArea",
    "partnerRole",
    "partnerId",
    "transactionCurrency",
    "transactionAmount",
]
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT_LIMIT = Decimal(10) ** 12
_BATCH = 5000


def _by_value_or_label(choices) -> dict[str, str]:
    """Accept a choice's value or its label, in any case ("modern work", "Azure Infrastructure")."""
    found = {}
    for value, label in choices.choices:
        found[str(value).lower()] = value
        found[str(label).lower()] = value
    return found


_AREAS = _by_value_or_label(SolutionArea)
_ROLES = _by_value_or_label(PartnerRole)
_ASSOCIATIONS = _by_value_or_label(PartnerAssociation)
_QUANTITY_TYPES = _by_value_or_label(QuantityType)
_TYPES = _by_value_or_label(TransactionType)


def exchange_rates_load(currencies: set[str]) -> dict[str, tuple[list[date], list[Decimal]]]:
    """Every rate of these currencies, by date, for `bisect` look-ups."""
    rates: dict[str, tuple[list[date], list[Decimal]]] = defaultdict(lambda: ([], []))
    for currency, day, rate in (
        ExchangeRate.objects.filter(currency__in=currencies)
        .order_by("currency", "rate_date")
        .values_list("currency", "rate_date", "rate_to_usd")
    ):
        rates[currency][0].append(day)
        rates[currency][1].append(rate)
    return rates


def _rate_on(rates, currency: str, day: date) -> Decimal | None:
    if currency == "USD":
        return Decimal(1)
    days, values = rates.get(currency, ([], []))
    index = bisect.bisect_right(days, day)
    return values[index - 1] if index else None


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _parse_decimal(value: str, places: int) -> Decimal | None:
    try:
        number = Decimal(value.replace(",", "")) if value else Decimal(0)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= _AMOUNT_LIMIT or -number.as_tuple().exponent > places:
        return None
    return number


def _text(row: dict[str, str], column: str) -> str:
    return row.get(column, "").strip()


def _transactions_clean(organization: Organization, upload: UploadedFile) -> list[dict[str, Any]]:
    frame = read_table(upload, required_columns=_REQUIRED)
    ids = [value.strip() for value in frame["transactionId"]]
    already = set(
        Transaction.objects.filter(transaction_id__in=set(ids)).values_list("transaction_id", flat=True)
    )
    first_row: dict[str, int] = {}
    for number, value in enumerate(ids, start=2):
        first_row.setdefault(value, number)
    tenant_ids = set()
    if "customerTenantId" in frame.columns:
        tenant_ids = {u for u in map(_parse_uuid, frame["customerTenantId"]) if u}
    customers = {
        str(c.tenant_id): c
        for c in Customer.objects.filter(organization=organization, tenant_id__in=tenant_ids)
    }
    locations = dict(
        PartnerLocation.objects.filter(organization=organization).values_list("partner_id", "id")
    )
    rates = exchange_rates_load({value.strip().upper() for value in frame["transactionCurrency"]})

    def check(number: int, row: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
        errors: list[RowError] = []

        def bad(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        transaction_id = _text(row, "transactionId")
        if not transaction_id:
            bad("transactionId", "is empty")
        elif len(transaction_id) > 64:
            bad("transactionId", "is longer than 64 characters")
        elif first_row[transaction_id] != number:
            bad("transactionId", f"{transaction_id} repeats row {first_row[transaction_id]}")
        elif transaction_id in already:
            bad("transactionId", f"{transaction_id} was already imported")

        day = None
        try:
            day = parse_date_cell(_text(row, "transactionDate"))
        except ValueError:
            bad("transactionDate", f"{row['transactionDate']!r} is not a date (YYYY-MM-DD)")

        kind_text = _text(row, "transactionType")
        kind = _TYPES.get(kind_text.lower()) if kind_text else TransactionType.PURCHASE
        if kind is None:
            bad("transactionType", f"{kind_text!r} is not one of {', '.join(TransactionType.values)}")

        tenant_text = _text(row, "customerTenantId")
        customer = None
        if tenant_text:
            tenant_id = _parse_uuid(tenant_text)
            if tenant_id is None:
                bad("customerTenantId", f"{tenant_text!r} is not a tenant ID (a GUID)")
            customer = customers.get(str(tenant_id))
        customer_name = _text(row, "customerName") or (customer.name if customer else "")
        if not customer_name:
            bad("customerName", "is empty and the tenant ID is not one of your customers")

        product_id, sku_id, product_name = (_text(row, c) for c in ("productId", "SkuId", "productName"))
        for column, value, limit in (
            ("productId", product_id, 12),
            ("SkuId", sku_id, 4),
            ("productName", product_name, 200),
            ("customerName", customer_name, 200),
            ("subscriptionId", _text(row, "subscriptionId"), 40),
            ("invoiceNumber", _text(row, "invoiceNumber"), 40),
        ):
            if len(value) > limit:
                bad(column, f"is longer than {limit} characters")
        if not product_id:
            bad("productId", "is empty")
        if not product_name:
            bad("productName", "is empty")

        area_text, role_text = _text(row, "solutionArea"), _text(row, "partnerRole")
        area, role = _AREAS.get(area_text.lower()), _ROLES.get(role_text.lower())
        if area is None:
            bad("solutionArea", f"{area_text!r} is not one of {', '.join(SolutionArea.values)}")
        if role is None:
            bad("partnerRole", f"{role_text!r} is not one of {', '.join(PartnerRole.values)}")
        association_text = _text(row, "partnerAssociation")
        association = _ASSOCIATIONS.get(association_text.lower()) if association_text else ""
        if association is None:
            bad(
                "partnerAssociation",
                f"{association_text!r} is not one of {', '.join(PartnerAssociation.values)}",
            )

        partner_id = _text(row, "partnerId")
        location_id = locations.get(partner_id)
        if location_id is None:
            bad("partnerId", f"{partner_id!r} is not a PartnerID of this organization's locations")

        quantity = _parse_decimal(_text(row, "quantity"), 2)
        if quantity is None:
            bad("quantity", f"{row['quantity']!r} is not a number (up to 2 decimals)")
        quantity_type_text = _text(row, "quantityType")
        quantity_type = (
            _QUANTITY_TYPES.get(quantity_type_text.lower()) if quantity_type_text else QuantityType.BILLED
        )
        if quantity_type is None:
            bad("quantityType", f"{quantity_type_text!r} is not one of {', '.join(QuantityType.values)}")

        amount_text = _text(row, "transactionAmount")
        amount = _parse_decimal(amount_text, 6) if amount_text else None
        if amount is None:
            bad("transactionAmount", f"{amount_text!r} is not an amount")

        currency = _text(row, "transactionCurrency").upper()
        rate = None
        if not _CURRENCY.match(currency):
            bad("transactionCurrency", f"{currency!r} is not an ISO 4217 currency code")
        elif day is not None:
            rate = _rate_on(rates, currency, day)
            if rate is None:
                bad("transactionCurrency", f"no exchange rate for {currency} on or before {day:%Y-%m-%d}")

        if errors:
            return {}, errors
        return {
            "transaction_id": transaction_id,
            "transaction_date": day,
            "transaction_type": kind,
            "location_id": location_id,
            "customer": customer,
            "customer_name": customer_name,
            "customer_tenant_id": tenant_text,
            "customer_country": customer.country if customer else "",
            "customer_segment": customer.segment if customer else "",
            "product_id": product_id,
            "sku_id": sku_id,
            "product_name": product_name,
            "subscription_id": _text(row, "subscriptionId"),
            "invoice_number": _text(row, "invoiceNumber"),
            "solution_area": area,
            "partner_role": role,
            "partner_association": association,
            "is_trial": False,
            "quantity": quantity,
            "quantity_type": quantity_type,
            "transaction_currency": currency,
            "transaction_amount": amount,
            "transaction_exchange_rate": rate,
            "transaction_amount_usd": round_money(amount * rate),
        }, []

    return validate_rows(frame, check)


@transaction.atomic
def transactions_import(*, organization: Organization, file: UploadedFile, actor) -> TransactionUpload:
    """Load a usage/billing file for `organization`: every row checked first, then one bulk insert.

    Any bad row rejects the whole file (UploadRejected lists every row's reasons) and nothing is
    written. A tenant ID that is not one of the organization's customers is not an error: the row
    is kept without a customer, and the payout run records it as CUSTOMER_NOT_ASSOCIATED.
    """
    rows = _transactions_clean(organization, file)
    now = timezone.now()
    upload = TransactionUpload.objects.create(
        organization=organization,
        file_name=getattr(file, "name", "") or "upload",
        row_count=len(rows),
        uploaded_by=actor if getattr(actor, "pk", None) else None,
        uploaded_at=now,
    )
    Transaction.objects.bulk_create(
        [
            Transaction(
                organization=organization,
                source=TransactionSource.UPLOAD,
                upload=upload,
                created_at=now,
                **row,
            )
            for row in rows
        ],
        batch_size=_BATCH,
    )
    audit_record(
        actor=actor,
        action="earnings.transactions_imported",
        organization_id=organization.pk,
        target=upload,
        changes={"file_name": upload.file_name, "rows": len(rows)},
    )
    return upload
