"""The Revenue and Ineligible revenue pages' read side: their totals and the rows they list.

The totals read `RevenueSummary` and `IneligibleSummary` whenever every active filter is one of
their dimensions (a month, solution area, role, association, type, reason); any other filter
(customer, product, program, engagement, search) aggregates the filtered rows instead. Both
paths give the same figures (tests/earnings/test_queries.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django_filters import FilterSet

from earnings.choices import IneligibleReason, SolutionArea, TransactionType
from earnings.models import Earning, IneligibleSummary, IneligibleTransaction, RevenueSummary, Transaction

ZERO = Decimal("0")
INELIGIBLE_COLUMNS = ("transaction", "engagement", "program")

#: TransactionFilterSet names the revenue summary answers, and the summary field each filters.
REVENUE_DIMENSIONS = {
    "solutionArea": "solution_area",
    "partnerRole": "partner_role",
    "partnerAssociation": "partner_association",
    "transactionType": "transaction_type",
    "transactionMonth": "transaction_month",
}
#: IneligibleFilterSet names the reasons summary answers, and the summary field each filters.
INELIGIBLE_DIMENSIONS = {
    "reasonCode": "reason_code",
    "solutionArea": "solution_area",
    "partnerRole": "partner_role",
    "transactionMonth": "transaction_month",
}


def active_filters(filterset: FilterSet) -> dict[str, Any]:
    """The filters with a valid, non-empty value (invalid ones are shown on the form, not applied)."""
    filterset.is_valid()
    cleaned = getattr(filterset.form, "cleaned_data", {})
    return {name: value for name, value in cleaned.items() if value not in (None, "")}


def _summary_condition(filters: Mapping[str, Any], dimensions: Mapping[str, str]) -> Q | None:
    if set(filters) - set(dimensions):
        return None
    return Q(**{dimensions[name]: value for name, value in filters.items()})


# --- Revenue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevenueTotals:
    eligible_usd: Decimal
    eligible_count: int
    ineligible_usd: Decimal
    ineligible_count: int


def transactions(*, user) -> QuerySet[Transaction]:
    return Transaction.objects.visible_to(user)


def with_earned(rows: QuerySet[Transaction]) -> QuerySet[Transaction]:
    return rows.annotate(earned=Exists(Earning.objects.filter(transaction_id=OuterRef("pk"))))


def _paid_on_revenue() -> Q:
    """Modern Work usage is paid on usage, not revenue, so it counts on neither side (spec §1.2)."""
    return ~Q(solution_area=SolutionArea.MODERN_WORK, transaction_type=TransactionType.USAGE)


def revenue_totals(rows: QuerySet[Transaction]) -> RevenueTotals:
    """Distinct transactions (one row each) that earned under some engagement, and those that
    were assessed and earned under none, aggregated over `rows`."""
    earned = Exists(Earning.objects.filter(transaction_id=OuterRef("pk")))
    assessed = Exists(IneligibleTransaction.objects.filter(transaction_id=OuterRef("pk")))
    totals = (
        rows.filter(_paid_on_revenue())
        .order_by()
        .aggregate(
            eligible_usd=Sum("transaction_amount_usd", filter=Q(earned)),
            eligible_count=Count("id", filter=Q(earned)),
            ineligible_usd=Sum("transaction_amount_usd", filter=Q(assessed) & ~Q(earned)),
            ineligible_count=Count("id", filter=Q(assessed) & ~Q(earned)),
        )
    )
    return RevenueTotals(
        eligible_usd=totals["eligible_usd"] or ZERO,
        eligible_count=totals["eligible_count"],
        ineligible_usd=totals["ineligible_usd"] or ZERO,
        ineligible_count=totals["ineligible_count"],
    )


def revenue_page_totals(*, user, filterset: FilterSet, source: str = "auto") -> RevenueTotals:
    """The Revenue page's totals under its filters: from `RevenueSummary` when it can answer
    ("Earned anything" picks a side), else from the filtered transactions. `source` forces
    "summary" or "ledger" (the tests compare both)."""
    filters = active_filters(filterset)
    earned = filters.pop("eligible", None)
    condition = _summary_condition(filters, REVENUE_DIMENSIONS) if source != "ledger" else None
    if condition is None:
        if source == "summary":
            raise ValueError("The summary cannot answer these filters.")
        return revenue_totals(filterset.qs)
    totals = (
        RevenueSummary.objects.visible_to(user)
        .filter(condition, _paid_on_revenue())
        .aggregate(
            eligible_usd=Sum("eligible_usd"),
            eligible_count=Sum("eligible_count"),
            ineligible_usd=Sum("ineligible_usd"),
            ineligible_count=Sum("ineligible_count"),
        )
    )
    eligible = earned is not False
    ineligible = earned is not True
    return RevenueTotals(
        eligible_usd=(totals["eligible_usd"] or ZERO) if eligible else ZERO,
        eligible_count=(totals["eligible_count"] or 0) if eligible else 0,
        ineligible_usd=(totals["ineligible_usd"] or ZERO) if ineligible else ZERO,
        ineligible_count=(totals["ineligible_count"] or 0) if ineligible else 0,
    )


# --- Ineligible revenue -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonTotal:
    reason_code: str
    reason: str
    transaction_count: int
    amount_usd: Decimal


def _reason_total(code: str, count: int, amount: Decimal) -> ReasonTotal:
    return ReasonTotal(code, IneligibleReason(code).label, count, amount)


def ineligible_rows(*, user) -> QuerySet[IneligibleTransaction]:
    return IneligibleTransaction.objects.visible_to(user)


def ineligible_reasons(ineligible: QuerySet[IneligibleTransaction]) -> list[ReasonTotal]:
    """Each distinct reason with the revenue parked under it, aggregated over `ineligible`; a
    transaction ineligible under two engagements for the same reason counts once."""
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
    return [_reason_total(code, count, amount) for code, count, amount in rows]


def ineligible_page_reasons(*, user, filterset: FilterSet, source: str = "auto") -> list[ReasonTotal]:
    """The Ineligible revenue page's reasons under its filters: from `IneligibleSummary` when it
    can answer, else from the filtered rows. `source` forces "summary" or "ledger"."""
    filters = active_filters(filterset)
    condition = _summary_condition(filters, INELIGIBLE_DIMENSIONS) if source != "ledger" else None
    if condition is None:
        if source == "summary":
            raise ValueError("The summary cannot answer these filters.")
        return ineligible_reasons(filterset.qs)
    rows = (
        IneligibleSummary.objects.visible_to(user)
        .filter(condition)
        .values("reason_code")
        .annotate(count=Sum("transaction_count"), amount=Sum("amount_usd"))
        .order_by("-amount", "reason_code")
    )
    return [
        ReasonTotal(
            row["reason_code"], IneligibleReason(row["reason_code"]).label, row["count"], row["amount"]
        )
        for row in rows
    ]
