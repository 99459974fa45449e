"""Migration schedules (spec/commerce.md §3.4, §3.5): a migration to run on a target date or when
the legacy term ends, in Partner Center's schedule resource shape.

Creating or updating a schedule checks its own rules (exactly one of a target date or "on renewal",
a future date within the legacy term, one open schedule per subscription) and the subscription's
eligibility as it would be assessed on the day the schedule runs, and refuses with every reason.

`schedules_run_due` is what beat runs each day: it claims the due schedules (Created → Processing,
SELECT … FOR UPDATE SKIP LOCKED, in one transaction), then carries out each through the one
migration path (`commerce.services.engine`) in a transaction of its own that also records the
outcome on the schedule. A runner that dies after claiming leaves the schedule Processing; the next
run picks it up again, and the constraints of one open / one completed migration per legacy
subscription keep it from migrating anything twice.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from commerce.choices import MigrationInitiator, MigrationStatus, ScheduleStatus, SubscriptionStatus
from commerce.codes import EligibilityCode, EligibilityError
from commerce.eligibility import MigrationAssessment, MigrationRequest, migration_validate_assessment
from commerce.models import LegacySubscription, Migration, MigrationSchedule
from commerce.services.engine import Plan, Run, execute_plans, lock_subscriptions
from portal.history import Entry, history_record, history_record_many
from portal.locks import lock, lock_many

logger = logging.getLogger(__name__)

__all__ = (
    "OPEN_SCHEDULE_STATUSES",
    "SCHEDULE_ACTOR",
    "ScheduleRefused",
    "ScheduleRequest",
    "schedule_cancel",
    "schedule_create",
    "schedule_create_many",
    "schedule_run_day",
    "schedule_update",
    "schedules_run_due",
)

#: A schedule waiting to run or running: at most one per legacy subscription (a model constraint).
OPEN_SCHEDULE_STATUSES = (ScheduleStatus.CREATED, ScheduleStatus.PROCESSING)
#: Who the history names for what the daily run does.
SCHEDULE_ACTOR = "migration schedule"


@dataclass(frozen=True)
class ScheduleRequest:
    """The body of Partner Center's schedule create/update call, in the services' names.

    Blank term, billing and quantity keep the legacy subscription's (on renewal: an annual term,
    a 3-year legacy term staying 3-year), as a migration does.
    """

    target_date: date | None = None
    migrate_on_renewal: bool = False
    term_duration: str = ""
    billing_cycle: str = ""
    quantity: int | None = None
    purchase_full_term: bool = False
    custom_term_end_date: date | None = None
    external_reference_id: str = ""

    def migration_request(self) -> MigrationRequest:
        return MigrationRequest(
            term_duration=self.term_duration or None,
            billing_cycle=self.billing_cycle or None,
            quantity=self.quantity,
            purchase_full_term=self.purchase_full_term,
            custom_term_end_date=self.custom_term_end_date,
            at_renewal=self.migrate_on_renewal,
        )

    @classmethod
    def of(cls, schedule: MigrationSchedule) -> ScheduleRequest:
        return cls(**{f.name: getattr(schedule, f.name) for f in fields(cls)})


#: One add-on named in the request (Partner Center's `addOnMigrationSchedules`): its legacy
#: subscription id and the seats asked for (None: as it is).
AddOn = tuple[UUID, int | None]


class ScheduleRefused(ValidationError):
    """A schedule the rules refuse; `reasons` holds the eligibility reasons, with Microsoft's codes."""

    def __init__(self, errors: dict[str, list[str]] | list[str], reasons: Sequence[EligibilityError] = ()):
        super().__init__(errors)
        self.reasons = tuple(reasons)


def schedule_run_day(schedule: MigrationSchedule | ScheduleRequest, subscription: LegacySubscription) -> date:
    """The day the schedule runs: its target date, or the last day of the legacy term."""
    return schedule.target_date or subscription.term_end


# --- The rules -----------------------------------------------------------------------------------


