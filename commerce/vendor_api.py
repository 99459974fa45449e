"""The vendor's legacy subscriptions feed (`/api/v1/vendor/subscriptions/`): the license-based
subscriptions partners' customers hold, as the vendor's billing system knows them, in Partner
Center's Subscription shape — `id`, `offerId`, `friendlyName`, `quantity`, `effectiveStartDate`,
`commitmentEndDate`, `status`, `autoRenewEnabled`, `billingCycle`, `termDuration`, `isTrial` —
with the `partnerId` of the partner organization and the `customerTenantId` of its customer.

Keyed on the subscription's id (Microsoft's GUID). The commerce workspace reads them at once:
eligibility for new commerce is assessed when the partner looks, from these rows.
Add-ons (`parentSubscriptionId`) arrive in a later round of this feed: such a record is rejected
with that reason, never stored without its base subscription.
"""

from __future__ import annotations

from typing import Any

from django.urls import path

from accounts.imports import ORGANIZATION_OF_ROW, PARTNER_EXISTS, PARTNER_ID
from accounts.models import Customer
from accounts.vendor_api import FeedView
from commerce.choices import BillingCycle, SubscriptionStatus, TermDuration
from commerce.imports import BILLING_CYCLE, TERM_DURATION
from commerce.models import LegacyOffer, LegacySubscription
from portal.imports import (
    BOOLEAN,
    CHOICE,
    DATE,
    INTEGER,
    UUID,
    Column,
    Importer,
    Layout,
    Reference,
    SqlCheck,
    SqlValue,
    Staging,
    register,
    safe_cast,
)
from portal.jobs import JobRun

_ORGANIZATION = ORGANIZATION_OF_ROW
_CUSTOMER = (
    f"(SELECT c.id FROM {Customer._meta.db_table} c WHERE c.organization_id = {_ORGANIZATION} "
    f"AND c.tenant_id = {safe_cast('s.customer_tenant_id', UUID)})"
)
#: Partner Center writes dates as date-times (`2024-03-31T00:00:00Z`): the date is what counts.
_DATE_FORMATS = ("%Y-%m-%d", "ISO8601", "%m/%d/%Y")

SUBSCRIPTIONS = Layout(
    name="commerce.vendor_subscriptions",
    title="Legacy subscriptions (vendor feed)",
    columns=(
        PARTNER_ID,
        Column("customerTenantId", kind=UUID, field="customer_tenant_id", aliases=("CustomerTenantId",)),
        Column("id", kind=UUID, field="subscription_id", aliases=("subscriptionId", "SubscriptionId")),
        Column("offerId", kind=UUID, field="offer_id", aliases=("OfferId",)),
        Column("friendlyName", field="friendly_name", required=False, blank=True, max_length=200),
        Column("quantity", kind=INTEGER, min_value=1, max_value=1_000_000),
        Column("effectiveStartDate", kind=DATE, field="term_start", formats=_DATE_FORMATS),
        Column("commitmentEndDate", kind=DATE, field="term_end", formats=_DATE_FORMATS),
        Column("status", kind=CHOICE, choices=tuple(SubscriptionStatus.values), required=False, blank=True),
        Column("autoRenewEnabled", kind=BOOLEAN, field="auto_renew", required=False, blank=True),
        BILLING_CYCLE,
        TERM_DURATION,
        Column("isTrial", kind=BOOLEAN, field="is_trial", required=False, blank=True),
        Column("parentSubscriptionId", kind=UUID, field="parent_subscription_id", required=False, blank=True),
        # Read-only facts of Partner Center's resource a feed may carry: accepted, checked, not stored.
        Column("offerName", field="offer_name", required=False, blank=True, max_length=200),
    ),
    key=("id",),
    references=(
        PARTNER_EXISTS,
        Reference(
            "offerId",
            f"SELECT offer_id::text FROM {LegacyOffer._meta.db_table}",
            "is not a legacy offer of the catalog",
        ),
    ),
    checks=(
        SqlCheck(
            "customerTenantId",
            f"{_CUSTOMER} IS NULL AND {_ORGANIZATION} IS NOT NULL "
            f"AND {safe_cast('s.customer_tenant_id', UUID)} IS NOT NULL",
            "is not a customer of this partner (send the customer to the customers feed first)",
        ),
        SqlCheck(
            "id",
            f"EXISTS (SELECT 1 FROM {LegacySubscription._meta.db_table} l "
            f"WHERE l.subscription_id = {safe_cast('s.subscription_id', UUID)} "
            f"AND l.organization_id <> {_ORGANIZATION})",
            "is a subscription of another partner",
        ),
        SqlCheck(
            "commitmentEndDate",
            f"{safe_cast('s.term_end', DATE)} < {safe_cast('s.term_start', DATE)}",
            "is before effectiveStartDate",
        ),
        SqlCheck(
            "parentSubscriptionId",
            "true",
            "add-ons are not taken by this feed yet: send the base subscriptions only",
        ),
    ),
)


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    staging.upsert(
        table=LegacySubscription._meta.db_table,
        key=("subscription_id",),
        columns={
            "subscription_id": "subscription_id",
            "customer_id": SqlValue(_CUSTOMER),
            "offer_id": "offer_id",
            "friendly_name": "friendly_name",
            "quantity": "quantity",
            "term_start": "term_start",
            "term_end": "term_end",
            "status": "status",
            "auto_renew": "auto_renew",
            "billing_cycle": "billing_cycle",
            "term_duration": "term_duration",
            "is_trial": "is_trial",
        },
        fallbacks={
            "friendly_name": "''",
            "status": f"'{SubscriptionStatus.ACTIVE}'",
            "auto_renew": "true",
            "billing_cycle": f"'{BillingCycle.MONTHLY}'",
            "term_duration": f"'{TermDuration.P1Y}'",
            "is_trial": "false",
        },
        insert_only={"created_at": "now()"},
        scope_from=_ORGANIZATION,
    )
    return {}


SUBSCRIPTION_IMPORTER = register(Importer(layout=SUBSCRIPTIONS, load=_load))


class SubscriptionsFeed(FeedView):
    """Legacy subscriptions of partners' customers (Partner Center's Subscription shape)."""

    feed = "subscriptions"
    importer_name = SUBSCRIPTIONS.name


urlpatterns = [path("subscriptions/", SubscriptionsFeed.as_view(), name="vendor-subscriptions")]
