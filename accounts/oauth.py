"""The OAuth2 token endpoint: tokens only for the portal's API clients, with their granted scopes.

Only django-oauth-toolkit's token and revocation endpoints are mounted (home/urls.py); API
clients are created on the API clients page or through the API, never by registering an
application. The validator below refuses any application that has no live `ApiClient`, any grant
but client credentials, and any scope the client was not granted.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import JsonResponse
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import RevokeTokenView, TokenView

from accounts.models import ApiClient, VendorClient
from portal.api_policy import fixed_window_wait, parse_rate
from portal.middleware import client_ip

CLIENT_CREDENTIALS = "client_credentials"


def _live_api_client(request) -> ApiClient | VendorClient | None:
    """The live partner API client, or vendor client, behind the application oauthlib loaded for
    this request (memoised). Which one it is decides which API its tokens reach."""
    if not hasattr(request, "api_client"):
        application = getattr(request, "client", None)
        request.api_client = (
            (
                ApiClient.objects.filter(
                    application=application, revoked_at__isnull=True, organization__isnull=False
                ).first()
                or VendorClient.objects.filter(application=application, revoked_at__isnull=True).first()
            )
            if application is not None
            else None
        )
    return request.api_client


class ApiClientOAuth2Validator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs) -> bool:
        return super().authenticate_client(request, *args, **kwargs) and _live_api_client(request) is not None

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        # Public clients (no secret) do not exist here.
        return False

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs) -> bool:
        return grant_type == CLIENT_CREDENTIALS and super().validate_grant_type(
            client_id, grant_type, client, request, *args, **kwargs
        )

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        api_client = _live_api_client(request)
        return api_client is not None and set(scopes) <= set(api_client.scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        api_client = _live_api_client(request)
        return list(api_client.scopes) if api_client is not None else []


def _client_id(request) -> str:
    """The client id the caller claims (Basic auth or form body), for throttling before any lookup."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])[:100]
    return request.POST.get("client_id", "")[:100]


class _ThrottledPerClient:
    """A fixed budget of token requests per client id (or per address when none is given)."""

    throttle_scope = "oauth-token"

    def post(self, request, *args, **kwargs):
        limit, window = parse_rate(settings.OAUTH_TOKEN_THROTTLE_RATE)
        client_id = _client_id(request)
        ident = f"client-{client_id}" if client_id else f"ip-{client_ip(request)}"
        wait = fixed_window_wait(self.throttle_scope, ident, limit, window)
        if wait is not None:
            response = JsonResponse(
                {
                    "error": "slow_down",
                    "error_description": f"Too many token requests; try again in {int(wait) + 1} s.",
                },
                status=429,
            )
            response["Retry-After"] = str(int(wait) + 1)
            return response
        return super().post(request, *args, **kwargs)


class ApiClientTokenView(_ThrottledPerClient, TokenView):
    pass


class ApiClientRevokeTokenView(_ThrottledPerClient, RevokeTokenView):
    pass
