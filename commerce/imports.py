"""The batch migration file (§5.1) on the one import pipeline: a row per legacy subscription to move,
with Partner Center's optional request fields (`termDuration`, `billingCycle`, `purchaseFullTerm`,
`quantity`, `customTermEndDate`).

The layout checks each cell; SQL over the staged file checks that the customer and subscription
are the partner's own, belong together and are not an add-on of a base in the same file (add-ons
move with their base); the eligibility engine then assesses every remaining row in Python, with
the seats earlier rows take from a pooled maximum, and its reasons are the rows' problems. The
loader creates the batch from the valid rows and queues its migration job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer
from commerce.choices import BillingCycle, TermDuration
from commerce.eligibility import (
    MigrationAssessment,
    MigrationContext,
    MigrationRequest,
    gc_paused,
    id_array,
    migration_assess,
    migration_context_load,
    migration_pool_new,
    migration_pool_take,
    migration_request,
    migration_subscriptions_prepare,
)
from commerce.models import LegacySubscription, MigrationBatch
from portal.imports import (
    BOOLEAN,
    CHOICE,
    DATE,
    INTEGER,
    UUID,
    Column,
    Importer,
    Layout,
    SqlCheck,
    Staging,
    register,
    safe_cast,
)
from portal.imports.staging import CREATED
from portal.jobs import JobRun
from portal.uploads import RowError

_SUBSCRIPTION = safe_cast("s.current_subscription_id", UUID)
_TENANT = safe_cast("s.customer_tenant_id", UUID)
_LEGACY = LegacySubscription._meta.db_table
_CUSTOMERS = Customer._meta.db_table

#: Partner Center's optional term and billing plan, as the batch file and the subscriptions feed write them.
TERM_DURATION = Column(
    "termDuration",
    kind=CHOICE,
    field="term_duration",
    choices=tuple(TermDuration.values),
    required=False,
    blank=True,
)
BILLING_CYCLE = Column(
    "billingCycle",
    kind=CHOICE,
    field="billing_cycle",
    choices=tuple(BillingCycle.values),
    required=False,
    blank=True,
)

BATCH = Layout(
    name="commerce.migration_batch",
    title="Batch migration",
    columns=(
        Column("customerTenantId", kind=UUID, field="customer_tenant_id"),
        Column("currentSubscriptionId", kind=UUID, field="current_subscription_id"),
        TERM_DURATION,
        BILLING_CYCLE,
        Column("purchaseFullTerm", kind=BOOLEAN, field="purchase_full_term", required=False, blank=True),
        Column("quantity", kind=INTEGER, min_value=1, max_value=1_000_000, required=False, blank=True),
        Column("customTermEndDate", kind=DATE, field="custom_term_end_date", required=False, blank=True),
    ),
    key=("currentSubscriptionId",),
    checks=(
        SqlCheck(
            "customerTenantId",
            f"{_TENANT} IS NULL OR NOT EXISTS (SELECT 1 FROM {_CUSTOMERS} c "
            f"WHERE c.organization_id = %(organization)s AND c.tenant_id = {_TENANT})",
            "is not a customer of your organization",
        ),
        SqlCheck(
            "currentSubscriptionId",
            f"{_SUBSCRIPTION} IS NULL OR NOT EXISTS (SELECT 1 FROM {_LEGACY} l "
            f"WHERE l.organization_id = %(organization)s AND l.subscription_id = {_SUBSCRIPTION})",
            "is not a legacy subscription of your organization",
        ),
        SqlCheck(
            "currentSubscriptionId",
            f"EXISTS (SELECT 1 FROM {_LEGACY} l JOIN {_CUSTOMERS} c ON c.id = l.customer_id "
            f"WHERE l.organization_id = %(organization)s AND l.subscription_id = {_SUBSCRIPTION} "
            f"AND c.tenant_id <> {_TENANT})",
            "belongs to another customer than customerTenantId",
        ),
        SqlCheck(
            "currentSubscriptionId",
            f"EXISTS (SELECT 1 FROM {_LEGACY} l JOIN {_LEGACY} base ON base.id = l.parent_id "
            "JOIN {staging} other ON other.current_subscription_id = base.subscription_id::text "
            f"WHERE l.organization_id = %(organization)s AND l.subscription_id = {_SUBSCRIPTION})",
            "is an add-on of a subscription in this file and migrates with it; remove this row",
        ),
    ),
)


def _request(row: dict[str, Any]) -> MigrationRequest:
    return migration_request(
        row["term_duration"],
        row["billing_cycle"],
        row["quantity"],
        bool(row["purchase_full_term"]),
        row["custom_term_end_date"],
    )


# --- Shared by the batch layouts (this one and Microsoft's BAM file, commerce.bam) ------------------


class RowRequest(NamedTuple):
    """One staged row asking to migrate one legacy subscription (by its Partner Center id); a file
    makes one per row, so a plain tuple."""

    line: int
    subscription_id: uuid.UUID
    request: MigrationRequest


def rows_subscriptions(
    organization_id: int, subscription_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, LegacySubscription]:
    """The organization's legacy subscriptions named by a file, prepared for the rules (a fixed
    number of queries whatever their number); ids that are not the organization's are absent."""
    return {
        subscription.subscription_id: subscription
        for subscription in migration_subscriptions_prepare(
            LegacySubscription.objects.filter(
                organization_id=organization_id, subscription_id__in=id_array(set(subscription_ids), "uuid")
            ).order_by()  # looked up by id: the pages' order (a join and a sort) is not needed
        )
    }


