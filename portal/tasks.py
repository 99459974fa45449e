from celery import shared_task

from portal.imports.pipeline import import_run
from portal.jobs import job_task
from portal.notifications.digest import digest_send
from portal.notifications.email import outbox_deliver, outbox_sweep
from portal.notifications.rules import alert_rules_evaluate_scheduled
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


#: Attempts of one batch before its messages wait for the sweeper (`outbox_sweep_task`).
OUTBOX_MAX_RETRIES = 6


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=OUTBOX_MAX_RETRIES)
def outbox_deliver_task(self, ids: list[int]) -> None:
    """Send queued e-mails; those the SMTP server did not take are retried with backoff."""
    failed = outbox_deliver(ids)
    # Run inline (tests, eager development) there is no later: the sweeper picks them up.
    if failed and not self.request.is_eager and self.request.retries < self.max_retries:
        # 30 s, 60 s, 120 s … capped at 30 minutes; then the sweeper keeps trying.
        raise self.retry(args=[failed], countdown=min(30 * 2**self.request.retries, 1800))


@shared_task
def outbox_sweep_task() -> dict:
    """Queued e-mails whose task was lost, and e-mails stuck in a lost worker (beat, every 2 min)."""
    return outbox_sweep()


@shared_task
def notification_digest_task() -> dict:
    """The daily digest: one e-mail per person of what they chose to receive that way (beat)."""
    return digest_send()


@shared_task
def alert_rules_daily_task() -> dict:
    """The alert rules checked on schedule (beat, daily)."""
    return alert_rules_evaluate_scheduled()
