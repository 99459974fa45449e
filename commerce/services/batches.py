"""Batch migrations (§3.4 "Batch", §5.1): a CSV file or a chosen set, run as a chunked job."""

from __future__ import annotations

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

from accounts.models import Customer, Organization
from commerce.choices import BillingCycle, MigrationInitiator, MigrationStatus, TermDuration
from commerce.eligibility import (
    MigrationRequest,
    id_array,
    migration_assess,
    migration_context_load,
    migration_pool_new,
    migration_pool_take,
    migration_subscriptions_prepare,
)
from commerce.models import LegacySubscription, Migration, MigrationBatch
from commerce.services.engine import Run, job_chunks, migrate_chunk
from portal.audit import audit_record
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start
from portal.uploads import RowError, parse_date_cell, read_table, validate_rows

JOB_KIND_BATCH = "commerce.migration_batch"
BATCH_COLUMNS = [
    "customerTenantId",
    "currentSubscriptionId",
    "termDuration",
    "billingCycle",
    "purchaseFullTerm",
    "quantity",
    "customTermEndDate",
]
_REQUIRED_COLUMNS = ["customerTenantId", "currentSubscriptionId"]
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n", ""}


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


_BILLING_BY_NAME = {choice.lower(): choice for choice in BillingCycle.values}


