"""Reconciliation's writes: the uploaded file kept between the upload and the mapping step, and
the reconciliation itself, matched (earnings.reconciliation) and stored with its lines.

Between the upload and the mapping step the file waits in the default storage under a random
name that only the person's session knows.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from earnings.choices import ReconciliationLineKind as Kind
from earnings.models import Reconciliation, ReconciliationLine
from earnings.periods import format_month
from earnings.reconciliation import (
    CURRENCY,
    STAGED_DIR,
    STAGED_MAX_AGE,
    StagedFile,
    line_values,
    lines_match,
    mapping_errors,
    partner_rows_clean,
    portal_rows,
)
from portal.audit import audit_record
from portal.uploads import CSV, XLSX, read_table, validate_upload

__all__ = ("reconciliation_create", "staged_delete", "staged_open", "staged_save")


# --- The uploaded file between the upload and the mapping step -----------------------------------


def staged_save(*, upload: File, preview_rows: int = 5) -> StagedFile:
    """Check the file can be read (type, size, header, rows) and keep it for the mapping step.

    The file goes to the default storage under a random name that only the session knows.
    Raises UploadRejected (nothing kept) when the file is empty, too large, not CSV/XLSX or unreadable.
    """
    kind = validate_upload(upload, allowed={CSV, XLSX})
    frame = read_table(upload, required_columns=[])
    _staged_sweep()
    upload.seek(0)
    path = default_storage.save(f"{STAGED_DIR}/{secrets.token_hex(16)}.{kind}", upload)
    preview = [[str(value)[:80] for value in row] for row in frame.head(preview_rows).itertuples(index=False)]
    return StagedFile(
        path=path,
        file_name=(getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:255],
        columns=list(frame.columns),
        preview=preview,
        row_count=len(frame),
    )


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


# --- The reconciliation ---------------------------------------------------------------------------


_LINE_FIELDS = [
    "organization_id",
    "reconciliation_id",
    "kind",
    "row_number",
    "earning_id",
    "transaction_id",
    "invoice_number",
    "customer_name",
    "product_id",
    "partner_amount",
    "portal_amount",
    "difference",
    "partner_row",
]


def _lines_copy(reconciliation: Reconciliation, lines: Iterable[dict[str, Any]]) -> None:
    """Write the lines with COPY … FROM STDIN, several times faster than bulk_create on a large file."""
    meta = ReconciliationLine._meta
    column_of = {field.attname: field.column for field in meta.concrete_fields}
    columns = [column_of[name] for name in _LINE_FIELDS]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    owner = {"organization_id": reconciliation.organization_id, "reconciliation_id": reconciliation.pk}
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for line in lines:
            values = {**owner, **line, "partner_row": json.dumps(line["partner_row"])}
            copy.write_row([values[name] for name in _LINE_FIELDS])


# --- The service ----------------------------------------------------------------------------------


def reconciliation_create(
    *,
    actor: Any,
    upload: File,
    file_name: str,
    mapping: dict[str, str],
    tolerance: Decimal = Decimal("0.01"),
    payment_month: date | None = None,
    payment_id: str = "",
) -> Reconciliation:
    """Match the partner's file against `actor`'s visible earnings and store the result.

    Raises ValidationError for an unusable mapping and UploadRejected for a bad file; in both
    cases nothing is written.
    """
    mapping = {name: column for name, column in mapping.items() if column}
    errors = mapping_errors(mapping)
    if errors:
        raise ValidationError(errors)
    if tolerance < 0:
        raise ValidationError("The tolerance cannot be negative.")
    organization_id = actor.organization_id
    frame = read_table(upload, required_columns=list(mapping.values()))
    partner = partner_rows_clean(frame, mapping)
    portal = portal_rows(actor, payment_month=payment_month, payment_id=payment_id.strip())
    matches = lines_match(partner, portal, tolerance=tolerance, by_currency=CURRENCY in mapping)
    counts = matches["kind"].value_counts()
    with transaction.atomic():
        reconciliation = Reconciliation.objects.create(
            organization_id=organization_id,
            file_name=file_name[:255],
            column_mapping=mapping,
            amount_tolerance=tolerance,
            payment_month=payment_month,
            payment_id=payment_id.strip(),
            matched_count=int(counts.get(Kind.MATCHED, 0)),
            difference_count=int(counts.get(Kind.AMOUNT_DIFFERENCE, 0)),
            partner_only_count=int(counts.get(Kind.PARTNER_ONLY, 0)),
            portal_only_count=int(counts.get(Kind.PORTAL_ONLY, 0)),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        _lines_copy(reconciliation, line_values(matches, partner, portal))
        audit_record(
            actor=actor,
            action="earnings.reconciliation.created",
            organization_id=organization_id,
            target=reconciliation,
            changes={
                "file_name": reconciliation.file_name,
                "rows": len(partner),
                "column_mapping": mapping,
                "amount_tolerance": str(tolerance),
                "paymentMonth": format_month(payment_month),
                "paymentId": payment_id.strip(),
                "matched": reconciliation.matched_count,
                "amount_difference": reconciliation.difference_count,
                "partner_only": reconciliation.partner_only_count,
                "portal_only": reconciliation.portal_only_count,
            },
        )
    return reconciliation
