"""The read side of the Earnings pages: cards, chart, top customers, revenue and ineligible totals.

Cards and the chart read `EarningSummary` whenever every active filter is one of its dimensions,
so their cost follows the number of summary rows, not the size of the ledger; any other filter
(customer, product, payment ID, row type, search, a date that is not a whole month) aggregates
the filtered ledger instead. Both paths give the same totals (tests/earnings/test_queries.py).

Tables page by keyset (`after=<date>.<id>`), never by OFFSET and never with COUNT(*) over the
ledger: the row count of an earnings selection comes from the summary, or is counted up to a cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from earnings.choices import (
    PAYMENT_STATUS_DESCRIPTIONS,
    IneligibleReason,
    PaymentStatus,
    SolutionArea,
    TransactionType,
)
from earnings.filters import EarningsFilterSet, PaymentFilterSet
from earnings.models import Earning, EarningSummary, IneligibleTransaction, Payment, Transaction
from earnings.periods import add_months, month_end, month_start

ZERO = Decimal("0")
#: Counting ledger rows stops here when the summary cannot answer (non-summary filters).
COUNT_CAP = 10_000
CHART_MONTHS = 24
TOP_CUSTOMERS = 50
#: Top customers read the ledger; without a period they look at this many recent months.
TOP_CUSTOMER_MONTHS = 12

#: EarningsFilterSet names that are EarningSummary dimensions, and the summary field each filters.
SUMMARY_DIMENSIONS = {
    "solutionArea": "solution_area",
    "partnerRole": "partner_role",
    "partnerAssociation": "partner_association",
    "estimatedPaymentMonth": "estimated_payment_month",
    "programName": "program__name",
    "engagementName": "engagement__name",
    "lever": "lever__name",
    "earningType": "earning_type",
    "paymentStatus": "payment_status",
    "participantId": "enrollment__participant_id",
}
TIME_FILTERS = ("earningDateFrom", "earningDateTo")


# --- Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What a person asked for on the Earnings page: their visible rows under the filters."""

    user: Any
    filterset: EarningsFilterSet

    @property
    def filters(self) -> dict[str, Any]:
        """The filters with a valid, non-empty value."""
        cleaned = getattr(self.filterset.form, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}

    @property
    def ledger(self) -> QuerySet[Earning]:
        return self.filterset.qs

    def summary(self) -> QuerySet[EarningSummary]:
        return EarningSummary.objects.visible_to(self.user)


def earnings_selection(*, user, data: Mapping[str, Any]) -> Selection:
    """The EarningsFilterSet over the rows `user` may see; invalid values are left out (and shown
    on the form)."""
    filterset = EarningsFilterSet(data, queryset=Earning.objects.visible_to(user))
    filterset.is_valid()
    return Selection(user=user, filterset=filterset)


def summary_conditions(filters: Mapping[str, Any], *, ignore_time: bool = False) -> Q | None:
    """The EarningSummary condition equal to `filters`, or None when the summary cannot answer.

    Earned-from/to reach the summary only as whole months (from the 1st, to a month's last day).
    """
    condition = Q()
    for name, value in filters.items():
        if name in SUMMARY_DIMENSIONS:
            condition &= Q(**{SUMMARY_DIMENSIONS[name]: value})
        elif name in TIME_FILTERS:
            if ignore_time:
                continue
            if name == "earningDateFrom" and value.day == 1:
                condition &= Q(earning_month__gte=value)
            elif name == "earningDateTo" and value == month_end(value):
                condition &= Q(earning_month__lte=month_start(value))
            else:
                return None
        else:
            return None
    return condition


def _ledger_without_time(selection: Selection) -> QuerySet[Earning]:
    data = selection.filterset.data.copy()
    for name in TIME_FILTERS:
        data.pop(name, None)
    return EarningsFilterSet(data, queryset=selection.filterset.queryset).qs


# --- Cards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthTotal:
    month: date
    amount_usd: Decimal


