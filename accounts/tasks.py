from celery import shared_task

from accounts.services.action_center import action_items_wake_snoozed


@shared_task(acks_late=True, expires=3600)
def action_items_wake_snoozed_task() -> int:
    return action_items_wake_snoozed()
