"""Kill a real Celery worker mid-import, start another, and get exactly the uninterrupted result."""

from __future__ import annotations

import signal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts.models import Customer
from accounts.services.customer_import import customers_import_start
from portal.choices import JobStatus
from portal.models import JobRun
from tests.workers import kill_worker, start_worker, wait_for_redelivery, wait_until

ROWS = 150_000
#: Rows staged at a time by the worker (small, so the first worker dies with most of the file unread).
CHUNK = 10_000


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_to_the_same_result(org_a, alice):
    from portal.celery import app  # noqa: PLC0415 - the conftest made it eager; this test needs the broker

    app.conf.task_always_eager = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    app.control.purge()
    lines = ["name,domain,country,segment,employee_count"]
    lines += [f"Customer {n},c{n}.example,DE,commercial," for n in range(ROWS)]
    upload = SimpleUploadedFile("big.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")
    env = {"DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT), "PORTAL_IMPORT_CHUNK_ROWS": str(CHUNK)}
    first = start_worker("first", **env)
    try:
        job = customers_import_start(actor=alice, organization=org_a, upload=upload)
        wait_until(lambda: JobRun.objects.get(pk=job.pk).done >= 2 * CHUNK, 60, "the first chunks")
    finally:
        kill_worker(first)
    killed_at = JobRun.objects.get(pk=job.pk).done
    assert 0 < killed_at < ROWS, "the worker must die mid-run"
    assert not Customer.objects.filter(organization=org_a).exists(), (
        "nothing is written before the file is read"
    )
    wait_for_redelivery()
    second = start_worker("second", **env)
    try:
        wait_until(
            lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, 400, "the resumed run"
        )
    finally:
        kill_worker(second, signal.SIGTERM)
    job.refresh_from_db()
    assert (job.done, job.total) == (ROWS, ROWS)
    assert (job.result["created"], job.result["customers"]) == (ROWS, ROWS)
    assert Customer.objects.filter(organization=org_a).count() == ROWS
