"""Staging a checked price list for its import: the rows as COPY-ready CSV in the default
storage (the volume the web and worker containers share), cut into chunks, and the COPY statement
that reads them."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from psycopg import sql

from commerce.models import PriceListRow
from commerce.pricing.columns import _NULLABLE_FIELDS, _TEXT_FIELDS, ALL_COLUMNS
from commerce.pricing.validation import PriceListTable

CHUNK_SIZE = 10_000


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
