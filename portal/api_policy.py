"""The policy classes REST_FRAMEWORK settings name: authentication, permission, pagination, throttling.

Kept apart from portal.api because DRF imports these classes while `rest_framework.views` is
still loading; this module must not import views or viewsets.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from oauth2_provider.models import AccessToken
from rest_framework import exceptions, filters, pagination, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from portal.cache import redis_client
from portal.capabilities import can

# --- Authentication ---------------------------------------------------------------------------


class VerifiedSessionAuthentication(SessionAuthentication):
    """The pages' own calls: a signed-in person who has passed the second factor."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if not user or not user.is_active or not user.is_authenticated:
            return None
        if not user.is_verified():
            raise exceptions.NotAuthenticated("Pass the second factor (MFA) first.")
        self.enforce_csrf(request)
        return user, None


# --- Permissions ------------------------------------------------------------------------------


def _workspace_of(view) -> str:
    return getattr(view, "workspace", None) or view.__module__.split(".")[0]


class IsOrganizationMember(permissions.BasePermission):
    """Authenticated member of a partner organization, with the token scope and the capability.

    A viewset declares `capabilities = {"list": Capability.X, "create": Capability.Y, ...}` (the
    key "*" is the default); tokens need the `<workspace>:read` or `<workspace>:write` scope.
    """

    message = "You don't have a role that allows this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or user.organization_id is None:
            return False
        if isinstance(request.auth, AccessToken):
            mode = "read" if request.method in permissions.SAFE_METHODS else "write"
            scope = f"{_workspace_of(view)}:{mode}"
            if not request.auth.allow_scopes([scope]):
                self.message = f"The token lacks the {scope!r} scope."
                return False
        required = required_capability(view, request)
        return required is None or can(user, required)


def required_capability(view, request) -> str | None:
    capabilities: dict[str, str] = getattr(view, "capabilities", {})
    action = getattr(view, "action", None) or request.method.lower()
    return capabilities.get(action, capabilities.get("*"))


# --- Pagination and throttling ------------------------------------------------------------------


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"

    def decode_cursor(self, request):
        # A cursor the client garbled is bad input (400), not a missing resource (404).
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc


def throttle_key(scope: str, ident: str, window_start: int) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:throttle:{scope}:{ident}:{window_start}"


def parse_rate(rate: str) -> tuple[int, int]:
    """`"6000/minute"` → (6000, 60)."""
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


#: Requests a process may count locally before adding them to the shared counter: a thousandth of
#: the budget, at most 100, so a budget is never exceeded by more than 0.1% per process, and small
#: budgets (under 2,000 per window) are counted exactly, one round trip per request.
def _batch(limit: int) -> int:
    return max(1, min(limit // 1000, 100))


#: key → (requests not yet added to Redis, last shared count seen, end of the key's window)
_local_counts: dict[str, tuple[int, int, float]] = {}
_local_lock = threading.Lock()


def fixed_window_wait(scope: str, ident: str, limit: int, window: int) -> float | None:
    """Count one request of `ident` in the current window; the seconds to wait when over `limit`.

    A fixed-window counter in Redis, incremented atomically (INCRBY), so no request goes uncounted
    when many arrive at once (DRF's history list loses concurrent writes). Each process adds its
    requests in batches of `_batch(limit)`: with a large budget most requests cost no round trip.
    """
    now = time.time()
    window_start = int(now // window) * window
    window_end = window_start + window
    key = throttle_key(scope, ident, window_start)
    batch = _batch(limit)
    with _local_lock:
        pending, shared, _ = _local_counts.get(key, (0, 0, window_end))
        pending += 1
        if pending < batch and shared + pending <= limit:
            _local_counts[key] = (pending, shared, window_end)
            return None
        _local_counts[key] = (0, shared, window_end)
    client = redis_client()
    count = client.incrby(key, pending)
    if count == pending:
        # The window's first requests give the counter its expiry; the key names its window, so
        # a counter that somehow kept none only outlives its window, it never miscounts another.
        client.expire(key, window + 1)
    with _local_lock:
        waiting, shared, _ = _local_counts.get(key, (0, 0, window_end))
        _local_counts[key] = (waiting, max(count, shared), window_end)
        if len(_local_counts) > 1000:
            for finished in [k for k, (_, _, end) in _local_counts.items() if end <= now]:
                del _local_counts[finished]
    return None if count <= limit else window_end - now


class OrganizationRateThrottle(BaseThrottle):
    """One budget per organization, shared by its people and its API clients (`fixed_window_wait`)."""

    scope = "organization"

    def __init__(self):
        self.limit, self.window = parse_rate(api_settings.DEFAULT_THROTTLE_RATES[self.scope])
        self.wait_seconds: float | None = None

    def _ident(self, request) -> str:
        organization_id = getattr(request.user, "organization_id", None)
        return f"org-{organization_id}" if organization_id is not None else f"ip-{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        self.wait_seconds = fixed_window_wait(self.scope, self._ident(request), self.limit, self.window)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the URL has none of the FilterSet's parameters.

    Building a FilterSet and its form on every unfiltered list request costs more than the query.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not request.query_params.keys() & filterset_class.base_filters.keys():
            return queryset
        return super().filter_queryset(request, queryset, view)


class SearchFilter(filters.SearchFilter):
    """DRF's `?search=`, skipped when the URL has no search term (as `FilterBackend` is skipped)."""

    def filter_queryset(self, request, queryset, view):
        if not request.query_params.get(self.search_param):
            return queryset
        return super().filter_queryset(request, queryset, view)