def _assessment(
    subscription: LegacySubscription, request: ScheduleRequest, *, on: date
) -> MigrationAssessment:
    return migration_validate_assessment(
        subscription=subscription, request=request.migration_request(), on=on
    )


def _check(
    subscription: LegacySubscription,
    request: ScheduleRequest,
    *,
    today: date,
    schedule: MigrationSchedule | None = None,
    add_ons: Sequence[AddOn] | None = None,
) -> tuple[dict[str, list[str]], list[EligibilityError]]:
    """Every reason `request` cannot be scheduled for `subscription` (keyed by the request's field),
    and the eligibility reasons among them."""
    errors: dict[str, list[str]] = defaultdict(list)
    term_end = subscription.term_end
    run_day = today
    if request.target_date and request.migrate_on_renewal:
        errors["target_date"].append(
            f"Give targetDate or migrateOnRenewal, not both: targetDate is {request.target_date} and "
            "migrateOnRenewal is true."
        )
    elif not request.target_date and not request.migrate_on_renewal:
        errors["target_date"].append(
            "Give targetDate (the day to migrate) or migrateOnRenewal=true (migrate when the legacy "
            "term ends); neither was given."
        )
    elif request.target_date:
        if request.target_date <= today:
            errors["target_date"].append(
                f"targetDate {request.target_date} is not in the future; choose a day after {today}."
            )
        elif request.target_date > term_end:
            errors["target_date"].append(
                f"targetDate {request.target_date} is after the legacy term ends on {term_end}; choose a "
                f"day up to {term_end}, or migrateOnRenewal to migrate at renewal."
            )
        else:
            run_day = request.target_date
    elif term_end < today:
        errors["migrate_on_renewal"].append(
            f"migrateOnRenewal: the legacy term ended on {term_end}; a term ending today or later is needed."
        )
    else:
        run_day = term_end

    reasons: list[EligibilityError] = []
    others = MigrationSchedule.objects.filter(
        current_subscription=subscription, status__in=OPEN_SCHEDULE_STATUSES
    ).exclude(pk=schedule.pk if schedule else None)
    waiting = others.first()
    if waiting is not None:
        reason = EligibilityError(
            EligibilityCode.SCHEDULED,
            f"The subscription {subscription.subscription_id} already has the open migration schedule "
            f"{waiting.schedule_id} ({waiting.status}); update or cancel that one instead.",
        )
        reasons.append(reason)
        errors["current_subscription_id"].append(str(reason))
    # Assessed as on the day it runs, so what that day settles (a month since the start, the
    # new term's dates) is judged as it will be; a schedule waiting for this subscription is the
    # one checked above, or this one being updated.
    assessment = _assessment(subscription, request, on=run_day)
    for reason in assessment.eligibility.errors:
        if reason.code != EligibilityCode.SCHEDULED:
            reasons.append(reason)
            errors["current_subscription_id"].append(str(reason))

    if add_ons:
        active = {
            addon.subscription_id: addon
            for addon in LegacySubscription.objects.filter(
                parent=subscription, status=SubscriptionStatus.ACTIVE
            )
        }
        for index, (addon_id, quantity) in enumerate(add_ons):
            addon = active.get(addon_id)
            where = f"addOnMigrationSchedules[{index}]"
            if addon is None:
                errors["add_on_migration_schedules"].append(
                    f"{where}: {addon_id} is not an active add-on of the subscription "
                    f"{subscription.subscription_id}; only its own active add-ons move with it."
                )
            elif quantity is not None and quantity != addon.quantity:
                errors["add_on_migration_schedules"].append(
                    f"{where}: quantity {quantity} for the add-on {addon_id}: add-ons move with their base "
                    f"at their current {addon.quantity} seats."
                )
    return dict(errors), reasons


def _refuse_if_any(errors: dict[str, list[str]], reasons: list[EligibilityError]) -> None:
    if errors:
        raise ScheduleRefused(errors, reasons)


def _describe(request: ScheduleRequest, subscription: LegacySubscription) -> str:
    if request.migrate_on_renewal:
        return f"Migrates when the legacy term ends on {subscription.term_end}."
    return f"Migrates on {request.target_date}."