@dataclass(frozen=True)
class EarningsCards:
    """spec §1.1's cards. `row_count` is exact unless `row_count_capped`."""

    source: str
    as_of: date | None
    total_usd: Decimal
    row_count: int
    row_count_capped: bool
    previous_month: MonthTotal | None
    current_month: MonthTotal | None
    payments_as_of: datetime | None
    payments_total_usd: Decimal


def earnings_as_of(*, user) -> date | None:
    """The calculation date of the newest earning: the date its period was last calculated.

    Read through the (organization, earning date) index, so it costs one index probe however
    long the history; a MAX over calculation_date would read every row of the organization.
    """
    newest = Earning.objects.visible_to(user).order_by("-earning_date", "-id")
    return newest.values_list("calculation_date", flat=True).first()


def earnings_total(selection: Selection, *, source: str = "auto") -> tuple[str, Decimal, int, bool]:
    """(source, USD total, row count, count capped) of the filtered earnings.

    `source` forces "summary" or "ledger" (the tests compare both); "auto" takes the summary
    when it can answer.
    """
    filters = selection.filters
    condition = summary_conditions(filters) if source in ("auto", "summary") else None
    if condition is not None:
        totals = (
            selection.summary()
            .filter(condition)
            .aggregate(amount=Sum("earning_amount_usd"), rows=Sum("earning_count"))
        )
        return "summary", totals["amount"] or ZERO, totals["rows"] or 0, False
    if source == "summary":
        raise ValueError("The summary cannot answer these filters.")
    ledger = selection.ledger.order_by()
    amount = ledger.aggregate(amount=Sum("earning_amount_usd"))["amount"] or ZERO
    rows = ledger.values("pk")[: COUNT_CAP + 1].count()
    return "ledger", amount, min(rows, COUNT_CAP), rows > COUNT_CAP


def month_totals(selection: Selection, *, months: list[date], source: str = "auto") -> dict[date, Decimal]:
    """USD earned per earning month in `months`, ignoring the time filter (spec §1.1)."""
    filters = selection.filters
    condition = summary_conditions(filters, ignore_time=True) if source in ("auto", "summary") else None
    if condition is not None:
        rows = (
            selection.summary()
            .filter(condition, earning_month__in=months)
            .values("earning_month")
            .annotate(amount=Sum("earning_amount_usd"))
            .values_list("earning_month", "amount")
        )
    else:
        rows = (
            _ledger_without_time(selection)
            .order_by()
            .filter(earning_date__gte=min(months), earning_date__lt=add_months(max(months), 1))
            .annotate(month=TruncMonth("earning_date"))
            .values("month")
            .annotate(amount=Sum("earning_amount_usd"))
            .values_list("month", "amount")
        )
    return {_as_date(month): amount for month, amount in rows}


def payments_for_cards(*, user, filters: Mapping[str, Any]) -> QuerySet[Payment]:
    """Payments under the filters that apply to them (spec §1.1): enrollment, program, earning
    type, payment status, payment ID; the period is the payment month or the earned-from/to range."""
    data = {
        "participantId": filters.get("participantId"),
        "programName": filters.get("programName"),
        "paymentStatus": filters.get("paymentStatus"),
        "paymentId": filters.get("paymentId"),
    }
    month = filters.get("estimatedPaymentMonth")
    if month:
        data["paymentMonth"] = month.strftime("%Y-%m")
    payments = PaymentFilterSet(
        {k: v for k, v in data.items() if v}, queryset=Payment.objects.visible_to(user)
    ).qs
    if filters.get("earningDateFrom"):
        payments = payments.filter(payment_month__gte=month_start(filters["earningDateFrom"]))
    if filters.get("earningDateTo"):
        payments = payments.filter(payment_month__lte=filters["earningDateTo"])
    if filters.get("earningType"):
        typed = Earning.objects.filter(payment=OuterRef("pk"), earning_type=filters["earningType"])
        payments = payments.filter(Exists(typed))
    return payments


