"""Co-sell insights (spec §8): pipeline by stage and month, won value, win rate, deal value, count by
Microsoft status and lifecycle durations — over the referrals the user may see, computed in SQL.

Every function takes the user (rows come from `Referral.objects.visible_to(user)`, never wider)
and `InsightFilters`. A deal belongs to the month it was created in (local time) and its value is
converted to USD at that month's end: the latest `earnings.ExchangeRate` on or before the month's
last day. USD needs no rate. A deal whose currency has no rate by then is **not** converted with a
guess: it is left out of every USD sum and average and counted in `unconverted`, so a missing rate
shows instead of skewing the figures.

Drafts are not deals yet and never count. Win rate is Won / (Won + Lost): Declined and Expired
referrals were never worked, so they are excluded. A closed referral takes no further edits, so
its `updatedDateTime` is when it closed (accepted→closed and created→closed read it). Durations
are in days, median and p90 by `percentile_cont`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cosell.choices import ReferralStatus, ReferralSubstatus
from cosell.models import Referral
from earnings.models import ExchangeRate
from portal.files import text_rows

__all__ = (
    "Durations",
    "InsightFilters",
    "InsightsSummary",
    "PipelineRow",
    "insights_csv",
    "insights_rows",
    "insights_summary",
    "lifecycle_durations",
    "pipeline_by_stage_and_month",
)

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class InsightFilters:
    """Filters of every insight; empty means any. The period is on the creation date (inclusive)."""

    solution_area: str = ""
    solution_id: str = ""
    country: str = ""
    owner_id: int | None = None
    deal_kind: str = ""
    period_from: date | None = None
    period_to: date | None = None


@dataclass(frozen=True)
class PipelineRow:
    month: date
    status: str
    substatus: str
    deals: int
    value_usd: Decimal
    unconverted: int


@dataclass(frozen=True)
class InsightsSummary:
    created: int
    won: int
    lost: int
    won_value_usd: Decimal
    pipeline_value_usd: Decimal
    #: Won / (Won + Lost) in percent, None without closed deals.
    win_rate: Decimal | None
    average_won_value_usd: Decimal | None
    average_deal_value_usd: Decimal | None
    by_microsoft_status: dict[str, int] = field(default_factory=dict)
    unconverted: int = 0


@dataclass(frozen=True)
class Durations:
    """Days between two moments of the deals that reached both: median and 90th percentile."""

    name: str
    deals: int
    median_days: Decimal | None
    p90_days: Decimal | None


def _filtered(user: Any, filters: InsightFilters) -> QuerySet:
    referrals = Referral.objects.visible_to(user).partner_side().filter(is_draft=False)
    if filters.solution_area:
        referrals = referrals.filter(solution_area=filters.solution_area)
    if filters.solution_id:
        referrals = referrals.filter(target__contains=[{"id": filters.solution_id}])
    if filters.country:
        referrals = referrals.filter(customer_country=filters.country.upper())
    if filters.owner_id is not None:
        referrals = referrals.filter(Q(assigned_user_id=filters.owner_id) | Q(created_by_id=filters.owner_id))
    if filters.deal_kind:
        referrals = referrals.filter(deal_kind=filters.deal_kind)
    if filters.period_from:
        referrals = referrals.filter(created_at__date__gte=filters.period_from)
    if filters.period_to:
        referrals = referrals.filter(created_at__date__lte=filters.period_to)
    return referrals


def _converted_sql(user: Any, filters: InsightFilters) -> tuple[str, list]:
    """A SELECT of the visible, filtered referrals with `month` and `value_usd` (NULL: no rate)."""
    base = _filtered(user, filters).order_by().values("pk")
    inner_sql, inner_params = base.query.sql_with_params()
    table, fx = Referral._meta.db_table, ExchangeRate._meta.db_table
    sql = f"""
        SELECT r.*, m.month,
               CASE WHEN r.deal_value IS NULL THEN NULL
                    WHEN r.currency = 'USD' THEN r.deal_value
                    ELSE r.deal_value * (
                        SELECT fx.rate_to_usd FROM {fx} fx
                         WHERE fx.currency = r.currency
                           AND fx.rate_date <= (m.month + interval '1 month' - interval '1 day')::date
                         ORDER BY fx.rate_date DESC LIMIT 1)
               END AS value_usd
          FROM {table} r
          CROSS JOIN LATERAL (
              SELECT date_trunc('month', r.created_at AT TIME ZONE %s)::date AS month) m
         WHERE r.id IN ({inner_sql})
    """
    return sql, [timezone.get_current_timezone_name(), *inner_params]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(_CENT)


def pipeline_by_stage_and_month(
    *, user: Any, filters: InsightFilters = InsightFilters()
) -> list[PipelineRow]:
    """Deals and their USD value per creation month and (status, substatus), oldest month first."""
    converted, params = _converted_sql(user, filters)
    rows = _fetch(
        f"""
        SELECT month, status, substatus, count(*),
               coalesce(sum(value_usd), 0),
               count(*) FILTER (WHERE deal_value IS NOT NULL AND value_usd IS NULL)
          FROM ({converted}) c
         GROUP BY month, status, substatus
         ORDER BY month, status, substatus
        """,
        params,
    )
    return [
        PipelineRow(
            month=month, status=status, substatus=substatus, deals=n, value_usd=_money(usd), unconverted=u
        )
        for month, status, substatus, n, usd, u in rows
    ]


def insights_summary(*, user: Any, filters: InsightFilters = InsightFilters()) -> InsightsSummary:
    """The period's headline figures (spec §8) in one query, plus the Microsoft status counts."""
    converted, params = _converted_sql(user, filters)
    won, lost = ReferralSubstatus.WON.value, ReferralSubstatus.LOST.value
    active = ReferralStatus.ACTIVE.value
    [(created, n_won, n_lost, won_usd, pipeline_usd, avg_won, avg_deal, unconverted)] = _fetch(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE substatus = %s),
               count(*) FILTER (WHERE substatus = %s),
               coalesce(sum(value_usd) FILTER (WHERE substatus = %s), 0),
               coalesce(sum(value_usd) FILTER (WHERE status = %s), 0),
               avg(value_usd) FILTER (WHERE substatus = %s),
               avg(value_usd),
               count(*) FILTER (WHERE deal_value IS NOT NULL AND value_usd IS NULL)
          FROM ({converted}) c
        """,
        [won, lost, won, active, won, *params],
    )
    by_status = dict(
        _filtered(user, filters)
        .exclude(microsoft_status="")
        .order_by()
        .values("microsoft_status")
        .annotate(n=Count("pk"))
        .values_list("microsoft_status", "n")
    )
    closed = n_won + n_lost
    return InsightsSummary(
        created=created,
        won=n_won,
        lost=n_lost,
        won_value_usd=_money(won_usd),
        pipeline_value_usd=_money(pipeline_usd),
        win_rate=(Decimal(100) * n_won / closed).quantize(Decimal("0.1")) if closed else None,
        average_won_value_usd=_money(avg_won) if avg_won is not None else None,
        average_deal_value_usd=_money(avg_deal) if avg_deal is not None else None,
        by_microsoft_status=dict(sorted(by_status.items())),
        unconverted=unconverted,
    )


#: (name, start, end): each pair of moments a lifecycle duration spans.
_SPANS = (
    ("created→accepted", "created_at", "accepted_at"),
    ("accepted→closed", "accepted_at", "closed_at"),
    ("created→closed", "created_at", "closed_at"),
)


def lifecycle_durations(*, user: Any, filters: InsightFilters = InsightFilters()) -> list[Durations]:
    """Median and p90 days of created→accepted, accepted→closed and created→closed (Won or Lost)."""
    converted, params = _converted_sql(user, filters)
    won, lost = ReferralSubstatus.WON.value, ReferralSubstatus.LOST.value
    columns = []
    for _name, start, end in _SPANS:
        days = f"extract(epoch FROM ({end} - {start})) / 86400.0"
        present = f"{start} IS NOT NULL AND {end} IS NOT NULL"
        columns += [
            f"count(*) FILTER (WHERE {present})",
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) FILTER (WHERE {present})",
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {days}) FILTER (WHERE {present})",
        ]
    [row] = _fetch(
        f"""
        SELECT {", ".join(columns)}
          FROM (SELECT c.created_at, c.accepted_at,
                       CASE WHEN c.substatus IN (%s, %s) THEN c.updated_at END AS closed_at
                  FROM ({converted}) c) d
        """,
        [won, lost, *params],
    )
    result = []
    for index, (name, _start, _end) in enumerate(_SPANS):
        n, median, p90 = row[3 * index : 3 * index + 3]
        result.append(
            Durations(
                name=name,
                deals=n,
                median_days=Decimal(median).quantize(Decimal("0.1")) if median is not None else None,
                p90_days=Decimal(p90).quantize(Decimal("0.1")) if p90 is not None else None,
            )
        )
    return result


INSIGHTS_HEADER = ("month", "status", "substatus", "deals", "deal_value_usd", "deals_without_usd_rate")


def insights_rows(*, user: Any, filters: InsightFilters = InsightFilters()) -> Iterator[tuple[str, ...]]:
    """The CSV download: the header, then one row per creation month and stage."""
    yield INSIGHTS_HEADER
    for row in pipeline_by_stage_and_month(user=user, filters=filters):
        yield (
            row.month.strftime("%Y-%m"),
            row.status,
            row.substatus,
            str(row.deals),
            f"{row.value_usd:.2f}",
            str(row.unconverted),
        )


def insights_csv(*, user: Any, filters: InsightFilters = InsightFilters()) -> str:
    return "".join(text_rows(insights_rows(user=user, filters=filters)))