def rows_assess(
    requests: Sequence[RowRequest], subscriptions: dict[uuid.UUID, LegacySubscription], *, on: date
) -> tuple[MigrationContext, list[tuple[RowRequest, MigrationAssessment]]]:
    """Every row assessed as the batch would migrate it, in file order: the seats an eligible row
    takes from a pooled maximum count against the rows after it."""
    requests = [request for request in requests if request.subscription_id in subscriptions]
    context = migration_context_load(
        [subscriptions[request.subscription_id] for request in requests],
        on=on,
        nce_term_ends=any(request.request.custom_term_end_date for request in requests),
    )
    pool = migration_pool_new()
    assessed = []
    for request in requests:
        assessment = migration_assess(
            subscriptions[request.subscription_id], context, request.request, pool_used=pool
        )
        if assessment.is_eligible:
            migration_pool_take(assessment, pool)
        assessed.append((request, assessment))
    return context, assessed


def eligibility_problems(
    assessed: Iterable[tuple[RowRequest, MigrationAssessment]], column: str
) -> list[RowError]:
    """Each ineligible row's reasons, Microsoft's code beside the description, on `column`."""
    return [
        RowError(request.line, column, str(error), value=str(request.subscription_id))
        for request, assessment in assessed
        for error in assessment.eligibility.errors
    ]


def batch_of_import(job: JobRun) -> MigrationBatch | None:
    """The batch an import job created, if an earlier run of it got that far."""
    return (
        MigrationBatch.objects.filter(
            organization_id=job.organization_id,
            external_reference_id=job.parameters["external_reference_id"],
            file_name=_file_name(job),
        )
        .select_related("job")
        .first()
    )


def batch_rows_load(
    staging: Staging, job: JobRun, rows: Sequence[dict[str, Any]], *, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The batch of `rows` (`migration_batch_create`'s rows) and its migration job, queued once this
    commits; every valid staged row is marked created. A rerun of the import (a worker lost after
    the batch was created) finds the batch its reference names instead of making another."""
    from commerce.services.batches import migration_batch_create  # noqa: PLC0415 - services import this
    from commerce.tasks import migration_batch_task  # noqa: PLC0415 - tasks import services

    reference = job.parameters["external_reference_id"]
    batch = batch_of_import(job)
    if batch is None:
        if not rows:
            return {"batch_id": None}
        batch = migration_batch_create(
            actor=job.created_by,
            organization=job.organization,
            rows=rows,
            external_reference_id=reference,
            file_name=_file_name(job),
            parameters=parameters,
        )
        transaction.on_commit(lambda: migration_batch_task.delay(batch.job_id))
    staging.set_outcome(CREATED)
    return {
        "batch_id": batch.pk,
        "externalReferenceId": batch.external_reference_id,
        "next": {
            "url": reverse("commerce:batch-detail", args=[batch.pk]),
            "label": f"Follow batch {batch.external_reference_id}",
        },
    }


# --- This layout ------------------------------------------------------------------------------------


def _assess(staging: Staging, job: JobRun) -> list[RowError]:
    """Every row the checks left valid, assessed as the batch would migrate it, in file order."""
    with gc_paused():  # a file's rows, subscriptions and assessments: see gc_paused
        requests = [
            RowRequest(row["line"], row["current_subscription_id"], _request(row))
            for row in staging.valid_rows()
        ]
        subscriptions = rows_subscriptions(job.organization_id, (r.subscription_id for r in requests))
        _context, assessed = rows_assess(requests, subscriptions, on=timezone.localdate())
        return eligibility_problems(assessed, "currentSubscriptionId")


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    """The batch of the valid rows and its migration job."""
    rows = [
        {
            "subscription_id": str(row["current_subscription_id"]),
            "term_duration": row["term_duration"],
            "billing_cycle": row["billing_cycle"],
            "purchase_full_term": bool(row["purchase_full_term"]),
            "quantity": row["quantity"],
            "custom_term_end_date": _iso(row["custom_term_end_date"]),
        }
        for row in staging.valid_rows()
    ]
    return batch_rows_load(staging, job, rows)


def _file_name(job: JobRun) -> str:
    return job.parameters.get("file_name", "")[:255]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


BATCH_IMPORTER = register(Importer(layout=BATCH, load=_load, assess=_assess))
