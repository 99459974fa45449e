"""Celery entry points of the Commerce workspace: thin wrappers around the services."""

from celery import shared_task
from django.utils import timezone

from commerce.services import migration_batch_run, migration_waves_daily
from commerce.services import nce as nce_service
from commerce.services.schedules import schedules_run_due
from portal.jobs import job_task


@job_task()
def migration_batch_task(job_id: int) -> None:
    migration_batch_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 60 * 6)
def migration_waves_daily_task() -> dict:
    """Warn before each vendor-led wave and run the waves that have started (beat, daily)."""
    return migration_waves_daily(on=timezone.localdate())


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 60 * 2)
def nce_renewals_run() -> dict:
    """Renew the new-commerce subscriptions whose term ended, opening their 7-day window (beat, daily).
    Idempotent: a renewed subscription's term no longer ends in the past."""
    return nce_service.nce_renewals_run()


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 60 * 6)
def migration_schedules_run() -> dict:
    """Run the migration schedules due today, each exactly once (beat, daily; safe to run more often:
    a schedule is claimed under a row lock, and a rerun after a lost worker finishes what it left)."""
    return schedules_run_due(today=timezone.localdate())
