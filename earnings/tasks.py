"""Celery entry points of the Earnings workspace: thin wrappers around the services."""

from earnings.services.engine import payout_run_execute
from portal.jobs import JobRun, job_task


@job_task()
def payout_run_task(job_id: int) -> dict:
    return payout_run_execute(JobRun.objects.get(pk=job_id))