def _insert(
    *, actor: Any, subscription: LegacySubscription, request: ScheduleRequest, now
) -> MigrationSchedule:
    schedule = MigrationSchedule(
        organization_id=subscription.organization_id,
        customer_id=subscription.customer_id,
        current_subscription=subscription,
        status=ScheduleStatus.CREATED,
        created_time=now,
        last_modified_time=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        **{f.name: getattr(request, f.name) for f in fields(ScheduleRequest)},
    )
    try:
        # A savepoint: a concurrent schedule for the same subscription (the one-open-schedule
        # constraint) is refused like the check above would have, not as a failed transaction.
        with transaction.atomic():
            schedule.save()
    except IntegrityError:
        reason = EligibilityError(
            EligibilityCode.SCHEDULED,
            f"The subscription {subscription.subscription_id} was scheduled by another request just now.",
        )
        raise ScheduleRefused({"current_subscription_id": [str(reason)]}, [reason]) from None
    history_record(
        subject=schedule, actor=actor, to_status=ScheduleStatus.CREATED, note=_describe(request, subscription)
    )
    return schedule


# --- Create, update, cancel ------------------------------------------------------------------------


@transaction.atomic
def schedule_create(
    *,
    actor: Any,
    subscription: LegacySubscription,
    request: ScheduleRequest,
    add_ons: Sequence[AddOn] | None = None,
    today: date | None = None,
) -> MigrationSchedule:
    """Partner Center's schedule call: check the rules and eligibility, then keep the schedule.

    Raises ScheduleRefused with every reason; nothing is written then.
    """
    today = today or timezone.localdate()
    # The subscription's row first, as a migration takes it: a migration or a second schedule of
    # the same subscription waits for this one and then sees it.
    [subscription] = [s for s in lock_subscriptions([subscription.pk]) if s.pk == subscription.pk]
    errors, reasons = _check(subscription, request, today=today, add_ons=add_ons)
    _refuse_if_any(errors, reasons)
    return _insert(actor=actor, subscription=subscription, request=request, now=timezone.now())


@transaction.atomic
def schedule_create_many(
    *,
    actor: Any,
    subscriptions: Sequence[LegacySubscription],
    request: ScheduleRequest,
    today: date | None = None,
) -> list[MigrationSchedule]:
    """One schedule per subscription with the same request, all or none: any refusal refuses the
    whole set, listing every subscription's reasons."""
    today = today or timezone.localdate()
    if not subscriptions:
        raise ValidationError({"subscriptions": ["Select at least one legacy subscription to schedule."]})
    wanted = {subscription.pk for subscription in subscriptions}
    locked = {s.pk: s for s in lock_subscriptions(sorted(wanted)) if s.pk in wanted}
    named = {s.pk: s for s in subscriptions}
    problems: list[str] = []
    reasons: list[EligibilityError] = []
    for pk in sorted(locked):
        errors, found = _check(locked[pk], request, today=today)
        reasons += found
        label = _label(named[pk])
        problems += [f"{label}: {message}" for messages in errors.values() for message in messages]
    if problems:
        raise ScheduleRefused(problems, reasons)
    now = timezone.now()
    return [_insert(actor=actor, subscription=locked[pk], request=request, now=now) for pk in sorted(locked)]


def _label(subscription: LegacySubscription) -> str:
    """How a page names a subscription in a message: its offer and customer when loaded."""
    offer = getattr(subscription, "offer", None)
    customer = getattr(subscription, "customer", None)
    if offer is not None and customer is not None:
        return f"{offer.name} for {customer.name}"
    return f"Subscription {subscription.subscription_id}"


def _locked_for_change(schedule: MigrationSchedule) -> tuple[MigrationSchedule, LegacySubscription]:
    """The schedule, then its subscription, locked in the order the daily run takes them."""
    schedule = lock(schedule)
    [subscription] = [
        s
        for s in lock_subscriptions([schedule.current_subscription_id])
        if s.pk == schedule.current_subscription_id
    ]
    return schedule, subscription


