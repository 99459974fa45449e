"""The references for the API list benchmark: the same first pages with no DRF at all.

`customers`: same organization, same ordering (`-id`), same page size and the same document per
customer as `GET /api/v1/accounts/customers/` (Partner Center's Customer shape: `companyProfile`,
`billingProfile.defaultAddress`, the portal's `portalProfile`), built here by hand from the same
`.values()` rows the API fetches (tenant ID and time made text once per row, as the API does) +
`JsonResponse` with DRF's compact JSON, so the rows are byte-identical.

`earnings`: the same rows, order and JSON as `GET /api/v1/earnings/earnings/` (Partner Center's
camelCase fields, related names joined in the same query), through `.values_list()` in the API's
field order + `JsonResponse` with DRF's compact, non-ASCII-escaping JSON, so the rows are
byte-identical. PostgreSQL renders the decimals (numeric -> text keeps the column's scale and never
uses an exponent, which `str(Decimal)` does for e.g. a zero rate) and the `YYYY-MM` month.

No authentication: the organization comes from `?org=<id>`. This deliberately bypasses
`visible_to(user)` and must never be routed in the application; only `bench._urls`
(DJANGO_ROOT_URLCONF=bench._urls) mounts it.
"""

from __future__ import annotations

from django.db.models import CharField, F, Func, TextField, Value
from django.db.models.functions import Cast
from django.http import JsonResponse

from accounts.models import Customer
from earnings.models import Earning
from portal.api_policy import CursorPagination

#: The customer columns the document is made of.
CUSTOMER_COLUMNS = ("id", "tenant_id", "name", "domain", "country", "segment", "employee_count", "created_at")
PAGE_SIZE = CursorPagination.page_size
#: What DRF's JSONRenderer writes: compact separators, UTF-8 rather than \u escapes.
COMPACT_JSON = {"separators": (",", ":"), "ensure_ascii": False}


def _organization_and_cursor(request) -> tuple[int, int | None]:
    organization_id = int(request.GET["org"])
    before = int(request.GET["before"]) if "before" in request.GET else None
    return organization_id, before


def _customer(row: dict) -> dict:
    """A customer's Partner Center document, as the API writes it (accounts.api_customers): the
    tenant ID (twice in the document) and the time made text once each, as the API does."""
    tenant_id = str(row["tenant_id"])
    created_at = row["created_at"].isoformat()
    if created_at.endswith("+00:00"):
        created_at = created_at[:-6] + "Z"
    name = row["name"]
    return {
        "id": tenant_id,
        "companyProfile": {
            "tenantId": tenant_id,
            "domain": row["domain"],
            "companyName": name,
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "billingProfile": {
            "companyName": name,
            "defaultAddress": {"country": row["country"]},
            "attributes": {"objectType": "CustomerBillingProfile"},
        },
        "portalProfile": {
            "id": row["id"],
            "segment": row["segment"],
            "employeeCount": row["employee_count"],
            "createdDateTime": created_at,
        },
        "attributes": {"objectType": "Customer"},
    }


def customers(request):
    try:
        organization_id, before = _organization_and_cursor(request)
    except (KeyError, ValueError):
        return JsonResponse({"detail": "Give ?org=<organization id>."}, status=400)
    queryset = Customer.objects.filter(organization_id=organization_id)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    # One row more than a page tells whether there is a next page, as cursor pagination does.
    rows = list(queryset.order_by("-id").values(*CUSTOMER_COLUMNS)[: PAGE_SIZE + 1])
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_url = f"{request.path}?org={organization_id}&before={rows[-1]['id']}"
    results = [_customer(row) for row in rows]
    return JsonResponse(
        {"next": next_url, "previous": None, "results": results}, json_dumps_params=COMPACT_JSON
    )


def _decimal(column: str) -> Cast:
    return Cast(column, TextField())


def _month(column: str) -> Func:
    return Func(F(column), Value("YYYY-MM"), function="to_char", output_field=CharField())


#: The API's fields in its order: the key, and the column or expression it reads.
EARNING_COLUMNS = {
    "id": "id",
    "earningId": "earning_id",
    "kind": "kind",
    "participantId": "enrollment__participant_id",
    "participantName": "enrollment__participant_name",
    "programName": "program__name",
    "engagementId": "engagement__engagement_id",
    "engagementName": "engagement__name",
    "lever": "lever__name",
    "transactionId": "transaction__transaction_id",
    "transactionDate": "transaction__transaction_date",
    "transactionCurrency": "currency",
    "earningRate": _decimal("earning_rate"),
    "earningType": "earning_type",
    "earningAmount": _decimal("earning_amount"),
    "earningAmountUSD": _decimal("earning_amount_usd"),
    "earningExchangeRate": _decimal("earning_exchange_rate"),
    "exchangeRateDate": "exchange_rate_date",
    "earningDate": "earning_date",
    "calculationDate": "calculation_date",
    "estimatedPaymentMonth": _month("estimated_payment_month"),
    "paymentId": "payment__payment_id",
    "paymentStatus": "payment_status",
    "customerName": "customer_name",
    "productId": "product_id",
    "productName": "product_name",
    "claimId": "claim_id",
    "solutionArea": "solution_area",
    "partnerRole": "partner_role",
    "partnerAssociation": "partner_association",
    "reasonCode": "reason_code",
}
EARNING_KEYS = tuple(EARNING_COLUMNS)


def earnings(request):
    try:
        organization_id, before = _organization_and_cursor(request)
    except (KeyError, ValueError):
        return JsonResponse({"detail": "Give ?org=<organization id>."}, status=400)
    queryset = Earning.objects.filter(organization_id=organization_id)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    page = queryset.order_by("-id").values_list(*EARNING_COLUMNS.values())[: PAGE_SIZE + 1]
    rows = [dict(zip(EARNING_KEYS, row, strict=True)) for row in page]
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_url = f"{request.path}?org={organization_id}&before={rows[-1]['id']}"
    return JsonResponse({"next": next_url, "previous": None, "results": rows}, json_dumps_params=COMPACT_JSON)
