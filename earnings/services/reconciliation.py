"""Reconciliation's writes in the request: the uploaded file kept between the upload and the
mapping step, then the import job started (the pipeline reads, checks, matches and stores it:
`earnings.imports_reconcile`).

Between the upload and the mapping step the file waits in the default storage under a random
name that only the person's session knows. Only the header and the first rows are read then
(for the preview and the guessed mapping): every row is checked by the import job.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from earnings.imports_reconcile import RECONCILIATION_IMPORTER
from earnings.reconciliation import STAGED_DIR, STAGED_MAX_AGE, StagedFile, header_problems, mapping_errors
from portal.imports import import_start
from portal.imports.reader import open_table
from portal.jobs import JobRun
from portal.uploads import UploadRejected, check_size

__all__ = ("reconciliation_start", "staged_delete", "staged_open", "staged_save")

PREVIEW_ROWS = 5


# --- The uploaded file between the upload and the mapping step -----------------------------------


def staged_save(*, upload: File, preview_rows: int = PREVIEW_ROWS) -> StagedFile:
    """Check the file can be read (size, type, header, a first row) and keep it for the mapping step.

    The file goes to the default storage under a random name that only the session knows.
    Raises UploadRejected (nothing kept) when the file is empty, too large, not a table file,
    unreadable, without rows, or has two columns of the same name.
    """
    check_size(upload)
    name = (getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:255]
    header, first = _head(upload, preview_rows)
    if first is None:
        raise UploadRejected("The file has a header but no rows.")
    _staged_sweep()
    upload.seek(0)
    path = default_storage.save(f"{STAGED_DIR}/{secrets.token_hex(16)}", upload)
    preview = [
        [str(value)[:80] for value in row] for row in first.frame.head(preview_rows).itertuples(index=False)
    ]
    return StagedFile(
        path=path,
        file_name=name,
        columns=header,
        preview=preview,
    )


def _head(upload: File, rows: int):
    """The file's header and its first `rows` rows (None: it has none); UploadRejected when it
    cannot be read or two of its columns have one name (which would a mapping mean?)."""
    with open_table(upload, chunk_rows=rows) as table:
        header = list(table.header)
        first = next(table.chunks, None)
        close = getattr(table.chunks, "close", None)
        if close is not None:
            close()  # the reader lets go of the file now
    problems = header_problems(header)
    if problems:
        raise UploadRejected(" ".join(problems))
    upload.seek(0)
    return header, first


def staged_open(path: str) -> File:
    """A staged file, or FileNotFoundError; only paths under the staging directory are opened."""
    if not path.startswith(f"{STAGED_DIR}/") or ".." in path or not default_storage.exists(path):
        raise FileNotFoundError(path)
    return default_storage.open(path, "rb")


def staged_delete(path: str | None) -> None:
    if path and path.startswith(f"{STAGED_DIR}/") and ".." not in path:
        default_storage.delete(path)


def _staged_sweep() -> None:
    """Files left by abandoned mapping steps are removed after a day."""
    try:
        _dirs, names = default_storage.listdir(STAGED_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - STAGED_MAX_AGE
    for name in names:
        path = f"{STAGED_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except FileNotFoundError:
            continue  # another request swept it first


# --- The reconciliation: an import job ----------------------------------------------------------


def reconciliation_start(
    *,
    actor: Any,
    upload: File,
    file_name: str,
    mapping: dict[str, str],
    tolerance: Decimal = Decimal("0.01"),
    payment_month: date | None = None,
    payment_id: str = "",
    valid_rows_only: bool = False,
) -> JobRun:
    """Check the mapping and the file's header now, keep the file and queue the import job that
    reads, checks and matches every row and stores the reconciliation (`earnings.imports_reconcile`).

    Raises ValidationError for an unusable mapping or option and UploadRejected for a file that
    cannot be read or lacks a chosen column; in both cases nothing is kept and no job is queued.
    """
    mapping = {name: column for name, column in mapping.items() if column}
    errors = mapping_errors(mapping)
    if tolerance < 0:
        errors.append("The tolerance cannot be negative.")
    if errors:
        raise ValidationError(errors)
    check_size(upload)
    upload.name = file_name[:255] or "upload"
    _head(upload, 1)
    return import_start(
        RECONCILIATION_IMPORTER,
        upload,
        actor=actor,
        organization_id=actor.organization_id,
        valid_rows_only=valid_rows_only,
        headers=mapping,
        parameters={
            "tolerance": str(tolerance),
            "payment_month": payment_month.isoformat() if payment_month else None,
            "payment_id": payment_id.strip(),
        },
    )
