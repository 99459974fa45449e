"""The file writer: every CSV, TSV and XLSX the portal produces (design §6).

Two ways in. Large files never become Python objects: PostgreSQL writes them with one
`COPY (SELECT …) TO STDOUT` and the bytes are passed on in blocks, so memory stays flat however
many rows the file has (`select_columns`, `copy_csv`, `copy_to_file`). Small files built from
Python values go through `text_rows` (CSV, TSV) or `write_xlsx`.

Both ways neutralise the cells a spreadsheet would run as formulas (OWASP "CSV injection"): a
text cell starting with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`, unless the whole cell
is a plain number (`-12.50` stays a number). `neutralise` is the rule in Python; the SQL function
`portal_csv_cell` (migration portal 0002) is its twin, which `select_columns` and `named_select`
put around every text column, and `cell_sql` around a column of a hand-written SELECT.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any, BinaryIO

from django.db import connections
from django.db.models import CharField, F, Field, Func, QuerySet, TextField, Value
from django.db.models.functions import NullIf
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse

__all__ = (
    "CSV",
    "FORMULA_TRIGGERS",
    "TSV",
    "Amount",
    "TrimScale",
    "amount_sql",
    "cell_sql",
    "copy_csv",
    "copy_to_file",
    "csv_response",
    "empty_as_null",
    "named_select",
    "neutralise",
    "select_columns",
    "text_rows",
    "write_xlsx",
)

#: The delimiters of the two text formats; both quote cells the same way.
CSV, TSV = ",", "\t"

#: psycopg hands COPY data over a row at a time; the response gets blocks of about this size.
BLOCK_BYTES = 256 * 1024

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

#: A cell a spreadsheet reads as a number: it is left alone even when it starts with + or -.
#: The SQL twin in portal/migrations/0002_csv_cell.py uses the same expression.
PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")

#: The SQL function that neutralises one text cell (created by portal/migrations/0002_csv_cell.py).
CELL_FUNCTION = "portal_csv_cell"

_CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", TSV: "text/tab-separated-values; charset=utf-8"}


# --- The rule -----------------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """`value` as a cell no spreadsheet runs as a formula: `'` before a trigger, numbers untouched."""
    if value and value[0] in FORMULA_TRIGGERS and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell_sql(column: str) -> str:
    """A text column of a hand-written SELECT, neutralised like `neutralise` does."""
    return f"{CELL_FUNCTION}({column})"


# --- Columns of a COPY SELECT -------------------------------------------------------------------------


def amount_sql(column: str) -> str:
    """An amount as files write it: two decimals unless it needs more (64.80, 0.1234)."""
    return (
        f"CASE WHEN scale(trim_scale({column})) <= 2 THEN round({column}, 2)::text "
        f"ELSE trim_scale({column})::text END"
    )


class Amount(Func):
    template = amount_sql("%(expressions)s")
    output_field = CharField()


class TrimScale(Func):
    """A rate without its padding zeros (0.04000000 → 0.04)."""

    function = "trim_scale"


def empty_as_null(path: str) -> NullIf:
    """A text column whose empty value is written as a bare empty cell, not `""`."""
    return NullIf(F(path), Value(""), output_field=CharField())


def select_columns(queryset: QuerySet, columns: Mapping[str, Any]) -> tuple[str, Sequence[Any]]:
    """The SELECT of `columns` (header → expression) over the queryset's rows, in its order."""
    aliases = {f"c{position}": expression for position, expression in enumerate(columns.values())}
    rows = queryset.annotate(**aliases).values_list(*aliases)
    return named_select(rows, dict(zip(aliases, columns, strict=True)))


def named_select(rows: QuerySet, names: Mapping[str, str]) -> tuple[str, Sequence[Any]]:
    """The SQL of a values_list() of annotations with the aliases renamed (alias → header).

    Every text column is neutralised; numbers, dates and booleans keep PostgreSQL's own output.
    """
    inner, params = rows.query.sql_with_params()
    quote = connections[rows.db].ops.quote_name
    annotations = rows.query.annotations
    outer = ", ".join(
        f"{cell_sql(quote(alias)) if _writes_text(annotations[alias].output_field) else quote(alias)} "
        f"AS {quote(header)}"
        for alias, header in names.items()
    )
    # OFFSET 0 keeps PostgreSQL from merging the rows' SELECT into this one: each column is then
    # computed once, and portal_csv_cell is inlined over a plain column instead of repeating it.
    return f"SELECT {outer} FROM (SELECT * FROM ({inner}) AS selected OFFSET 0) AS rows", params


