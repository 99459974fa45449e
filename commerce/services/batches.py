"""Batch migrations (§3.4 "Batch", §5.1): a CSV file or a chosen set, run as a chunked job."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Organization
from commerce.bam import BAM_IMPORTER, is_bam_header
from commerce.bam_files import rows_file_path
from commerce.choices import MigrationInitiator, MigrationStatus
from commerce.eligibility import MigrationRequest, id_array, migration_request
from commerce.imports import BATCH_IMPORTER
from commerce.models import LegacySubscription, Migration, MigrationBatch
from commerce.services.engine import Run, job_chunks, migrate_chunk
from commerce.services.notices import migration_batch_finished_notify
from portal.audit import audit_record
from portal.imports import import_start
from portal.imports.reader import open_table
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start

JOB_KIND_BATCH = "commerce.migration_batch"

logger = logging.getLogger(__name__)


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def _reference_check(organization: Organization, reference: str) -> None:
    if MigrationBatch.objects.filter(organization=organization, external_reference_id=reference).exists():
        raise ValidationError({"externalReferenceId": f"The batch ID {reference} is already used."})


def migration_batch_import_start(
    *,
    actor: Any,
    organization: Organization,
    upload: UploadedFile,
    external_reference_id: str | None = None,
    valid_rows_only: bool = False,
) -> JobRun:
    """Check a batch file's header now and queue its import: every row checked and assessed for
    eligibility; then the batch of its rows (or of the valid ones only, when asked) is created and
    its migrations run as their own job.

    Two layouts, told apart by the header: Microsoft's NCE Batch Migration tool file (`commerce.bam`,
    it names LegacySubscriptionId / NcePsa) and the portal's own (`commerce.imports.BATCH`).

    Raises UploadRejected (nothing kept) for a file that cannot be read or lacks a required column,
    ValidationError for a batch ID already used.
    """
    reference = (external_reference_id or "").strip() or str(uuid.uuid4())
    _reference_check(organization, reference)
    with open_table(upload) as table:
        header = list(table.header)
    upload.seek(0)
    importer, parameters = BATCH_IMPORTER, {"external_reference_id": reference}
    if is_bam_header(header):
        # The result file is kept where the batch will find it (commerce.bam_files).
        importer = BAM_IMPORTER
        parameters |= {"bam_header": header, "bam_rows_file": rows_file_path()}
    return import_start(
        importer,
        upload,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
        parameters=parameters,
    )


def _batch_entries(organization: Organization, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolve rows to this organization's legacy subscriptions, compactly, for the job's parameters.

    A row names its subscription by `subscription_id` (the legacy subscription's GUID) or `id`
    (its primary key) and may carry `term_duration`, `billing_cycle`, `purchase_full_term`,
    `quantity` and `custom_term_end_date` — the valid rows of a batch file (`commerce.imports`), or
    rows built from subscriptions chosen on a page. Add-ons of a base in the same set are dropped:
    they move with their base.
    """
    errors, keys = [], []
    for index, row in enumerate(rows, start=1):
        if row.get("id") is not None:
            keys.append(("pk", int(row["id"])))
            continue
        parsed = _parse_uuid(str(row.get("subscription_id", "")))
        if parsed is None:
            errors.append(f"Row {index}: {row.get('subscription_id')!r} is not a subscription id.")
        keys.append(("uuid", parsed))
    uuids = {value for kind, value in keys if kind == "uuid" and value}
    pks = {value for kind, value in keys if kind == "pk"}
    found = (
        LegacySubscription.objects.filter(organization=organization)
        .filter(Q(subscription_id__in=id_array(uuids, "uuid")) | Q(pk__in=id_array(pks)))
        .order_by()  # looked up by key: the pages' order (a join and a sort) is not needed
    )
    by_uuid, by_pk = {}, {}
    for pk, subscription_id, parent_id in found.values_list("pk", "subscription_id", "parent_id"):
        by_uuid[subscription_id] = by_pk[pk] = (pk, parent_id)
    resolved, seen = [], {}
    for index, ((kind, value), row) in enumerate(zip(keys, rows, strict=True), start=1):
        match = (by_pk if kind == "pk" else by_uuid).get(value)
        if value is None:
            continue
        if match is None:
            errors.append(f"Row {index}: {value} is not a legacy subscription of your organization.")
            continue
        if match[0] in seen:
            errors.append(f"Row {index}: the subscription repeats row {seen[match[0]]}.")
            continue
        seen[match[0]] = index
        resolved.append((match, row))
    if errors:
        raise ValidationError({"rows": errors})
    if not resolved:
        raise ValidationError({"rows": ["Choose at least one legacy subscription to migrate."]})
    in_set = set(seen)
    entries = []
    for (pk, parent_id), row in resolved:
        if parent_id in in_set:
            continue
        entry: dict[str, Any] = {"id": pk}
        for name in ("term_duration", "billing_cycle", "quantity", "custom_term_end_date"):
            if row.get(name):
                value = row[name]
                entry[name] = value.isoformat() if isinstance(value, date) else value
        if row.get("purchase_full_term"):
            entry["purchase_full_term"] = True
        entries.append(entry)
    return entries


