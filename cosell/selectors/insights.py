"""Co-sell insights (spec §8): pipeline by stage and month, won value, win rate, deal value, count by
Microsoft status and lifecycle durations — over the referrals the user may see.

The counts and values read `ReferralSummary`, the referrals rolled up per creation month and
dimension (kept by the database in the write's transaction), so they cost the same for 12
referrals as for 200,000. A person who manages only their own referrals, or a filter on the owner,
reads the referrals themselves instead: a few, through the owner's indexes, rolled up the same way.

A deal belongs to the month (UTC) it was created in; the period is whole months. Its value is
converted to USD at that month's end: the latest `earnings.ExchangeRate` on or before the month's
last day. USD needs no rate. A deal whose currency has no rate by then is **not** converted with a
guess: it is left out of every USD sum and average and counted in `unconverted`, so a missing rate
shows instead of skewing the figures.

Drafts are not deals yet and never count, nor do the vendor-side copies of co-sell deals. Win rate
is Won / (Won + Lost): Declined and Expired referrals were never worked, so they are excluded. A
closed referral takes no further edits, so its `updatedDateTime` is when it closed. Durations are
in days, median and p90 (`percentile_cont`) of the latest `DURATION_SAMPLE` deals of the period
that reached the stage, read through partial indexes on those deals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from cosell.choices import ReferralStatus, ReferralSubstatus
from cosell.models import Referral, ReferralSummary
from earnings.models import ExchangeRate
from earnings.periods import add_months, month_start
from portal.capabilities import Capability, can
from portal.files import text_rows

__all__ = (
    "DURATION_SAMPLE",
    "INSIGHTS_HEADER",
    "Durations",
    "InsightFigures",
    "InsightFilters",
    "InsightsSummary",
    "PipelineRow",
    "insights_csv",
    "insights_figures",
    "insights_rows",
    "lifecycle_durations",
)

_CENT = Decimal("0.01")
#: The durations of a period are those of its latest deals, at most this many per stage.
DURATION_SAMPLE = 1000
#: The columns both sources answer: one row per month and dimension values, with its sums.
_SOURCE_COLUMNS = (
    "month",
    "status",
    "substatus",
    "microsoft_status",
    "currency",
    "deals",
    "valued",
    "value_sum",
)


@dataclass(frozen=True)
class InsightFilters:
    """Filters of every insight; empty means any. The period is on the creation month (inclusive):
    `period_from` and `period_to` stand for the months they fall in."""

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

    @property
    def month_label(self) -> str:
        return self.month.strftime("%Y-%m")


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

    @property
    def sampled(self) -> bool:
        """Only the latest DURATION_SAMPLE deals of the period were measured."""
        return self.deals >= DURATION_SAMPLE


# --- The rows insights read -----------------------------------------------------------------------


def _period(filters: InsightFilters) -> tuple[datetime | None, datetime | None]:
    """The period as [start, end) moments in UTC: whole months."""
    start = end = None
    if filters.period_from:
        start = datetime.combine(month_start(filters.period_from), datetime.min.time(), tzinfo=UTC)
    if filters.period_to:
        end = datetime.combine(add_months(month_start(filters.period_to), 1), datetime.min.time(), tzinfo=UTC)
    return start, end


def _referrals(user: Any, filters: InsightFilters) -> QuerySet[Referral]:
    """The visible, counted referrals the filters select."""
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
    start, end = _period(filters)
    if start:
        referrals = referrals.filter(created_at__gte=start)
    if end:
        referrals = referrals.filter(created_at__lt=end)
    return referrals


def _summary_rows(user: Any, filters: InsightFilters) -> QuerySet:
    rows = ReferralSummary.objects.filter(organization_id=user.organization_id)
    if filters.solution_area:
        rows = rows.filter(solution_area=filters.solution_area)
    if filters.solution_id:
        rows = rows.filter(target_ids__contains=[filters.solution_id])
    if filters.country:
        rows = rows.filter(customer_country=filters.country.upper())
    if filters.deal_kind:
        rows = rows.filter(deal_kind=filters.deal_kind)
    if filters.period_from:
        rows = rows.filter(month__gte=month_start(filters.period_from))
    if filters.period_to:
        rows = rows.filter(month__lte=month_start(filters.period_to))
    return rows.values(*_SOURCE_COLUMNS)


def _rolled_up(user: Any, filters: InsightFilters) -> QuerySet:
    """The same rows as the summary's, rolled up from the referrals themselves."""
    return (
        _referrals(user, filters)
        .order_by()
        .annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .values("month", "status", "substatus", "microsoft_status", "currency")
        .annotate(
            deals=Count("pk"),
            valued=Count("deal_value"),
            value_sum=Coalesce(Sum("deal_value"), Value(Decimal(0))),
        )
        .values(*_SOURCE_COLUMNS)
    )


