"""Where the current request came from, for audit rows written deep inside services."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    via: str = "system"


_NO_REQUEST = RequestContext()
_current: ContextVar[RequestContext | None] = ContextVar("portal_request", default=None)


def current() -> RequestContext:
    """The active request's context; jobs and shell sessions get an empty one."""
    return _current.get() or _NO_REQUEST


def activate(context: RequestContext):
    return _current.set(context)


def reset(token) -> None:
    _current.reset(token)