@transaction.atomic
def schedule_update(
    *,
    actor: Any,
    schedule: MigrationSchedule,
    request: ScheduleRequest,
    add_ons: Sequence[AddOn] | None = None,
    today: date | None = None,
) -> MigrationSchedule:
    """Change a Created schedule before the day it runs, under the rules a new one meets."""
    today = today or timezone.localdate()
    schedule, subscription = _locked_for_change(schedule)
    if schedule.status != ScheduleStatus.CREATED:
        raise ValidationError(
            {"status": [f"The schedule is {schedule.status}; only a Created schedule can be updated."]}
        )
    run_day = schedule_run_day(schedule, subscription)
    if today >= run_day:
        raise ValidationError(
            {"target_date": [f"The schedule runs on {run_day}; it can be updated only before that day."]}
        )
    errors, reasons = _check(subscription, request, today=today, schedule=schedule, add_ons=add_ons)
    _refuse_if_any(errors, reasons)
    before = ScheduleRequest.of(schedule)
    changes = {
        f.name: [getattr(before, f.name), getattr(request, f.name)]
        for f in fields(ScheduleRequest)
        if getattr(before, f.name) != getattr(request, f.name)
    }
    if not changes:
        return schedule
    for name, (_, after) in changes.items():
        setattr(schedule, name, after)
    schedule.last_modified_time = timezone.now()
    schedule.save(update_fields=[*changes, "last_modified_time"])
    history_record(
        subject=schedule,
        actor=actor,
        from_status=ScheduleStatus.CREATED,
        to_status=ScheduleStatus.CREATED,
        note="Updated: " + ", ".join(f"{name} {old!s} → {new!s}" for name, (old, new) in changes.items()),
        data=changes,
    )
    return schedule


@transaction.atomic
def schedule_cancel(*, actor: Any, schedule: MigrationSchedule) -> MigrationSchedule:
    """Cancel a Created schedule; cancelling a Cancelled one again changes nothing."""
    schedule = lock(schedule)
    if schedule.status == ScheduleStatus.CANCELLED:
        return schedule
    if schedule.status != ScheduleStatus.CREATED:
        raise ValidationError(
            {"status": [f"The schedule is {schedule.status}; only a Created schedule can be cancelled."]}
        )
    schedule.status = ScheduleStatus.CANCELLED
    schedule.last_modified_time = timezone.now()
    schedule.save(update_fields=["status", "last_modified_time"])
    history_record(
        subject=schedule,
        actor=actor,
        from_status=ScheduleStatus.CREATED,
        to_status=ScheduleStatus.CANCELLED,
        note="Cancelled; the subscription can be migrated or scheduled again.",
    )
    return schedule


# --- The daily run ---------------------------------------------------------------------------------


def _due(today: date) -> Q:
    return Q(target_date__lte=today) | Q(migrate_on_renewal=True, current_subscription__term_end__lte=today)


def _claim(today: date) -> int:
    """Created → Processing for every due schedule nobody else holds, in one transaction."""
    with transaction.atomic():
        due = list(
            lock_many(
                MigrationSchedule.objects.filter(_due(today), status=ScheduleStatus.CREATED), skip_locked=True
            ).values_list("pk", "organization_id", "target_date")
        )
        if not due:
            return 0
        now = timezone.now()
        MigrationSchedule.objects.filter(pk__in=[pk for pk, _, _ in due]).update(
            status=ScheduleStatus.PROCESSING, last_modified_time=now
        )
        content_type = ContentType.objects.get_for_model(MigrationSchedule)
        history_record_many(
            [
                Entry(
                    organization_id=organization_id,
                    content_type=content_type,
                    object_id=str(pk),
                    from_status=ScheduleStatus.CREATED,
                    to_status=ScheduleStatus.PROCESSING,
                    note=f"Due on {target}." if target else "Due: the legacy term ends.",
                )
                for pk, organization_id, target in due
            ],
            actor=SCHEDULE_ACTOR,
            at=now,
        )
    return len(due)