#: No rows, in the sources' shape (for a user who sees no referral at all).
_NOTHING = (
    "SELECT NULL::date AS month, ''::text AS status, ''::text AS substatus, ''::text AS microsoft_status,"
    " ''::text AS currency, 0 AS deals, 0 AS valued, 0::numeric AS value_sum WHERE false"
)


def _source(user: Any, filters: InsightFilters) -> tuple[str, tuple]:
    """SQL of the rows to sum: the summary's when the user sees every referral of the
    organization and no owner is asked for; else rolled up from the few referrals they see."""
    if can(user, Capability.REFERRALS_MANAGE_ALL) and filters.owner_id is None and user.organization_id:
        rows = _summary_rows(user, filters)
    else:
        rows = _rolled_up(user, filters)
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return _NOTHING, ()


def _converted(user: Any, filters: InsightFilters) -> tuple[str, list]:
    """The rows with their USD value (NULL: no rate), and how many values were / were not converted."""
    source, params = _source(user, filters)
    fx = ExchangeRate._meta.db_table
    sql = f"""
        WITH src AS (
            -- Only what the figures tell apart: the summary's other dimensions are summed away.
            SELECT month::date AS month, status, substatus, microsoft_status, currency,
                   sum(deals) AS deals, sum(valued) AS valued, sum(value_sum) AS value_sum
              FROM ({source}) rows
             GROUP BY 1, 2, 3, 4, 5),
        rates AS (
            SELECT k.currency, k.month,
                   (SELECT fx.rate_to_usd FROM {fx} fx
                     WHERE fx.currency = k.currency
                       AND fx.rate_date <= (k.month + interval '1 month' - interval '1 day')::date
                     ORDER BY fx.rate_date DESC LIMIT 1) AS rate
              FROM (SELECT DISTINCT currency, month FROM src WHERE currency <> 'USD') k)
        SELECT s.month, s.status, s.substatus, s.microsoft_status, s.deals,
               CASE WHEN s.currency = 'USD' THEN s.value_sum ELSE s.value_sum * r.rate END AS value_usd,
               CASE WHEN s.currency = 'USD' OR r.rate IS NOT NULL THEN s.valued ELSE 0 END AS converted,
               CASE WHEN s.currency <> 'USD' AND r.rate IS NULL THEN s.valued ELSE 0 END AS unconverted
          FROM src s LEFT JOIN rates r ON r.currency = s.currency AND r.month = s.month
    """
    return sql, list(params)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(_CENT)


# --- The figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InsightFigures:
    """The pipeline rows (oldest month first) and the period's headline figures."""

    rows: list[PipelineRow]
    summary: InsightsSummary


def insights_figures(*, user: Any, filters: InsightFilters = InsightFilters()) -> InsightFigures:
    """Deals and their USD value per creation month and (status, substatus), the headline figures
    (spec §8) and the count per Microsoft status: one query over the rolled-up rows."""
    converted, params = _converted(user, filters)
    won, lost = ReferralSubstatus.WON.value, ReferralSubstatus.LOST.value
    active = ReferralStatus.ACTIVE.value
    grouped = _fetch(
        f"""
        SELECT CASE WHEN GROUPING(month, status, substatus) = 0 THEN 'stage'
                    WHEN GROUPING(microsoft_status) = 0 THEN 'microsoft' ELSE 'total' END,
               month, status, substatus, microsoft_status,
               coalesce(sum(deals), 0),
               coalesce(sum(value_usd), 0),
               coalesce(sum(unconverted), 0),
               coalesce(sum(deals) FILTER (WHERE substatus = %s), 0),
               coalesce(sum(deals) FILTER (WHERE substatus = %s), 0),
               coalesce(sum(value_usd) FILTER (WHERE substatus = %s), 0),
               coalesce(sum(value_usd) FILTER (WHERE status = %s), 0),
               sum(value_usd) FILTER (WHERE substatus = %s)
                   / nullif(sum(converted) FILTER (WHERE substatus = %s), 0),
               sum(value_usd) / nullif(sum(converted), 0)
          FROM ({converted}) c
         GROUP BY GROUPING SETS ((month, status, substatus), (microsoft_status), ())
        """,
        [won, lost, won, active, won, won, *params],
    )
    rows, by_status, total = [], {}, None
    for kind, month, status, substatus, microsoft_status, deals, usd, unconverted, *figures in grouped:
        if kind == "stage" and deals:
            rows.append(PipelineRow(month, status, substatus, int(deals), _money(usd), int(unconverted)))
        elif kind == "microsoft" and microsoft_status and deals:
            by_status[microsoft_status] = int(deals)
        elif kind == "total":
            total = (int(deals), int(unconverted), *figures)
    created, unconverted, n_won, n_lost, won_usd, pipeline_usd, avg_won, avg_deal = total
    closed = n_won + n_lost
    summary = InsightsSummary(
        created=created,
        won=int(n_won),
        lost=int(n_lost),
        won_value_usd=_money(won_usd),
        pipeline_value_usd=_money(pipeline_usd),
        win_rate=(Decimal(100) * n_won / closed).quantize(Decimal("0.1")) if closed else None,
        average_won_value_usd=_money(avg_won) if avg_won is not None else None,
        average_deal_value_usd=_money(avg_deal) if avg_deal is not None else None,
        by_microsoft_status=dict(sorted(by_status.items())),
        unconverted=unconverted,
    )
    return InsightFigures(rows=sorted(rows, key=lambda r: (r.month, r.status, r.substatus)), summary=summary)


