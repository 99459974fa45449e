"""URLconf of the bench server: the application's URLs plus the bare reference views.

Used only with DJANGO_ROOT_URLCONF=bench._urls (the leading underscore keeps `make bench` from
running it as a bench script). The bare views sit under /api/ on purpose: the
portal's RequireVerifiedSecondFactorMiddleware lets /api/ through untouched (the API authenticates
on its own), so both endpoints pass the same middleware path and the comparison isolates DRF,
authentication, permissions, throttling, filtering, pagination and serialization.
"""

from django.urls import path

from bench import _bare_views
from home.urls import urlpatterns as portal_urlpatterns

BARE_CUSTOMERS_PATH = "/api/bench/bare/customers/"
BARE_EARNINGS_PATH = "/api/bench/bare/earnings/"

urlpatterns = [
    *portal_urlpatterns,
    path(BARE_CUSTOMERS_PATH.lstrip("/"), _bare_views.customers, name="bench-bare-customers"),
    path(BARE_EARNINGS_PATH.lstrip("/"), _bare_views.earnings, name="bench-bare-earnings"),
]
