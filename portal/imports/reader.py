"""Opening an import file: CSV, TSV, XLSX, or a ZIP holding exactly one of them, read a chunk at a time.

Text files may be UTF-8 (with or without a byte-order mark) or UTF-16 (Partner Center writes
both); the delimiter is a comma or a TAB, decided from the header line. A ZIP is checked against
its central directory (member count, unpacked size, compression ratio: `portal.uploads.zip_inspect`)
before anything is inflated, must hold exactly one table file, and is read from the archive
without unpacking it to disk. XLSX is read row by row (openpyxl read-only), so no format holds more
than one chunk in memory.

Every cell is text: the layout decides what it means. Line numbers are the ones a spreadsheet
shows (the header is line 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import pandas as pd
from django.conf import settings

from portal.uploads import (
    CSV,
    LEGACY_OFFICE,
    OLE_MAGIC,
    XLSX,
    ZIP,
    UploadRejected,
    reading,
    sniff,
    unreadable,
    zip_inspect,
)

TSV = "tsv"
_TABLE_KINDS = {CSV, TSV, XLSX}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass
class Chunk:
    """Rows of the file as text (columns named as in the file), indexed by their line numbers."""

    frame: pd.DataFrame


@dataclass
class TableFile:
    kind: str  # csv, tsv or xlsx (of the file inside a ZIP, for a ZIP)
    header: list[str]
    chunks: Iterator[Chunk]
    archive_member: str | None = None


@contextmanager
def open_table(source: IO[bytes], *, chunk_rows: int | None = None) -> Iterator[TableFile]:
    """The file's header and an iterator of its chunks (PORTAL_IMPORT_CHUNK_ROWS rows each: memory
    stays flat however long the file is); UploadRejected when it cannot be read."""
    chunk_rows = chunk_rows or settings.PORTAL_IMPORT_CHUNK_ROWS
    source.seek(0)
    head = source.read(8192)
    source.seek(0)
    if not head:
        raise UploadRejected("The file is empty.")
    kind = _table_kind(head)
    if kind == ZIP:
        zip_inspect(source, ZIP)
        with reading(ZIP):
            archive = zipfile.ZipFile(source)
        with archive:
            member = _only_table(archive)
            with archive.open(member) as inner:
                # zipfile's member stream cannot seek; XLSX needs to, a text file does not.
                data = io.BytesIO(inner.read()) if member.lower().endswith(".xlsx") else inner
                with open_table(data, chunk_rows=chunk_rows) as table:
                    table.archive_member = member
                    yield table
        return
    if kind == XLSX:
        zip_inspect(source, XLSX)
        yield _xlsx_table(source, chunk_rows)
        return
    table, wrapper = _text_table(source, chunk_rows)
    try:
        yield table
    finally:
        if wrapper is not None:
            wrapper.detach()  # closing the decoder must not close the caller's file


_NOT_TEXT = "it is neither UTF-8 nor UTF-16 text; save it as “CSV UTF-8” and upload it again"


def _table_kind(head: bytes) -> str:
    if head.startswith(_UTF16_BOMS):
        return CSV
    kind = sniff(head)
    if kind == ZIP or (kind is None and head.startswith(b"PK\x03\x04")):
        return ZIP
    if kind is None and head.startswith(OLE_MAGIC):
        raise unreadable(XLSX, LEGACY_OFFICE)
    if kind not in (CSV, XLSX):
        found = kind.upper() if kind else "an unrecognised binary file"
        raise UploadRejected(f"The file is {found}; expected CSV, TSV, XLSX or a ZIP holding one of them.")
    return kind


def _only_table(archive: zipfile.ZipFile) -> str:
    names = [
        info.filename
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith(("__MACOSX/", "."))
    ]
    tables = [name for name in names if name.lower().rsplit(".", 1)[-1] in ("csv", "tsv", "txt", "xlsx")]
    if len(tables) != 1 or len(names) != 1:
        listed = ", ".join(names[:5]) or "nothing"
        raise UploadRejected(
            f"The ZIP must hold exactly one CSV, TSV or XLSX file; it holds {len(names)} file(s): {listed}."
        )
    return tables[0]


# --- Text -------------------------------------------------------------------------------------------


def _encoding(head: bytes) -> str:
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    return "utf-8-sig"


def _text_table(source: IO[bytes], chunk_rows: int) -> tuple[TableFile, io.TextIOWrapper | None]:
    head = source.read(65_536)
    if hasattr(source, "seek"):
        source.seek(0)
        # pandas closes the text wrapper it puts around a binary file, and the file with it: it
        # reads through a proxy of its own, so the caller's file stays open (to be read again).
        stream = _Prefixed(b"", source)
    else:  # a ZIP member: put back what was read
        stream = _Prefixed(head, source)
    encoding = _encoding(head)
    first_line = _first_line(head, encoding)
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    kind = TSV if delimiter == "\t" else CSV
    wrapper = None
    if encoding != "utf-8-sig":
        # pandas' C reader decodes UTF-8 itself; any other encoding is decoded on the way in.
        stream = wrapper = io.TextIOWrapper(_binary(stream), encoding=encoding, newline="")
        encoding = None
    with reading(CSV):
        reader = pd.read_csv(
            stream,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=encoding,
            chunksize=chunk_rows,
            skip_blank_lines=True,
        )
    header = [name.strip() for name in next(csv.reader([first_line], delimiter=delimiter))]
    return TableFile(kind=kind, header=header, chunks=_text_chunks(reader, header)), wrapper


def _binary(stream) -> IO[bytes]:
    """The file object under a Django File (TextIOWrapper needs a real binary stream)."""
    inner = getattr(stream, "file", stream)
    return inner if isinstance(inner, io.IOBase) else _Prefixed(b"", inner)


def _first_line(head: bytes, encoding: str) -> str:
    try:
        text = head.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise unreadable(CSV, _NOT_TEXT) from exc
        text = head[: exc.start].decode(encoding)
    if "\x00" in text:
        raise unreadable(CSV, _NOT_TEXT)
    line = text.splitlines()[0] if text.strip() else ""
    if not line.strip():
        raise UploadRejected("The file has no header row.")
    return line


def _text_chunks(reader, header: list[str]) -> Iterator[Chunk]:
    line = 2
    with reader, reading(CSV):
        for frame in reader:
            frame.columns = header
            frame.index = pd.RangeIndex(line, line + len(frame))
            yield Chunk(frame=frame)
            line += len(frame)


class _Prefixed(io.RawIOBase):
    """A non-seekable stream with its first bytes (already read) put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size], self._head = self._head[:size], self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# --- XLSX -------------------------------------------------------------------------------------------


