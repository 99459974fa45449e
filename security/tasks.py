"""Celery entry points of the Security workspace: thin wrappers around the services, run by beat
(portal/settings.py). Each is idempotent: running it twice on one day changes nothing the second
time, and a night that was missed is caught up by the next run.
"""

from celery import shared_task

from security.services.gdap_daily import gdap_daily
from security.services.requirements import security_snapshots_take_all
from security.services.training import trainings_remind

_DAILY = {"acks_late": True, "reject_on_worker_lost": True, "expires": 60 * 60 * 12, "time_limit": 60 * 30}


@shared_task(**_DAILY)
def gdap_daily_task() -> dict[str, int]:
    """GDAP approvals expiring after 90 days, auto-extension, expiry, warnings; inactive DAP (spec §3.4)."""
    return gdap_daily()


@shared_task(**_DAILY)
def security_snapshots_task() -> int:
    """The day's security score of every organization, for the history chart (spec §1.3)."""
    return security_snapshots_take_all()


@shared_task(**_DAILY)
def trainings_remind_task() -> int:
    """Reminders for compliance training due within 7 days or overdue."""
    return trainings_remind()
