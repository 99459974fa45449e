"""Customer list import: validated in full before anything is written, then run as a job."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.choices import CustomerSegment
from accounts.models import Customer, Organization, customer_name_validator
from accounts.signals import customers_created
from portal.audit import audit_record
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start
from portal.uploads import RowError, read_table, validate_rows

IMPORT_COLUMNS = ["name", "domain", "country", "segment"]
CHUNK_SIZE = 500
JOB_KIND = "accounts.customers_import"


def customers_import_validate(*, organization: Organization, upload: UploadedFile) -> list[dict[str, Any]]:
    """Every row checked; raises UploadRejected listing each bad row. Writes nothing."""
    frame = read_table(upload, required_columns=IMPORT_COLUMNS)
    existing = set(Customer.objects.filter(organization=organization).values_list("domain", flat=True))
    seen: dict[str, int] = {}

    def check(row_number: int, row: dict[str, str]):
        errors = []
        domain = row["domain"].lower()
        if not row["name"]:
            errors.append(RowError(row_number, "name", "is empty"))
        try:
            customer_name_validator(row["name"])
        except ValidationError as exc:
            errors.extend(RowError(row_number, "name", message) for message in exc.messages)
        if "." not in domain or " " in domain:
            errors.append(RowError(row_number, "domain", f"{row['domain']!r} is not a domain"))
        elif domain in existing:
            errors.append(RowError(row_number, "domain", f"{domain} is already a customer"))
        elif domain in seen:
            errors.append(RowError(row_number, "domain", f"{domain} repeats row {seen[domain]}"))
        seen.setdefault(domain, row_number)
        country = row["country"].upper()
        if len(country) != 2 or not country.isalpha():
            errors.append(RowError(row_number, "country", f"{row['country']!r} is not an ISO alpha-2 code"))
        segment = row["segment"].lower()
        if segment not in CustomerSegment.values:
            errors.append(
                RowError(
                    row_number,
                    "segment",
                    f"{row['segment']!r} is not one of {', '.join(CustomerSegment.values)}",
                )
            )
        employees = row.get("employee_count", "")
        if employees and not employees.isdigit():
            errors.append(RowError(row_number, "employee_count", f"{employees!r} is not a whole number"))
        value = {
            "name": row["name"],
            "domain": domain,
            "country": country,
            "segment": segment,
            "employee_count": int(employees) if employees.isdigit() else None,
        }
        return value, errors

    return validate_rows(frame, check)


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