def _request_of(entry: dict[str, Any]) -> MigrationRequest:
    custom = entry.get("custom_term_end_date")
    return migration_request(
        entry.get("term_duration"),
        entry.get("billing_cycle"),
        entry.get("quantity"),
        bool(entry.get("purchase_full_term")),
        date.fromisoformat(custom) if custom else None,
    )


@transaction.atomic
def migration_batch_create(
    *,
    actor: Any,
    organization: Organization,
    rows: Sequence[dict[str, Any]],
    external_reference_id: str | None = None,
    file_name: str = "",
    parameters: dict[str, Any] | None = None,
) -> MigrationBatch:
    """The batch and its JobRun, without queuing it (`migration_batch_start` queues it).

    `parameters` are kept on the batch's job besides its rows (a BAM upload's result file and price
    impact: `commerce.bam`)."""
    entries = _batch_entries(organization, rows)
    reference = (external_reference_id or "").strip() or str(uuid.uuid4())
    _reference_check(organization, reference)
    job = job_create(
        kind=JOB_KIND_BATCH,
        organization_id=organization.pk,
        parameters={
            **(parameters or {}),
            "on": timezone.localdate().isoformat(),
            "chunk_size": settings.COMMERCE_MIGRATION_CHUNK_SIZE,
            "rows": entries,
        },
        total=len(entries),
        actor=actor,
    )
    batch = MigrationBatch.objects.create(
        organization=organization,
        external_reference_id=reference,
        file_name=file_name,
        row_count=len(entries),
        job=job,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="commerce.migration_batch.started",
        organization_id=organization.pk,
        target=batch,
        changes={"externalReferenceId": reference, "rows": len(entries), "file_name": file_name},
    )
    return batch


@transaction.atomic
def migration_batch_start(
    *,
    actor: Any,
    organization: Organization,
    rows: list[dict],
    external_reference_id: str | None = None,
    file_name: str = "",
) -> MigrationBatch:
    """Create the batch and its JobRun and queue the job once the transaction commits."""
    batch = migration_batch_create(
        actor=actor,
        organization=organization,
        rows=rows,
        external_reference_id=external_reference_id,
        file_name=file_name,
    )
    # Imported here to prevent an import cycle: tasks import this module.
    from commerce.tasks import migration_batch_task

    transaction.on_commit(lambda: migration_batch_task.delay(batch.job_id))
    return batch


def _batch_result(batch: MigrationBatch) -> dict[str, int]:
    counts = dict(
        Migration.objects.filter(batch=batch, parent_migration__isnull=True)
        .values_list("status")
        .annotate(count=Count("id"))
    )
    return {
        "completed": counts.get(MigrationStatus.COMPLETED, 0),
        "failed": counts.get(MigrationStatus.FAILED, 0),
        "rejected": counts.get(MigrationStatus.REJECTED, 0),
        "add_ons": Migration.objects.filter(
            batch=batch, parent_migration__isnull=False, status=MigrationStatus.COMPLETED
        ).count(),
    }


def migration_batch_run(*, job_id: int) -> None:
    """Migrate the batch chunk by chunk; a chunk committed before a crash is skipped on resume.

    Once it finishes, whoever started it and the people who place orders are told: done with its
    counts, or failed when a migration failed or the job stopped with an error."""
    job = JobRun.objects.get(pk=job_id)
    batch = MigrationBatch.objects.select_related("created_by").get(job=job)
    job_start(job)
    on = date.fromisoformat(job.parameters["on"])
    entries = job.parameters["rows"]

    def work(chunk: list[dict[str, Any]]):
        def migrate() -> None:
            run = Run(
                actor=batch.created_by,
                initiated_by=MigrationInitiator.PARTNER,
                batch=batch,
                external_reference_id=batch.external_reference_id,
                now=timezone.now(),
            )
            migrate_chunk([(entry["id"], _request_of(entry)) for entry in chunk], run, on=on, reject=True)

        return migrate

    try:
        job_run_chunks(job, job_chunks(job, entries, work))
    except Exception as exc:
        # The job's task marks the run failed (portal.jobs.job_task); the people hear of it now,
        # with what the committed chunks did. A notice that cannot be written (the database is
        # gone) never hides the error that stopped the job.
        try:
            migration_batch_finished_notify(
                batch, counts=_batch_result(batch), error=f"{type(exc).__name__}: {exc}"
            )
        except Exception:
            logger.exception("batch %s: the failure notice could not be written", batch.pk)
        raise
    with transaction.atomic():
        result = _batch_result(batch)
        job_finish(job, result=result)
        migration_batch_finished_notify(batch, counts=result)
