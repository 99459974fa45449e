"""Comparing two price lists: New (only in the other), Removed (only in the base), Changed
(its unit price or effective dates differ), in one SQL statement.

The same comparison serves next month's preview against the current list (spec/commerce.md §4.2)
and a corrected file against the list it replaced (commerce.services.price_lists).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

from commerce.models import PriceList, PriceListRow

__all__ = ("Change", "DIFF_COLUMNS", "PriceChange", "price_list_diff", "price_list_diff_counts")


class Change:
    NEW = "New"
    REMOVED = "Removed"
    CHANGED = "Changed"
    ALL = (NEW, REMOVED, CHANGED)


@dataclass(frozen=True)
class PriceChange:
    change: str
    product_id: str
    sku_id: str
    term_duration: str
    billing_plan: str
    segment: str
    pricing_tier_range_min: int | None
    product_title: str
    sku_title: str
    currency: str
    old_unit_price: Decimal | None
    new_unit_price: Decimal | None
    old_effective_start_date: datetime | None
    new_effective_start_date: datetime | None
    old_effective_end_date: datetime | None = None
    new_effective_end_date: datetime | None = None

    @property
    def difference(self) -> Decimal | None:
        if self.old_unit_price is None or self.new_unit_price is None:
            return None
        return self.new_unit_price - self.old_unit_price


DIFF_COLUMNS = [
    "Change",
    "ProductTitle",
    "ProductId",
    "SkuId",
    "SkuTitle",
    "TermDuration",
    "BillingPlan",
    "Segment",
    "PricingTierRangeMin",
    "Currency",
    "OldUnitPrice",
    "NewUnitPrice",
    "OldEffectiveStartDate",
    "NewEffectiveStartDate",
    "OldEffectiveEndDate",
    "NewEffectiveEndDate",
]
_KEY = "product_id, sku_id, term_duration, billing_plan, segment, coalesce(pricing_tier_range_min, -1)"


def _diff_sql(change: str | None) -> str:
    """New / Removed / Changed between two lists, keyed by product, SKU, term, plan, segment, tier.

    Where a list holds several rows of one key (successive effective dates), its newest counts.
    Changed: the unit price, the EffectiveStartDate (a new price period, §4.2) or the
    EffectiveEndDate (a correction ending a price) differs.
    """
    rows = PriceListRow._meta.db_table
    side = f"""
        SELECT DISTINCT ON ({_KEY})
               product_id, sku_id, term_duration, billing_plan, segment, pricing_tier_range_min,
               coalesce(pricing_tier_range_min, -1) AS tier, product_title, sku_title, currency,
               unit_price, effective_start_date, effective_end_date
          FROM {rows} WHERE price_list_id = %(list)s
         ORDER BY {_KEY}, effective_start_date DESC
    """
    only = {
        None: "",
        Change.NEW: "AND b.product_id IS NULL",
        Change.REMOVED: "AND o.product_id IS NULL",
        Change.CHANGED: "AND b.product_id IS NOT NULL AND o.product_id IS NOT NULL",
    }[change]
    return f"""
        WITH b AS ({side.replace("%(list)s", "%(base)s")}), o AS ({side.replace("%(list)s", "%(other)s")})
        SELECT CASE WHEN b.product_id IS NULL THEN '{Change.NEW}'
                    WHEN o.product_id IS NULL THEN '{Change.REMOVED}'
                    ELSE '{Change.CHANGED}' END AS change,
               coalesce(o.product_id, b.product_id) AS product_id,
               coalesce(o.sku_id, b.sku_id) AS sku_id,
               coalesce(o.term_duration, b.term_duration) AS term_duration,
               coalesce(o.billing_plan, b.billing_plan) AS billing_plan,
               coalesce(o.segment, b.segment) AS segment,
               coalesce(o.pricing_tier_range_min, b.pricing_tier_range_min) AS pricing_tier_range_min,
               coalesce(o.product_title, b.product_title) AS product_title,
               coalesce(o.sku_title, b.sku_title) AS sku_title,
               coalesce(o.currency, b.currency) AS currency,
               b.unit_price AS old_unit_price,
               o.unit_price AS new_unit_price,
               b.effective_start_date AS old_effective_start_date,
               o.effective_start_date AS new_effective_start_date,
               b.effective_end_date AS old_effective_end_date,
               o.effective_end_date AS new_effective_end_date
          FROM b FULL OUTER JOIN o
            ON o.product_id = b.product_id AND o.sku_id = b.sku_id
           AND o.term_duration = b.term_duration AND o.billing_plan = b.billing_plan
           AND o.segment = b.segment AND o.tier = b.tier
         WHERE (b.product_id IS NULL OR o.product_id IS NULL
                OR (o.unit_price, o.effective_start_date, o.effective_end_date)
                   IS DISTINCT FROM (b.unit_price, b.effective_start_date, b.effective_end_date)) {only}
         ORDER BY 1, 8, 2, 3, 4, 5, 6, 7
    """


def price_list_diff(*, base: PriceList, other: PriceList, change: str | None = None) -> list[PriceChange]:
    """What `other` changes against `base`: New (only in other), Removed (only in base), Changed
    (unit price or effective dates differ). One SQL statement (a full outer join of the two lists)."""
    with connection.cursor() as cursor:
        cursor.execute(_diff_sql(change), {"base": base.pk, "other": other.pk})
        return [PriceChange(*row) for row in cursor.fetchall()]


def price_list_diff_counts(*, base: PriceList, other: PriceList) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT change, count(*) FROM ({_diff_sql(None)}) AS d GROUP BY change",
            {"base": base.pk, "other": other.pk},
        )
        counts = dict(cursor.fetchall())
    return {change: counts.get(change, 0) for change in Change.ALL}
