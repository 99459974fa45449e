from celery import shared_task

from accounts.services.action_center import action_items_wake_snoozed
from accounts.services.customer_import import customers_import_run
from portal.jobs import job_task


@job_task()
def customers_import_task(job_id: int) -> None:
    customers_import_run(job_id=job_id)


@shared_task(acks_late=True, expires=3600)
def action_items_wake_snoozed_task() -> int:
    return action_items_wake_snoozed()