def earnings_cards(selection: Selection, *, today: date | None = None) -> EarningsCards:
    user = selection.user
    filters = selection.filters
    source, total, rows, capped = earnings_total(selection)
    current = month_start(today or timezone.now().date())
    previous = add_months(current, -1)
    by_month = month_totals(selection, months=[previous, current])
    payments = payments_for_cards(user=user, filters=filters).aggregate(
        as_of=Max("created_at"), total=Sum("earned_usd")
    )

    def card(month: date) -> MonthTotal | None:
        amount = by_month.get(month) or ZERO
        return MonthTotal(month, amount) if amount else None

    return EarningsCards(
        source=source,
        as_of=earnings_as_of(user=user),
        total_usd=total,
        row_count=rows,
        row_count_capped=capped,
        previous_month=card(previous),
        current_month=card(current),
        payments_as_of=Payment.objects.visible_to(user).aggregate(at=Max("created_at"))["at"],
        payments_total_usd=payments["total"] or ZERO,
    )


# --- Chart --------------------------------------------------------------------------------------


@dataclass
class Chart:
    """Earnings by month, stacked by lever; the page embeds it with json_script for Chart.js."""

    months: list[str] = field(default_factory=list)
    series: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"labels": self.months, "datasets": [{"label": k, "data": v} for k, v in self.series.items()]}


def earnings_chart(selection: Selection, *, today: date | None = None) -> Chart:
    """The last CHART_MONTHS months of the selection (ending at earned-to, else this month)."""
    filters = selection.filters
    last = month_start(filters.get("earningDateTo") or today or timezone.now().date())
    first = add_months(last, 1 - CHART_MONTHS)
    if filters.get("earningDateFrom"):
        first = max(first, month_start(filters["earningDateFrom"]))
    condition = summary_conditions(filters)
    if condition is not None:
        rows = (
            selection.summary()
            .filter(condition, earning_month__gte=first, earning_month__lte=last)
            .values("earning_month", "lever__name")
            .annotate(amount=Sum("earning_amount_usd"))
            .values_list("earning_month", "lever__name", "amount")
        )
    else:
        rows = (
            selection.ledger.order_by()
            .filter(earning_date__gte=first, earning_date__lt=add_months(last, 1))
            .annotate(month=TruncMonth("earning_date"))
            .values("month", "lever__name")
            .annotate(amount=Sum("earning_amount_usd"))
            .values_list("month", "lever__name", "amount")
        )
    amounts: dict[tuple[date, str], Decimal] = {}
    for month, lever, amount in rows:
        key = (_as_date(month), lever or "Adjustments")
        amounts[key] = amounts.get(key, ZERO) + amount
    months = sorted({month for month, _ in amounts})
    chart = Chart(months=[m.strftime("%Y-%m") for m in months])
    for lever in sorted({lever for _, lever in amounts}):
        chart.series[lever] = [
            str((amounts.get((m, lever)) or ZERO).quantize(Decimal("0.01"))) for m in months
        ]
    return chart


# --- Top customers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerTotal:
    customer_name: str
    amount_usd: Decimal
    earning_count: int


def top_customers(
    selection: Selection, *, today: date | None = None, limit: int = TOP_CUSTOMERS
) -> tuple[list[CustomerTotal], date | None]:
    """The customers that earned most under the filters, and the month the window starts.

    Without any period filter (earned from, payment month) the window is the last
    TOP_CUSTOMER_MONTHS months, so the query reads a bounded slice of the ledger.
    """
    filters = selection.filters
    ledger = selection.ledger.order_by().exclude(customer_name="")
    since = None
    if not filters.get("earningDateFrom") and not filters.get("estimatedPaymentMonth"):
        since = add_months(month_start(today or timezone.now().date()), 1 - TOP_CUSTOMER_MONTHS)
        ledger = ledger.filter(earning_date__gte=since)
    rows = (
        ledger.values("customer_name")
        .annotate(amount=Sum("earning_amount_usd"), rows=Count("id"))
        .order_by("-amount", "customer_name")[:limit]
    )
    return [CustomerTotal(r["customer_name"], r["amount"], r["rows"]) for r in rows], since


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- Revenue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevenueTotals:
    eligible_usd: Decimal
    eligible_count: int
    ineligible_usd: Decimal
    ineligible_count: int


