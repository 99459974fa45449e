"""The downloadable reports (spec/earnings.md §3, §5, §6): column layouts and how each is written.

Each report is ONE SELECT built from the rows a user may see (`visible_to`), narrowed by the
same FilterSet and GET parameters as its page, with Partner Center's column names in a fixed
order. CSV is PostgreSQL's own `COPY … TO STDOUT` output; XLSX, for modest sizes, reads the same
SELECT through a server-side cursor. Both are written by the file writer (portal.files); the
background exports that write them to a file are `earnings.services.exports`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, CharField, F, Func, Max, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

from earnings.choices import PAYMENT_STATUS_DESCRIPTIONS, IneligibleReason
from earnings.filters import EarningsFilterSet, IneligibleFilterSet, PaymentFilterSet, TransactionFilterSet
from earnings.models import Earning, ExportJob, IneligibleTransaction, Payment, Transaction
from portal.files import (
    Amount,
    TrimScale,
    empty_as_null,
    named_select,
    select_columns,
    write_xlsx,
)

TEXT, AMOUNT, RATE, DATE, NUMBER = "text", "amount", "rate", "date", "number"
NOT_APPLICABLE = "Not applicable"


class ReportFilterError(ValueError):
    """The GET parameters do not validate against the report's FilterSet."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {' '.join(messages)}" for name, messages in sorted(errors.items()))
        )


@dataclass(frozen=True)
class Column:
    header: str
    expression: Any
    kind: str = TEXT


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    model: type
    filterset_class: type
    columns: tuple[Column, ...]
    #: The column the page's total sums (None: the report has no single total).
    total_column: str | None = None
    #: Rows grouped by every non-aggregate column (the Summarized report).
    group_by: tuple[str, ...] = ()

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


def _month(path: str, missing: str) -> Coalesce:
    return Coalesce(
        _to_char(F(path), "YYYY-MM"),
        Value(missing),
        output_field=CharField(),
    )


def _to_char(expression, pattern: str) -> Func:
    return Func(expression, Value(pattern), function="to_char", output_field=CharField())


def _labels(path: str, labels: dict[str, str]) -> Case:
    return Case(
        *(When(**{path: value}, then=Value(str(text))) for value, text in labels.items()),
        default=Value(""),
        output_field=CharField(),
    )


_STATUS_TEXT = {str(status): text for status, (text, _action) in PAYMENT_STATUS_DESCRIPTIONS.items()}
_REASON_TEXT = {reason.value: str(reason.label) for reason in IneligibleReason}

