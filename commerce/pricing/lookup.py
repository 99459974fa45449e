"""Looking up a price (spec/commerce.md §4.1): the rows of ready, current lists in force on a
day, and the one price of a market, product, SKU, term, plan and segment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.db.models import F, QuerySet

from commerce.choices import PriceListStatus
from commerce.models import PriceListRow

__all__ = ("price_for",)


def prices_in_force(on: date) -> QuerySet[PriceListRow]:
    """The rule of §4.1 as one queryset: rows of ready, non-preview lists in force on day `on`.

    A row is in force when EffectiveStartDate ≤ on < EffectiveEndDate. Ordered so that the first
    row of each price key wins: the newest list speaks, then the newest start, then the first tier.
    """
    moment = datetime.combine(on, time.min, tzinfo=UTC)
    return PriceListRow.objects.filter(
        price_list__is_preview=False,
        price_list__status=PriceListStatus.READY,
        effective_start_date__lte=moment,
        effective_end_date__gt=moment,
    ).order_by(
        "-price_list__effective_month",
        "-price_list__uploaded_at",
        "-effective_start_date",
        F("pricing_tier_range_min").asc(nulls_first=True),
    )


def price_for(
    *,
    market: str,
    product_id: str,
    sku_id: str,
    term_duration: str,
    billing_plan: str,
    segment: str,
    on: date,
) -> PriceListRow | None:
    """The price on day `on` from the current price lists of `market` (see `prices_in_force`)."""
    return (
        prices_in_force(on)
        .filter(
            price_list__market=market,
            product_id=product_id,
            sku_id=sku_id,
            term_duration=term_duration,
            billing_plan=billing_plan,
            segment=segment,
        )
        .select_related("price_list")
        .first()
    )
