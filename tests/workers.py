"""Real Celery workers for tests that kill one mid-job: started against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
VISIBILITY_TIMEOUT = 3


def worker_env(**extra: str) -> dict[str, str]:
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
    env.update(extra)
    return env


def start_worker(name: str, **extra_env: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-n", f"{name}@%h"]
    return subprocess.Popen(
        [*command, "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=ROOT,
        env=worker_env(**extra_env),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_worker(worker: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(30)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_redelivery() -> None:
    """An unacknowledged task comes back once its visibility timeout has passed."""
    time.sleep(VISIBILITY_TIMEOUT + 1)