# Earnings – Default (spec §3): the columns the ledger can fill, in Partner Center's order.
EARNING_COLUMNS = (
    Column("earningId", F("earning_id")),
    Column("participantId", F("enrollment__participant_id")),
    Column("participantIdType", F("enrollment__participant_id_type")),
    Column("participantName", F("enrollment__participant_name")),
    Column("partnerCountryCode", F("enrollment__location__country")),
    Column("programName", F("program__name")),
    Column("engagementId", F("engagement__engagement_id")),
    Column("engagementName", F("engagement__name")),
    Column("lever", F("lever__name")),
    Column("transactionId", F("transaction__transaction_id")),
    Column("transactionDate", F("transaction__transaction_date"), DATE),
    Column("transactionCurrency", F("currency")),
    Column("transactionAmount", Amount(F("transaction__transaction_amount")), AMOUNT),
    Column("transactionAmountUSD", Amount(F("transaction__transaction_amount_usd")), AMOUNT),
    Column("transactionExchangeRate", TrimScale(F("transaction__transaction_exchange_rate")), RATE),
    Column("transactionType", F("transaction__transaction_type")),
    Column("earningRate", TrimScale(F("earning_rate")), RATE),
    Column("quantity", TrimScale(F("transaction__quantity")), NUMBER),
    Column("quantityType", F("transaction__quantity_type")),
    Column("earningType", F("earning_type")),
    Column("earningAmount", Amount(F("earning_amount")), AMOUNT),
    Column("earningAmountUSD", Amount(F("earning_amount_usd")), AMOUNT),
    Column("earningExchangeRate", TrimScale(F("earning_exchange_rate")), RATE),
    Column("exchangeRateDate", F("exchange_rate_date"), DATE),
    Column("earningDate", F("earning_date"), DATE),
    Column("calculationDate", F("calculation_date"), DATE),
    Column("estimatedPaymentMonth", _month("estimated_payment_month", NOT_APPLICABLE)),
    Column("paymentId", F("payment__payment_id")),
    Column("paymentStatus", F("payment_status")),
    Column("paymentStatusDescription", _labels("payment_status", _STATUS_TEXT)),
    Column("customerId", F("customer__tenant_id")),
    Column("customerName", empty_as_null("customer_name")),
    Column("customerTenantId", empty_as_null("transaction__customer_tenant_id")),
    Column("customerCountry", empty_as_null("transaction__customer_country")),
    Column("productId", empty_as_null("product_id")),
    Column("productName", empty_as_null("product_name")),
    Column("SkuId", empty_as_null("transaction__sku_id")),
    Column("subscriptionId", empty_as_null("transaction__subscription_id")),
    Column("invoiceNumber", empty_as_null("transaction__invoice_number")),
    Column("claimId", empty_as_null("claim_id")),
    Column("solutionArea", empty_as_null("solution_area")),
    Column("partnerRole", empty_as_null("partner_role")),
    Column("partnerAssociation", empty_as_null("partner_association")),
    Column("reasonCode", empty_as_null("reason_code")),
)

# Earnings – Summarized (spec §6): no earningId; an earning and its adjustments and reversals
# (the recalculations of one transaction and lever) merge into one row per payment ID.
_SUMMED = {
    "earningAmount": Column("earningAmount", Amount(Sum("earning_amount")), AMOUNT),
    "earningAmountUSD": Column("earningAmountUSD", Amount(Sum("earning_amount_usd")), AMOUNT),
    "earningDate": Column("earningDate", Max("earning_date"), DATE),
    "calculationDate": Column("calculationDate", Max("calculation_date"), DATE),
}
_NOT_SUMMARIZED = {"earningId", "earningExchangeRate", "exchangeRateDate", "reasonCode"}
SUMMARIZED_COLUMNS = tuple(
    _SUMMED.get(column.header, column) for column in EARNING_COLUMNS if column.header not in _NOT_SUMMARIZED
)

TRANSACTION_COLUMNS = (
    Column("transactionId", F("transaction_id")),
    Column("transactionDate", F("transaction_date"), DATE),
    Column("transactionType", F("transaction_type")),
    Column("partnerId", F("location__partner_id")),
    Column("partnerCountryCode", F("location__country")),
    Column("customerId", F("customer__tenant_id")),
    Column("customerName", F("customer_name")),
    Column("customerTenantId", empty_as_null("customer_tenant_id")),
    Column("customerCountry", empty_as_null("customer_country")),
    Column("customerSegment", empty_as_null("customer_segment")),
    Column("productId", F("product_id")),
    Column("productName", F("product_name")),
    Column("SkuId", empty_as_null("sku_id")),
    Column("subscriptionId", empty_as_null("subscription_id")),
    Column("invoiceNumber", empty_as_null("invoice_number")),
    Column("solutionArea", F("solution_area")),
    Column("partnerRole", F("partner_role")),
    Column("partnerAssociation", empty_as_null("partner_association")),
    Column("quantity", TrimScale(F("quantity")), NUMBER),
    Column("quantityType", F("quantity_type")),
    Column("transactionCurrency", F("transaction_currency")),
    Column("transactionAmount", Amount(F("transaction_amount")), AMOUNT),
    Column("transactionExchangeRate", TrimScale(F("transaction_exchange_rate")), RATE),
    Column("transactionAmountUSD", Amount(F("transaction_amount_usd")), AMOUNT),
)

