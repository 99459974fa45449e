"""Walks every URL pattern the project resolves (its own, the admin and every third-party URLconf)
with an anonymous session, a session that passed only the password, and a verified one.

Before the second factor a session reaches exactly the routes listed in ALLOWED_* below; the API
answers 401/403 (it authenticates every request itself). A route added anywhere is walked too, so
one that opens before the second factor without being listed here fails this test.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from portal.middleware import OPEN_ROUTES, SECOND_FACTOR_ROUTES
from tests.conftest import verified_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

#: Anybody: sign-in, sign-out, password reset, invitation acceptance, the probes, metrics (the view
#: checks its bearer token or a verified staff session itself), the OAuth token
#: endpoints (the client authenticates itself) and the signed links for people without an account.
ALLOWED_ANONYMOUS = {
    "accounts:login",
    "accounts:logout",
    "accounts:password-reset",
    "accounts:password-reset-done",
    "accounts:password-reset-confirm",
    "accounts:password-reset-complete",
    "accounts:invitation-accept",
    "portal:health",
    "portal:ready",
    "portal:metrics",
    "oauth2_provider:token",
    "oauth2_provider:revoke-token",
    "incentives:consent",
    "security:gdap-invitation",
}
#: Plus, after the password: the second-factor step and the first enrolment.
ALLOWED_PASSWORD_ONLY = ALLOWED_ANONYMOUS | {"accounts:mfa-verify", "accounts:mfa-setup"}

_SAMPLES = ("1", "x", "accounts", str(uuid.UUID(int=1)), "json")
_CONVERTER_SAMPLES = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.UUID(int=1)), "path": "x/y"}


def _patterns(patterns, prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _sample_path(pattern: str) -> str:
    """A concrete path that `pattern` (path() or re_path() syntax, or both mixed) matches."""

    def group(match: re.Match) -> str:
        for sample in _SAMPLES:
            if re.fullmatch(match.group(1), sample):
                return sample
        raise AssertionError(f"no sample value for {match.group(0)} in {pattern}")

    path = re.sub(r"\(\?P<\w+>((?:[^()]|\([^()]*\))*)\)", group, pattern)
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _CONVERTER_SAMPLES[m.group(1) or "str"], path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    return "/" + path


def _bare(route: str) -> str:
    return route.replace("^", "").replace("$", "")


def every_route() -> list[tuple[str, str]]:
    """(path, route name) for every URL pattern; each path resolves back to its own pattern."""
    routes = []
    for pattern in _patterns(get_resolver().url_patterns):
        path = _sample_path(pattern)
        match = resolve(path)
        assert _bare(match.route) == _bare(pattern), f"{path} resolves to {match.route}, not {pattern}"
        routes.append((path, match.view_name))
    return routes


def test_the_middleware_opens_exactly_the_allowed_routes():
    assert OPEN_ROUTES == ALLOWED_ANONYMOUS
    assert OPEN_ROUTES | SECOND_FACTOR_ROUTES == ALLOWED_PASSWORD_ONLY


def test_the_walk_covers_the_admin_the_token_endpoint_and_the_api():
    names = {name for _, name in every_route()}
    assert len(names) > 300
    assert {"admin:index", "oauth2_provider:token", "api-schema", "api-docs"} <= names
    assert any(name.startswith("admin:accounts_user_") for name in names)


def _is_refused_api(path: str, response) -> bool:
    return path.startswith("/api/") and response.status_code in (401, 403)


def _redirects_to(response, route: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse(route))


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_session_reaches_only_the_allowed_routes(method):
    client = Client()
    reached = []
    for path, name in every_route():
        if name in ALLOWED_ANONYMOUS:
            continue
        response = getattr(client, method)(path)
        if not (_redirects_to(response, "accounts:login") or _is_refused_api(path, response)):
            reached.append(f"{method.upper()} {path} ({name}) -> {response.status_code}")
    assert reached == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_password_only_session_reaches_only_the_allowed_routes(method, org_a):
    user = UserFactory(organization=org_a, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    reached = []
    for path, name in every_route():
        if name in ALLOWED_PASSWORD_ONLY:
            continue
        response = getattr(client, method)(path)
        if not (_redirects_to(response, "accounts:mfa-verify") or _is_refused_api(path, response)):
            reached.append(f"{method.upper()} {path} ({name}) -> {response.status_code}")
    assert reached == []


def test_a_verified_session_reaches_every_route_without_a_server_error(org_a):
    user = UserFactory(organization=org_a, is_staff=True, is_superuser=True, roles=["global_admin"])
    client = verified_session(user)
    turned_back = []
    for path, name in every_route():
        if name in {"accounts:logout", "admin:logout"}:
            continue
        response = client.get(path)
        if (
            _redirects_to(response, "accounts:login")
            or _redirects_to(response, "accounts:mfa-verify")
            or response.status_code >= 500
        ):
            turned_back.append(f"GET {path} ({name}) -> {response.status_code}")
    assert turned_back == []