def _xlsx_table(source: IO[bytes], chunk_rows: int) -> TableFile:
    from openpyxl import load_workbook  # noqa: PLC0415 - only XLSX imports need openpyxl

    with reading(XLSX):
        workbook = load_workbook(source, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
    if header_row is None or not any(cell is not None for cell in header_row):
        workbook.close()
        raise UploadRejected("The file has no header row.")
    header = [str(cell).strip() if cell is not None else "" for cell in header_row]
    while header and not header[-1]:
        header.pop()
    return TableFile(kind=XLSX, header=header, chunks=_xlsx_chunks(workbook, rows, header, chunk_rows))


def _xlsx_chunks(workbook, rows, header: list[str], chunk_rows: int) -> Iterator[Chunk]:
    width = len(header)
    batch: list[list[str]] = []
    lines: list[int] = []
    try:
        with reading(XLSX):
            for line, row in enumerate(rows, start=2):
                cells = [_xlsx_text(cell) for cell in row[:width]]
                if not any(cells):
                    continue  # an empty row of the sheet
                batch.append(cells + [""] * (width - len(cells)))
                lines.append(line)
                if len(batch) == chunk_rows:
                    yield Chunk(frame=pd.DataFrame(batch, columns=header, index=lines, dtype=str))
                    batch, lines = [], []
        if batch:
            yield Chunk(frame=pd.DataFrame(batch, columns=header, index=lines, dtype=str))
    finally:
        workbook.close()


def _xlsx_text(cell) -> str:
    """A cell as the text a CSV export of the sheet would hold (dates ISO, whole numbers without .0)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if hasattr(cell, "isoformat"):
        text = cell.isoformat()
        return text[:-9] if text.endswith("T00:00:00") else text
    return str(cell)
