"""Price lists: import the vendor's license-based price list file, compare two lists, look up a price.

The file keeps its real column layout (spec/commerce.md §4.1; a preview adds `EndofSaleDate`).
An upload is checked in full before anything is written: every bad row is listed with its reason
and nothing is stored. A good file is staged as CSV in the default storage (the volume the web
and worker containers share) and a job copies it into `PriceListRow` chunk by chunk with
PostgreSQL `COPY`; each chunk commits with its `JobChunk` marker, so a replayed chunk is a no-op.

Checks are vectorised: a price list repeats few distinct values per column (a handful of terms,
dates and publishers, a few thousand titles and prices), so each distinct value is checked once
and the verdict is mapped back onto the rows.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import CharField, F, Func, QuerySet
from psycopg import sql

from accounts.audit import audit_record
from commerce.choices import BillingCycle, PriceListStatus, Segment, TermDuration
from commerce.models import PriceList, PriceListRow, Product, Sku
from portal.files import Amount, amount_sql, cell_sql, copy_csv, empty_as_null, select_columns
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start
from portal.uploads import CSV, RowError, UploadRejected, read_table, sniff

__all__ = (
    "DIFF_COLUMNS",
    "PRICE_LIST_COLUMNS",
    "Change",
    "PriceChange",
    "PriceListTable",
    "price_for",
    "price_list_clean",
    "price_list_diff",
    "price_list_diff_counts",
    "price_list_diff_csv",
    "price_list_import_run",
    "price_list_import_start",
    "price_list_rows_csv",
    "price_list_validate",
)

JOB_KIND = "commerce.price_list_import"
CHUNK_SIZE = 10_000
#: The rejection lists this many problems (all are counted); a broken column repeats one reason.
MAX_LISTED_ERRORS = 200

# The file's columns in order (§4.1) and the PriceListRow field each one fills.
COLUMN_FIELDS = {
    "ProductTitle": "product_title",
    "ProductId": "product_id",
    "SkuId": "sku_id",
    "SkuTitle": "sku_title",
    "Publisher": "publisher",
    "SkuDescription": "sku_description",
    "UnitOfMeasure": "unit_of_measure",
    "TermDuration": "term_duration",
    "BillingPlan": "billing_plan",
    "Market": "market",
    "Currency": "currency",
    "UnitPrice": "unit_price",
    "PricingTierRangeMin": "pricing_tier_range_min",
    "PricingTierRangeMax": "pricing_tier_range_max",
    "EffectiveStartDate": "effective_start_date",
    "EffectiveEndDate": "effective_end_date",
    "Tags": "tags",
    "ERP Price": "erp_price",
    "Segment": "segment",
}
PRICE_LIST_COLUMNS = list(COLUMN_FIELDS)
#: The preview file's extra column (§4.2); optional in any file.
END_OF_SALE_COLUMN = "EndofSaleDate"
ALL_COLUMNS = {**COLUMN_FIELDS, END_OF_SALE_COLUMN: "end_of_sale_date"}

# Which row fields identify one price: the file may not repeat them (the table's unique key).
UNIQUE_COLUMNS = [
    "ProductId",
    "SkuId",
    "TermDuration",
    "BillingPlan",
    "Segment",
    "EffectiveStartDate",
    "PricingTierRangeMin",
]
# Fields that COPY must read as '' (text) and as NULL (optional values) when empty.
_TEXT_FIELDS = {
    "product_title",
    "product_id",
    "sku_id",
    "sku_title",
    "publisher",
    "sku_description",
    "unit_of_measure",
    "term_duration",
    "billing_plan",
    "market",
    "currency",
    "tags",
    "segment",
}
_NULLABLE_FIELDS = {"pricing_tier_range_min", "pricing_tier_range_max", "erp_price", "end_of_sale_date"}
# Placeholder years of the file: 1753-01-01 (an open start) and 9999-… (an open end).
_OPEN_START_YEAR, _OPEN_END_YEAR = 1753, 9999


# --- Checking one distinct value ---------------------------------------------------------------------

_DECIMAL = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
_INTEGER = re.compile(r"\d{1,10}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
# The form the file itself uses, which PostgreSQL reads exactly as the checks do.
_CANONICAL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


def _text(*, max_length: int, required: bool = True) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value:
            return "is empty" if required else None
        if len(value) > max_length:
            return f"is {len(value)} characters long; the limit is {max_length}"
        return None

    return check


def _pattern(regex: str, expected: str) -> Callable[[str], str | None]:
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        if not value:
            return "is empty"
        return None if compiled.fullmatch(value) else f"{value!r} is not {expected}"

    return check


def _choice(values: Iterable[str]) -> Callable[[str], str | None]:
    allowed = list(values)

    def check(value: str) -> str | None:
        if not value:
            return "is empty"
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    return check


def _decimal(*, required: bool) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value:
            return "is empty" if required else None
        if value.startswith("-"):
            return f"{value!r} is negative"
        if not _DECIMAL.fullmatch(value):
            try:
                Decimal(value)
            except InvalidOperation:
                return f"{value!r} is not a decimal number like 64.80"
            return f"{value!r} is not a plain decimal with at most 12 digits and 6 decimals"
        return None

    return check


def _integer(value: str) -> str | None:
    if not value:
        return None
    if not _INTEGER.fullmatch(value) or int(value) > 2_147_483_647:
        return f"{value!r} is not a whole number"
    return None


def _parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when no offset is given), or None."""
    if not _DATE.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _iso(moment: datetime) -> str:
    """A UTC instant as text that sorts like time (four-digit years): 2025-04-01T00:00:00.000000Z."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _datetime(*, required: bool) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value:
            return "is empty" if required else None
        if _parse_datetime(value) is None:
            return f"{value!r} is not an ISO 8601 date like 2025-04-01T00:00:00Z"
        return None

    return check


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "ProductTitle": _text(max_length=200),
    "ProductId": _pattern(r"[A-Z0-9]{12}", "a 12-character ProductId like CFQ7TTC0LH18"),
    "SkuId": _pattern(r"[A-Z0-9]{1,4}", "a SkuId of up to 4 characters like 0001"),
    "SkuTitle": _text(max_length=200),
    "Publisher": _text(max_length=200),
    "SkuDescription": _text(max_length=4000, required=False),
    "UnitOfMeasure": _text(max_length=50, required=False),
    "TermDuration": _choice(TermDuration.values),
    "BillingPlan": _choice(BillingCycle.values),
    "Market": _pattern(r"[A-Z]{2}", "a two-letter market code like US"),
    "Currency": _pattern(r"[A-Z]{3}", "a three-letter currency code like USD"),
    "UnitPrice": _decimal(required=True),
    "PricingTierRangeMin": _integer,
    "PricingTierRangeMax": _integer,
    "EffectiveStartDate": _datetime(required=True),
    "EffectiveEndDate": _datetime(required=True),
    "Tags": _text(max_length=200, required=False),
    "ERP Price": _decimal(required=False),
    "Segment": _choice(Segment.values),
    END_OF_SALE_COLUMN: _datetime(required=False),
}


# --- Reading and checking a file ----------------------------------------------------------------------


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


# --- Import: start (web request) and run (worker) ------------------------------------------------------


@transaction.atomic
def price_list_import_start(
    *,
    actor: Any,
    upload: UploadedFile,
    is_preview: bool,
    effective_month: date | None = None,
    table: PriceListTable | None = None,
) -> PriceList:
    """Check the file, create the list (importing) and its job; the job starts on commit.

    Pass `table` when the file was already checked (`price_list_clean`) to skip checking it again.
    Raises UploadRejected, and then nothing was written.
    """
    table = table or price_list_clean(upload=upload)
    month = (effective_month or table.effective_month()).replace(day=1)
    kind = "preview price list" if is_preview else "price list"
    price_list = PriceList.objects.create(
        name=f"{table.market} {kind} {month:%B %Y}",
        market=table.market,
        currency=table.currency,
        is_preview=is_preview,
        effective_month=month,
        source_file=(table.file_name or "price-list.csv")[:255],
        status=PriceListStatus.IMPORTING,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    staged_file, fields, chunks = _stage(table, price_list.pk)
    job = job_create(
        kind=JOB_KIND,
        parameters={
            "price_list_id": price_list.pk,
            "is_preview": is_preview,
            "staged_file": staged_file,
            "fields": fields,
            "chunks": chunks,
        },
        total=table.row_count,
        actor=actor,
    )
    price_list.job = job
    price_list.save(update_fields=["job"])
    audit_record(
        actor=actor,
        action="price_list.import_started",
        organization_id=None,
        target=price_list,
        changes={"file": price_list.source_file, "rows": table.row_count, "is_preview": is_preview},
    )
    # Imported here to prevent an import cycle: tasks import this module.
    from commerce.tasks import price_list_import_task  # noqa: PLC0415

    transaction.on_commit(lambda: price_list_import_task.delay(job.pk))
    return price_list


def _stage(table: PriceListTable, price_list_id: int) -> tuple[str, list[str], list[list[int]]]:
    """Write the rows as COPY-ready CSV lines (the list's id first); return name, fields, chunks.

    Each chunk is `[start byte, end byte, rows]` of the staged file.
    """
    prefix = f"{price_list_id},".encode()
    buffer = io.BytesIO()
    chunks: list[list[int]] = []
    if table.raw_csv is not None:
        fields = [ALL_COLUMNS[column] for column in table.columns]
        lines = table.raw_csv.split(b"\n")[1:]  # without the header
        if lines and not lines[-1].strip():
            lines.pop()
        if len(lines) == table.row_count:
            crlf = bool(lines) and lines[0].endswith(b"\r")
            for start in range(0, len(lines), CHUNK_SIZE):
                part = lines[start : start + CHUNK_SIZE]
                offset = buffer.tell()
                if crlf:
                    buffer.write(b"\n".join(prefix + line.rstrip(b"\r") for line in part))
                else:
                    buffer.write(b"\n".join(prefix + line for line in part))
                buffer.write(b"\n")
                chunks.append([offset, buffer.tell(), len(part)])
        else:
            # Blank lines pandas skipped: the lines are not the rows. Write the rows out instead.
            buffer, chunks = io.BytesIO(), []
    if not chunks:
        fields = [ALL_COLUMNS[column] for column in table.columns]
        text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        values = [table.frame[column].tolist() for column in table.columns]
        ids = [price_list_id] * table.row_count
        for start in range(0, table.row_count, CHUNK_SIZE):
            text.flush()
            offset = buffer.tell()
            end = start + CHUNK_SIZE
            writer.writerows(zip(ids[start:end], *(column[start:end] for column in values), strict=True))
            text.flush()
            chunks.append([offset, buffer.tell(), min(end, table.row_count) - start])
        text.detach()
    name = default_storage.save(
        f"price_lists/staged/{price_list_id}-{uuid.uuid4().hex}.csv", ContentFile(buffer.getvalue())
    )
    return name, ["price_list_id", *fields], chunks


def price_list_import_run(*, job_id: int) -> None:
    """Copy the staged rows chunk by chunk, fill the catalog, mark the list ready.

    A chunk committed by an earlier attempt (a worker killed mid-run) is skipped, so the end state
    is the one an uninterrupted run gives.
    """
    job = JobRun.objects.get(pk=job_id)
    price_list_id = job.parameters["price_list_id"]
    job_start(job)
    try:
        job_run_chunks(job, _import_chunks(job))
        with transaction.atomic():
            _catalog_upsert(price_list_id=price_list_id, update_titles=not job.parameters.get("is_preview"))
            row_count = PriceListRow.objects.filter(price_list_id=price_list_id).count()
            PriceList.objects.filter(pk=price_list_id).update(
                status=PriceListStatus.READY, row_count=row_count
            )
            job_finish(job, result={"price_list_id": price_list_id, "rows": row_count})
    except Exception:
        PriceList.objects.filter(pk=price_list_id).update(status=PriceListStatus.FAILED)
        raise
    default_storage.delete(job.parameters["staged_file"])


def _import_chunks(job: JobRun) -> Iterator[tuple[str, int, Callable[[], None]]]:
    parameters = job.parameters
    with default_storage.open(parameters["staged_file"], "rb") as staged:
        data = staged.read()
    statement = _copy_statement(parameters["fields"])
    for number, (start, end, rows) in enumerate(parameters["chunks"]):
        yield f"rows-{number}", rows, _copy_work(statement, data[start:end])


def _copy_work(statement: sql.Composed, payload: bytes) -> Callable[[], None]:
    def work() -> None:
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(payload)

    return work


def _copy_statement(fields: list[str], *, table: str | None = None, header: bool = False) -> sql.Composed:
    """COPY … FROM STDIN of CSV lines holding `fields`; empty text is '', other empties NULL."""

    def names(chosen: Iterable[str]) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(name) for name in chosen)

    options = [sql.SQL("FORMAT csv")] + ([sql.SQL("HEADER true")] if header else [])
    text = [name for name in fields if name in _TEXT_FIELDS]
    nullable = [name for name in fields if name in _NULLABLE_FIELDS]
    if text:
        options.append(sql.SQL("FORCE_NOT_NULL ({})").format(names(text)))
    if nullable:
        options.append(sql.SQL("FORCE_NULL ({})").format(names(nullable)))
    return sql.SQL("COPY {table} ({fields}) FROM STDIN WITH ({options})").format(
        table=sql.Identifier(table or PriceListRow._meta.db_table),
        fields=names(fields),
        options=sql.SQL(", ").join(options),
    )


def _catalog_upsert(*, price_list_id: int, update_titles: bool) -> None:
    """Products and SKUs of the list into the catalog, set-based.

    A current list refreshes titles and descriptions; a preview only adds what is missing, so next
    month's names don't show before they apply.
    """
    product_conflict = (
        "DO UPDATE SET title = EXCLUDED.title, publisher = EXCLUDED.publisher "
        "WHERE (p.title, p.publisher) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.publisher)"
        if update_titles
        else "DO NOTHING"
    )
    sku_conflict = (
        "DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description "
        "WHERE (s.title, s.description) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.description)"
        if update_titles
        else "DO NOTHING"
    )
    rows, products, skus = PriceListRow._meta.db_table, Product._meta.db_table, Sku._meta.db_table
    with connection.cursor() as cursor:
        # One pass over the list's rows feeds both tables; a sort of 100,000 rows fits in memory.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            f"""
            WITH listed AS (
                SELECT DISTINCT ON (product_id, sku_id)
                       product_id, sku_id, product_title, publisher, sku_title, sku_description,
                       billing_plan = %(trial)s AS is_trial, effective_start_date AS newest
                  FROM {rows} WHERE price_list_id = %(list)s
                 ORDER BY product_id, sku_id, effective_start_date DESC
            ), added_products AS (
                INSERT INTO {products} AS p (product_id, title, publisher)
                SELECT DISTINCT ON (product_id) product_id, product_title, publisher
                  FROM listed ORDER BY product_id, newest DESC
                ON CONFLICT (product_id) {product_conflict}
            )
            INSERT INTO {skus} AS s (product_id, sku_id, title, description, min_licenses, max_licenses,
                                     is_trial, is_addon)
            SELECT product_id, sku_id, sku_title, sku_description, 1, 10000, is_trial, false FROM listed
            ON CONFLICT (product_id, sku_id) {sku_conflict}
            """,
            {"trial": BillingCycle.NONE.value, "list": price_list_id},
        )


# --- Comparing two lists ----------------------------------------------------------------------------


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
]
_KEY = "product_id, sku_id, term_duration, billing_plan, segment, coalesce(pricing_tier_range_min, -1)"


def _diff_sql(change: str | None) -> str:
    """New / Removed / Changed between two lists, keyed by product, SKU, term, plan, segment, tier.

    Where a list holds several rows of one key (successive effective dates), its newest counts.
    """
    rows = PriceListRow._meta.db_table
    side = f"""
        SELECT DISTINCT ON ({_KEY})
               product_id, sku_id, term_duration, billing_plan, segment, pricing_tier_range_min,
               coalesce(pricing_tier_range_min, -1) AS tier, product_title, sku_title, currency,
               unit_price, effective_start_date
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
               o.effective_start_date AS new_effective_start_date
          FROM b FULL OUTER JOIN o
            ON o.product_id = b.product_id AND o.sku_id = b.sku_id
           AND o.term_duration = b.term_duration AND o.billing_plan = b.billing_plan
           AND o.segment = b.segment AND o.tier = b.tier
         WHERE (b.product_id IS NULL OR o.product_id IS NULL OR o.unit_price <> b.unit_price) {only}
         ORDER BY 1, 8, 2, 3, 4, 5, 6, 7
    """


def price_list_diff(*, base: PriceList, other: PriceList, change: str | None = None) -> list[PriceChange]:
    """What `other` changes against `base`: New (only in other), Removed (only in base), Changed
    (unit price differs). Computed in one SQL statement (a full outer join of the two lists)."""
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
               {_iso_sql("old_effective_start_date")}, {_iso_sql("new_effective_start_date")}
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


# --- Looking up a price -------------------------------------------------------------------------------


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
