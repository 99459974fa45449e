"""The one way a legacy subscription moves to new commerce, for one row or a chunk of thousands.

Lock the legacy subscriptions, assess them with `commerce.eligibility` (a fixed number of queries
per set), then in one transaction place the new-commerce order, record the migrations as
Completed and cancel the legacy subscriptions (spec/commerce.md §3.5). A failing order leaves the
legacy subscriptions active and the migrations Failed with the error. Writes go through
`insert_rows`, one INSERT … SELECT FROM unnest(arrays) per table, so a chunk costs about what
hand-written SQL costs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import RawSQL

from commerce.choices import MigrationStatus, SubscriptionStatus
from commerce.eligibility import (
    MigrationAssessment,
    MigrationProposal,
    MigrationRequest,
    gc_paused,
    id_array,
    migration_assess,
    migration_context_load,
    migration_pool_new,
    migration_pool_take,
    migration_subscriptions_prepare,
)
from commerce.models import LegacySubscription, Migration, MigrationBatch, NceSubscription
from portal.history import Entry, history_record_many
from portal.jobs import JobRun
from portal.locks import lock_many

logger = logging.getLogger(__name__)

__all__ = (
    "CANCELLATION_WINDOW",
    "PROVISIONING_FAILED",
    "Plan",
    "Run",
    "eligibility_error",
    "execute_plans",
    "insert_rows",
    "job_chunks",
    "lock_subscriptions",
    "migrate_chunk",
    "provision",
)

#: After completion the partner may change the term, reduce seats or cancel for 7 days (§3.3).
CANCELLATION_WINDOW = timedelta(hours=168)
PROVISIONING_FAILED = "PROVISIONING_FAILED"


@dataclass
class Plan:
    """An eligible subscription (with its add-ons) and the request it moves with."""

    assessment: MigrationAssessment
    request: MigrationRequest
    #: legacy subscription id → the Failed migration being retried.
    existing: dict[int, Migration] = field(default_factory=dict)

    def lines(self) -> Iterator[tuple[LegacySubscription, MigrationProposal]]:
        yield self.assessment.subscription, self.assessment.eligibility.proposal
        yield from self.assessment.addons


@dataclass(frozen=True)
class Run:
    actor: Any
    initiated_by: str
    batch: MigrationBatch | None
    external_reference_id: str
    now: datetime

    @property
    def user_id(self) -> int | None:
        return getattr(self.actor, "pk", None)


@dataclass(frozen=True)
class Placed:
    """A new-commerce subscription created for one legacy subscription."""

    id: int
    subscription_id: uuid.UUID
    order_id: uuid.UUID
    term_end: date


def insert_rows(
    model: type[models.Model],
    columns: dict[str, list[Any]],
    *,
    constants: dict[str, Any] | None = None,
    generated: dict[str, str] | None = None,
    returning: Sequence[str] = ("id",),
) -> list[tuple]:
    """`bulk_create` for chunks of thousands: one INSERT … SELECT FROM unnest(column arrays).

    Builds no model instances and prepares no value one by one, so a chunk costs about what
    hand-written SQL costs. `columns` hold one value per row, `constants` one value for every
    row, `generated` an SQL expression per column (such as gen_random_uuid()). Returns the
    `returning` columns of the inserted rows. The arrays travel in binary (decimals as text, which
    is quicker for them): writing thousands of values as array text would cost more than the insert.
    """
    meta, quote = model._meta, connection.ops.quote_name
    names, selects, arrays, params = [], [], [], {}
    for index, (name, values) in enumerate(columns.items()):
        field_ = meta.get_field(name)
        names.append(quote(field_.column))
        kind = "s" if field_.get_internal_type() == "DecimalField" else "b"
        arrays.append(f"%(a{index}){kind}::{field_.db_type(connection)}[]")
        selects.append(f"v.a{index}")
        params[f"a{index}"] = values
    for index, (name, value) in enumerate((constants or {}).items()):
        field_ = meta.get_field(name)
        names.append(quote(field_.column))
        selects.append(f"%(k{index})s::{field_.db_type(connection)}")
        params[f"k{index}"] = value
    for name, expression in (generated or {}).items():
        names.append(quote(meta.get_field(name).column))
        selects.append(expression)
    aliases = ", ".join(f"a{index}" for index in range(len(columns)))
    returned = ", ".join(quote(meta.get_field(name).column) for name in returning)
    with _binding_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(names)}) "
            f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS v({aliases}) "
            f"RETURNING {returned}",
            params,
        )
        return cursor.fetchall()


def _binding_cursor() -> CursorWrapper:
    """A cursor of the default connection that sends its parameters apart from the SQL (server-side
    binding, which `%b` binary parameters need; Django's own binds them into the SQL text), wrapped
    as Django wraps its cursors: database errors translated, queries logged and counted."""
    connection.ensure_connection()
    cursor = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def columns_of(names: Sequence[str], rows: Sequence[tuple]) -> dict[str, list[Any]]:
    """Rows of values (in `names` order) as one list per column."""
    return {name: list(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)}


#: The columns the rules and the writes read; a chunk of thousands skips the rest.
_CHUNK_FIELDS = (
    "organization_id",
    "subscription_id",
    "customer_id",
    "offer_id",
    "quantity",
    "term_duration",
    "billing_cycle",
    "term_start",
    "term_end",
    "auto_renew",
    "status",
    "is_trial",
    "parent_id",
    "promotion_id",
    "trade_status",
    "unit_price",
    "currency",
)


def lock_subscriptions(subscription_ids: Sequence[int]) -> list[LegacySubscription]:
    """Lock and return the legacy subscriptions and their add-ons, in primary-key order, so that
    two batches touching the same rows queue behind each other instead of deadlocking.

    `= ANY` on both columns, so that the planner may read each column's index (`IN (SELECT
    unnest(…))` on either side of an OR always scans the whole table, every partner's rows)."""
    table = connection.ops.quote_name(LegacySubscription._meta.db_table)
    ids = list(subscription_ids)
    of_chunk = RawSQL(
        f"{table}.id = ANY(%s::bigint[]) OR {table}.parent_id = ANY(%s::bigint[])",
        (ids, ids),
        output_field=models.BooleanField(),
    )
    return list(lock_many(LegacySubscription.objects.filter(of_chunk).only(*_CHUNK_FIELDS)))


_NCE_COLUMNS = (
    "organization_id",
    "customer_id",
    "availability_id",
    "catalog_item_id",
    "quantity",
    "term_duration",
    "billing_cycle",
    "term_start",
    "term_end",
    "auto_renew",
    "unit_price",
    "currency",
    "migrated_from_id",
    "order_id",
)


def provision(plans: Sequence[Plan], *, now: datetime) -> dict[int, Placed]:
    """Place the new-commerce orders: one order per base with its add-ons.

    Against the real vendor this is the call that can fail; the caller then records the
    migrations as Failed and leaves the legacy subscriptions active. Returns, per legacy
    subscription id, the new-commerce subscription created for it.
    """
    rows = []
    for plan in plans:
        order_id = uuid.uuid4()
        for legacy, p in plan.lines():
            rows.append(
                (
                    legacy.organization_id,
                    legacy.customer_id,
                    p.availability_id,
                    p.catalog_item_id,
                    p.quantity,
                    p.term_duration,
                    p.billing_cycle,
                    p.term_start,
                    p.term_end,
                    legacy.auto_renew,
                    p.unit_price,
                    p.currency,
                    legacy.pk,
                    order_id,
                )
            )
    created = insert_rows(
        NceSubscription,
        columns_of(_NCE_COLUMNS, rows),
        constants={
            "status": SubscriptionStatus.ACTIVE,
            "cancellation_window_ends_at": now + CANCELLATION_WINDOW,
            "created_at": now,
        },
        generated={"subscription_id": "gen_random_uuid()"},
        returning=("migrated_from_id", "id", "subscription_id", "order_id", "term_end"),
    )
    return {legacy_id: Placed(*rest) for legacy_id, *rest in created}


def _insert_migrations(
    lines: Sequence[tuple[LegacySubscription, MigrationProposal, Plan]],
    run: Run,
    *,
    placed: dict[int, Placed] | None,
    error: str,
    parents: dict[int, int] | None = None,
) -> dict[int, int]:
    """New migration rows, Completed (with their new subscription) or Failed; legacy id → id."""
    if not lines:
        return {}
    names = [
        "organization_id",
        "customer_id",
        "current_subscription_id",
        "catalog_item_id",
        "term_duration",
        "billing_cycle",
        "purchase_full_term",
        "quantity",
        "custom_term_end_date",
    ]
    if placed is not None:
        names += ["new_commerce_subscription_id", "new_commerce_order_id", "subscription_end_date"]
    if parents is not None:
        names.append("parent_migration_id")
    rows = []
    for legacy, p, plan in lines:
        row = [
            legacy.organization_id,
            legacy.customer_id,
            legacy.pk,
            p.catalog_item_id,
            p.term_duration,
            p.billing_cycle,
            plan.request.purchase_full_term or plan.request.at_renewal,
            p.quantity,
            plan.request.custom_term_end_date,
        ]
        if placed is not None:
            nce = placed[legacy.pk]
            row += [nce.id, nce.order_id, nce.term_end]
        if parents is not None:
            row.append(parents[plan.assessment.subscription.pk])
        rows.append(tuple(row))
    created = insert_rows(
        Migration,
        columns_of(names, rows),
        constants={
            "status": MigrationStatus.COMPLETED if placed is not None else MigrationStatus.FAILED,
            "external_reference_id": run.external_reference_id,
            "batch_id": run.batch.pk if run.batch else None,
            "started_time": run.now,
            "completed_time": run.now if placed is not None else None,
            "error_code": "" if placed is not None else PROVISIONING_FAILED,
            "error_description": error,
            "initiated_by": run.initiated_by,
            "created_by_id": run.user_id,
        },
        generated={"migration_id": "gen_random_uuid()"},
        returning=("current_subscription_id", "id"),
    )
    return dict(created)


def _update_retried(
    migration: Migration, proposal: MigrationProposal, run: Run, *, nce: Placed | None, error: str
) -> None:
    """Record the outcome of a retry on the Failed migration row it re-ran."""
    migration.catalog_item_id = proposal.catalog_item_id
    migration.term_duration = proposal.term_duration
    migration.billing_cycle = proposal.billing_cycle
    migration.quantity = proposal.quantity
    if nce is not None:
        migration.status = MigrationStatus.COMPLETED
        migration.new_commerce_subscription_id = nce.id
        migration.new_commerce_order_id = nce.order_id
        migration.subscription_end_date = nce.term_end
        migration.completed_time = run.now
        migration.error_code = migration.error_description = ""
    else:
        migration.status = MigrationStatus.FAILED
        migration.new_commerce_subscription_id = None
        migration.new_commerce_order_id = None
        migration.subscription_end_date = None
        migration.completed_time = None
        migration.error_code = PROVISIONING_FAILED
        migration.error_description = error
    migration.save()


def record_migrations(
    plans: Sequence[Plan], run: Run, *, placed: dict[int, Placed] | None, error: str = ""
) -> list[tuple[LegacySubscription, int, bool]]:
    """Write the migration rows of `plans`: bases, then add-ons pointing at their base's row.

    Returns (legacy subscription, migration id, is new) per line, bases first.
    """
    bases, addons, retried = [], [], []
    for plan in plans:
        for legacy, proposal in plan.lines():
            line = (legacy, proposal, plan)
            if legacy.pk in plan.existing:
                retried.append(line)
            elif legacy is plan.assessment.subscription:
                bases.append(line)
            else:
                addons.append(line)
    ids = _insert_migrations(bases, run, placed=placed, error=error)
    for legacy, proposal, plan in retried:
        migration = plan.existing[legacy.pk]
        _update_retried(migration, proposal, run, nce=(placed or {}).get(legacy.pk), error=error)
        ids[legacy.pk] = migration.pk
    ids.update(_insert_migrations(addons, run, placed=placed, error=error, parents=ids))
    return [
        (legacy, ids[legacy.pk], legacy.pk not in plan.existing)
        for plan in plans
        for legacy, _ in plan.lines()
    ]


def history_append(events: Sequence[tuple[int, int, str, str, str]], run: Run) -> None:
    """Append status changes (organization id, migration id, from, to, note) to migrations' history."""
    content_type = ContentType.objects.get_for_model(Migration)
    history_record_many(
        [
            Entry(
                organization_id=organization_id,
                content_type=content_type,
                object_id=str(pk),
                from_status=before,
                to_status=after,
                note=note,
            )
            for organization_id, pk, before, after, note in events
        ],
        actor=run.actor,
        at=run.now,
    )


def execute_plans(plans: Sequence[Plan], run: Run) -> list[int]:
    """Carry out eligible plans in the caller's transaction; returns the base migrations' ids."""
    if not plans:
        return []
    error, placed = "", None
    try:
        # A savepoint: a failing order rolls back only the order and its rows, so the legacy
        # subscriptions stay active and the failure itself is recorded below.
        with transaction.atomic():
            placed = provision(plans, now=run.now)
            written = record_migrations(plans, run, placed=placed)
            LegacySubscription.objects.filter(
                pk__in=id_array(legacy.pk for plan in plans for legacy, _ in plan.lines())
            ).update(status=SubscriptionStatus.CANCELLED)
    except IntegrityError:
        # A unique constraint (one open / one completed migration per subscription) caught a
        # replay: nothing of it may be written.
        raise
    except Exception as exc:
        logger.exception("placing %s new-commerce order(s) failed", len(plans))
        error, placed = f"{type(exc).__name__}: {exc}"[:2000], None
        written = record_migrations(plans, run, placed=None, error=error)
    events = []
    for legacy, migration_id, is_new in written:
        if is_new:
            first = (
                MigrationStatus.VALIDATING,
                "Eligible; the legacy subscription is suspended while ordering.",
            )
        else:
            first = (MigrationStatus.FAILED, "Retried.")
        if placed is not None:
            nce = placed[legacy.pk]
            outcome = (
                MigrationStatus.COMPLETED,
                f"New commerce subscription {nce.subscription_id} (order {nce.order_id}); "
                "the legacy subscription is cancelled.",
            )
        else:
            outcome = (MigrationStatus.FAILED, f"{error}. The legacy subscription is active again.")
        events += [
            (legacy.organization_id, migration_id, first[0], MigrationStatus.PROCESSING, first[1]),
            (legacy.organization_id, migration_id, MigrationStatus.PROCESSING, *outcome),
        ]
    history_append(events, run)
    bases = {plan.assessment.subscription.pk for plan in plans}
    return [migration_id for legacy, migration_id, _ in written if legacy.pk in bases]


def reject_assessments(rejected: Sequence[tuple[MigrationAssessment, MigrationRequest]], run: Run) -> None:
    """Record batch rows found ineligible when their chunk ran (Validating → Rejected)."""
    rows, reasons = [], {}
    for assessment, request in rejected:
        legacy = assessment.subscription
        errors = assessment.eligibility.errors
        reasons[legacy.pk] = "\n".join(f"{e.code}: {e.description}" for e in errors)
        rows.append(
            (
                legacy.organization_id,
                legacy.customer_id,
                legacy.pk,
                request.term_duration or legacy.term_duration,
                request.billing_cycle or legacy.billing_cycle,
                request.quantity or legacy.quantity,
                request.purchase_full_term,
                request.custom_term_end_date,
                errors[0].code,
                reasons[legacy.pk],
            )
        )
    names = (
        "organization_id",
        "customer_id",
        "current_subscription_id",
        "term_duration",
        "billing_cycle",
        "quantity",
        "purchase_full_term",
        "custom_term_end_date",
        "error_code",
        "error_description",
    )
    created = insert_rows(
        Migration,
        columns_of(names, rows),
        constants={
            "status": MigrationStatus.REJECTED,
            "catalog_item_id": "",
            "external_reference_id": run.external_reference_id,
            "batch_id": run.batch.pk if run.batch else None,
            "started_time": run.now,
            "initiated_by": run.initiated_by,
            "created_by_id": run.user_id,
        },
        generated={"migration_id": "gen_random_uuid()"},
        returning=("organization_id", "id", "current_subscription_id"),
    )
    history_append(
        [
            (organization_id, pk, MigrationStatus.VALIDATING, MigrationStatus.REJECTED, reasons[legacy_id])
            for organization_id, pk, legacy_id in created
        ],
        run,
    )


def migrate_chunk(
    entries: Sequence[tuple[int, MigrationRequest]], run: Run, *, on: date, reject: bool
) -> None:
    """Assess and migrate a chunk set-based: a fixed number of queries, whatever its size."""
    with gc_paused():  # the chunk's rows, assessments and writes: see gc_paused
        _migrate_chunk(entries, run, on=on, reject=reject)


def _migrate_chunk(
    entries: Sequence[tuple[int, MigrationRequest]], run: Run, *, on: date, reject: bool
) -> None:
    wanted = {pk for pk, _ in entries}
    locked = lock_subscriptions(list(wanted))
    subscriptions = {s.pk: s for s in migration_subscriptions_prepare(s for s in locked if s.pk in wanted)}
    context = migration_context_load(
        list(subscriptions.values()),
        on=on,
        nce_term_ends=any(request.custom_term_end_date for _, request in entries),
    )
    pool = migration_pool_new()
    plans, rejected = [], []
    for pk, request in entries:
        subscription = subscriptions.get(pk)
        if subscription is None:
            continue  # Deleted since the run was queued: nothing left to migrate.
        assessment = migration_assess(subscription, context, request, pool_used=pool)
        if assessment.is_eligible:
            migration_pool_take(assessment, pool)
            plans.append(Plan(assessment, request))
        elif reject:
            rejected.append((assessment, request))
    execute_plans(plans, run)
    if rejected:
        reject_assessments(rejected, run)


def eligibility_error(assessment: MigrationAssessment) -> ValidationError:
    return ValidationError(
        {"currentSubscriptionId": [f"{e.code}: {e.description}" for e in assessment.eligibility.errors]}
    )


def job_chunks(job: JobRun, items: list, work: Callable[[list], Callable[[], None]]) -> Iterator:
    """`(key, size, work)` per chunk for `job_run_chunks`. The size is the one the job was created
    with, so a run resumed after a settings change still finds its committed chunks."""
    size = job.parameters.get("chunk_size") or settings.COMMERCE_MIGRATION_CHUNK_SIZE
    for start in range(0, len(items), size):
        part = items[start : start + size]
        yield f"items-{start}", len(part), work(part)
