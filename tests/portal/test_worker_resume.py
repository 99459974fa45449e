"""Kill a real Celery worker mid-job, start another, and get exactly the uninterrupted result."""

from __future__ import annotations

import signal

import pytest
from django.db import connection

from accounts.models import Customer
from accounts.services.customer_import import CHUNK_SIZE, customers_import_start
from portal.choices import JobStatus
from portal.models import JobChunk, JobRun
from tests.workers import kill_worker, start_worker, wait_for_redelivery, wait_until

ROWS = 60_000


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_to_the_same_result(org_a, alice):
    from portal.celery import app  # noqa: PLC0415 - the conftest made it eager; this test needs the broker

    app.conf.task_always_eager = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    app.control.purge()
    rows = [
        {
            "name": f"Customer {n}",
            "domain": f"c{n}.example",
            "country": "DE",
            "segment": "commercial",
            "employee_count": None,
        }
        for n in range(ROWS)
    ]
    first = start_worker("first")
    try:
        job = customers_import_start(actor=alice, organization=org_a, rows=rows, file_name="big.csv")
        wait_until(lambda: JobRun.objects.get(pk=job.pk).done >= 5 * CHUNK_SIZE, 60, "the first chunks")
    finally:
        kill_worker(first)
    killed_at = JobRun.objects.get(pk=job.pk).done
    assert 0 < killed_at < ROWS, "the worker must die mid-run"
    wait_for_redelivery()
    second = start_worker("second")
    try:
        wait_until(
            lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, 120, "the resumed run"
        )
    finally:
        kill_worker(second, signal.SIGTERM)
    job.refresh_from_db()
    assert (job.done, job.total, job.result) == (ROWS, ROWS, {"customers": ROWS})
    assert Customer.objects.filter(organization=org_a).count() == ROWS
    assert JobChunk.objects.filter(job=job).count() == ROWS // CHUNK_SIZE
