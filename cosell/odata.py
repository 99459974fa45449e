"""The OData properties of Partner Center's Referrals API list (spec/cosell.md §2), read by portal.odata.

`status`, `substatus` and `type` (and the deal workflow's `dealKind` and `microsoftStatus`) come from
the pages' `ReferralFilterSet`, so a filter means the same on the page and the API; the properties
named by the JSON path Partner Center uses (the documented examples: `status eq 'New' and
qualification eq 'SalesQualified'`, `customerProfile/address/country eq 'US'`, `engagementId eq '…'`)
are declared here. `$orderby`: `createdDateTime|updatedDateTime|dealValue [asc|desc]`; `$top` 0–100
(default 100); `$select` is refused (the document is answered whole).
"""

from __future__ import annotations

import re

from cosell.filters import ReferralFilterSet
from portal.odata import ODataProperty, ODataResource

__all__ = ("DEFAULT_ORDERING", "DEFAULT_TOP", "MAX_TOP", "REFERRALS")


def _country(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise ValueError("use an ISO 3166 two-letter code")
    return text.upper()


REFERRALS = ODataResource(
    filterset=ReferralFilterSet,
    fields={
        "qualification": "qualification",
        "engagementId": "engagement_id",
        "externalReferenceId": "external_reference_id",
        "customerProfile/address/country": ODataProperty("customer_country", parse=_country),
        # The page's `direction` is inbound/outbound; Partner Center's is Incoming/Outgoing.
        "direction": ODataProperty("is_inbound", choices={"Incoming": True, "Outgoing": False}),
        "createdDateTime": "created_at",
        "updatedDateTime": "updated_at",
        "dealValue": "deal_value",
    },
    orderings=("createdDateTime", "updatedDateTime", "dealValue"),
    default_orderby="createdDateTime desc",
    max_top=100,
)

MAX_TOP = REFERRALS.max_top
DEFAULT_TOP = REFERRALS.default_top
#: The list's order without `$orderby`: newest first, `id` breaking ties.
DEFAULT_ORDERING = REFERRALS.default_ordering
