"""The import pipeline for a JSON body of records (the vendor feeds): the same layout, checks,
staging and loader as a file, in the request, with a result per record.

A record's nested properties are read by their dotted path (`companyProfile.tenantId`), which a
layout names among a column's aliases. Valid records are written, the others are answered with
every reason (a feed call is "valid rows only" by nature: each record stands alone). Properties
the layout does not know are reported, never dropped silently. Sending the same body twice
changes nothing the second time ("unchanged").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection, transaction
from psycopg import sql as pgsql

from portal.imports.layout import check_chunk
from portal.imports.pipeline import Importer
from portal.imports.staging import CREATED, REJECTED, UNCHANGED, UPDATED, Staging
from portal.jobs import JobRun, job_create, job_finish, job_start
from portal.uploads import RowError, UploadRejected

#: Records one call may carry; more go through a file and a job.
MAX_RECORDS = 1000
#: Lines of a body's records: the first record is line 2, as a file's first row (header = 1).
_FIRST_LINE = 2


@dataclass
class RecordsOutcome:
    job: JobRun
    results: list[dict[str, Any]]  # per record: index, outcome, errors
    counts: dict[str, int]
    unknown_properties: list[str]


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A record's properties by dotted path, as text (JSON's true/false as `true`/`false`)."""
    cells: dict[str, str] = {}
    for name, value in record.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            cells.update(flatten(value, f"{path}."))
        elif value is None:
            cells[path] = ""
        elif isinstance(value, bool):
            cells[path] = "true" if value else "false"
        elif isinstance(value, list):
            cells[path] = ",".join(str(item) for item in value)
        else:
            cells[path] = str(value)
    return cells


def import_records(
    importer: Importer,
    records: Sequence[Mapping[str, Any]],
    *,
    actor: Any,
    organization_id: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> RecordsOutcome:
    """Check and write `records` now, in one transaction; UploadRejected when the body as a whole
    cannot be read (not a list of objects, too many, a required property in no record)."""
    if not isinstance(records, Sequence) or not all(isinstance(r, Mapping) for r in records):
        raise UploadRejected("The body must be a JSON array of objects (records).")
    if not records:
        raise UploadRejected("The body holds no records.")
    if len(records) > MAX_RECORDS:
        raise UploadRejected(
            f"The body holds {len(records):,} records; at most {MAX_RECORDS:,} are taken in one call. "
            "Send more as a file (it is imported as a job)."
        )
    layout = importer.layout
    rows = [flatten(record) for record in records]
    names = list(dict.fromkeys(name for row in rows for name in row))
    frame = pd.DataFrame(
        [[row.get(name, "") for name in names] for row in rows],
        columns=names,
        index=range(_FIRST_LINE, _FIRST_LINE + len(rows)),
        dtype=str,
    )
    header = layout.match_header(names)
    job = job_create(
        kind=importer.kind,
        organization_id=organization_id,
        actor=actor,
        total=len(rows),
        parameters={
            **(parameters or {}),
            "layout": layout.name,
            "records": len(rows),
            "valid_rows_only": True,
        },
    )
    job_start(job)
    staging = Staging(layout=layout, job_id=job.pk, organization_id=organization_id)
    try:
        staging.create()
        checked = check_chunk(layout, header, frame)
        staging.copy_chunk(checked)
        staging.analyze()
        errors = list(checked.errors)
        for check in (staging.repeated_keys, staging.missing_references):
            found, _ = check(MAX_RECORDS * 10)
            errors.extend(found)
        with transaction.atomic():
            summary = importer.load(staging, job)
        counts = staging.outcome_counts()
        outcomes = _outcomes(staging)
    finally:
        staging.drop()
    by_line: dict[int, list[RowError]] = {}
    for error in errors:
        by_line.setdefault(error.row, []).append(error)
    results = [
        {
            "index": line - _FIRST_LINE,
            "outcome": outcome,
            "errors": [
                {"property": error.column, "value": error.value, "reason": error.message}
                for error in by_line.get(line, [])
            ],
        }
        for line, outcome in outcomes
    ]
    counts = {key: counts.get(key, 0) for key in (CREATED, UPDATED, UNCHANGED, REJECTED)}
    JobRun.objects.filter(pk=job.pk).update(done=len(rows), errors=[e.as_dict() for e in errors[:1000]])
    job_finish(
        job, result={**counts, "rows": len(rows), "unknown_columns": header.unknown, **(summary or {})}
    )
    job.refresh_from_db()
    return RecordsOutcome(job=job, results=results, counts=counts, unknown_properties=header.unknown)


def _outcomes(staging: Staging) -> list[tuple[int, str]]:
    expression, join = staging.outcome_sql(loaded=True)
    statement = pgsql.SQL("SELECT s.line, {} FROM {} s {} ORDER BY s.line").format(
        expression, staging.identifier, join
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))
        return cursor.fetchall()