# Ineligible revenue usage (spec §5): the transaction, the engagement, and the reason code and text.
INELIGIBLE_COLUMNS = (
    Column("transactionId", F("transaction__transaction_id")),
    Column("transactionDate", F("transaction__transaction_date"), DATE),
    Column("partnerId", F("transaction__location__partner_id")),
    Column("partnerCountryCode", F("transaction__location__country")),
    Column("partnerRole", F("transaction__partner_role")),
    Column("partnerAssociation", empty_as_null("transaction__partner_association")),
    Column("programName", F("program__name")),
    Column("engagementId", F("engagement__engagement_id")),
    Column("engagementName", F("engagement__name")),
    Column("solutionArea", F("engagement__solution_area")),
    Column("customerId", F("transaction__customer__tenant_id")),
    Column("customerName", F("transaction__customer_name")),
    Column("customerTenantId", empty_as_null("transaction__customer_tenant_id")),
    Column("customerCountry", empty_as_null("transaction__customer_country")),
    Column("productId", F("transaction__product_id")),
    Column("productName", F("transaction__product_name")),
    Column("SkuId", empty_as_null("transaction__sku_id")),
    Column("subscriptionId", empty_as_null("transaction__subscription_id")),
    Column("invoiceNumber", empty_as_null("transaction__invoice_number")),
    Column("compensableUnits", TrimScale(F("transaction__quantity")), NUMBER),
    Column("quantityType", F("transaction__quantity_type")),
    Column("transactionCurrency", F("transaction__transaction_currency")),
    Column("transactionAmount", Amount(F("transaction__transaction_amount")), AMOUNT),
    Column("transactionAmountUSD", Amount(F("transaction__transaction_amount_usd")), AMOUNT),
    Column("reasonCode", F("reason_code")),
    Column("reason", _labels("reason_code", _REASON_TEXT)),
    Column("calculationDate", F("calculation_date"), DATE),
)

# Payments (spec §6), in the report's (alphabetical) order, with the payment month added.
PAYMENT_COLUMNS = (
    Column("CIReferenceNumber", empty_as_null("ci_reference_number")),
    Column("earned", Amount(F("earned")), AMOUNT),
    Column("earnedCurrencyCode", F("currency")),
    Column("earnedUSD", Amount(F("earned_usd")), AMOUNT),
    Column("participantID", F("enrollment__participant_id")),
    Column("participantIDType", F("enrollment__participant_id_type")),
    Column("participantName", F("enrollment__participant_name")),
    Column("paymentCurrencyCode", F("currency")),
    Column("paymentDate", F("payment_date"), DATE),
    Column("paymentID", F("payment_id")),
    Column("paymentMethod", F("method")),
    Column("paymentMonth", _month("payment_month", "")),
    Column("paymentStatus", F("status")),
    Column("paymentStatusDescription", _labels("status", _STATUS_TEXT)),
    Column("programName", F("program__name")),
    Column("salesTax", Amount(F("sales_tax")), AMOUNT),
    Column("serviceFeeTax", Amount(F("service_fee_tax")), AMOUNT),
    Column("totalPayment", Amount(F("total_payment")), AMOUNT),
)

REPORTS: dict[str, Report] = {
    report.slug: report
    for report in (
        Report(
            "earnings",
            "Earnings – Default",
            Earning,
            EarningsFilterSet,
            EARNING_COLUMNS,
            total_column="earningAmountUSD",
        ),
        Report(
            "summarized",
            "Earnings – Summarized",
            Earning,
            EarningsFilterSet,
            SUMMARIZED_COLUMNS,
            total_column="earningAmountUSD",
            group_by=tuple(c.header for c in SUMMARIZED_COLUMNS if c.header not in _SUMMED),
        ),
        Report(
            "transactions",
            "Revenue (transactions)",
            Transaction,
            TransactionFilterSet,
            TRANSACTION_COLUMNS,
            total_column="transactionAmountUSD",
        ),
        Report(
            "ineligible",
            "Ineligible revenue usage",
            IneligibleTransaction,
            IneligibleFilterSet,
            INELIGIBLE_COLUMNS,
        ),
        Report("payments", "Payments", Payment, PaymentFilterSet, PAYMENT_COLUMNS, total_column="earnedUSD"),
    )
}