def _writes_text(field: Field) -> bool:
    while field.is_relation:  # a foreign key is written as the value of the field it points to
        field = field.target_field
    return isinstance(field, CharField | TextField)


# --- COPY ---------------------------------------------------------------------------------------------


def _copy_statement(sql: str, header: bool, delimiter: str) -> str:
    options = "FORMAT csv" + (", HEADER" if header else "")
    if delimiter == TSV:
        options += ", DELIMITER E'\\t'"
    return f"COPY ({sql}) TO STDOUT WITH ({options})"


def copy_csv(
    sql: str, params: Any = (), *, header: bool = True, delimiter: str = CSV, using: str = "default"
) -> Iterator[bytes]:
    """The rows of `sql` as CSV (or TSV), in blocks of about BLOCK_BYTES.

    The COPY runs on its own cursor of the request's connection: by the time a streaming response
    is iterated every middleware has finished, so nothing else needs the connection until the
    last block is sent. A client that goes away closes the generator, and psycopg then cancels
    the COPY on the server instead of reading the rest.
    """
    with (
        connections[using].cursor() as cursor,
        cursor.cursor.copy(_copy_statement(sql, header, delimiter), params) as copy,
    ):
        buffer = bytearray()
        for block in copy:
            buffer += block
            if len(buffer) >= BLOCK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)


def copy_to_file(
    sql: str,
    params: Any,
    target: BinaryIO,
    *,
    on_rows=None,
    every: int = 50_000,
    delimiter: str = CSV,
    using: str = "default",
) -> int:
    """Write the rows of `sql` as CSV (or TSV) with a header to `target`; returns the number of rows.

    PostgreSQL sends one COPY message per row (the header is the first), so counting them counts
    rows. `on_rows(count)` is called every `every` rows.
    """
    messages = 0
    with (
        connections[using].cursor() as cursor,
        cursor.cursor.copy(_copy_statement(sql, True, delimiter), params) as copy,
    ):
        for block in copy:
            target.write(block)
            messages += 1
            if on_rows is not None and messages % every == 0:
                on_rows(messages - 1)
    return max(messages - 1, 0)


# --- Python rows --------------------------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written to it, so csv.writer yields one line at a time."""

    def write(self, value: str) -> str:
        return value


def text_rows(rows: Iterable[Sequence[Any]], *, delimiter: str = CSV) -> Iterator[str]:
    """Each row (header first, if any) as one line of CSV or TSV, every cell neutralised.

    None is an empty cell; any other value is written as its text (numbers stay numbers).
    """
    writer = csv.writer(_Echo(), delimiter=delimiter)
    for row in rows:
        yield writer.writerow(["" if value is None else neutralise(str(value)) for value in row])


def csv_response(content: str | Iterable[bytes] | Iterable[str], filename: str) -> HttpResponseBase:
    """A download of CSV or TSV (TSV when `filename` ends in .tsv): a whole text is sent as it
    is, anything else (COPY blocks, `text_rows`) is streamed."""
    content_type = _CONTENT_TYPES[TSV if filename.endswith(".tsv") else CSV]
    response_class = HttpResponse if isinstance(content, str) else StreamingHttpResponse
    response = response_class(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- XLSX ---------------------------------------------------------------------------------------------


def write_xlsx(
    title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], target: BinaryIO | None = None
) -> BinaryIO:
    """One sheet (openpyxl write-only) to `target` (a new temporary file if None), rewound.

    Text is neutralised, which also keeps openpyxl from storing text starting with `=` as a
    formula; numbers, Decimals and dates stay typed values.
    """
    from openpyxl import Workbook  # noqa: PLC0415 - only XLSX downloads need openpyxl

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for row in chain([header], rows):
        sheet.append([neutralise(value) if isinstance(value, str) else value for value in row])
    target = target if target is not None else tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(target)
    target.seek(0)
    return target