def _assessed(transactions: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """Modern Work usage is paid on usage, not revenue, so it counts on neither side (spec §1.2)."""
    return transactions.exclude(
        solution_area=SolutionArea.MODERN_WORK, transaction_type=TransactionType.USAGE
    ).order_by()


def revenue_totals(transactions: QuerySet[Transaction]) -> RevenueTotals:
    """Distinct transactions (one row each) that earned under some engagement, and those that
    were assessed and earned under none."""
    earned = Exists(Earning.objects.filter(transaction_id=OuterRef("pk")))
    assessed = Exists(IneligibleTransaction.objects.filter(transaction_id=OuterRef("pk")))
    totals = _assessed(transactions).aggregate(
        eligible_usd=Sum("transaction_amount_usd", filter=Q(earned)),
        eligible_count=Count("id", filter=Q(earned)),
        ineligible_usd=Sum("transaction_amount_usd", filter=Q(assessed) & ~Q(earned)),
        ineligible_count=Count("id", filter=Q(assessed) & ~Q(earned)),
    )
    return RevenueTotals(
        eligible_usd=totals["eligible_usd"] or ZERO,
        eligible_count=totals["eligible_count"],
        ineligible_usd=totals["ineligible_usd"] or ZERO,
        ineligible_count=totals["ineligible_count"],
    )


def with_earned(transactions: QuerySet[Transaction]) -> QuerySet[Transaction]:
    return transactions.annotate(earned=Exists(Earning.objects.filter(transaction_id=OuterRef("pk"))))


# --- Ineligible reasons -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonTotal:
    reason_code: str
    reason: str
    transaction_count: int
    amount_usd: Decimal


def ineligible_reasons(ineligible: QuerySet[IneligibleTransaction]) -> list[ReasonTotal]:
    """Each distinct reason with the revenue parked under it; a transaction ineligible under two
    engagements for the same reason counts once."""
    pairs = (
        ineligible.order_by()
        .values("reason_code", "transaction_id", "transaction__transaction_amount_usd")
        .distinct()
    )
    sql, params = pairs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT reason_code, count(*), coalesce(sum(amount), 0) "
            f"FROM ({sql}) AS pairs (reason_code, transaction_id, amount) "
            "GROUP BY reason_code ORDER BY 3 DESC, 1",
            params,
        )
        rows = cursor.fetchall()
    return [ReasonTotal(code, IneligibleReason(code).label, count, amount) for code, count, amount in rows]


# --- Payments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemittanceLine:
    currency: str
    amount: Decimal
    amount_usd: Decimal
    earning_count: int


def remittance(payment: Payment) -> list[RemittanceLine]:
    """The payment's earnings, de-duplicated by earningId and summed per currency (spec §7)."""
    distinct = (
        Earning.objects.filter(payment=payment)
        .order_by()
        .values("earning_id", "currency", "earning_amount", "earning_amount_usd")
        .distinct()
    )
    sql, params = distinct.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT currency, sum(amount), sum(amount_usd), count(*) "
            f"FROM ({sql}) AS e (earning_id, currency, amount, amount_usd) GROUP BY currency ORDER BY 1",
            params,
        )
        return [RemittanceLine(*row) for row in cursor.fetchall()]


def status_description(status: str) -> tuple[str, str]:
    return PAYMENT_STATUS_DESCRIPTIONS.get(PaymentStatus(status), ("", ""))