def _finish(
    schedule: MigrationSchedule,
    status: str,
    *,
    note: str,
    migration: Migration | None = None,
    error_code: str = "",
    error_description: str = "",
) -> str:
    schedule.status = status
    schedule.migration = migration
    schedule.error_code = error_code[:80]
    schedule.error_description = error_description
    schedule.last_modified_time = timezone.now()
    schedule.save(
        update_fields=["status", "migration", "error_code", "error_description", "last_modified_time"]
    )
    history_record(
        subject=schedule,
        actor=SCHEDULE_ACTOR,
        from_status=ScheduleStatus.PROCESSING,
        to_status=status,
        note=note,
    )
    return status


def _run_one(pk: int, *, today: date) -> str:
    """Carry out one Processing schedule; returns its outcome ("skipped" when another runner holds it
    or it is no longer Processing)."""
    with transaction.atomic():
        schedule = (
            lock_many(
                MigrationSchedule.objects.filter(pk=pk, status=ScheduleStatus.PROCESSING), skip_locked=True
            )
            .select_related("current_subscription")
            .first()
        )
        if schedule is None:
            return "skipped"
        subscription_id = schedule.current_subscription_id
        lock_subscriptions([subscription_id])
        # A run that committed its migration but not this schedule's outcome (it can't, both are
        # one transaction, but a replay must never order twice): link what it did.
        done = Migration.objects.filter(
            current_subscription_id=subscription_id,
            status=MigrationStatus.COMPLETED,
            initiated_by=MigrationInitiator.SCHEDULE,
            schedule__isnull=True,
        ).first()
        if done is not None:
            return _finish(
                schedule,
                ScheduleStatus.COMPLETED,
                migration=done,
                note=f"Migration {done.migration_id} completed.",
            )
        request = ScheduleRequest.of(schedule)
        assessment = _assessment(schedule.current_subscription, request, on=today)
        if not assessment.is_eligible:
            reasons = assessment.eligibility.errors
            return _finish(
                schedule,
                ScheduleStatus.FAILED,
                note="Refused: " + "; ".join(str(reason) for reason in reasons),
                error_code=str(reasons[0].code),
                error_description="\n".join(str(reason) for reason in reasons),
            )
        run = Run(
            actor=SCHEDULE_ACTOR,
            initiated_by=MigrationInitiator.SCHEDULE,
            batch=None,
            external_reference_id=schedule.external_reference_id,
            now=timezone.now(),
        )
        [migration_id] = execute_plans([Plan(assessment, request.migration_request())], run)
        migration = Migration.objects.get(pk=migration_id)
        if migration.status == MigrationStatus.COMPLETED:
            return _finish(
                schedule,
                ScheduleStatus.COMPLETED,
                migration=migration,
                note=f"Migration {migration.migration_id} completed.",
            )
        return _finish(
            schedule,
            ScheduleStatus.FAILED,
            migration=migration,
            note=f"Migration {migration.migration_id} failed: {migration.error_description}",
            error_code=migration.error_code,
            error_description=migration.error_description,
        )


def schedules_run_due(*, today: date) -> dict[str, int]:
    """Run every schedule due by `today`, each exactly once (beat, daily; safe to run more often and
    from several workers at once).

    Claims the due Created schedules, then carries out every Processing one: those just claimed and
    those a runner that died left behind. Returns how many were claimed and how each ended.
    """
    claimed = _claim(today)
    outcomes: Counter[str] = Counter()
    pending = MigrationSchedule.objects.filter(status=ScheduleStatus.PROCESSING).order_by("pk")
    for pk in list(pending.values_list("pk", flat=True)):
        try:
            outcomes[_run_one(pk, today=today)] += 1
        except Exception:
            # Its transaction rolled back: the schedule stays Processing and the next run tries it
            # again; the others still run now.
            logger.exception("migration schedule %s could not run", pk)
            outcomes["errors"] += 1
    return {
        "claimed": claimed,
        "completed": outcomes[ScheduleStatus.COMPLETED],
        "failed": outcomes[ScheduleStatus.FAILED],
        "skipped": outcomes["skipped"],
        "errors": outcomes["errors"],
    }
