"""Looking up a price (spec/commerce.md §4.1): which row of the vendor's price lists prices a
market, product, SKU, term, billing plan and segment on a day, for a number of seats.

The rule, in order:
1. Only ready, current lists speak: a preview, a list still importing and a list a corrected file
   replaced (`PriceListStatus.SUPERSEDED`) never price anything.
2. A row is in force on day `on` when EffectiveStartDate ≤ on < EffectiveEndDate (midnight UTC).
3. Of the lists with a row of the key in force, the newest applies (its month, then its upload):
   a new month's list replaces the previous month's prices, and an older list still prices what
   the newer one lacks.
4. Within that list, the row whose tier holds the quantity (PricingTierRangeMin ≤ quantity ≤
   PricingTierRangeMax, a blank bound open). A quantity no tier holds has no price; an older list
   is not asked instead.
5. Of the overlapping rows left (Microsoft's files do overlap), the one whose range ends first
   applies, then the later start.

`choose` is that rule over rows already read, so the one-key look-up (`price_for`) and the
set-based one (`price_candidates`, one query for a whole chunk of subscriptions, chosen per
subscription's date and seats in Python) give the same answer by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import NamedTuple, Protocol, TypeVar

from django.db.models import F, QuerySet

from commerce.choices import PriceListStatus
from commerce.models import PriceListRow

__all__ = (
    "PriceKey",
    "PricePoint",
    "choose",
    "price_candidates",
    "price_for",
    "prices_in_force",
    "tier_ranges",
)

#: (market, ProductId, SkuId, TermDuration, BillingPlan, Segment): what one price is asked for.
PriceKey = tuple[str, str, str, str, str, str]


class _Priced(Protocol):
    """What `choose` reads of a row: a `PriceListRow` annotated by `price_for`, or a `PricePoint`."""

    id: int
    price_list_id: int
    list_month: date
    list_uploaded: datetime
    pricing_tier_range_min: int | None
    pricing_tier_range_max: int | None
    effective_start_date: datetime
    effective_end_date: datetime


class PricePoint(NamedTuple):
    """One price list row as the set-based look-up reads it."""

    id: int
    price_list_id: int
    list_month: date
    list_uploaded: datetime
    unit_price: Decimal
    currency: str
    pricing_tier_range_min: int | None
    pricing_tier_range_max: int | None
    effective_start_date: datetime
    effective_end_date: datetime


_KEY_FIELDS = ("price_list__market", "product_id", "sku_id", "term_duration", "billing_plan", "segment")
_POINT_FIELDS = (
    "id",
    "price_list_id",
    "price_list__effective_month",
    "price_list__uploaded_at",
    "unit_price",
    "currency",
    "pricing_tier_range_min",
    "pricing_tier_range_max",
    "effective_start_date",
    "effective_end_date",
)


R = TypeVar("R", bound=_Priced)


def _moment(on: date) -> datetime:
    return datetime.combine(on, time.min, tzinfo=UTC)


def _ready_rows() -> QuerySet[PriceListRow]:
    # Vendor data read inside services and selectors: price lists are the same for every partner.
    return PriceListRow.objects.filter(price_list__is_preview=False, price_list__status=PriceListStatus.READY)


def prices_in_force(on: date) -> QuerySet[PriceListRow]:
    """Rows of ready, current lists in force on day `on` (rules 1 and 2); `choose` picks among them."""
    moment = _moment(on)
    return _ready_rows().filter(effective_start_date__lte=moment, effective_end_date__gt=moment)


def _holds(row: _Priced, quantity: int) -> bool:
    low, high = row.pricing_tier_range_min, row.pricing_tier_range_max
    return (low is None or low <= quantity) and (high is None or quantity <= high)


def _list_rank(row: _Priced) -> tuple[date, datetime, int]:
    return row.list_month, row.list_uploaded, row.price_list_id


def _applicable(rows: Iterable[R], on: date) -> list[R]:
    """The rows in force on `on` of the newest list that has any (rules 2 and 3)."""
    moment = _moment(on)
    live = [row for row in rows if row.effective_start_date <= moment < row.effective_end_date]
    if not live:
        return []
    newest = max(_list_rank(row) for row in live)
    return [row for row in live if _list_rank(row) == newest]


def choose(rows: Iterable[R], *, on: date, quantity: int) -> R | None:
    """The row pricing `quantity` seats on day `on` among `rows` of one price key, or None (the
    rule in the module's docstring)."""
    fitting = [row for row in _applicable(rows, on) if _holds(row, quantity)]
    if not fitting:
        return None
    return min(
        fitting,
        key=lambda row: (
            row.effective_end_date,
            -row.effective_start_date.timestamp(),
            row.pricing_tier_range_min or 0,
            row.id,
        ),
    )


def tier_ranges(rows: Sequence[_Priced], *, on: date) -> list[str]:
    """The quantity tiers the applicable list offers on `on` ("1–2400", "2401 or more"), for a
    message saying why a quantity has no price; empty when the list has no tiers or no row."""
    ranges = set()
    for row in _applicable(rows, on):
        low, high = row.pricing_tier_range_min, row.pricing_tier_range_max
        if low is None and high is None:
            continue
        ranges.add((low or 0, high))
    return [f"{low}–{high}" if high is not None else f"{low} or more" for low, high in sorted(ranges)]


def price_for(
    *,
    market: str,
    product_id: str,
    sku_id: str,
    term_duration: str,
    billing_plan: str,
    segment: str,
    on: date,
    quantity: int,
) -> PriceListRow | None:
    """The row pricing `quantity` seats on day `on` in the current price lists of `market`."""
    rows = (
        prices_in_force(on)
        .filter(
            price_list__market=market,
            product_id=product_id,
            sku_id=sku_id,
            term_duration=term_duration,
            billing_plan=billing_plan,
            segment=segment,
        )
        .annotate(list_month=F("price_list__effective_month"), list_uploaded=F("price_list__uploaded_at"))
        .select_related("price_list")
    )
    return choose(list(rows), on=on, quantity=quantity)


def price_candidates(
    *,
    markets: Iterable[str],
    product_ids: Iterable[str],
    sku_ids: Iterable[str],
    first_day: date,
    last_day: date,
) -> dict[PriceKey, list[PricePoint]]:
    """Every row that may price these markets, products and SKUs on a day from `first_day` to
    `last_day`, grouped by price key, in one query; `choose` then answers per date and quantity.

    Products and SKUs are filtered apart (a superset of the pairs asked for); the keys nobody asks
    for are never read."""
    rows = (
        _ready_rows()
        .filter(
            price_list__market__in=list(markets),
            product_id__in=set(product_ids),
            sku_id__in=set(sku_ids),
            effective_start_date__lte=_moment(last_day),
            effective_end_date__gt=_moment(first_day),
        )
        .order_by()
        .values_list(*_KEY_FIELDS, *_POINT_FIELDS)
    )
    found: dict[PriceKey, list[PricePoint]] = {}
    for row in rows:
        found.setdefault(row[:6], []).append(PricePoint(*row[6:]))
    return found
