"""Prometheus metrics: requests, database queries, Celery queues and batch jobs.

Recorded in the web process by `RequestMetricsMiddleware`, labelled by the resolved URL name
(never the raw path, so the number of series stays bounded), method and status class:

- portal_http_requests_total{route,method,status}
- portal_http_request_duration_seconds{route,method,status} (histogram)
- portal_http_request_db_queries{route} (histogram of queries per request)

Read at scrape time, so every gunicorn worker answers the same whichever one is scraped:

- portal_celery_queue_length{queue}: messages waiting in each broker queue (Redis list lengths)
- portal_celery_unacked_messages: messages delivered to a worker and not yet acknowledged
- portal_jobs_finished_total{kind,status} and portal_job_duration_seconds{kind,status} (histogram):
  finished JobRun rows. Jobs run in Celery workers, often on other hosts, so a counter kept in a
  worker's memory would never reach this endpoint; the JobRun table is the shared record.
- portal_jobs_unfinished{kind,status}: queued and running JobRun rows
- portal_metrics_source_up{source}: 1 when a scrape-time source answered, 0 when it failed

Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty directory writable by every
worker before gunicorn starts (portal/gunicorn_conf.py empties it at start and tidies after a
worker exits); each process then writes its request metrics there and a scrape adds them up.
Without it the metrics live in the process's memory (runserver, a single worker).

`/metrics` answers a bearer token equal to METRICS_TOKEN (compared in constant time), or a vendor
staff session that passed the second factor; a wrong token gets a 401, anything else a 404, and
neither any data.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from contextlib import ExitStack
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseNotFound
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_GET
from kombu.transport.redis import PRIORITY_STEPS, Channel
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from portal.celery import app as celery_app
from portal.choices import JobStatus
from portal.models import JobRun
from portal.status import broker_redis

logger = logging.getLogger(__name__)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a path no URL pattern matches.
UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by route name, method and status class.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUEST_QUERIES = Histogram(
    "portal_http_request_db_queries",
    "Database queries run while answering an HTTP request, by route name.",
    ["route"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500),
)
#: Job durations: batch jobs run from seconds to the hour their time limit allows.
JOB_SECONDS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --- Recording requests --------------------------------------------------------------------------


class _QueryCounter:
    """A database execute wrapper that counts the queries of one request."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def route_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        # A middleware answered before the view was resolved (a sign-in redirect, a refusal).
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return UNMATCHED
    return match.view_name


class RequestMetricsMiddleware:
    """Counts and times every request after static files (place it right after WhiteNoise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        queries = _QueryCounter()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(queries))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_name(request)
        method = request.method if request.method in _METHODS else "other"
        status = f"{response.status_code // 100}xx"
        REQUESTS.labels(route, method, status).inc()
        REQUEST_SECONDS.labels(route, method, status).observe(elapsed)
        REQUEST_QUERIES.labels(route).observe(queries.count)
        return response


# --- Read at scrape time -------------------------------------------------------------------------


def _source_up(results: dict[str, bool]) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(
        "portal_metrics_source_up",
        "1 when a scrape-time source answered, 0 when it failed.",
        labels=["source"],
    )
    for source, ok in results.items():
        gauge.add_metric([source], 1 if ok else 0)
    return gauge


def celery_queue_names() -> list[str]:
    names = {celery_app.conf.task_default_queue, *celery_app.amqp.queues.keys()}
    return sorted(name for name in names if name)


def _queue_families():
    """Lengths of the broker's queue lists. Kombu keeps a Redis list per queue and priority step."""
    client = broker_redis()
    if client is None:
        return []
    options = celery_app.conf.broker_transport_options or {}
    prefix = options.get("global_keyprefix", "")
    separator = options.get("sep", Channel.sep)
    steps = options.get("priority_steps", PRIORITY_STEPS)
    queues = celery_queue_names()
    with client.pipeline(transaction=False) as pipe:
        for queue in queues:
            for step in steps:
                pipe.llen(f"{prefix}{queue}{separator}{step}" if step else f"{prefix}{queue}")
        pipe.hlen(f"{prefix}{Channel.unacked_key}")
        answers = pipe.execute()
    length = GaugeMetricFamily(
        "portal_celery_queue_length", "Messages waiting in a Celery broker queue.", labels=["queue"]
    )
    for index, queue in enumerate(queues):
        length.add_metric([queue], sum(answers[index * len(steps) : (index + 1) * len(steps)]))
    unacked = GaugeMetricFamily(
        "portal_celery_unacked_messages",
        "Messages a Celery worker received and has not acknowledged yet (tasks in progress).",
        value=answers[-1],
    )
    return [length, unacked]


