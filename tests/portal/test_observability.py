"""Operations: Prometheus metrics behind a token or a verified staff session, JSON log lines that
name their request and organization, and the readiness probe against real (or dead) services."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from portal import gunicorn_conf
from portal.celery import app as celery_app
from portal.choices import JobStatus
from portal.logs import JsonFormatter
from portal.middleware import OPEN_ROUTES
from portal.models import JobRun
from tests.conftest import verified_session
from tests.factories import UserFactory
from tests.workers import ROOT, kill_worker, wait_until, worker_env

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789abcdef"
DEAD = "redis://127.0.0.1:1/0"
METRIC_NAMES = (
    "portal_http_requests_total",
    "portal_http_request_duration_seconds",
    "portal_http_request_db_queries",
    "portal_celery_queue_length",
    "portal_celery_unacked_messages",
    "portal_jobs_finished_total",
    "portal_job_duration_seconds",
    "portal_jobs_unfinished",
    "portal_metrics_source_up",
)


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, email="ops@vendor.example")


def _scrape(**headers) -> dict[str, dict[tuple, float]]:
    response = Client().get(reverse("portal:metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _value(samples, name: str, **labels) -> float | None:
    return samples.get(name, {}).get(tuple(sorted(labels.items())))


# --- Routes -----------------------------------------------------------------------------------------


def test_the_routes_are_named_and_open_before_sign_in():
    """Both authenticate (or need nothing) themselves: the middleware lets them through."""
    assert reverse("portal:metrics") == "/metrics"
    assert reverse("portal:ready") == "/status/ready/"
    assert {"portal:metrics", "portal:ready"} <= OPEN_ROUTES


# --- Metrics: protection ----------------------------------------------------------------------------


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_refuse_a_request_without_a_token():
    response = Client().get("/metrics")
    assert response.status_code == 404
    assert b"portal_" not in response.content


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_refuse_a_wrong_token():
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN[:-1]}x")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


@override_settings(METRICS_TOKEN="")
def test_metrics_refuse_every_token_when_none_is_configured():
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 401


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_answer_the_right_token_with_every_metric():
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in METRIC_NAMES:
        assert f"# TYPE {name} " in body, name


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_speak_openmetrics_when_asked():
    response = Client().get(
        "/metrics",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        HTTP_ACCEPT="application/openmetrics-text; version=1.0.0",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


def test_metrics_refuse_a_staff_session_that_passed_only_the_password(staff):
    client = Client()
    client.force_login(staff)
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"portal_" not in response.content


def test_metrics_refuse_a_verified_partner_user(alice):
    response = verified_session(alice).get("/metrics")
    assert response.status_code == 404
    assert b"portal_" not in response.content


def test_metrics_answer_a_verified_staff_session(staff):
    response = verified_session(staff).get("/metrics")
    assert response.status_code == 200
    assert b"portal_http_requests_total" in response.content


@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_refuse_other_methods():
    assert Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


# --- Metrics: what they count -----------------------------------------------------------------------


@override_settings(METRICS_TOKEN=TOKEN)
def test_requests_are_counted_by_route_name_method_and_status_class(alice):
    def requests(route, method, status):
        labels = {"route": route, "method": method, "status": status}
        return REGISTRY.get_sample_value("portal_http_requests_total", labels) or 0

    def queries(route):
        return REGISTRY.get_sample_value("portal_http_request_db_queries_count", {"route": route}) or 0

    health, job, unmatched = (
        requests("portal:health", "GET", "2xx"),
        requests("portal:job-detail", "GET", "4xx"),
        requests("<unmatched>", "GET", "4xx"),
    )
    job_queries = queries("portal:job-detail")
    for _ in range(3):
        Client().get("/status/health/")
    client = verified_session(alice)
    client.get("/jobs/987654/")
    client.get("/no-such-page/123/")

    assert requests("portal:health", "GET", "2xx") == health + 3
    assert requests("portal:job-detail", "GET", "4xx") == job + 1
    assert requests("<unmatched>", "GET", "4xx") == unmatched + 1
    assert queries("portal:job-detail") == job_queries + 1
    duration = REGISTRY.get_sample_value(
        "portal_http_request_duration_seconds_count",
        {"route": "portal:health", "method": "GET", "status": "2xx"},
    )
    assert duration >= 3
    body = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    # Route names only: never a raw path (the label set stays bounded).
    assert "/jobs/987654/" not in body and "no-such-page" not in body
    assert 'route="portal:job-detail"' in body


@override_settings(METRICS_TOKEN=TOKEN)
def test_a_request_that_runs_queries_is_counted_in_the_query_histogram(alice):
    client = verified_session(alice)
    before = (
        REGISTRY.get_sample_value("portal_http_request_db_queries_sum", {"route": "portal:job-list"}) or 0
    )
    assert client.get(reverse("portal:job-list")).status_code == 200
    after = REGISTRY.get_sample_value("portal_http_request_db_queries_sum", {"route": "portal:job-list"})
    assert after - before >= 2  # the session, the user, the jobs at least


@override_settings(METRICS_TOKEN=TOKEN)
def test_job_counts_and_durations_come_from_the_job_runs(org_a):
    now = timezone.now()

    def run(status, seconds=None, started=True):
        return JobRun.objects.create(
            kind="obs.sample",
            organization=org_a,
            status=status,
            started_at=now - timedelta(seconds=seconds or 0) if started else None,
            finished_at=now if seconds is not None else None,
        )

    run(JobStatus.SUCCEEDED, 10)
    run(JobStatus.SUCCEEDED, 100)
    run(JobStatus.FAILED, 4000)
    run(JobStatus.RUNNING)
    run(JobStatus.QUEUED, started=False)
    run(JobStatus.QUEUED, started=False)

    samples = _scrape()
    ok = {"kind": "obs.sample", "status": "succeeded"}
    failed = {"kind": "obs.sample", "status": "failed"}
    assert _value(samples, "portal_jobs_finished_total", **ok) == 2
    assert _value(samples, "portal_jobs_finished_total", **failed) == 1
    assert _value(samples, "portal_job_duration_seconds_count", **ok) == 2
    assert _value(samples, "portal_job_duration_seconds_sum", **ok) == pytest.approx(110)
    assert _value(samples, "portal_job_duration_seconds_bucket", **ok, le="5.0") == 0
    assert _value(samples, "portal_job_duration_seconds_bucket", **ok, le="15.0") == 1
    assert _value(samples, "portal_job_duration_seconds_bucket", **ok, le="120.0") == 2
    assert _value(samples, "portal_job_duration_seconds_bucket", **failed, le="3600.0") == 0
    assert _value(samples, "portal_job_duration_seconds_bucket", **failed, le="+Inf") == 1
    assert _value(samples, "portal_jobs_unfinished", kind="obs.sample", status="running") == 1
    assert _value(samples, "portal_jobs_unfinished", kind="obs.sample", status="queued") == 2
    assert _value(samples, "portal_metrics_source_up", source="jobs") == 1


@override_settings(METRICS_TOKEN=TOKEN)
def test_queue_length_is_read_from_the_broker_at_scrape_time():
    from portal.tasks import webhook_deliver_task  # noqa: PLC0415

    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        for _ in range(3):
            webhook_deliver_task.apply_async(args=[0], queue="default")
        samples = _scrape()
        assert _value(samples, "portal_celery_queue_length", queue="default") == 3
        assert _value(samples, "portal_metrics_source_up", source="celery_queues") == 1
    finally:
        celery_app.control.purge()


@override_settings(METRICS_TOKEN=TOKEN)
def test_a_dead_broker_costs_only_its_own_metrics(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", DEAD)
    samples = _scrape()
    assert _value(samples, "portal_metrics_source_up", source="celery_queues") == 0
    assert _value(samples, "portal_metrics_source_up", source="jobs") == 1
    assert "portal_celery_queue_length" not in samples


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    """Two processes record requests into PROMETHEUS_MULTIPROC_DIR; a third one's scrape sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    record = (
        "import django; django.setup(); from portal import metrics; "
        "metrics.REQUESTS.labels('portal:health', 'GET', '2xx').inc(2)"
    )
    scrape = (
        "import django; django.setup(); from portal import metrics; "
        "print(metrics.multiprocess_dir()); "
        "from prometheus_client import generate_latest; "
        "print(generate_latest(metrics.exposition().collectors[0]).decode())"
    )
    recorders = [subprocess.Popen([sys.executable, "-c", record], cwd=ROOT, env=env) for _ in range(2)]
    assert [recorder.wait(60) for recorder in recorders] == [0, 0]
    assert list(tmp_path.glob("counter_*.db"))
    output = subprocess.run(
        [sys.executable, "-c", scrape],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert str(tmp_path) in output
    assert 'portal_http_requests_total{method="GET",route="portal:health",status="2xx"} 4.0' in output


def test_the_gunicorn_hooks_empty_the_directory_and_mark_workers_dead(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "metrics" / "gauge_livesum_77.db").write_bytes(b"live")
    gunicorn_conf.on_starting(server=None)
    assert list((tmp_path / "metrics").iterdir()) == []
    (tmp_path / "metrics" / "gauge_livesum_77.db").write_bytes(b"live")
    gunicorn_conf.child_exit(server=None, worker=type("Worker", (), {"pid": 77})())
    assert list((tmp_path / "metrics").iterdir()) == []


# --- JSON logs ----------------------------------------------------------------------------------------


@pytest.fixture
def log_lines():
    """What the configured stdout handler writes, as parsed JSON objects."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert handlers, "LOG_FORMAT=json (the default with DEBUG off) puts a JSON handler on the root logger"
    stream = io.StringIO()
    previous = handlers[0].setStream(stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        handlers[0].setStream(previous)


def test_a_log_line_is_one_json_object_with_the_request_and_organization(alice, bob, log_lines):
    verified_session(alice).get("/jobs/987654/", HTTP_X_REQUEST_ID="obs-request-404")
    verified_session(bob).get(reverse("portal:job-list"), HTTP_X_REQUEST_ID="obs-request-403")

    by_request = {line.get("request_id"): line for line in log_lines() if line["logger"] == "django.request"}
    not_found, forbidden = by_request["obs-request-404"], by_request["obs-request-403"]
    assert not_found["level"] == "WARNING"
    assert not_found["message"] == "Not Found: /jobs/987654/"
    assert not_found["organization_id"] == alice.organization_id
    assert not_found["status_code"] == 404
    assert forbidden["organization_id"] == bob.organization_id
    assert forbidden["message"].startswith("Forbidden")
    assert "T" in not_found["timestamp"] and not_found["timestamp"].endswith("+00:00")


def test_a_log_line_carries_the_exception_on_one_line(log_lines):
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        logging.getLogger("portal.test").exception("it broke")
    (line,) = [line for line in log_lines() if line["logger"] == "portal.test"]
    assert line["level"] == "ERROR"
    assert line["exc_type"] == "ValueError"
    assert "second line" in line["exc_info"] and "Traceback" in line["exc_info"]
    assert line["request_id"] is None and line["organization_id"] is None


def test_log_format_text_keeps_plain_lines():
    code = (
        "import django, logging; django.setup(); from django.conf import settings; "
        "print(settings.LOG_FORMAT, settings.LOGGING['handlers']['console']['formatter'])"
    )
    env = {**os.environ, "LOG_FORMAT": "text"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["text", "plain"]
    env["LOG_FORMAT"] = "xml"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "LOG_FORMAT must be json or text" in result.stderr


# --- Readiness -------------------------------------------------------------------------------------------


def test_ready_checks_every_service_and_names_them():
    """In the test settings tasks run inline, so no worker is needed."""
    response = Client().get("/status/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis", "celery"}
    assert all(check["ok"] for check in body["checks"].values())


def test_ready_is_503_naming_redis_when_the_cache_redis_is_down():
    caches = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": DEAD}}
    with override_settings(CACHES=caches):
        response = Client().get("/status/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["database"]["ok"] is True


def test_ready_is_503_naming_celery_when_the_broker_is_down(monkeypatch):
    celery_app.conf.task_always_eager = False
    monkeypatch.setattr(celery_app.conf, "broker_url", DEAD)
    started = time.monotonic()
    response = Client().get("/status/ready/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["celery"]
    assert time.monotonic() - started < 5


def test_ready_is_503_naming_celery_when_no_worker_answers():
    celery_app.conf.task_always_eager = False
    response = Client().get("/status/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["celery"]
    # An open route: the body names the failing check, never hosts, versions or errors.
    assert "detail" not in json.dumps(body) and "Error" not in json.dumps(body)


@pytest.fixture(scope="module")
def json_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker logging JSON to a file (LOG_FORMAT=json, INFO)."""
    log = tmp_path_factory.mktemp("worker") / "stdout.log"
    with django_db_blocker.unblock(), open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-n", "obs@%h"]
            + ["--without-gossip", "--without-mingle", "-l", "info"],
            cwd=ROOT,
            env=worker_env(LOG_FORMAT="json", LOG_LEVEL="INFO"),
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: celery_app.control.ping(timeout=0.5), 60, "the worker to answer a ping")
            yield worker, Path(log)
        finally:
            kill_worker(worker)


def test_ready_is_200_with_a_live_worker(json_worker):
    celery_app.conf.task_always_eager = False
    response = Client().get("/status/ready/")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["celery"]["ok"] is True


def test_a_worker_logs_json_lines_with_the_task_id(json_worker):
    from portal.tasks import webhook_deliver_task  # noqa: PLC0415

    celery_app.conf.task_always_eager = False
    _, log = json_worker
    result = webhook_deliver_task.apply_async(args=[0], queue="default")

    def task_lines():
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("task_id") == result.id]

    wait_until(lambda: any(line["level"] == "ERROR" for line in task_lines()), 30, "the task's error line")
    error = next(line for line in task_lines() if line["level"] == "ERROR")
    assert error["task_name"] == "portal.tasks.webhook_deliver_task"
    assert error["exc_type"] == "DoesNotExist"
    assert set(error) >= {"timestamp", "level", "logger", "message", "request_id", "organization_id"}
    # No line in Celery's own format: everything logged is JSON (the start-up banner is printed,
    # not logged; `celery --quiet` drops it).
    plain = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:,]+: [A-Z]+/")
    assert not [line for line in log.read_text().splitlines() if plain.match(line)]
