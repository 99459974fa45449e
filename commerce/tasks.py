"""Celery entry points of the Commerce workspace: thin wrappers around the services."""

# --- Price lists ---------------------------------------------------------------------------------

from commerce.pricing import price_list_import_run  # noqa: E402
from portal.jobs import job_task  # noqa: E402


@job_task()
def price_list_import_task(job_id: int) -> None:
    price_list_import_run(job_id=job_id)


# --- End of price lists --------------------------------------------------------------------------


# --- Migrations ----------------------------------------------------------------------------------

from celery import shared_task  # noqa: E402
from django.utils import timezone  # noqa: E402

from commerce.services import migration_batch_run, migration_waves_daily  # noqa: E402


@job_task()
def migration_batch_task(job_id: int) -> None:
    migration_batch_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 60 * 6)
def migration_waves_daily_task() -> dict:
    """Warn before each vendor-led wave and run the waves that have started (beat, daily)."""
    return migration_waves_daily(on=timezone.localdate())


# --- End of migrations ---------------------------------------------------------------------------
