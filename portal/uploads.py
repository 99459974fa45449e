"""File uploads are validated before anything is written: type sniffed, size limited, rows checked.

A rejected upload raises `UploadRejected` with every problem found, row by row, so the person
can fix the whole file at once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import filetype
import pandas as pd
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

PDF, PNG, JPEG, CSV, XLSX, DOCX, PPTX = "pdf", "png", "jpeg", "csv", "xlsx", "docx", "pptx"
_OFFICE = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": PPTX,
}
_BY_MIME = {"application/pdf": PDF, "image/png": PNG, "image/jpeg": JPEG, **_OFFICE}
_MAX_ROW_ERRORS = 200


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class UploadRejected(Exception):
    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


def parse_date_cell(value: str) -> date:
    """A date cell: `2025-09-14`, or a datetime such as `2025-09-14T00:00:00Z` (its date).

    ValueError when it is neither.
    """
    try:
        return date.fromisoformat(value)
    except ValueError:
        return datetime.fromisoformat(value).date()


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes (never from its name or declared type)."""
    kind = filetype.guess(head)
    if kind is not None:
        return _BY_MIME.get(kind.mime)
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample; retry without it.
        try:
            head[:-3].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    return CSV


def validate_upload(upload: UploadedFile, *, allowed: set[str], max_bytes: int | None = None) -> str:
    """Check size and sniffed type; return the type. Nothing has been written yet."""
    limit = max_bytes or settings.PORTAL_UPLOAD_MAX_BYTES
    if upload.size == 0:
        raise UploadRejected("The file is empty.")
    if upload.size > limit:
        raise UploadRejected(
            f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB."
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = sniff(head)
    if kind not in allowed:
        found = kind.upper() if kind else "an unrecognised binary file"
        expected = ", ".join(sorted(k.upper() for k in allowed))
        raise UploadRejected(f"The file is {found}; expected {expected}.")
    return kind


def read_table(
    upload: UploadedFile, *, required_columns: list[str], max_bytes: int | None = None
) -> pd.DataFrame:
    """Read a CSV or XLSX upload as strings, checking the header before any row."""
    kind = validate_upload(upload, allowed={CSV, XLSX}, max_bytes=max_bytes)
    upload.seek(0)
    data = upload.read()
    try:
        if kind == XLSX:
            frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError) as exc:
        raise UploadRejected(f"The file could not be read as {kind.upper()}: {exc}") from exc
    frame.columns = [str(column).strip() for column in frame.columns]
    missing = [column for column in required_columns if column not in frame.columns]
    if missing:
        raise UploadRejected(
            "The header is missing required columns.",
            [RowError(1, column, "required column is missing") for column in missing],
        )
    if frame.empty:
        raise UploadRejected("The file has a header but no rows.")
    return frame


def validate_rows(
    frame: pd.DataFrame, check_row: Callable[[int, dict[str, str]], tuple[Any, list[RowError]]]
) -> list[Any]:
    """Run `check_row(row_number, row)` on every row; reject the file if any row has errors.

    Row numbers are the ones a spreadsheet shows (the header is row 1).
    """
    cleaned: list[Any] = []
    errors: list[RowError] = []
    for index, row in enumerate(frame.to_dict("records"), start=2):
        value, row_errors = check_row(index, {k: str(v).strip() for k, v in row.items()})
        errors.extend(row_errors)
        if not row_errors:
            cleaned.append(value)
        if len(errors) >= _MAX_ROW_ERRORS:
            break
    if errors:
        raise UploadRejected(
            f"{len(errors)} problem(s) found; nothing was imported. Fix them and upload again.",
            errors,
        )
    return cleaned
