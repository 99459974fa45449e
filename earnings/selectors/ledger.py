"""The Earnings page's read side: the filtered ledger, its cards, chart and top customers, and
one earning row with its corrections.

Cards and the chart read `EarningSummary` whenever every active filter is one of its dimensions,
so their cost follows the number of summary rows, not the size of the ledger; any other filter
(customer, product, payment ID, row type, search, a date that is not a whole month) aggregates
the filtered ledger instead. Both paths give the same totals (tests/earnings/test_queries.py).
Top customers read `CustomerEarningTotal` when nothing is filtered.

Tables page by keyset (`after=<date>.<id>`), never by OFFSET and never with COUNT(*) over the
ledger: the row count of an earnings selection comes from the summary, or is counted up to a cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from earnings.filters import EarningsFilterSet, PaymentFilterSet
from earnings.models import CustomerEarningTotal, Earning, EarningSummary, Payment
from earnings.periods import add_months, month_end, month_start
from earnings.services.summary import CUSTOMER_MONTHS
from portal.capabilities import Capability, locations_granting

ZERO = Decimal("0")
#: Counting ledger rows stops here when the summary cannot answer (non-summary filters).
COUNT_CAP = 10_000
CHART_MONTHS = 24
TOP_CUSTOMERS = 50
EARNING_COLUMNS = ("program", "engagement", "lever", "enrollment", "payment", "transaction")

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
    selection: Selection, *, today: date | None = None, limit: int = TOP_CUSTOMERS, source: str = "auto"
) -> tuple[list[CustomerTotal], date | None]:
    """The customers that earned most under the filters, and the month the window starts.

    Unfiltered, for a person who sees every location, they are `CustomerEarningTotal`'s (the
    trailing CUSTOMER_MONTHS months as of the last rebuild). Otherwise the filtered ledger: without
    a period filter (earned from, payment month) over the last CUSTOMER_MONTHS months, so the
    query reads a bounded slice of it. `source` forces "summary" or "ledger" (the tests compare).
    """
    filters = selection.filters
    window = add_months(month_start(today or timezone.now().date()), 1 - CUSTOMER_MONTHS)
    every_location = locations_granting(selection.user, Capability.EARNINGS_VIEW) is None
    if source == "summary" or (source == "auto" and not filters and every_location):
        totals = list(
            CustomerEarningTotal.objects.visible_to(selection.user).order_by(
                "-earning_amount_usd", "customer_name"
            )[:limit]
        )
        customers = [CustomerTotal(t.customer_name, t.earning_amount_usd, t.earning_count) for t in totals]
        return customers, (totals[0].since if totals else window)
    ledger = selection.ledger.order_by().exclude(customer_name="")
    since = None
    if not filters.get("earningDateFrom") and not filters.get("estimatedPaymentMonth"):
        since = window
        ledger = ledger.filter(earning_date__gte=since)
    rows = (
        ledger.values("customer_name")
        .annotate(amount=Sum("earning_amount_usd"), rows=Count("id"))
        .order_by("-amount", "customer_name")[:limit]
    )
    return [CustomerTotal(r["customer_name"], r["amount"], r["rows"]) for r in rows], since


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- One earning row ----------------------------------------------------------------------------


def earning_for_page(*, user, pk: int) -> Earning | None:
    return (
        Earning.objects.visible_to(user)
        .select_related(*EARNING_COLUMNS, "enrollment__location", "customer")
        .filter(pk=pk)
        .first()
    )


def earning_corrections(*, user, earning: Earning) -> QuerySet[Earning]:
    """The other rows of the same transaction and lever, or of the same claim and earning type:
    the earning, its adjustments and reversals (a manual adjustment has none)."""
    if earning.transaction_id:
        same = Q(transaction_id=earning.transaction_id, lever_id=earning.lever_id)
    elif earning.claim_id:
        same = Q(claim_id=earning.claim_id, earning_type=earning.earning_type)
    else:
        same = Q(pk=earning.pk)
    return Earning.objects.visible_to(user).filter(same).exclude(pk=earning.pk).order_by("revision", "id")
