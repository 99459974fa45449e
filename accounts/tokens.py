"""API bearer tokens resolved to their client's identity, with a short-lived cache.

Every API request carries a client-credentials token, honoured only through its `ApiClient`.
Resolving it through oauthlib and three tables on every request costs more than serving a page of
rows, so the resolved identity (user, organization, roles, scopes, expiry) is cached in Redis by
the token's checksum for at most `CACHE_SECONDS` and never past the token's expiry, and kept in
each process for `LOCAL_SECONDS`. Revoking a client forgets its tokens at once in Redis and in the
revoking process; other processes stop accepting them within `LOCAL_SECONDS`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import User

CACHE_SECONDS = 60
LOCAL_SECONDS = 5
_KEY = "api-token:v2:{}"
# checksum -> (resolved row, monotonic time until which it may be reused in this process)
_local: dict[str, tuple[dict, float]] = {}


@dataclass(frozen=True)
class TokenPrincipal:
    user: User
    token: AccessToken


def token_checksum(raw_token: str) -> str:
    # The same digest django-oauth-toolkit stores in AccessToken.token_checksum.
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def _load(checksum: str) -> dict | None:
    """The token's row, only through a live `ApiClient` bound to an organization.

    An OAuth application without an `ApiClient` (or with a revoked one) gets nothing: its token
    would otherwise act as whoever registered the application. The identity is the client's own
    service user with the client's roles, and the scopes are what the token was issued with,
    never more than the client is granted now.
    """
    client = "application__api_client__"
    row = (
        AccessToken.objects.filter(
            token_checksum=checksum,
            **{f"{client}isnull": False, f"{client}revoked_at__isnull": True},
        )
        .annotate(
            roles=ArrayAgg(
                f"{client}service_user__role_assignments__role",
                filter=Q(**{f"{client}service_user__role_assignments__isnull": False}),
                default=[],
            )
        )
        .values(
            "id",
            "scope",
            "expires",
            "application_id",
            f"{client}scopes",
            f"{client}organization_id",
            f"{client}service_user_id",
            f"{client}service_user__email",
            f"{client}service_user__is_active",
            f"{client}service_user__organization_id",
            "roles",
        )
        .first()
    )
    if (
        row is None
        or not row[f"{client}service_user__is_active"]
        or row[f"{client}organization_id"] is None
        or row[f"{client}service_user__organization_id"] != row[f"{client}organization_id"]
    ):
        return None
    granted = set(row[f"{client}scopes"])
    return {
        "id": row["id"],
        "scope": " ".join(scope for scope in row["scope"].split() if scope in granted),
        "expires": row["expires"],
        "application_id": row["application_id"],
        "user_id": row[f"{client}service_user_id"],
        "email": row[f"{client}service_user__email"],
        "organization_id": row[f"{client}organization_id"],
        "roles": row["roles"],
    }


def _principal(row: dict) -> TokenPrincipal:
    user = User(
        pk=row["user_id"],
        email=row["email"],
        organization_id=row["organization_id"],
        is_active=True,
        is_service_account=True,
    )
    # Filled here so permission checks need no query for the client's roles.
    user.__dict__["role_codes"] = frozenset(row["roles"])
    user.__dict__["role_locations"] = tuple((role, None) for role in row["roles"])
    token = AccessToken(
        pk=row["id"], scope=row["scope"], expires=row["expires"], application_id=row["application_id"]
    )
    return TokenPrincipal(user=user, token=token)


def token_principal(raw_token: str) -> TokenPrincipal | None:
    """The identity behind a bearer token, or None when it is unknown, expired or revoked."""
    checksum = token_checksum(raw_token)
    now = time.monotonic()
    remembered = _local.get(checksum)
    if remembered is not None and remembered[1] > now:
        row = remembered[0]
    else:
        row = _resolve(checksum)
        if row is None:
            _local.pop(checksum, None)
            return None
        if len(_local) > 10_000:
            _local.clear()
        _local[checksum] = (row, now + LOCAL_SECONDS)
    if row["expires"] <= timezone.now():
        return None
    return _principal(row)


def _resolve(checksum: str) -> dict | None:
    key = _KEY.format(checksum)
    row = cache.get(key)
    if row is None:
        row = _load(checksum)
        if row is None:
            return None
        ttl = min(CACHE_SECONDS, int((row["expires"] - timezone.now()).total_seconds()))
        if ttl > 0:
            cache.set(key, row, ttl)
    return row


def tokens_forget(*, application_id: int) -> None:
    """Drop the cached identities of an application's tokens (on revocation)."""
    checksums = list(
        AccessToken.objects.filter(application_id=application_id).values_list("token_checksum", flat=True)
    )
    cache.delete_many([_KEY.format(checksum) for checksum in checksums])
    for checksum in checksums:
        _local.pop(checksum, None)


def tokens_forget_local() -> None:
    """Forget every identity remembered in this process (tests start from a clean slate)."""
    _local.clear()
