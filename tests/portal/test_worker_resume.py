"""Kill a real Celery worker mid-job, start another, and get exactly the uninterrupted result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from accounts.imports import CHUNK_SIZE, customers_import_start
from accounts.models import Customer
from portal.choices import JobStatus
from portal.models import JobChunk, JobRun

ROOT = Path(__file__).resolve().parents[2]
ROWS = 60_000
VISIBILITY_TIMEOUT = 3


def _worker_env() -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    # An embedded server's HOST is a socket directory: percent-encode it into the URL's host part.
    host = quote(database["HOST"] or "127.0.0.1", safe="")
    env["DATABASE_URL"] = (
        f"postgresql://{database['USER'] or ''}@{host}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    env["CELERY_VISIBILITY_TIMEOUT"] = str(VISIBILITY_TIMEOUT)
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["DB_POOL_DISABLED"] = "1"
    return env


def _start_worker(name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=_worker_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


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
    first = _start_worker("first")
    try:
        job = customers_import_start(actor=alice, organization=org_a, rows=rows, file_name="big.csv")
        _wait(lambda: JobRun.objects.get(pk=job.pk).done >= 5 * CHUNK_SIZE, 60, "the first chunks")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = JobRun.objects.get(pk=job.pk).done
        assert 0 < killed_at < ROWS, "the worker must die mid-run"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    # The unacknowledged task comes back once its visibility timeout has passed.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    second = _start_worker("second")
    try:
        _wait(lambda: JobRun.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, 120, "the resumed run")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    job.refresh_from_db()
    assert (job.done, job.total, job.result) == (ROWS, ROWS, {"customers": ROWS})
    assert Customer.objects.filter(organization=org_a).count() == ROWS
    assert JobChunk.objects.filter(job=job).count() == ROWS // CHUNK_SIZE
