"""Celery entry points of the Co-sell workspace: thin wrappers around the services.

`referrals_expire_task` runs from beat (portal/settings.py) and is idempotent: a referral already
closed is not selected again, and one accepted since the selection is left alone.
`referrals_remind_task` (hourly) raises the Action Center items 3 days and 1 day before a referral
expires and notifies the assignee (or the referral managers); it is idempotent too: one item per
referral and threshold, refreshed, never duplicated, and one notification per person and threshold.
The expiry job notifies the same people once a referral expired (cosell.services.notices).
"""

from celery import shared_task

from cosell.services.referrals import referrals_expire
from cosell.services.reminders import referrals_remind


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60 * 12, time_limit=60 * 30)
def referrals_expire_task() -> int:
    """Close unaccepted referrals past their expiration as Closed/Expired (spec §10)."""
    return referrals_expire()


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=60 * 60, time_limit=60 * 30)
def referrals_remind_task() -> int:
    """Remind the assignee of unanswered referrals 3 days and 1 day before they expire (spec §10)."""
    return referrals_remind()
