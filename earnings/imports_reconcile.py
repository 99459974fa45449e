"""Reconciliation through the one import pipeline (portal.imports): the importer of the partner's
records (layout: `earnings.reconciliation.RECONCILIATION`).

The job reads the file with the person's column mapping (`headers`), checks every cell, stages the
rows and refuses rows without a key or repeating another row's key (`_assess`). Unless the
person asked for the valid rows only, any problem rejects the file and nothing is written. The
loader (`_load`, in the pipeline's one transaction) matches the valid rows against the earnings
the person who started the job may see, stores the reconciliation with its lines and the audit
record, and gives each row its outcome (matched, amount differs, only in your records) for the
result file.

A reconciliation belongs to its job (`Reconciliation.job`, unique): a job run again after a lost
worker finds the one it made and makes no second one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.urls import reverse
from psycopg import sql as pgsql

from earnings.choices import ReconciliationLineKind as Kind
from earnings.models import Reconciliation, ReconciliationLine
from earnings.periods import format_month
from earnings.reconciliation import (
    AMOUNT,
    CURRENCY,
    NO_KEY,
    RECONCILIATION,
    key_problems_sql,
    line_values,
    lines_match,
    partner_rows,
    portal_rows,
)
from portal.audit import audit_record
from portal.capabilities import Capability, can_any
from portal.imports import Importer, Staging, register
from portal.jobs import JobRun
from portal.uploads import RowError, UploadRejected

__all__ = ("RECONCILIATION_IMPORTER", "job_options", "reconciliation_of_job")


def job_options(job: JobRun) -> dict[str, Any]:
    """The mapping and options the person chose, as the job keeps them."""
    parameters = job.parameters
    month = parameters.get("payment_month")
    return {
        "mapping": dict(parameters.get("headers") or {}),
        "tolerance": Decimal(parameters.get("tolerance", "0.01")),
        "payment_month": date.fromisoformat(month) if month else None,
        "payment_id": parameters.get("payment_id", ""),
    }


def reconciliation_of_job(job: JobRun) -> Reconciliation | None:
    return Reconciliation.objects.filter(job_id=job.pk).first()


# --- Checks across rows: keys -----------------------------------------------------------------------


def _assess(staging: Staging, job: JobRun) -> list[RowError]:
    """Rows without a key, and rows repeating the key of an earlier row matched by the same key,
    reported on the file's own columns (every row, whatever else is wrong with it)."""
    mapping = job_options(job)["mapping"]
    no_key_column = mapping.get("transactionId") or mapping.get("productId") or mapping.get(AMOUNT, AMOUNT)
    with connection.cursor() as cursor:
        cursor.execute(key_problems_sql(pgsql.Identifier(staging.table).as_string(cursor.cursor)))
        found = cursor.fetchall()
    errors = []
    for line, level, first_line, written in found:
        if level == 0:
            errors.append(RowError(line, no_key_column, NO_KEY))
        elif level == 1:
            errors.append(
                RowError(
                    line,
                    mapping.get("transactionId", "transactionId"),
                    f"repeats the transaction ID of line {first_line}",
                    value=written,
                )
            )
        else:
            errors.append(
                RowError(
                    line,
                    mapping.get("invoiceNumber", "invoiceNumber"),
                    f"repeats the invoice number and product ID of line {first_line}",
                    value=written,
                )
            )
    return errors


# --- The load ----------------------------------------------------------------------------------------

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
    "currency",
    "partner_row",
]


def _lines_copy(reconciliation: Reconciliation, lines: Iterable[dict[str, Any]]) -> None:
    """Write the lines with COPY … FROM STDIN, several times faster than bulk_create on a large file."""
    meta = ReconciliationLine._meta
    column_of = {field.attname: field.column for field in meta.concrete_fields}
    columns = [column_of[name] for name in _LINE_FIELDS]
    statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
        pgsql.Identifier(meta.db_table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns))
    )
    owner = {"organization_id": reconciliation.organization_id, "reconciliation_id": reconciliation.pk}
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for line in lines:
            values = {**owner, **line, "partner_row": json.dumps(line["partner_row"])}
            copy.write_row([values[name] for name in _LINE_FIELDS])


def _unknown_cells(staging: Staging) -> dict[int, dict[str, str]]:
    """The cells of the columns the mapping left out, of each valid row, by the file's names."""
    if not staging.extra_columns:
        return {}
    names = [f"extra_{position}" for position in range(len(staging.extra_columns))]
    statement = pgsql.SQL("SELECT line, {} FROM {} WHERE errors IS NULL AND outcome IS NULL").format(
        pgsql.SQL(", ").join(map(pgsql.Identifier, names)), staging.identifier
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))
        return {
            line: dict(zip(staging.extra_columns, cells, strict=True)) for line, *cells in cursor.fetchall()
        }


