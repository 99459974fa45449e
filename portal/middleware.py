from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode

from portal import context

#: Routes (URL names) anybody may reach: signing in and out, password reset, invitations, probes,
#: the OAuth token endpoints (the client authenticates itself), and the signed links sent to people
#: who have no account (a customer's consent to a claim, a customer's approval of a GDAP request).
OPEN_ROUTES = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:password-reset",
        "accounts:password-reset-done",
        "accounts:password-reset-confirm",
        "accounts:password-reset-complete",
        "accounts:invitation-accept",
        "portal:health",
        "portal:ready",
        # Prometheus scrapes with its bearer token; the view refuses everyone else (portal.metrics).
        "portal:metrics",
        "oauth2_provider:token",
        "oauth2_provider:revoke-token",
        "incentives:consent",
        "security:gdap-invitation",
    }
)
#: Routes a person who passed only the password may reach as well: the second-factor step, and
#: the first enrolment of a user without a device (the view refuses when one exists).
SECOND_FACTOR_ROUTES = frozenset({"accounts:mfa-verify", "accounts:mfa-setup"})
#: The API authenticates every request itself (a token, or a session that passed the second factor).
_API_PREFIX = "/api/"


def client_ip(request) -> str | None:
    # Behind the proxy in docker-compose the client address is the first X-Forwarded-For hop.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        token = context.activate(
            context.RequestContext(
                request_id=request.id[:64],
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                via="api" if request.path.startswith("/api/") else "web",
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request.id
        return response


class SlidingSessionMiddleware:
    """Keep an active person's session alive: renew its expiry at most once a minute."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_renewed_at", 0) >= settings.SESSION_RENEW_SECONDS:
                session["_renewed_at"] = now
        return response


class RequireVerifiedSecondFactorMiddleware:
    """Every page, the admin and third-party views included, needs a person who passed the second
    factor; only the routes named in OPEN_ROUTES and SECOND_FACTOR_ROUTES are reached before.

    The route is decided by its resolved URL name, never by a path prefix, so a view mounted under
    an open prefix is not open by accident. Unauthenticated requests go to sign-in; signed-in people
    without a verified device go to verification (which sends them on to enrolment when they have
    no device yet). The API authenticates on its own (portal.api_policy).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(_API_PREFIX) or path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated and user.is_verified():
            return self.get_response(request)
        route = _route_name(path)
        if route in OPEN_ROUTES or (user.is_authenticated and route in SECOND_FACTOR_ROUTES):
            return self.get_response(request)
        query = urlencode({"next": request.get_full_path()})
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{query}")
        return redirect(f"{reverse('accounts:mfa-verify')}?{query}")


def _route_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


class RejectNulBytesMiddleware:
    """PostgreSQL text can't hold NUL characters: refuse them up front with a clear 400.

    Binary file uploads (multipart bodies) are left to the upload validators.
    """

    message = "The request contains a NUL character (\\u0000), which no field accepts."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "type": "https://partner-portal.example/problems/invalid",
                        "title": "Bad Request",
                        "status": 400,
                        "code": "invalid",
                        "detail": self.message,
                    },
                    status=400,
                    content_type="application/problem+json",
                )
            return HttpResponseBadRequest(self.message)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path or any(
            "\x00" in key + "".join(values) for key, values in request.GET.lists()
        ):
            return True
        headers = (value for key, value in request.META.items() if key.startswith("HTTP_"))
        if any("\x00" in value for value in (*headers, *request.COOKIES.values())):
            return True
        if request.content_type == "multipart/form-data":
            return False
        body = request.body
        if b"\x00" in body or b"\\u0000" in body:
            return True
        # A form body carries NUL percent-encoded (%00).
        return request.content_type == "application/x-www-form-urlencoded" and any(
            "\x00" in key + "".join(values) for key, values in request.POST.lists()
        )
