"""Keep signed-in pages out of caches: `Cache-Control: no-store` on what Django serves.

A page of a signed-in partner (earnings, customers, GDAP approval links, backup codes) must not stay
in the browser's cache or back/forward cache, nor in a shared proxy, where the next person on the
machine or on the network could read it after sign-out. The same goes for the sign-in and MFA pages
and for API responses, whether a session or an OAuth token authenticated them.

So every response that passes through Django's middleware gets `never_cache` headers
(`Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private`, `Expires` now, and
`Pragma: no-cache` for HTTP/1.0 caches). The one exception: a response to an anonymous request that
sets its own Cache-Control keeps it (a view that knows its page is public). Static files are served
by WhiteNoise before this middleware runs (it sits after WhiteNoiseMiddleware in MIDDLEWARE), so
they keep their long, immutable cache.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


def is_private(request: HttpRequest) -> bool:
    """Whether the request carries someone's credentials: a signed-in session or an API token.

    DRF authenticates a token inside the view and then sets the user on the Django request too, so
    by the time the response comes back `request.user` is the token's user.
    """
    if request.headers.get("Authorization"):
        return True
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and `Pragma: no-cache`) on every dynamic response; see the module."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") or is_private(request):
            add_never_cache_headers(response)
        if "no-store" in response.headers.get("Cache-Control", ""):
            response.headers["Pragma"] = "no-cache"
        return response
