"""Price list downloads, streamed from PostgreSQL with COPY … TO STDOUT: a list's rows in the
file's own layout, and the diff of two lists."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import CharField, F, Func, QuerySet

from commerce.models import PriceList, PriceListRow
from commerce.pricing.columns import _TEXT_FIELDS, ALL_COLUMNS, END_OF_SALE_COLUMN, PRICE_LIST_COLUMNS
from commerce.pricing.diff import DIFF_COLUMNS, _diff_sql
from portal.files import Amount, amount_sql, cell_sql, copy_csv, empty_as_null, select_columns

__all__ = ("price_list_diff_csv", "price_list_rows_csv")

_ISO_Z = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''


def _iso_sql(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', {_ISO_Z})"


def price_list_diff_csv(*, base: PriceList, other: PriceList, change: str | None = None) -> Iterator[bytes]:
    """The diff as CSV (header first), streamed from PostgreSQL with COPY … TO STDOUT."""
    query = f"""
        SELECT change, {cell_sql("product_title")}, {cell_sql("product_id")}, {cell_sql("sku_id")},
               {cell_sql("sku_title")}, {cell_sql("term_duration")}, {cell_sql("billing_plan")},
               {cell_sql("segment")}, pricing_tier_range_min, {cell_sql("currency")},
               {amount_sql("old_unit_price")}, {amount_sql("new_unit_price")},
               {_iso_sql("old_effective_start_date")}, {_iso_sql("new_effective_start_date")},
               {_iso_sql("old_effective_end_date")}, {_iso_sql("new_effective_end_date")}
          FROM ({_diff_sql(change)}) AS d
         ORDER BY d.change, d.product_title, d.product_id, d.sku_id, d.term_duration, d.billing_plan,
                  d.segment, d.pricing_tier_range_min
    """
    yield (",".join(DIFF_COLUMNS) + "\n").encode()
    yield from copy_csv(query, {"base": base.pk, "other": other.pk}, header=False)


class _IsoUtc(Func):
    template = f"to_char(%(expressions)s AT TIME ZONE 'UTC', {_ISO_Z})"
    output_field = CharField()


def price_list_rows_csv(*, rows: QuerySet[PriceListRow], end_of_sale: bool = False) -> Iterator[bytes]:
    """Rows in the file's own layout (header first), streamed with COPY … TO STDOUT."""
    columns = {}
    for column in [*PRICE_LIST_COLUMNS, *([END_OF_SALE_COLUMN] if end_of_sale else [])]:
        name = ALL_COLUMNS[column]
        if name in ("unit_price", "erp_price"):
            columns[column] = Amount(F(name))
        elif name.endswith("_date"):
            columns[column] = _IsoUtc(F(name))
        elif name in _TEXT_FIELDS:
            # COPY writes '' as "" to tell it from NULL; the file leaves empty cells bare.
            columns[column] = empty_as_null(name)
        else:
            columns[column] = F(name)
    return copy_csv(*select_columns(rows, columns))
