"""The policy classes REST_FRAMEWORK settings name: authentication, permission, pagination, throttling.

Kept apart from portal.api because DRF imports these classes while `rest_framework.views` is
still loading; this module must not import views or viewsets.
"""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from rest_framework import exceptions, pagination, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.throttling import SimpleRateThrottle

from accounts.capabilities import can

# --- Authentication ---------------------------------------------------------------------------


class OrganizationTokenAuthentication(OAuth2Authentication):
    """A client-credentials token acts as its API client's service identity (one organization)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None and token.application_id:
            user = token.application.user
        client = getattr(user, "api_client", None) if user is not None else None
        if user is None or not user.is_active or client is None or client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This API client is revoked or not bound to an organization."
            )
        return user, token


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


class OrganizationRateThrottle(SimpleRateThrottle):
    """One budget per organization, shared by its people and its API clients."""

    scope = "organization"

    def get_cache_key(self, request, view):
        organization_id = getattr(request.user, "organization_id", None)
        if organization_id is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": f"org-{organization_id}"}
