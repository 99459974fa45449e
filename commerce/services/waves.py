"""The vendor-led migration waves (§3.3): warned in the Action Center, then run at renewal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, QuerySet, TextField
from django.db.models.functions import MD5, Cast
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from accounts.services.action_center import action_item_raise, action_item_resolve
from commerce.choices import (
    NON_TERMINAL_MIGRATION_STATUSES,
    PUBLIC_SECTOR_SEGMENTS,
    MigrationInitiator,
    MigrationStatus,
    Segment,
    SubscriptionStatus,
)
from commerce.eligibility import SEGMENT_FOR_CUSTOMER, MigrationRequest
from commerce.models import LegacySubscription, Migration
from commerce.services.engine import Run, job_chunks, migrate_chunk
from commerce.services.notices import wave_warning_notify
from portal.choices import JobStatus
from portal.jobs import JobRun, job_create, job_fail, job_finish, job_run_chunks, job_start
from portal.roles import Role

JOB_KIND_WAVE = "commerce.migration_wave"


@dataclass(frozen=True)
class Wave:
    name: str
    label: str
    setting: str
    segments: frozenset[str]

    @property
    def start(self) -> date:
        value = getattr(settings, self.setting)
        return value if isinstance(value, date) else date.fromisoformat(value)

    @property
    def customer_segments(self) -> list[str]:
        return [customer for customer, segment in SEGMENT_FOR_CUSTOMER.items() if segment in self.segments]


WAVES = {
    "commercial": Wave(
        "commercial", "commercial", "COMMERCE_WAVE_COMMERCIAL_START", frozenset({Segment.COMMERCIAL})
    ),
    "public_sector": Wave(
        "public_sector", "public-sector", "COMMERCE_WAVE_PUBLIC_SECTOR_START", PUBLIC_SECTOR_SEGMENTS
    ),
}


def _wave(name: str) -> Wave:
    try:
        return WAVES[name]
    except KeyError:
        raise ValueError(f"Unknown wave {name!r}; use one of {', '.join(WAVES)}.") from None


def _wave_subscriptions(wave: Wave) -> QuerySet[LegacySubscription]:
    """Active legacy base subscriptions of the wave's customers, without a migration in flight."""
    in_flight = Migration.objects.filter(
        current_subscription=OuterRef("pk"), status__in=NON_TERMINAL_MIGRATION_STATUSES
    )
    return LegacySubscription.objects.filter(
        status=SubscriptionStatus.ACTIVE,
        parent__isnull=True,
        is_trial=False,
        customer__segment__in=wave.customer_segments,
    ).exclude(Exists(in_flight))


def _wave_reference(wave: Wave, on: date) -> str:
    return f"vendor-{wave.name}-{on.isoformat()}"


def _wave_result(reference: str, due: int) -> dict[str, int]:
    counts = dict(
        Migration.objects.filter(external_reference_id=reference, parent_migration__isnull=True)
        .values_list("status")
        .annotate(count=Count("id"))
    )
    completed = counts.get(MigrationStatus.COMPLETED, 0)
    failed = counts.get(MigrationStatus.FAILED, 0)
    return {"due": due, "completed": completed, "failed": failed, "skipped": due - completed - failed}


