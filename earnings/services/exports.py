"""Background exports (spec/earnings.md §2: Queued → Running → Completed | Failed): the request,
the file written by a worker, its deletion and the hourly purge of expired files.

The report itself (columns, rows, CSV and XLSX) is `earnings.exports`.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from earnings.choices import ExportFormat, ExportStatus
from earnings.exports import (
    REPORTS,
    ReportFilterError,
    export_path,
    report_has_more_than,
    report_rows,
    report_select,
    report_xlsx,
    xlsx_too_large_message,
)
from earnings.models import ExportJob
from earnings.services.notices import export_finished_notify
from portal.files import copy_to_file
from portal.jobs import JobRun, job_create, job_fail, job_finish, job_start

__all__ = ("EXPORT_JOB_KIND", "export_create", "export_delete", "export_execute", "export_purge_expired")

EXPORT_JOB_KIND = "earnings.export"


def export_create(*, report: str, file_format: str, filters: dict, actor: Any) -> ExportJob:
    """Queue an export of `report` with the page's `filters`, for the rows `actor` may see.

    Bad input (unknown report or format, a filter value that does not validate, XLSX of too many
    rows) raises ValidationError and writes nothing.
    """
    if report not in REPORTS:
        raise ValidationError({"report": [f"Choose one of: {', '.join(REPORTS)}."]})
    if file_format not in ExportFormat.values:
        raise ValidationError({"format": [f"Choose one of: {', '.join(ExportFormat.values)}."]})
    # Only the report's own filters are kept: anything else would be ignored anyway.
    known = REPORTS[report].filterset_class.base_filters
    filters = {
        name: value for name, value in (filters or {}).items() if name in known and value not in ("", None)
    }
    try:
        rows = report_rows(REPORTS[report], actor, filters)
    except ReportFilterError as exc:
        raise ValidationError(exc.errors) from exc
    if file_format == ExportFormat.XLSX and report_has_more_than(rows, settings.EARNINGS_XLSX_MAX_ROWS):
        raise ValidationError({"format": [xlsx_too_large_message()]})
    with transaction.atomic():
        export_id = uuid.uuid4()
        job = job_create(
            kind=EXPORT_JOB_KIND,
            parameters={"export_id": str(export_id), "report": report},
            organization_id=actor.organization_id,
            actor=actor,
        )
        export = ExportJob.objects.create(
            organization_id=actor.organization_id,
            export_id=export_id,
            report=report,
            file_format=file_format,
            filters=filters,
            job=job,
            requested_by=actor,
        )
        # Imported here to prevent an import cycle: the task module imports this one.
        from earnings.export_tasks import export_run_task  # noqa: PLC0415

        transaction.on_commit(lambda: export_run_task.delay(job.pk))
    return export


def export_execute(*, export: ExportJob) -> ExportJob:
    """Write the export's file; a run after a worker was killed starts the file again."""
    if export.status == ExportStatus.COMPLETED:
        return export
    report = REPORTS[export.report]
    job = export.job
    ExportJob.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, error="")
    try:
        if export.requested_by is None:
            raise ValidationError("The person who requested this export no longer has an account.")
        rows = report_rows(report, export.requested_by, export.filters)
        total = rows.count()
        if job is not None:
            job_start(job, total=total)
        sql, params = report_select(report, rows)
        path = export_path(export)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        progress = _Progress(job)
        try:
            with partial.open("wb") as target:
                if export.file_format == ExportFormat.XLSX:
                    report_xlsx(report, sql, params, target)
                    row_count = total
                else:
                    row_count = copy_to_file(sql, params, target, on_rows=progress)
        finally:
            progress.close()
        partial.replace(path)
    except Exception as exc:
        message = (
            "; ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        )
        with transaction.atomic():
            ExportJob.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=message)
            if job is not None:
                job_fail(job, error=message)
            export.refresh_from_db()
            export_finished_notify(export)
        return export
    now = timezone.now()
    with transaction.atomic():
        ExportJob.objects.filter(pk=export.pk).update(
            status=ExportStatus.COMPLETED,
            row_count=row_count,
            file_path=str(path.relative_to(settings.EARNINGS_EXPORT_DIR)),
            file_size=path.stat().st_size,
            completed_at=now,
            expires_at=now + timedelta(hours=settings.EARNINGS_EXPORT_TTL_HOURS),
        )
        if job is not None:
            JobRun.objects.filter(pk=job.pk).update(done=row_count)
            job_finish(job, result={"rows": row_count})
        export.refresh_from_db()
        # The requester hears of it with the file's state, in the same transaction.
        export_finished_notify(export)
    return export


def export_delete(*, export: ExportJob, actor: Any) -> None:
    """Remove the export request and its file (spec §2: the client may delete its request)."""
    if export.file_path:
        export_path(export).unlink(missing_ok=True)
    ExportJob.objects.filter(pk=export.pk).delete()


def export_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the files of exports whose link has expired; the requests stay, marked by expiry."""
    now = now or timezone.now()
    # Unscoped on purpose: housekeeping over every organization's expired files.
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(file_path="")
    purged = 0
    for export in expired.only("pk", "organization_id", "export_id", "file_format", "file_path"):
        export_path(export).unlink(missing_ok=True)
        purged += 1
    expired.update(file_path="")
    return purged


class _Progress:
    """Reports rows written to the JobRun while the COPY runs.

    The export's own connection is busy with the COPY until the last row, so progress goes
    through a second connection, at most once a second.
    """

    def __init__(self, job: JobRun | None):
        self.job = job
        self.connection = None
        self.last = 0.0

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if self.job is None or now - self.last < 1:
            return
        self.last = now
        if self.connection is None:
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.connection.cursor() as cursor:
            cursor.execute(f"UPDATE {JobRun._meta.db_table} SET done = %s WHERE id = %s", [rows, self.job.pk])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
