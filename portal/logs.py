"""Structured logs: one JSON object per line, with the request and organization they belong to.

`JsonFormatter` (settings.LOGGING, `LOG_FORMAT=json`) writes timestamp, level, logger, message,
the request ID (portal.context, set by RequestIdMiddleware), the organization of the signed-in
user or API client, the Celery task in a worker, exception text, and any `extra=` fields.

`OrganizationContextMiddleware` sits after authentication and publishes the request to the log
context. The organization is read at log time from the user the request already has, never by a
query of its own: the session user once authentication loaded it, or the API client's service user
once DRF authenticated the request (DRF sets it on the Django request too).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery._state import get_current_task
from django.utils.functional import SimpleLazyObject, empty

from portal import context

#: The attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_request: ContextVar[Any] = ContextVar("portal_log_request", default=None)


def organization_id(request=None) -> int | None:
    """The organization of the current request (or of `request`), when its user is already known:
    no query is made."""
    request = request if request is not None else _request.get()
    if request is None:
        return None
    user = vars(request).get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return getattr(user, "organization_id", None)


class OrganizationContextMiddleware:
    """After authentication: log lines written while this request runs carry its organization."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _task() -> tuple[str | None, str | None]:
    task = get_current_task()
    if task is None or not task.request.id:
        return None, None
    return task.request.id, task.name


class JsonFormatter(logging.Formatter):
    """One JSON object per line; newlines inside messages and tracebacks are escaped."""

    def format(self, record: logging.LogRecord) -> str:
        # Django logs a 4xx answer after the middleware has finished (context reset), with the
        # request in `extra`: fall back to that request's ID and user.
        request = getattr(record, "request", None)
        request = request if hasattr(request, "META") else None
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": context.current().request_id or getattr(request, "id", None) or None,
            "organization_id": organization_id() or (organization_id(request) if request else None),
        }
        task_id, task_name = _task()
        if task_id is None and isinstance(getattr(record, "data", None), dict):
            # Celery's own task lines ("Task x[id] succeeded") carry the task in `data`.
            task_id, task_name = record.data.get("id"), record.data.get("name")
        if task_id:
            entry["task_id"], entry["task_name"] = task_id, task_name
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry and key != "request":
                entry[key] = value
        if record.exc_info:
            entry["exc_type"] = getattr(record.exc_info[0], "__name__", None)
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)