#: (name, start, end): each pair of moments a lifecycle duration spans.
_SPANS = (
    ("created→accepted", "created_at", "accepted_at"),
    ("accepted→closed", "accepted_at", "updated_at"),
    ("created→closed", "created_at", "updated_at"),
)


def _percentiles(sample_sql: str, spans: list[tuple[str, str]]) -> str:
    """One subquery over a sample: [deals, median, p90] of each (start, end) span, in one array."""
    columns = []
    for start, end in spans:
        days = f"extract(epoch FROM ({end} - {start})) / 86400.0"
        present = f"{start} IS NOT NULL AND {end} IS NOT NULL"
        columns += [
            f"count(*) FILTER (WHERE {present})",
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) FILTER (WHERE {present})",
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {days}) FILTER (WHERE {present})",
        ]
    return f"(SELECT ARRAY[{', '.join(columns)}] FROM ({sample_sql}) d)"


def lifecycle_durations(*, user: Any, filters: InsightFilters = InsightFilters()) -> list[Durations]:
    """Median and p90 days of created→accepted, accepted→closed and created→closed (Won or Lost),
    over the latest DURATION_SAMPLE deals of the period that were accepted, resp. closed."""
    referrals = _referrals(user, filters).order_by("-created_at")
    accepted = referrals.filter(accepted_at__isnull=False).values("created_at", "accepted_at")
    closed = referrals.filter(substatus__in=[ReferralSubstatus.WON, ReferralSubstatus.LOST]).values(
        "created_at", "accepted_at", "updated_at"
    )
    try:
        accepted_sql, accepted_params = accepted[:DURATION_SAMPLE].query.sql_with_params()
        closed_sql, closed_params = closed[:DURATION_SAMPLE].query.sql_with_params()
    except EmptyResultSet:  # the user sees no referral at all
        return [Durations(name=name, deals=0, median_days=None, p90_days=None) for name, *_ in _SPANS]
    accepted_spans = [(start, end) for _name, start, end in _SPANS if end == "accepted_at"]
    closed_spans = [(start, end) for _name, start, end in _SPANS if end != "accepted_at"]
    [(accepted_figures, closed_figures)] = _fetch(
        f"SELECT {_percentiles(accepted_sql, accepted_spans)}, {_percentiles(closed_sql, closed_spans)}",
        [*accepted_params, *closed_params],
    )
    figures = [*accepted_figures, *closed_figures]
    result = []
    for index, (name, _start, _end) in enumerate(_SPANS):
        n, median, p90 = figures[3 * index : 3 * index + 3]
        result.append(
            Durations(
                name=name,
                deals=int(n),
                median_days=Decimal(median).quantize(Decimal("0.1")) if median is not None else None,
                p90_days=Decimal(p90).quantize(Decimal("0.1")) if p90 is not None else None,
            )
        )
    return result


INSIGHTS_HEADER = ("month", "status", "substatus", "deals", "deal_value_usd", "deals_without_usd_rate")


def insights_rows(*, user: Any, filters: InsightFilters = InsightFilters()) -> Iterator[tuple[str, ...]]:
    """The CSV download: the header, then one row per creation month and stage."""
    yield INSIGHTS_HEADER
    for row in insights_figures(user=user, filters=filters).rows:
        yield (
            row.month_label,
            row.status,
            row.substatus,
            str(row.deals),
            f"{row.value_usd:.2f}",
            str(row.unconverted),
        )


def insights_csv(*, user: Any, filters: InsightFilters = InsightFilters()) -> str:
    return "".join(text_rows(insights_rows(user=user, filters=filters)))