def _outcomes_set(staging: Staging, reconciliation: Reconciliation) -> None:
    """Each valid row's outcome in the result file: what its line of the reconciliation says."""
    labels = pgsql.SQL(" ").join(
        pgsql.SQL("WHEN {} THEN {}").format(pgsql.Literal(value), pgsql.Literal(str(label)))
        for value, label in Kind.choices
    )
    statement = pgsql.SQL(
        "UPDATE {staging} s SET outcome = CASE l.kind {labels} END FROM {lines} l "
        "WHERE l.reconciliation_id = %s AND l.row_number = s.line AND s.errors IS NULL AND s.outcome IS NULL"
    ).format(
        staging=staging.identifier,
        labels=labels,
        lines=pgsql.Identifier(ReconciliationLine._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor), [reconciliation.pk])


def _summary(reconciliation: Reconciliation) -> dict[str, Any]:
    return {
        "reconciliation": reconciliation.pk,
        "matched": reconciliation.matched_count,
        "amount_difference": reconciliation.difference_count,
        "partner_only": reconciliation.partner_only_count,
        "portal_only": reconciliation.portal_only_count,
        "next": {
            "url": reverse("earnings:reconcile-detail", args=[reconciliation.pk]),
            "label": "See the reconciliation",
        },
    }


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    # The job's row, locked: two runs of one job (a redelivered task) load one after the other,
    # and the second finds the reconciliation the first made.
    JobRun.objects.select_for_update().filter(pk=job.pk).first()
    reconciliation = reconciliation_of_job(job)
    if reconciliation is None:
        reconciliation = _reconcile(staging, job)
    _outcomes_set(staging, reconciliation)
    return _summary(reconciliation)


def _reconcile(staging: Staging, job: JobRun) -> Reconciliation:
    actor = job.created_by
    if (
        actor is None
        or actor.organization_id != job.organization_id
        or not can_any(actor, Capability.EARNINGS_RECONCILE)
    ):
        # Roles change: the earnings compared are always those the person may see when it runs.
        raise UploadRejected(
            "The person who uploaded this file may no longer reconcile earnings: nothing was reconciled."
        )
    options = job_options(job)
    mapping, tolerance = options["mapping"], options["tolerance"]
    payment_month, payment_id = options["payment_month"], options["payment_id"]
    partner = partner_rows(staging.valid_rows(), mapping, _unknown_cells(staging))
    portal = portal_rows(actor, payment_month=payment_month, payment_id=payment_id)
    matches = lines_match(partner, portal, tolerance=tolerance, by_currency=CURRENCY in mapping)
    counts = matches["kind"].value_counts()
    reconciliation = Reconciliation.objects.create(
        organization_id=job.organization_id,
        job=job,
        file_name=job.parameters.get("file_name", "upload")[:255],
        column_mapping=mapping,
        amount_tolerance=tolerance,
        payment_month=payment_month,
        payment_id=payment_id,
        matched_count=int(counts.get(Kind.MATCHED, 0)),
        difference_count=int(counts.get(Kind.AMOUNT_DIFFERENCE, 0)),
        partner_only_count=int(counts.get(Kind.PARTNER_ONLY, 0)),
        portal_only_count=int(counts.get(Kind.PORTAL_ONLY, 0)),
        created_by=actor,
    )
    _lines_copy(reconciliation, line_values(matches, partner, portal))
    audit_record(
        actor=actor,
        action="earnings.reconciliation.created",
        organization_id=job.organization_id,
        target=reconciliation,
        changes={
            "file_name": reconciliation.file_name,
            "rows": len(partner),
            "job": job.pk,
            "valid_rows_only": bool(job.parameters.get("valid_rows_only")),
            "column_mapping": mapping,
            "amount_tolerance": str(tolerance),
            "paymentMonth": format_month(payment_month),
            "paymentId": payment_id,
            "matched": reconciliation.matched_count,
            "amount_difference": reconciliation.difference_count,
            "partner_only": reconciliation.partner_only_count,
            "portal_only": reconciliation.portal_only_count,
        },
    )
    return reconciliation


RECONCILIATION_IMPORTER = register(Importer(layout=RECONCILIATION, load=_load, assess=_assess))
