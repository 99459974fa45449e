"""The price list file as a layout of the one import pipeline (portal.imports): every check a row
gets, in one place.

Cells are checked per column (kinds, choices, patterns, lengths), rows by vectorised rules (dates,
ranges, term and billing plan), the file as a whole in SQL over the staged rows (one market, one
currency, no price twice). A SkuId a spreadsheet turned into a number (2) regains its leading zeros
(0002) wherever it is compared or loaded (`sku_id_sql`).
"""

from __future__ import annotations

import pandas as pd

from commerce.choices import BillingCycle, Segment, TermDuration
from commerce.pricing.columns import (
    ALL_COLUMNS,
    CHANGE_INDICATOR_COLUMN,
    END_OF_SALE_COLUMN,
    UNIQUE_COLUMNS,
)
from commerce.pricing.dates import ISO_HELP, not_a_date, utc_texts
from portal.imports import CHOICE, DECIMAL, INTEGER, Column, Layout, Rule, SqlCheck
from portal.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS

__all__ = ("PRICE_LIST", "sku_id_sql")

#: Prices stay below this (the amount columns keep 12 whole digits).
_PRICE_LIMIT = 10 ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES)
_OPTIONAL = {"blank": True}


def sku_id_sql(row: str) -> str:
    """SQL for the staged row `row`'s SkuId as stored: a number of up to 3 digits padded to 4."""
    # The length first: the regular expression only runs for the few short ones.
    return (
        f"CASE WHEN octet_length({row}.sku_id) < 4 AND {row}.sku_id ~ '^[0-9]+$' "
        f"THEN lpad({row}.sku_id, 4, '0') ELSE {row}.sku_id END"
    )


def _column(name: str, **options) -> Column:
    return Column(name, field=ALL_COLUMNS[name], **options)


def _date_rule(name: str) -> Rule:
    staged = ALL_COLUMNS[name]
    return Rule(staged, ISO_HELP, lambda rows: not_a_date(rows[staged]))


def _price_rules(name: str) -> tuple[Rule, ...]:
    staged = ALL_COLUMNS[name]
    return (
        Rule(
            staged,
            f"has more than {AMOUNT_DECIMAL_PLACES} decimal places",
            lambda rows: rows[staged].notna() & (rows[staged].round(AMOUNT_DECIMAL_PLACES) != rows[staged]),
        ),
        Rule(staged, f"is {_PRICE_LIMIT:,} or more", lambda rows: rows[staged] >= _PRICE_LIMIT),
    )


def _end_not_after_start(rows: pd.DataFrame) -> pd.Series:
    return utc_texts(rows["effective_end_date"]) <= utc_texts(rows["effective_start_date"])


def _one_value(name: str, noun: str) -> SqlCheck:
    """Rows whose (well-formed) value is not the one most of the file's rows have."""
    staged = ALL_COLUMNS[name]
    size = 2 if noun == "market" else 3
    shape = f"'^[A-Z]{{{size}}}$'"
    return SqlCheck(
        name,
        f"""s.{staged} <> (
                SELECT f.{staged} FROM {{staging}} f GROUP BY f.{staged} HAVING f.{staged} ~ {shape}
                 ORDER BY count(*) DESC, min(f.line) LIMIT 1) AND s.{staged} ~ {shape}""",
        f"is not the {noun} of the file's other rows; a file holds one {noun}",
    )


# A row repeating an earlier row's price key. Two rows without a problem compare their start as
# instants (2025-04-01 is 2025-04-01T00:00:00Z); a row with a problem may hold a date that is none,
# so it is compared as written.
_REPEATED_PRICE = f"""EXISTS (
    SELECT 1 FROM {{staging}} o
     WHERE o.line < s.line AND o.product_id = s.product_id AND {sku_id_sql("o")} = {sku_id_sql("s")}
       AND o.term_duration = s.term_duration AND o.billing_plan = s.billing_plan
       AND o.segment = s.segment
       AND coalesce(o.pricing_tier_range_min, '') = coalesce(s.pricing_tier_range_min, '')
       AND CASE WHEN o.errors IS NULL AND s.errors IS NULL
                THEN o.effective_start_date::timestamptz = s.effective_start_date::timestamptz
                ELSE o.effective_start_date = s.effective_start_date END)"""

PRICE_LIST = Layout(
    name="commerce.price_list",
    title="Price list (license-based, one market)",
    columns=(
        _column(CHANGE_INDICATOR_COLUMN, required=False, max_length=50, **_OPTIONAL),
        _column("ProductTitle", max_length=200),
        _column(
            "ProductId",
            pattern=r"[A-Za-z0-9]{12}",
            pattern_help="is not a 12-character ProductId like CFQ7TTC0LH18",
            upper=True,
        ),
        _column(
            "SkuId",
            pattern=r"[A-Za-z0-9]{1,4}",
            pattern_help="is not a SkuId of up to 4 characters like 0001",
            upper=True,
        ),
        _column("SkuTitle", max_length=200),
        _column("Publisher", max_length=200),
        _column("SkuDescription", max_length=4000, **_OPTIONAL),
        _column("UnitOfMeasure", max_length=50, **_OPTIONAL),
        _column("TermDuration", kind=CHOICE, choices=tuple(TermDuration.values)),
        _column("BillingPlan", kind=CHOICE, choices=tuple(BillingCycle.values)),
        _column(
            "Market",
            pattern=r"[A-Za-z]{2}",
            pattern_help="is not a two-letter market code like US",
            upper=True,
        ),
        _column(
            "Currency",
            pattern=r"[A-Za-z]{3}",
            pattern_help="is not a three-letter currency code like USD",
            upper=True,
        ),
        _column("UnitPrice", kind=DECIMAL, min_value=0),
        _column("PricingTierRangeMin", kind=INTEGER, min_value=0, max_value=2_147_483_647, **_OPTIONAL),
        _column("PricingTierRangeMax", kind=INTEGER, min_value=0, max_value=2_147_483_647, **_OPTIONAL),
        _column("EffectiveStartDate"),
        _column("EffectiveEndDate"),
        _column("Tags", max_length=200, **_OPTIONAL),
        _column("ERP Price", kind=DECIMAL, min_value=0, **_OPTIONAL),
        _column("Segment", kind=CHOICE, choices=tuple(Segment.values)),
        _column(END_OF_SALE_COLUMN, required=False, **_OPTIONAL),
    ),
    rules=(
        _date_rule("EffectiveStartDate"),
        _date_rule("EffectiveEndDate"),
        _date_rule(END_OF_SALE_COLUMN),
        Rule("effective_end_date", "is not after EffectiveStartDate", _end_not_after_start),
        Rule(
            "pricing_tier_range_max",
            "is below PricingTierRangeMin",
            lambda rows: rows["pricing_tier_range_max"] < rows["pricing_tier_range_min"],
        ),
        Rule(
            "billing_plan",
            "BillingPlan Annual is not offered with TermDuration P1M (billed Monthly, or None for a trial)",
            lambda rows: (
                (rows["term_duration"] == TermDuration.P1M.value)
                & (rows["billing_plan"] == BillingCycle.ANNUAL.value)
            ),
        ),
        *_price_rules("UnitPrice"),
        *_price_rules("ERP Price"),
    ),
    checks=(
        _one_value("Market", "market"),
        _one_value("Currency", "currency"),
        SqlCheck(
            "ProductId",
            _REPEATED_PRICE,
            f"repeats an earlier row's price: the same {', '.join(UNIQUE_COLUMNS)}",
        ),
    ),
)
