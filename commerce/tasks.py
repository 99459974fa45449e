"""Celery entry points of the Commerce workspace: thin wrappers around the services."""

from celery import shared_task
from django.utils import timezone

from commerce.services import migration_batch_run, migration_waves_daily
from portal.jobs import job_task


@job_task()
def migration_batch_task(job_id: int) -> None:
    migration_batch_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 60 * 6)
def migration_waves_daily_task() -> dict:
    """Warn before each vendor-led wave and run the waves that have started (beat, daily)."""
    return migration_waves_daily(on=timezone.localdate())
