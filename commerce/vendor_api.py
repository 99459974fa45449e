"""The vendor's legacy subscriptions feed (`/api/v1/vendor/subscriptions/`): the license-based
subscriptions partners' customers hold, as the vendor's billing system knows them, in Partner
Center's Subscription shape — `id`, `offerId`, `friendlyName`, `quantity`, `effectiveStartDate`,
`commitmentEndDate`, `status`, `autoRenewEnabled`, `billingCycle`, `termDuration`, `isTrial` —
with the `partnerId` of the partner organization and the `customerTenantId` of its customer.

Each record also carries the subscription's state the eligibility engine reads: `promotionId` (a
promotion blocks migration; empty or absent means none applies, so an ended promotion is cleared),
`tradeStatus` (`Allowed` / `NotAllowed`; absent keeps what is stored), and the legacy price,
`unitPrice` per seat per billing period with its ISO 4217 `currency` (absent keeps what is stored).
A status change (`suspended`, `deleted`) updates the row like any other property.

Keyed on the subscription's id (Microsoft's GUID). The commerce workspace reads them at once:
eligibility for new commerce is assessed when the partner looks, from these rows.
An add-on names its base in `parentSubscriptionId`: the base must be one of the same partner's
and customer's base subscriptions, already in the portal or earlier in the same body or file;
otherwise the record is rejected with that reason, never stored without its base.

The new-commerce subscriptions feed is `commerce.vendor_api_nce`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import connection
from django.urls import path
from psycopg import sql as pgsql

from accounts.imports import (
    CUSTOMER_OF_PARTNER,
    CUSTOMER_OF_ROW,
    ORGANIZATION_OF_ROW,
    PARTNER_EXISTS,
    PARTNER_ID,
)
from accounts.vendor_api import FeedView
from commerce.choices import BillingCycle, SubscriptionStatus, TermDuration, TradeStatus
from commerce.imports import BILLING_CYCLE, TERM_DURATION
from commerce.models import LegacyOffer, LegacySubscription
from portal.imports import (
    BOOLEAN,
    CHOICE,
    DATE,
    DECIMAL,
    INTEGER,
    UUID,
    Column,
    Importer,
    Layout,
    Reference,
    Rule,
    SqlCheck,
    SqlValue,
    Staging,
    register,
    safe_cast,
)
from portal.iso import CURRENCIES
from portal.jobs import JobRun

_ORGANIZATION = ORGANIZATION_OF_ROW
_CUSTOMER = CUSTOMER_OF_ROW
_LEGACY = LegacySubscription._meta.db_table
_PARENT = safe_cast("s.parent_subscription_id", UUID)
#: The add-on's base, when it is already stored: the same partner's subscription, not an add-on.
_STORED_BASE = (
    f"(SELECT p.id FROM {_LEGACY} p WHERE p.subscription_id = {_PARENT} "
    f"AND p.organization_id = {_ORGANIZATION} AND p.parent_id IS NULL)"
)
#: Partner Center writes dates as date-times (`2024-03-31T00:00:00Z`): the date is what counts.
_DATE_FORMATS = ("%Y-%m-%d", "ISO8601", "%m/%d/%Y")
#: NUMERIC(18,6): amounts below 10^12 with at most 6 decimal places.
AMOUNT_LIMIT = 10**12


def unit_price_column(name: str = "unitPrice", *, required: bool = False) -> Column:
    return Column(
        name,
        kind=DECIMAL,
        field="unit_price",
        required=required,
        blank=not required,
        min_value=0,
        aliases=("UnitPrice",),
    )


def currency_column(*, required: bool = False) -> Column:
    return Column(
        "currency",
        field="currency",
        required=required,
        blank=not required,
        pattern=r"[A-Za-z]{3}",
        pattern_help="is not an ISO 4217 currency code",
        upper=True,
        aliases=("Currency",),
    )


def _unknown_currency(rows: pd.DataFrame) -> pd.Series:
    codes = rows["currency"].fillna("").astype(str)
    return codes.str.fullmatch(r"[A-Z]{3}") & ~codes.isin(CURRENCIES)


#: The checks of a price and its currency, shared with the new-commerce feed.
MONEY_RULES = (
    Rule("currency", "is not an ISO 4217 currency code", _unknown_currency),
    Rule(
        "unitPrice",
        "has more than 6 decimal places",
        lambda rows: rows["unit_price"].notna() & (rows["unit_price"].round(6) != rows["unit_price"]),
    ),
    Rule("unitPrice", f"is {AMOUNT_LIMIT:,} or more", lambda rows: rows["unit_price"] >= AMOUNT_LIMIT),
)

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
        Column("promotionId", field="promotion_id", required=False, blank=True, max_length=64),
        Column(
            "tradeStatus",
            kind=CHOICE,
            field="trade_status",
            choices=tuple(TradeStatus.values),
            required=False,
            blank=True,
        ),
        unit_price_column(),
        currency_column(),
        # Read-only facts of Partner Center's resource a feed may carry: accepted, checked, not stored.
        Column("offerName", field="offer_name", required=False, blank=True, max_length=200),
    ),
    key=("id",),
    rules=(
        *MONEY_RULES,
        Rule(
            "currency",
            "is required with unitPrice",
            lambda rows: rows["unit_price"].notna() & rows["currency"].isna(),
        ),
    ),
    references=(
        PARTNER_EXISTS,
        Reference(
            "offerId",
            f"SELECT offer_id::text FROM {LegacyOffer._meta.db_table}",
            "is not a legacy offer of the catalog",
        ),
    ),
    checks=(
        CUSTOMER_OF_PARTNER,
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
        # Last: a base earlier in the file counts only once every other check has passed it.
        SqlCheck(
            "parentSubscriptionId",
            f"s.parent_subscription_id = s.subscription_id OR ("
            f"NOT EXISTS (SELECT 1 FROM {_LEGACY} p WHERE p.subscription_id = {_PARENT} "
            f"AND p.organization_id = {_ORGANIZATION} AND p.customer_id = {_CUSTOMER} "
            "AND p.parent_id IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM {staging} b WHERE b.subscription_id = s.parent_subscription_id "
            "AND b.line < s.line AND b.partner_id = s.partner_id "
            "AND b.customer_tenant_id = s.customer_tenant_id AND b.parent_subscription_id IS NULL "
            "AND b.errors IS NULL))",
            "is not a base subscription of this customer: send the base before its add-ons (earlier in "
            "the same body or file, or in an earlier call)",
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
            "parent_id": SqlValue(_STORED_BASE),
            # Empty or absent: no promotion applies (one that ended is cleared).
            "promotion_id": SqlValue("coalesce(s.promotion_id, '')"),
            "trade_status": "trade_status",
            "unit_price": "unit_price",
            "currency": "currency",
        },
        fallbacks={
            "friendly_name": "''",
            "status": f"'{SubscriptionStatus.ACTIVE}'",
            "auto_renew": "true",
            "billing_cycle": f"'{BillingCycle.MONTHLY}'",
            "term_duration": f"'{TermDuration.P1Y}'",
            "is_trial": "false",
            "trade_status": f"'{TradeStatus.ALLOWED}'",
            "unit_price": "NULL",
            "currency": "''",
        },
        insert_only={"created_at": "now()"},
        scope_from=_ORGANIZATION,
    )
    _link_bases_of_the_same_load(staging)
    return {}


def _link_bases_of_the_same_load(staging: Staging) -> None:
    """Add-ons whose base came earlier in the same body: the upsert's one INSERT cannot see the
    base it inserts, so they are linked once it is in (and counted updated if they were stored)."""
    statement = pgsql.SQL(
        """
        WITH linked AS (
            UPDATE {legacy} l SET parent_id = p.id
            FROM {staging} s, {legacy} p
            WHERE s.errors IS NULL AND s.outcome IS NULL AND s.parent_subscription_id IS NOT NULL
              AND l.subscription_id = s.subscription_id::uuid
              AND p.subscription_id = s.parent_subscription_id::uuid
              AND p.organization_id = l.organization_id AND p.parent_id IS NULL
              AND l.parent_id IS DISTINCT FROM p.id
            RETURNING s.subscription_id
        )
        UPDATE {written} w SET updated = true FROM linked k WHERE w.subscription_id = k.subscription_id
        """
    ).format(legacy=pgsql.Identifier(_LEGACY), staging=staging.identifier, written=staging.written)
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))


SUBSCRIPTION_IMPORTER = register(Importer(layout=SUBSCRIPTIONS, load=_load))


class SubscriptionsFeed(FeedView):
    """Legacy subscriptions of partners' customers (Partner Center's Subscription shape)."""

    feed = "subscriptions"
    importer_name = SUBSCRIPTIONS.name


urlpatterns = [path("subscriptions/", SubscriptionsFeed.as_view(), name="vendor-subscriptions")]
