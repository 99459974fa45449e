"""Celery entry points of the Incentives workspace: thin wrappers around the services.

Both run from beat (portal/settings.py) and are idempotent: a claim already closed is not closed
again (nor its final rejection notified again), and a reminder already raised is refreshed, not
duplicated.
"""

from celery import shared_task

from incentives.services.claims.closing import claims_expire
from incentives.services.claims.reminders import claims_remind


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 30)
def claims_expire_task() -> int:
    """Close claims past their deadline (Expired, or Final rejected after a review)."""
    return claims_expire()


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 30)
def claims_remind_task() -> int:
    """Raise, refresh and resolve the Action Center items of claims that need the partner."""
    return claims_remind()