# --- The rows of a report ---------------------------------------------------------------------------


def report_rows(report: Report, user, filters: QueryDict | dict) -> QuerySet:
    """The report's rows as its page shows them: visible to `user`, filtered like the page.

    Raises ReportFilterError when a filter value is not valid (a page would ignore it; a file
    of the wrong rows is worse than a clear refusal).
    """
    if not isinstance(filters, QueryDict):
        filters = _query_dict(filters)
    rows = report.model.objects.visible_to(user)
    filterset = report.filterset_class(filters, queryset=rows)
    if not filterset.is_valid():
        raise ReportFilterError(
            {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        )
    return filterset.qs


def report_select(report: Report, rows: QuerySet) -> tuple[str, Any]:
    """The report's one SELECT over `rows`, its columns named by the report's headers."""
    if not report.group_by:
        return select_columns(rows, {column.header: column.expression for column in report.columns})
    aliases = {f"c{position}": column for position, column in enumerate(report.columns)}
    keys = {alias: column.expression for alias, column in aliases.items() if column.header in report.group_by}
    sums = {
        alias: column.expression for alias, column in aliases.items() if column.header not in report.group_by
    }
    grouped = (
        rows.order_by().values(**keys).annotate(**sums).order_by("-c" + _position(report, "earningDate"))
    )
    grouped = grouped.values_list(*aliases)
    return named_select(grouped, {alias: column.header for alias, column in aliases.items()})


def _position(report: Report, header: str) -> str:
    return str(report.headers.index(header))


def report_has_more_than(rows: QuerySet, limit: int) -> bool:
    """Whether more than `limit` rows match, reading at most limit + 1 of them (no full count)."""
    return rows.order_by()[limit : limit + 1].exists()


def report_filename(report: Report, file_format: str, filters: QueryDict | dict) -> str:
    month = (
        filters.get("estimatedPaymentMonth") or filters.get("transactionMonth") or filters.get("paymentMonth")
    )
    suffix = f"-{month}" if month and _is_month(month) else ""
    return f"{report.slug}{suffix}-{date.today():%Y%m%d}.{file_format}"


def _is_month(value: str) -> bool:
    return len(value) == 7 and value[:4].isdigit() and value[4] == "-" and value[5:].isdigit()


def _query_dict(filters: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        if isinstance(value, list | tuple):
            query.setlist(name, [str(item) for item in value])
        elif value is not None:
            query[name] = str(value)
    return query


# --- XLSX ---------------------------------------------------------------------------------------------


#: Text the SELECT formats for CSV, turned back into numbers for a spreadsheet (Decimal, never float).
_CONVERTERS: dict[str, Callable[[str], Any]] = {AMOUNT: Decimal, RATE: Decimal, NUMBER: Decimal}


def report_xlsx(report: Report, sql: str, params: Any, target=None):
    """Write the report as XLSX to `target` (a new temporary file if None)."""
    converters = [_CONVERTERS.get(column.kind) for column in report.columns]
    rows = (
        [
            value if convert is None or value is None or isinstance(value, date) else convert(value)
            for value, convert in zip(row, converters, strict=True)
        ]
        for row in _server_side_rows(sql, params)
    )
    return write_xlsx(report.title, report.headers, rows, target)


def _server_side_rows(sql: str, params: Any, size: int = 2000) -> Iterator[tuple]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield from rows


def export_path(export: ExportJob) -> Path:
    return (
        Path(settings.EARNINGS_EXPORT_DIR)
        / str(export.organization_id)
        / f"{export.export_id}.{export.file_format}"
    )


def export_is_expired(export: ExportJob, now: datetime | None = None) -> bool:
    return export.expires_at is not None and export.expires_at <= (now or timezone.now())


def xlsx_too_large_message() -> str:
    return (
        f"XLSX is offered up to {settings.EARNINGS_XLSX_MAX_ROWS:,} rows. Download CSV instead, "
        "or narrow the filters."
    )
