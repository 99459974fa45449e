from celery import shared_task

from portal.imports.pipeline import import_run
from portal.jobs import job_task
from portal.webhooks import DeliveryFailed, webhook_deliver, webhook_give_up

WEBHOOK_MAX_RETRIES = 8


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=WEBHOOK_MAX_RETRIES,
    time_limit=60,
)
def webhook_deliver_task(self, delivery_id: int) -> None:
    try:
        webhook_deliver(delivery_id=delivery_id)
    except DeliveryFailed as exc:
        if self.request.retries >= self.max_retries:
            webhook_give_up(delivery_id=delivery_id)
            return
        # Exponential backoff: 10 s, 20 s, 40 s … capped at one hour.
        raise self.retry(exc=exc, countdown=min(10 * 2**self.request.retries, 3600)) from exc


@job_task()
def import_task(job_id: int) -> dict:
    """One file import of the pipeline (portal.imports)."""
    return import_run(job_id)
