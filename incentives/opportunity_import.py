"""The documented shape of a vendor-seller (MSX) opportunity, and the check of one row of it.

The API (one opportunity as JSON) and the file import (CSV/XLSX rows) share these columns and
`opportunity_row_check`; `incentives.services.opportunities` writes what passed it.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import Customer, Organization
from earnings.choices import SolutionArea
from incentives.choices import OpportunityStage
from incentives.models import Opportunity
from portal.uploads import RowError

__all__ = ("COLUMNS", "FIELDS", "REQUIRED_COLUMNS", "customers_by_tenant", "opportunity_row_check")

#: The documented shape of an opportunity, shared by the file's columns and the API's JSON fields
#: (Partner Center style names, like the Earnings files), each with the model field it fills.
FIELDS = {
    "msxOpportunityId": "msx_opportunity_id",
    "name": "name",
    "customerTenantId": "customer_tenant_id",
    "solutionArea": "solution_area",
    "estimatedValueUSD": "estimated_value_usd",
    "sellerName": "seller_name",
    "stage": "stage",
    "sellerEmail": "seller_email",
    "closeDate": "close_date",
}
REQUIRED_COLUMNS = list(FIELDS)[:6]
COLUMNS = list(FIELDS)
_COLUMN_OF = {field: column for column, field in FIELDS.items()}

#: MSX opportunity IDs look like `7-3KXYZ12AB`: a digit, a dash, then letters and digits.
MSX_ID = re.compile(r"^\d-[A-Z0-9]{4,17}$")
MAX_VALUE_USD = Decimal("10000000000")


def customers_by_tenant(organization: Organization) -> dict[str, Customer]:
    """The organization's customers by tenant ID, for checking many rows with one query."""
    return {str(c.tenant_id): c for c in Customer.objects.filter(organization=organization)}


def opportunity_row_check(
    row: dict[str, str],
    *,
    organization: Organization,
    customers: dict[str, Customer],
    row_number: int | None = None,
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """Clean one opportunity in the documented shape; the errors name each bad column."""
    errors: list[RowError] = []

    def error(field: str, message: str) -> None:
        errors.append(RowError(row_number, _COLUMN_OF[field], message))

    value = {field: str(row.get(column) or "").strip() for column, field in FIELDS.items()}
    for column in REQUIRED_COLUMNS:
        if not value[FIELDS[column]]:
            error(FIELDS[column], "is required")
    cleaned: dict[str, Any] = {}

    msx_id = value["msx_opportunity_id"].upper()
    if msx_id:
        if not MSX_ID.match(msx_id):
            error("msx_opportunity_id", f"{msx_id!r} is not an MSX opportunity ID (e.g. 7-3KXYZ12AB)")
        else:
            owner = (
                Opportunity.objects.filter(msx_opportunity_id=msx_id)
                .values_list("organization_id", flat=True)
                .first()
            )
            if owner is not None and owner != organization.pk:
                error("msx_opportunity_id", f"{msx_id} is shared with another partner organization")
        cleaned["msx_opportunity_id"] = msx_id
    if value["name"]:
        if len(value["name"]) > 200:
            error("name", "is longer than 200 characters")
        cleaned["name"] = value["name"]
    if value["customer_tenant_id"]:
        customer = customers.get(value["customer_tenant_id"].lower())
        if customer is None:
            error(
                "customer_tenant_id",
                f"{value['customer_tenant_id']!r} is not the tenant ID of a customer of the organization",
            )
        cleaned["customer"] = customer
    if value["solution_area"]:
        if value["solution_area"] not in SolutionArea.values:
            error(
                "solution_area", f"{value['solution_area']!r} is not one of {', '.join(SolutionArea.values)}"
            )
        cleaned["solution_area"] = value["solution_area"]
    if value["estimated_value_usd"]:
        try:
            amount = Decimal(value["estimated_value_usd"].replace(",", ""))
        except InvalidOperation:
            error("estimated_value_usd", f"{value['estimated_value_usd']!r} is not an amount")
        else:
            if not amount.is_finite() or amount <= 0 or amount >= MAX_VALUE_USD:
                error("estimated_value_usd", "must be a positive amount below 10,000,000,000 USD")
            elif amount != amount.quantize(Decimal("0.01")):
                error("estimated_value_usd", "has more than two decimal places")
            else:
                cleaned["estimated_value_usd"] = amount
    stage = value["stage"] or OpportunityStage.QUALIFY
    if stage not in OpportunityStage.values:
        error("stage", f"{stage!r} is not one of {', '.join(OpportunityStage.values)}")
    cleaned["stage"] = stage
    if value["seller_name"]:
        if len(value["seller_name"]) > 150:
            error("seller_name", "is longer than 150 characters")
        cleaned["seller_name"] = value["seller_name"]
    if value["seller_email"]:
        try:
            validate_email(value["seller_email"])
        except ValidationError:
            error("seller_email", f"{value['seller_email']!r} is not an e-mail address")
    cleaned["seller_email"] = value["seller_email"]
    cleaned["close_date"] = None
    if value["close_date"]:
        try:
            cleaned["close_date"] = date.fromisoformat(value["close_date"][:10])
        except ValueError:
            error("close_date", f"{value['close_date']!r} is not a date (YYYY-MM-DD)")
    return (None if errors else cleaned), errors
