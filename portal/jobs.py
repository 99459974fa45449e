"""Batch jobs: a `JobRun` row per run, work split into chunks that commit exactly once.

A chunk's marker row (`JobChunk`, unique per job and key) is written in the same transaction as
the chunk's work, so a chunk replayed after a worker was killed is skipped, and a run resumed
from the start ends in the state an uninterrupted run gives.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal.choices import JobStatus
from portal.models import JobChunk, JobRun

logger = logging.getLogger(__name__)

__all__ = (
    "JobRun",
    "job_create",
    "job_fail",
    "job_finish",
    "job_run_chunks",
    "job_start",
    "job_task",
)


def job_create(
    *,
    kind: str,
    parameters: dict[str, Any] | None = None,
    organization_id: int | None = None,
    total: int = 0,
    actor: Any = None,
) -> JobRun:
    return JobRun.objects.create(
        kind=kind,
        parameters=parameters or {},
        organization_id=organization_id,
        total=total,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def job_start(job: JobRun, *, total: int | None = None) -> None:
    """Mark the run as running; a resumed run keeps its first start time and progress."""
    fields = {"status": JobStatus.RUNNING}
    if total is not None:
        fields["total"] = total
    JobRun.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=timezone.now())
    JobRun.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()


def job_run_chunks(job: JobRun, chunks: Iterable[tuple[str, int, Callable[[], None]]]) -> int:
    """Run each `(key, size, work)` chunk once, committing work and progress together.

    Returns how many chunks ran now (chunks committed by an earlier attempt are skipped).
    """
    ran = 0
    for key, size, work in chunks:
        try:
            with transaction.atomic():
                JobChunk.objects.create(job=job, key=key, size=size)
                work()
                JobRun.objects.filter(pk=job.pk).update(done=F("done") + size)
        except IntegrityError as exc:
            if not JobChunk.objects.filter(job=job, key=key).exists():
                raise
            logger.info("job %s chunk %s already committed; skipped (%s)", job.pk, key, exc)
            continue
        ran += 1
    return ran


def job_finish(job: JobRun, *, result: dict[str, Any] | None = None) -> None:
    JobRun.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, result=result or {}, finished_at=timezone.now()
    )


def job_fail(job: JobRun, *, error: str) -> None:
    JobRun.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED,
        errors=[*job.errors, {"message": error}],
        finished_at=timezone.now(),
    )


def job_task(**options: Any) -> Callable:
    """`shared_task` with the job defaults: late acks, redelivery on worker loss, time limits.

    The wrapped function takes a JobRun id first; an exception marks the run failed.
    """
    options.setdefault("acks_late", True)
    options.setdefault("reject_on_worker_lost", True)
    options.setdefault("soft_time_limit", 60 * 60)
    options.setdefault("time_limit", 60 * 60 + 60)

    def decorator(function: Callable[..., Any]) -> Callable:
        @functools.wraps(function)
        def run(job_id: int, *args: Any, **kwargs: Any) -> Any:
            job = JobRun.objects.get(pk=job_id)
            if job.is_finished:
                return job.result
            try:
                return function(job_id, *args, **kwargs)
            except Exception as exc:
                job.refresh_from_db()
                job_fail(job, error=f"{type(exc).__name__}: {exc}")
                raise

        return shared_task(**options)(run)

    return decorator
