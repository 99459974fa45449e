"""Customer list import, the writing half: the validated rows inserted as a resumable job."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Customer, Organization
from accounts.signals import customers_created
from portal.audit import audit_record
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start

CHUNK_SIZE = 500
JOB_KIND = "accounts.customers_import"


@transaction.atomic
def customers_import_start(
    *, actor: Any, organization: Organization, rows: list[dict[str, Any]], file_name: str
) -> JobRun:
    job = job_create(
        kind=JOB_KIND,
        organization_id=organization.pk,
        parameters={"file_name": file_name, "rows": rows},
        total=len(rows),
        actor=actor,
    )
    audit_record(
        actor=actor,
        action="customer.import_started",
        organization_id=organization.pk,
        target=job,
        changes={"file_name": file_name, "rows": len(rows)},
    )
    # Imported here to prevent an import cycle: tasks import this module.
    from accounts.tasks import customers_import_task

    transaction.on_commit(lambda: customers_import_task.delay(job.pk))
    return job


def customers_import_run(*, job_id: int) -> None:
    """Insert the rows chunk by chunk; a replayed chunk changes nothing."""
    job = JobRun.objects.get(pk=job_id)
    job_start(job)
    rows = job.parameters["rows"]

    def insert(chunk: list[dict[str, Any]]):
        def work():
            Customer.objects.bulk_create(
                [Customer(organization_id=job.organization_id, **row) for row in chunk],
                ignore_conflicts=True,
            )
            created = Customer.objects.filter(
                organization_id=job.organization_id, domain__in=[row["domain"] for row in chunk]
            ).values_list("pk", flat=True)
            customers_created.send(
                sender=Customer,
                organization_id=job.organization_id,
                customer_ids=list(created),
                actor=job.created_by,
            )

        return work

    job_run_chunks(
        job,
        (
            (f"rows-{start}", len(rows[start : start + CHUNK_SIZE]), insert(rows[start : start + CHUNK_SIZE]))
            for start in range(0, len(rows), CHUNK_SIZE)
        ),
    )
    imported = Customer.objects.filter(
        organization_id=job.organization_id, domain__in=[row["domain"] for row in rows]
    ).count()
    job_finish(job, result={"customers": imported})
