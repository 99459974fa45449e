"""Downloads streamed from PostgreSQL: one `COPY (SELECT …) TO STDOUT` per file (design §3).

The rows never become Python objects: PostgreSQL writes the CSV and the bytes are passed on in
blocks, so memory stays flat however many rows the file has.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from django.db import connections
from django.db.models import CharField, F, Func, QuerySet, Value
from django.db.models.functions import NullIf
from django.http import StreamingHttpResponse

__all__ = (
    "Amount",
    "TrimScale",
    "amount_sql",
    "copy_csv",
    "copy_to_file",
    "csv_response",
    "empty_as_null",
    "named_select",
    "select_columns",
)

#: psycopg hands COPY data over a row at a time; the response gets blocks of about this size.
BLOCK_BYTES = 256 * 1024


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
    """The SQL of a values_list() queryset with its aliases renamed (alias → header)."""
    inner, params = rows.query.sql_with_params()
    quote = connections[rows.db].ops.quote_name
    outer = ", ".join(f"{quote(alias)} AS {quote(header)}" for alias, header in names.items())
    return f"SELECT {outer} FROM ({inner}) AS rows", params


def _copy_statement(sql: str, header: bool) -> str:
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv{', HEADER' if header else ''})"


def copy_csv(sql: str, params: Any = (), *, header: bool = True, using: str = "default") -> Iterator[bytes]:
    """The rows of `sql` as CSV, in blocks of about BLOCK_BYTES.

    The COPY runs on its own cursor of the request's connection: by the time a streaming response
    is iterated every middleware has finished, so nothing else needs the connection until the
    last block is sent. A client that goes away closes the generator, and psycopg then cancels
    the COPY on the server instead of reading the rest.
    """
    with (
        connections[using].cursor() as cursor,
        cursor.cursor.copy(_copy_statement(sql, header), params) as copy,
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
    using: str = "default",
) -> int:
    """Write the rows of `sql` as CSV with a header to `target`; returns the number of rows.

    PostgreSQL sends one COPY message per row (the header is the first), so counting them counts
    rows. `on_rows(count)` is called every `every` rows.
    """
    messages = 0
    with (
        connections[using].cursor() as cursor,
        cursor.cursor.copy(_copy_statement(sql, True), params) as copy,
    ):
        for block in copy:
            target.write(block)
            messages += 1
            if on_rows is not None and messages % every == 0:
                on_rows(messages - 1)
    return max(messages - 1, 0)


def csv_response(content: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
