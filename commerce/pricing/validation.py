"""Reading and checking a price list file in full before anything is written: every bad row is
listed with its reason and nothing is stored.

Checks are vectorised: a price list repeats few distinct values per column (a handful of terms,
dates and publishers, a few thousand titles and prices), so each distinct value is checked once
and the verdict is mapped back onto the rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from commerce.pricing.checks import _CANONICAL_DATE, _CHECKS, _iso, _parse_datetime
from commerce.pricing.columns import (
    _OPEN_END_YEAR,
    _OPEN_START_YEAR,
    ALL_COLUMNS,
    END_OF_SALE_COLUMN,
    PRICE_LIST_COLUMNS,
    UNIQUE_COLUMNS,
)
from portal.uploads import CSV, RowError, UploadRejected, read_table, sniff

__all__ = ("PriceListTable", "price_list_clean", "price_list_validate")

#: The rejection lists this many problems (all are counted); a broken column repeats one reason.
MAX_LISTED_ERRORS = 200


@dataclass
class PriceListTable:
    """A price list file that passed every check, ready to import."""

    frame: pd.DataFrame  # the file's columns, stripped; dates as sortable UTC text (`_iso`)
    market: str
    currency: str
    file_name: str
    #: The original bytes when PostgreSQL can read them as they are (a canonical CSV file).
    raw_csv: bytes | None = None
    columns: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.frame)

    def effective_month(self) -> date:
        """The month of the newest EffectiveStartDate, placeholders (1753, 9999) aside.

        A current list repeats rows that took effect long ago beside the month's new prices, and a
        preview's new prices start in the coming month: the newest start is the list's month.
        """
        starts = self.frame["EffectiveStartDate"]
        real = starts[~starts.str.startswith((str(_OPEN_START_YEAR), str(_OPEN_END_YEAR)))]
        newest = (real if len(real) else starts).max()
        return date(int(newest[:4]), int(newest[5:7]), 1)

    def records(self) -> list[dict[str, Any]]:
        """The rows as PriceListRow field values (Decimal, datetime, int or None)."""
        converters: dict[str, Callable[[str], Any]] = {
            "unit_price": Decimal,
            "erp_price": lambda v: Decimal(v) if v else None,
            "pricing_tier_range_min": lambda v: int(v) if v else None,
            "pricing_tier_range_max": lambda v: int(v) if v else None,
            "effective_start_date": datetime.fromisoformat,
            "effective_end_date": datetime.fromisoformat,
            "end_of_sale_date": lambda v: datetime.fromisoformat(v) if v else None,
        }
        columns = {}
        for column in self.columns:
            name = ALL_COLUMNS[column]
            values = self.frame[column]
            convert = converters.get(name)
            if convert is not None:
                mapping = {value: convert(value) for value in values.unique()}
                columns[name] = [mapping[value] for value in values]
            else:
                columns[name] = values.tolist()
        names = list(columns)
        return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def price_list_clean(*, upload: UploadedFile) -> PriceListTable:
    """Read and check every row of a price list file; raises UploadRejected. Writes nothing."""
    frame = read_table(
        upload, required_columns=PRICE_LIST_COLUMNS, max_bytes=settings.PORTAL_PRICE_LIST_MAX_BYTES
    )
    columns = [column for column in frame.columns if column in ALL_COLUMNS]
    # The original bytes can be copied as they are only when every cell reads back unchanged.
    copy_as_is = len(columns) == len(frame.columns) and _kind(upload) == CSV
    copy_as_is = copy_as_is and not frame[columns].isna().to_numpy().any()  # no short rows
    frame = frame[columns].fillna("")

    problems = _Problems(columns)
    dates: dict[str, pd.Series] = {}
    for column in columns:
        values = frame[column]
        uniques = pd.unique(values.to_numpy(dtype=object))
        tidied = {value: tidy for value in uniques if (tidy := _tidy(column, value)) != value}
        if tidied:
            copy_as_is = False
            values = frame[column] = values.map(lambda value, tidied=tidied: tidied.get(value, value))
            uniques = pd.unique(values.to_numpy(dtype=object))
        if copy_as_is and any("\n" in value or "\r" in value for value in uniques):
            copy_as_is = False  # a cell spanning lines: the file's lines are not its rows
        check = _CHECKS[column]
        verdicts = {value: check(value) for value in uniques}
        bad = {value: message for value, message in verdicts.items() if message}
        if bad:
            problems.add(column, values.isin(bad.keys()), lambda value, bad=bad: bad[value], values)
        if column in ("EffectiveStartDate", "EffectiveEndDate", END_OF_SALE_COLUMN):
            mapping = {value: _iso(moment) for value in verdicts if (moment := _parse_datetime(value))}
            if copy_as_is and not all(_CANONICAL_DATE.fullmatch(value) for value in mapping):
                copy_as_is = False
            dates[column] = values.map(mapping).fillna("")

    _check_ranges(frame, dates, problems)
    market = _check_one_value(frame, "Market", "market", problems)
    currency = _check_one_value(frame, "Currency", "currency", problems)
    for column, normalised in dates.items():
        frame[column] = normalised
    _check_duplicates(frame, problems)
    problems.raise_if_any()

    table = PriceListTable(
        frame=frame, market=market, currency=currency, file_name=upload.name or "", columns=columns
    )
    if copy_as_is:
        upload.seek(0)
        table.raw_csv = upload.read()
    return table


def _tidy(column: str, value: str) -> str:
    """A cell as the checks read it: trimmed; a SkuId a spreadsheet stored as a number regains
    its leading zeros (2 → 0002)."""
    value = value.strip()
    if column == "SkuId" and value.isdigit() and len(value) < 4:
        return value.zfill(4)
    return value


def _kind(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    return sniff(head)


def price_list_validate(*, upload: UploadedFile, is_preview: bool) -> list[dict[str, Any]]:
    """Every row checked; raises UploadRejected listing each bad row. Writes nothing.

    Returns the rows as PriceListRow field values. A preview file may carry `EndofSaleDate`; any
    file may, so `is_preview` changes nothing in the checks themselves.
    """
    return price_list_clean(upload=upload).records()


class _Problems:
    """Bad cells found column by column, reported row by row."""

    def __init__(self, columns: list[str]):
        self.order = {column: position for position, column in enumerate(columns)}
        self.total = 0
        self.found: list[tuple[int, int, str, str]] = []

    def add(
        self,
        column: str,
        mask: pd.Series,
        message: Callable[[Any], str],
        values: pd.Series | None = None,
    ) -> None:
        positions = np.flatnonzero(mask.to_numpy())
        self.total += len(positions)
        for position in positions[:MAX_LISTED_ERRORS]:
            value = values.iat[position] if values is not None else position
            self.found.append((int(position), self.order.get(column, 99), column, message(value)))

    def raise_if_any(self) -> None:
        if not self.total:
            return
        self.found.sort()
        errors = [
            RowError(position + 2, column, text)  # the header is row 1, as a spreadsheet shows
            for position, _, column, text in self.found[:MAX_LISTED_ERRORS]
        ]
        listed = "" if self.total <= len(errors) else f" (the first {len(errors)} are listed)"
        raise UploadRejected(
            f"{self.total} problem(s) found{listed}; nothing was imported. Fix them and upload again.",
            errors,
        )


def _check_ranges(frame: pd.DataFrame, dates: dict[str, pd.Series], problems: _Problems) -> None:
    start, end = dates["EffectiveStartDate"], dates["EffectiveEndDate"]
    both = (start != "") & (end != "")
    problems.add(
        "EffectiveEndDate",
        both & (end <= start),
        lambda _: "EffectiveEndDate is not after EffectiveStartDate",
    )
    low = pd.to_numeric(frame["PricingTierRangeMin"].where(frame["PricingTierRangeMin"].str.isdigit()))
    high = pd.to_numeric(frame["PricingTierRangeMax"].where(frame["PricingTierRangeMax"].str.isdigit()))
    problems.add(
        "PricingTierRangeMax",
        (low > high).fillna(False),
        lambda _: "PricingTierRangeMax is below PricingTierRangeMin",
    )


def _check_one_value(frame: pd.DataFrame, column: str, noun: str, problems: _Problems) -> str:
    """One market and one currency per file: rows that differ from the file's own are bad."""
    counts = frame[column].value_counts()
    usual = str(counts.index[0])
    if len(counts) > 1:
        first = int(np.flatnonzero((frame[column] == usual).to_numpy())[0]) + 2
        problems.add(
            column,
            frame[column] != usual,
            lambda value: f"{noun} {value!r} differs from {usual!r} (row {first}); a file holds one {noun}",
            frame[column],
        )
    return usual


def _check_duplicates(frame: pd.DataFrame, problems: _Problems) -> None:
    key = [column for column in UNIQUE_COLUMNS if column in frame.columns]
    repeated = frame.duplicated(subset=key, keep="first")
    if not repeated.any():
        return
    group = frame.groupby(key, sort=False).ngroup()
    first_row = pd.Series(np.arange(len(frame)), index=frame.index).groupby(group).transform("min")
    problems.add(
        "ProductId",
        repeated,
        lambda position: f"repeats row {int(first_row.iat[position]) + 2} ({', '.join(key)} are the same)",
    )
