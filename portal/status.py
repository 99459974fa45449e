"""Is the portal alive: database, Redis, and at least one Celery worker."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection

from portal.celery import app as celery_app


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    millis: int


def _timed(name: str, probe) -> Check:
    started = time.monotonic()
    try:
        ok, detail = probe()
    except Exception as exc:  # noqa: BLE001 - a status page reports every failure, whatever it is
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(name, ok, detail, int((time.monotonic() - started) * 1000))


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        return True, cursor.fetchone()[0].split(" on ")[0]


def _redis():
    cache.set("status:ping", "pong", 10)
    return cache.get("status:ping") == "pong", "read and write answered"


def _workers():
    replies = celery_app.control.ping(timeout=1.0)
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return False, "no worker answered within 1 s"
    return True, f"{len(names)} worker(s): {', '.join(names)}"


def run_checks(*, include_workers: bool = True) -> list[Check]:
    checks = [_timed("Database", _database), _timed("Redis", _redis)]
    if include_workers:
        checks.append(_timed("Celery workers", _workers))
    return checks
