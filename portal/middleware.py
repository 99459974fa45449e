from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from pghistory.middleware import HistoryMiddleware

from portal import context

# Paths a person may reach before passing the second factor (or without signing in at all).
_OPEN_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/password-reset/",
    "/accounts/reset/",
    "/accounts/invitation/",
    "/status/health/",
    "/o/",
    "/api/",
    "/webhooks/approve/",
    # The customer's consent to a partner's incentive claim: a signed link, no account.
    "/incentives/consent/",
    # The customer's approval of a GDAP relationship request: a signed link, no partner account.
    "/security/gdap/invitation/",
)
_SECOND_FACTOR_PREFIXES = ("/accounts/mfa/",)


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
    """Every page, the admin included, needs a signed-in person with a verified second factor.

    Unauthenticated requests go to sign-in; signed-in people without a verified device go to
    enrolment (no device yet) or verification. The API authenticates on its own (portal.api).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith(_OPEN_PREFIXES) or path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}")
        if user.is_verified() or path.startswith(_SECOND_FACTOR_PREFIXES):
            return self.get_response(request)
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:mfa-verify')}?{query}")


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


class HistoryContextMiddleware(HistoryMiddleware):
    """pghistory's request context (user, url) plus the request ID, so an audited change can be
    traced to the request that made it (the `correlationId` of a referral's history)."""

    def get_context(self, request) -> dict[str, Any]:
        return {**super().get_context(request), "request_id": getattr(request, "id", "")[:64]}
