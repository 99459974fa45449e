"""API authentication by client-credentials token (REST_FRAMEWORK settings name this class).

Kept apart from accounts.api because DRF imports authentication classes while
`rest_framework.views` is still loading; this module must not import views or viewsets.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.tokens import token_principal


class OrganizationTokenAuthentication(BaseAuthentication):
    """A client-credentials token acts as its API client's service identity (one organization).

    Tokens come only in the Authorization header (RFC 6750 section 2.1, never the query string).
    """

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        try:
            raw_token = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The bearer token is not valid.") from exc
        principal = token_principal(raw_token)
        if principal is None:
            raise exceptions.AuthenticationFailed("The token is unknown, expired or its client is revoked.")
        return principal.user, principal.token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