def migration_wave_run(*, wave: str, on: date) -> JobRun:
    """The vendor migrates the wave's legacy subscriptions whose term ended before `on`.

    A subscription renewing (term end) on or after the wave start moves the day after its term
    ends: an annual term from that day, same billing plan and seat count, initiated by the vendor.
    Ineligible subscriptions are skipped and counted. One JobRun per wave and day; calling again
    the same day resumes that run (or returns it when it has finished).
    """
    definition = _wave(wave)
    reference = _wave_reference(definition, on)
    job = JobRun.objects.filter(kind=JOB_KIND_WAVE, parameters__reference=reference).order_by("pk").first()
    if job is None:
        due = []
        if on >= definition.start:
            due = list(
                _wave_subscriptions(definition)
                .filter(term_end__gte=definition.start, term_end__lt=on)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        job = job_create(
            kind=JOB_KIND_WAVE,
            parameters={
                "wave": wave,
                "on": on.isoformat(),
                "reference": reference,
                "chunk_size": settings.COMMERCE_MIGRATION_CHUNK_SIZE,
                "ids": due,
            },
            total=len(due),
        )
    if job.status == JobStatus.SUCCEEDED:
        return job
    job_start(job)
    ids = job.parameters["ids"]
    actor = f"vendor-led migration ({definition.label} wave)"
    request = MigrationRequest(at_renewal=True)

    def work(chunk: list[int]):
        def migrate() -> None:
            run = Run(
                actor=actor,
                initiated_by=MigrationInitiator.MICROSOFT,
                batch=None,
                external_reference_id=reference,
                now=timezone.now(),
            )
            migrate_chunk([(pk, request) for pk in chunk], run, on=on, reject=False)

        return migrate

    try:
        job_run_chunks(job, job_chunks(job, ids, work))
    except Exception as exc:
        job.refresh_from_db()
        job_fail(job, error=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result=_wave_result(reference, len(ids)))
    job.refresh_from_db()
    return job


def migration_wave_warn(*, wave: str, on: date) -> int:
    """Tell partners in the Action Center which legacy subscriptions the wave will take.

    From COMMERCE_WAVE_WARNING_DAYS before the wave starts, each organization with active legacy
    subscriptions that have a new-commerce equivalent and renew on or after the wave start gets
    (or has refreshed) one item per wave; the item is resolved when none are left. The people who
    manage customers or place orders are notified too, once per set of subscriptions and wave
    start. Returns the number of organizations warned.
    """
    definition = _wave(wave)
    start = definition.start
    if on < start - timedelta(days=settings.COMMERCE_WAVE_WARNING_DAYS):
        return 0
    dedupe_key = f"nce-wave-{definition.name}"
    upcoming = (
        _wave_subscriptions(definition)
        .filter(offer__equivalent_sku__isnull=False, term_end__gte=max(start, on))
        .values("organization_id")
        .annotate(
            count=Count("id"),
            first=Min("term_end"),
            # The set the wave will take, named by its ids: told once per set and wave start.
            subscriptions=MD5(StringAgg(Cast("id", TextField()), ",", order_by="id")),
        )
        .order_by("organization_id")
    )
    warned = set()
    for row in upcoming:
        first_move = row["first"] + timedelta(days=1)
        count = row["count"]
        # The item and the notification commit together.
        with transaction.atomic():
            action_item_raise(
                organization_id=row["organization_id"],
                code=ActionItemCode.MIGRATION_DEADLINE,
                dedupe_key=dedupe_key,
                severity=Severity.MEDIUM,
                title=(
                    f"{count} legacy subscription{'s' if count != 1 else ''} move to new commerce "
                    f"in the vendor-led {definition.label} wave"
                ),
                body=(
                    f"From {start:%d %B %Y} the vendor migrates legacy subscriptions at renewal: an annual "
                    f"term with the same billing plan and seat count. The first of yours moves on "
                    f"{first_move:%d %B %Y}. Migrate them yourself before then to choose the term, "
                    "billing plan and seats."
                ),
                due_at=timezone.make_aware(datetime.combine(first_move, time.min)),
                target_url="/commerce/",
                audience_roles=[Role.ADMIN_AGENT, Role.GLOBAL_ADMIN],
            )
            wave_warning_notify(
                organization_id=row["organization_id"],
                wave=definition,
                count=count,
                first_move=first_move,
                subscriptions=row["subscriptions"],
            )
        warned.add(row["organization_id"])
    stale = (
        ActionItem.objects.filter(
            dedupe_key=dedupe_key, status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED]
        )
        .exclude(organization_id__in=warned)
        .values_list("organization_id", flat=True)
    )
    for organization_id in list(stale):
        action_item_resolve(organization_id=organization_id, dedupe_key=dedupe_key)
    return len(warned)


def migration_waves_daily(*, on: date) -> dict[str, dict[str, Any]]:
    """What beat runs each day: warn before each wave, and run each wave once it has started."""
    summary: dict[str, dict[str, Any]] = {}
    for name, definition in WAVES.items():
        entry: dict[str, Any] = {"warned": migration_wave_warn(wave=name, on=on)}
        if on >= definition.start:
            job = migration_wave_run(wave=name, on=on)
            entry.update(job_id=job.pk, result=job.result)
        summary[name] = entry
    return summary