def migration_batch_validate(*, organization: Organization, upload: UploadedFile) -> list[dict[str, Any]]:
    """Check every row of a batch file (§5.1); raise UploadRejected listing every bad row.

    Rows must name a customer and legacy subscription of `organization`, carry valid values, not
    repeat a subscription, and be eligible with their request (every reason listed). Writes
    nothing; the returned rows go to `migration_batch_start`.
    """
    frame = read_table(upload, required_columns=_REQUIRED_COLUMNS)
    tenant_ids = {u for u in map(_parse_uuid, frame["customerTenantId"].str.strip()) if u}
    subscription_ids = {u for u in map(_parse_uuid, frame["currentSubscriptionId"].str.strip()) if u}
    customers = {
        c.tenant_id: c
        for c in Customer.objects.filter(
            organization=organization, tenant_id__in=id_array(tenant_ids, "uuid")
        )
    }
    subscriptions = {
        s.subscription_id: s
        for s in migration_subscriptions_prepare(
            LegacySubscription.objects.filter(
                organization=organization, subscription_id__in=id_array(subscription_ids, "uuid")
            )
        )
    }
    first_row: dict[uuid.UUID, int] = {}
    for number, value in enumerate(frame["currentSubscriptionId"].str.strip(), start=2):
        parsed = _parse_uuid(value)
        if parsed is not None:
            first_row.setdefault(parsed, number)
    row_of_pk = {subscriptions[u].pk: row for u, row in first_row.items() if u in subscriptions}
    custom_dates = "customTermEndDate" in frame.columns and frame["customTermEndDate"].str.strip().any()
    context = migration_context_load(
        list(subscriptions.values()), on=timezone.localdate(), nce_term_ends=bool(custom_dates)
    )
    pool = migration_pool_new()

    def check(number: int, row: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
        errors: list[RowError] = []

        def bad(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        tenant_text, subscription_text = row["customerTenantId"], row["currentSubscriptionId"]
        customer = customers.get(_parse_uuid(tenant_text))
        if customer is None:
            bad("customerTenantId", f"{tenant_text!r} is not a customer of your organization")
        subscription_uuid = _parse_uuid(subscription_text)
        subscription = subscriptions.get(subscription_uuid)
        if subscription is None:
            bad(
                "currentSubscriptionId",
                f"{subscription_text!r} is not a legacy subscription of your organization",
            )
        elif first_row[subscription_uuid] != number:
            bad("currentSubscriptionId", f"{subscription_text} repeats row {first_row[subscription_uuid]}")
            subscription = None
        elif customer is not None and subscription.customer_id != customer.pk:
            bad(
                "currentSubscriptionId", f"{subscription_text} belongs to another customer, not {tenant_text}"
            )
            subscription = None

        term = row.get("termDuration", "").upper() or None
        if term is not None and term not in TermDuration.values:
            bad("termDuration", f"{row['termDuration']!r} is not one of {', '.join(TermDuration.values)}")
        billing_text = row.get("billingCycle", "")
        billing = _BILLING_BY_NAME.get(billing_text.lower()) if billing_text else None
        if billing_text and billing is None:
            bad("billingCycle", f"{billing_text!r} is not one of {', '.join(BillingCycle.values)}")
        full_term_text = row.get("purchaseFullTerm", "").lower()
        if full_term_text not in _TRUE | _FALSE:
            bad("purchaseFullTerm", f"{row['purchaseFullTerm']!r} is not true or false")
        quantity_text = row.get("quantity", "")
        quantity = int(quantity_text) if quantity_text.isdigit() else None
        if quantity_text and (quantity is None or quantity < 1):
            bad("quantity", f"{quantity_text!r} is not a whole number of seats (1 or more)")
        custom_text = row.get("customTermEndDate", "")
        custom = None
        if custom_text:
            try:
                custom = parse_date_cell(custom_text)
            except ValueError:
                bad("customTermEndDate", f"{custom_text!r} is not a date (YYYY-MM-DD)")

        value = {
            "row": number,
            "customer_tenant_id": tenant_text,
            "subscription_id": subscription_text,
            "term_duration": term,
            "billing_cycle": billing,
            "purchase_full_term": full_term_text in _TRUE,
            "quantity": quantity,
            "custom_term_end_date": custom.isoformat() if custom else None,
            "catalog_item_id": None,
        }
        if errors or subscription is None:
            return value, errors
        if subscription.parent_id in row_of_pk:
            base_row = row_of_pk[subscription.parent_id]
            bad(
                "currentSubscriptionId",
                f"{subscription_text} is an add-on of the subscription in row {base_row} and migrates "
                "with it; remove this row",
            )
            return value, errors
        request = MigrationRequest(
            term_duration=term,
            billing_cycle=billing,
            quantity=quantity,
            purchase_full_term=value["purchase_full_term"],
            custom_term_end_date=custom,
        )
        assessment = migration_assess(subscription, context, request, pool_used=pool)
        for error in assessment.eligibility.errors:
            bad("currentSubscriptionId", f"{error.code}: {error.description}")
        if assessment.is_eligible:
            migration_pool_take(assessment, pool)
            value["catalog_item_id"] = assessment.eligibility.catalog_item_id
        return value, errors

    return validate_rows(frame, check)


def _batch_entries(organization: Organization, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolve rows to this organization's legacy subscriptions, compactly, for the job's parameters.

    A row names its subscription by `subscription_id` (the legacy subscription's GUID) or `id`
    (its primary key) and may carry `term_duration`, `billing_cycle`, `purchase_full_term`,
    `quantity` and `custom_term_end_date` — the rows `migration_batch_validate` returns, or rows
    built from subscriptions chosen on a page. Add-ons of a base in the same set are dropped: they
    move with their base.
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
    found = LegacySubscription.objects.filter(organization=organization).filter(
        Q(subscription_id__in=id_array(uuids, "uuid")) | Q(pk__in=id_array(pks))
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
    return MigrationRequest(
        term_duration=entry.get("term_duration"),
        billing_cycle=entry.get("billing_cycle"),
        quantity=entry.get("quantity"),
        purchase_full_term=bool(entry.get("purchase_full_term")),
        custom_term_end_date=date.fromisoformat(custom) if custom else None,
    )


@transaction.atomic
def migration_batch_create(
    *,
    actor: Any,
    organization: Organization,
    rows: Sequence[dict[str, Any]],
    external_reference_id: str | None = None,
    file_name: str = "",
) -> MigrationBatch:
    """The batch and its JobRun, without queuing it (`migration_batch_start` queues it)."""
    entries = _batch_entries(organization, rows)
    reference = (external_reference_id or "").strip() or str(uuid.uuid4())
    if MigrationBatch.objects.filter(organization=organization, external_reference_id=reference).exists():
        raise ValidationError({"externalReferenceId": f"The batch ID {reference} is already used."})
    job = job_create(
        kind=JOB_KIND_BATCH,
        organization_id=organization.pk,
        parameters={
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
    """Migrate the batch chunk by chunk; a chunk committed before a crash is skipped on resume."""
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

    job_run_chunks(job, job_chunks(job, entries, work))
    job_finish(job, result=_batch_result(batch))
