"""Celery entry points of the Earnings exports: thin wrappers around earnings.services.exports.

Registered from EarningsConfig.ready(): Celery autodiscovers only `tasks.py` modules.
"""

from celery import shared_task

from earnings.models import ExportJob
from earnings.services.exports import export_execute, export_purge_expired
from portal.jobs import job_task


@job_task()
def export_run_task(job_id: int) -> dict:
    # Unscoped on purpose: the export reads its rows through `visible_to(requested_by)` itself.
    export = ExportJob.objects.get(job_id=job_id)
    export = export_execute(export=export)
    return {"status": export.status, "rows": export.row_count}


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60, time_limit=60 * 30)
def export_purge_expired_task() -> int:
    """Delete the files of exports whose download link has expired (beat, hourly)."""
    return export_purge_expired()