def _job_families():
    finished = (
        JobRun.objects.filter(status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED], finished_at__isnull=False)
        .alias(
            took=ExpressionWrapper(
                F("finished_at") - Coalesce("started_at", "created_at"), output_field=DurationField()
            )
        )
        .order_by()
        .values("kind", "status")
        .annotate(
            runs=Count("id"),
            seconds=Sum("took"),
            **{
                f"le_{index}": Count("id", filter=Q(took__lte=timedelta(seconds=bound)))
                for index, bound in enumerate(JOB_SECONDS_BUCKETS)
            },
        )
    )
    total = CounterMetricFamily(
        "portal_jobs_finished",
        "Batch jobs (JobRun) finished, by kind and final status.",
        labels=["kind", "status"],
    )
    duration = HistogramMetricFamily(
        "portal_job_duration_seconds",
        "Run time of finished batch jobs (start to finish), by kind and final status.",
        labels=["kind", "status"],
    )
    for row in finished:
        labels = [row["kind"], row["status"]]
        total.add_metric(labels, row["runs"])
        buckets = [(str(float(bound)), row[f"le_{index}"]) for index, bound in enumerate(JOB_SECONDS_BUCKETS)]
        seconds = row["seconds"].total_seconds() if row["seconds"] else 0.0
        duration.add_metric(labels, [*buckets, ("+Inf", row["runs"])], sum_value=max(seconds, 0.0))
    unfinished = GaugeMetricFamily(
        "portal_jobs_unfinished",
        "Batch jobs queued or running, by kind and status.",
        labels=["kind", "status"],
    )
    for row in (
        JobRun.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .order_by()
        .values("kind", "status")
        .annotate(runs=Count("id"))
    ):
        unfinished.add_metric([row["kind"], row["status"]], row["runs"])
    return [total, duration, unfinished]


class ScrapeTimeCollector:
    """Shared state read when Prometheus scrapes: the broker's queues and the JobRun table."""

    sources = {"celery_queues": _queue_families, "jobs": _job_families}

    def collect(self):
        results = {}
        for source, read in self.sources.items():
            try:
                families = read()
            except Exception:  # noqa: BLE001 - one broken source must not cost the others
                logger.warning("metrics source %s failed", source, exc_info=True)
                results[source] = False
                continue
            results[source] = True
            yield from families
        yield _source_up(results)


class _Exposition:
    """What one scrape exposes: the recorded metrics and the scrape-time ones."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition() -> _Exposition:
    if multiprocess_dir():
        recorded = CollectorRegistry()
        MultiProcessCollector(recorded)
    else:
        recorded = REGISTRY
    return _Exposition(recorded, ScrapeTimeCollector())


# --- The endpoint --------------------------------------------------------------------------------


def _bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_matches(offered: str) -> bool:
    expected = getattr(settings, "METRICS_TOKEN", "")
    return bool(expected) and hmac.compare_digest(offered.encode(), expected.encode())


def _verified_staff(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and getattr(user, "is_verified", lambda: False)()
    )


@require_GET
def metrics(request):
    """Prometheus exposition for a METRICS_TOKEN bearer or a verified vendor staff session.

    A wrong token gets a 401 (so a misconfigured scraper says so); anybody else a 404.
    """
    offered = _bearer_token(request)
    if offered is not None:
        if not _token_matches(offered):
            response = HttpResponse(b"", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
    elif not _verified_staff(request.user):
        return HttpResponseNotFound(b"", content_type="text/plain")
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(exposition()), content_type=content_type)
