"""Gunicorn hooks for Prometheus multiprocess mode and JSON logs: `gunicorn -c python:portal.gunicorn_conf`.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics to files in that directory and
a scrape adds them up (portal/metrics.py). Files left by an earlier run would be counted again, so
the directory is emptied when gunicorn starts; a worker that exits is marked dead so its live
gauges are dropped (its counters and histograms stay, as Prometheus expects).

Gunicorn's own error log uses the same formatter as the portal (LOG_FORMAT, default json with
DEBUG off), on stdout.
"""

from __future__ import annotations

import os
from pathlib import Path

from portal.env import env_bool, env_str

_json = env_str("LOG_FORMAT", "text" if env_bool("DJANGO_DEBUG", False) else "json").lower() == "json"

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "portal.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if _json else "plain",
        }
    },
    "loggers": {
        "gunicorn.error": {
            "handlers": ["console"],
            "level": env_str("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        # No access log (as without this file): the portal's metrics count requests, and its own
        # log lines carry the request ID.
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}


def _multiprocess_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server) -> None:
    directory = _multiprocess_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    if _multiprocess_dir() is None:
        return
    from prometheus_client import multiprocess  # noqa: PLC0415 - only in multiprocess mode

    multiprocess.mark_process_dead(worker.pid)
