"""Kill a real Celery worker in the middle of a batch migration, start another, and get exactly
what an uninterrupted run gives: every subscription migrated once, nothing twice, nothing lost.

The approach of tests/portal/test_worker_resume.py: organization A's batch runs on a real worker
that is SIGKILLed after a few chunks; the unacknowledged task comes back to a second worker once
its visibility timeout has passed. Organization B holds the same subscriptions and runs the same
batch uninterrupted in this process. The two end states are compared row for row.
"""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts.models import Customer
from commerce.choices import BillingCycle, MigrationStatus, SubscriptionStatus, TermDuration
from commerce.demo import commerce_demo_catalog, offer_id_for
from commerce.models import LegacySubscription, Migration, NceSubscription
from commerce.services import migration_batch_create, migration_batch_run, migration_batch_start
from portal.choices import JobStatus
from portal.models import HistoryEvent, JobChunk, JobRun
from tests.workers import kill_worker, start_worker, wait_for_redelivery, wait_until

CUSTOMERS = 2_500
CHUNK = 500
#: Per customer: Basic, Premium with a Teams Phone add-on, E3 on annual billing, Business Voice
#: (no new-commerce equivalent: rejected), and a suspended Basic (rejected).
PATTERN = [
    ("basic", {}),
    ("premium", {}),
    ("teams_phone", {"parent": 1}),
    ("e3", {"billing_cycle": BillingCycle.ANNUAL}),
    ("business_voice", {}),
    ("basic", {"status": SubscriptionStatus.SUSPENDED}),
]


def _estate(organization) -> list[dict]:
    """The same legacy subscriptions for any organization, built set-based; returns batch rows."""
    customers = Customer.objects.bulk_create(
        Customer(
            organization=organization,
            name=f"Customer {n}",
            domain=f"c{n}.{organization.partner_global_id}.example",
            country=["US", "GB", "DE", "FR"][n % 4],
        )
        for n in range(CUSTOMERS)
    )
    today = timezone.localdate()
    bases, addons = [], []
    for n, customer in enumerate(customers):
        made = []
        for index, (offer, extra) in enumerate(PATTERN):
            fields = dict(extra)
            parent = made[fields.pop("parent")] if "parent" in fields else None
            subscription = LegacySubscription(
                organization=organization,
                customer=customer,
                offer_id=offer_id_for(offer),
                friendly_name=f"{n}-{index}",
                quantity=1 + (n + index) % 40,
                term_duration=TermDuration.P1Y,
                billing_cycle=fields.pop("billing_cycle", BillingCycle.MONTHLY),
                term_start=today - timedelta(days=200),
                term_end=today + timedelta(days=30 + n % 300),
                parent=parent,
                **fields,
            )
            made.append(subscription)
            (addons if parent else bases).append(subscription)
    LegacySubscription.objects.bulk_create(bases, batch_size=5000)
    LegacySubscription.objects.bulk_create(addons, batch_size=5000)
    return [{"subscription_id": str(s.subscription_id)} for s in bases]


def _state(organization) -> dict:
    """What the batch decided for every subscription, keyed by its place in the estate."""
    history = ContentType.objects.get_for_model(Migration)
    steps: dict[str, list[tuple[str, str]]] = {}
    for object_id, before, after in (
        HistoryEvent.objects.filter(organization=organization, content_type=history)
        .values_list("object_id", "from_status", "to_status")
        .order_by("at", "id")
    ):
        steps.setdefault(object_id, []).append((before, after))
    migrations = {}
    for migration in Migration.objects.filter(organization=organization).select_related(
        "current_subscription", "parent_migration__current_subscription", "new_commerce_subscription"
    ):
        key = migration.current_subscription.friendly_name
        assert key not in migrations, f"{key} was migrated twice"
        nce = migration.new_commerce_subscription
        migrations[key] = (
            migration.status,
            migration.error_code,
            migration.catalog_item_id,
            migration.quantity,
            migration.term_duration,
            migration.billing_cycle,
            migration.subscription_end_date,
            migration.parent_migration.current_subscription.friendly_name
            if migration.parent_migration
            else None,
            (nce.quantity, nce.term_start, nce.term_end, nce.unit_price, nce.currency) if nce else None,
            tuple(steps[str(migration.pk)]),
        )
    legacy = dict(
        LegacySubscription.objects.filter(organization=organization).values_list("friendly_name", "status")
    )
    return {
        "legacy": legacy,
        "migrations": migrations,
        "nce": NceSubscription.objects.filter(organization=organization).count(),
    }


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_the_batch_to_the_uninterrupted_result(
    org_a, org_b, alice, charlie, settings
):
    from portal.celery import app  # noqa: PLC0415 - the conftest made it eager; this test needs the broker

    app.conf.task_always_eager = False
    settings.COMMERCE_MIGRATION_CHUNK_SIZE = CHUNK
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    app.control.purge()
    commerce_demo_catalog()
    rows_a, rows_b = _estate(org_a), _estate(org_b)
    total = len(rows_a)

    first = start_worker("first", COMMERCE_MIGRATION_CHUNK_SIZE=str(CHUNK))
    try:
        batch = migration_batch_start(actor=alice, organization=org_a, rows=rows_a, file_name="big.csv")
        wait_until(lambda: JobRun.objects.get(pk=batch.job_id).done >= 3 * CHUNK, 120, "the first chunks")
    finally:
        kill_worker(first)
    killed_at = JobRun.objects.get(pk=batch.job_id).done
    assert 0 < killed_at < total, "the worker must die mid-run"
    wait_for_redelivery()
    second = start_worker("second", COMMERCE_MIGRATION_CHUNK_SIZE=str(CHUNK))
    try:
        wait_until(
            lambda: JobRun.objects.get(pk=batch.job_id).status == JobStatus.SUCCEEDED, 240, "the resumed run"
        )
    finally:
        kill_worker(second, signal.SIGTERM)

    # The same batch for organization B, uninterrupted, in this process.
    uninterrupted = migration_batch_create(
        actor=charlie, organization=org_b, rows=rows_b, file_name="big.csv"
    )
    migration_batch_run(job_id=uninterrupted.job_id)

    resumed_job = JobRun.objects.get(pk=batch.job_id)
    reference_job = JobRun.objects.get(pk=uninterrupted.job_id)
    per_customer = len(PATTERN) - 1
    assert (
        resumed_job.result
        == reference_job.result
        == {
            "completed": 3 * CUSTOMERS,
            "failed": 0,
            "rejected": 2 * CUSTOMERS,
            "add_ons": CUSTOMERS,
        }
    )
    assert (
        (resumed_job.done, resumed_job.total) == (reference_job.done, reference_job.total) == (total, total)
    )
    assert total == per_customer * CUSTOMERS
    assert JobChunk.objects.filter(job=resumed_job).count() == -(-total // CHUNK)
    resumed, reference = _state(org_a), _state(org_b)
    assert resumed == reference
    # Exactly once: one new-commerce subscription per migrated line (bases and add-ons).
    assert resumed["nce"] == 4 * CUSTOMERS
    completed = [m for m in resumed["migrations"].values() if m[0] == MigrationStatus.COMPLETED]
    assert len(completed) == 4 * CUSTOMERS
    assert all(m[-1] == (("Validating", "Processing"), ("Processing", "Completed")) for m in completed)
