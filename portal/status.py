"""Is the portal alive and ready: database, Redis, and at least one Celery worker.

`run_checks` feeds the status page and the liveness probe (`/status/health/`); `ready` is the
readiness probe (`/status/ready/`): the same database and worker checks, a PING of the cache's
Redis, and a PING of the broker before the workers are asked.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from portal.cache import redis_client
from portal.celery import app as celery_app

logger = logging.getLogger(__name__)

#: How long the worker checks wait for a worker's answer, and Redis for a connection or a reply.
WORKER_PING_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 1.0


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


def _workers(limit: int | None = None):
    """Broadcast a ping; with `limit`, return as soon as that many workers answered."""
    replies = celery_app.control.ping(timeout=WORKER_PING_SECONDS, limit=limit)
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return False, f"no worker answered within {WORKER_PING_SECONDS:g} s"
    return True, f"{len(names)} worker(s): {', '.join(names)}"


def run_checks(*, include_workers: bool = True) -> list[Check]:
    checks = [_timed("Database", _database), _timed("Redis", _redis)]
    if include_workers:
        checks.append(_timed("Celery workers", _workers))
    return checks


# --- Readiness -----------------------------------------------------------------------------------

_broker_clients: dict[str, redis.Redis] = {}


def broker_redis() -> redis.Redis | None:
    """A redis-py client for the Celery broker (short timeouts), or None for a non-Redis broker."""
    url = celery_app.conf.broker_url or ""
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return None
    client = _broker_clients.get(url)
    if client is None:
        client = _broker_clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
    return client


def _redis_ping():
    return bool(redis_client().ping()), "PING answered"


def _live_worker():
    if celery_app.conf.task_always_eager:
        return True, "tasks run inline (CELERY_TASK_ALWAYS_EAGER): no worker needed"
    broker = broker_redis()
    if broker is not None:
        # An unreachable broker fails fast here instead of in Celery's connection retries.
        broker.ping()
    return _workers(limit=1)


def readiness_checks() -> list[Check]:
    return [
        _timed("database", _database),
        _timed("redis", _redis_ping),
        _timed("celery", _live_worker),
    ]


@require_GET
def ready(request):
    """Readiness: 200 when the database, Redis and a live Celery worker answer, else 503 naming
    the failing checks. The route is open, so the body names checks only; details go to the log."""
    checks = readiness_checks()
    failing = [check.name for check in checks if not check.ok]
    for check in checks:
        if not check.ok:
            logger.warning("readiness check %s failed: %s", check.name, check.detail)
    body = {
        "status": "not ready" if failing else "ready",
        "checks": {check.name: {"ok": check.ok, "millis": check.millis} for check in checks},
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
