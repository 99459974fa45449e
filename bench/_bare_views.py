"""The reference for the API list benchmark: the same page of customers with no DRF at all.

Same organization, same ordering (`-id`), same page size and fields as
`GET /api/v1/accounts/customers/`, through `.values()` + `JsonResponse`. No authentication: the
organization comes from `?org=<id>`. This deliberately bypasses `visible_to(user)` and must never be
routed in the application; only `bench._urls` (DJANGO_ROOT_URLCONF=bench._urls) mounts it.
"""

from __future__ import annotations

from django.http import JsonResponse

from accounts.api import CustomerSerializer
from accounts.models import Customer
from portal.api_policy import CursorPagination

FIELDS = tuple(CustomerSerializer.Meta.fields)
PAGE_SIZE = CursorPagination.page_size


def customers(request):
    try:
        organization_id = int(request.GET["org"])
        before = int(request.GET["before"]) if "before" in request.GET else None
    except (KeyError, ValueError):
        return JsonResponse({"detail": "Give ?org=<organization id>."}, status=400)
    queryset = Customer.objects.filter(organization_id=organization_id)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    # One row more than a page tells whether there is a next page, as cursor pagination does.
    rows = list(queryset.order_by("-id").values(*FIELDS)[: PAGE_SIZE + 1])
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_url = f"{request.path}?org={organization_id}&before={rows[-1]['id']}"
    return JsonResponse({"next": next_url, "previous": None, "results": rows})
