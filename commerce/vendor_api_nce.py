"""The vendor's new-commerce subscriptions feed (`/api/v1/vendor/new-commerce-subscriptions/`): the
new-commerce subscriptions partners' customers hold, as the vendor's billing system knows them, in
Partner Center's Subscription shape — `id`, `offerId` (the catalog item `ProductId:SkuId:
AvailabilityId`), `friendlyName`, `quantity`, `effectiveStartDate`, `commitmentEndDate`, `status`,
`autoRenewEnabled`, `billingCycle`, `termDuration`, `unitPrice` (the partner's price of a seat for
the whole term) and its ISO 4217 `currency`, `orderId`, and `cancellationAllowedUntilDate`
(Partner Center's property: until when seats can be reduced and the subscription cancelled, null
when it cannot be) — with the `partnerId` of the partner organization, the `customerTenantId` of
its customer and, for one that came from a legacy subscription, `migratedFromSubscriptionId`.

Keyed on the subscription's id. The offer must be an availability of the catalog whose term and
billing plans fit the record; the customer and the legacy subscription the partner's own. Sending
the same records again changes nothing; a correction updates the stored subscription and writes
what changed (before → after) into its history, as the first arrival does. `offerName` is a
read-only fact of the resource (the catalog names the offer): accepted, checked, not stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from psycopg import sql as pgsql

from accounts.imports import (
    CUSTOMER_OF_PARTNER,
    CUSTOMER_OF_ROW,
    ORGANIZATION_OF_ROW,
    PARTNER_EXISTS,
    PARTNER_ID,
)
from accounts.vendor_api import FeedView, feed_urls
from commerce.choices import BillingCycle, SubscriptionStatus, TermDuration
from commerce.models import Availability, LegacySubscription, NceSubscription, Sku
from commerce.vendor_api import MONEY_RULES, currency_column, unit_price_column
from portal.history import Entry, history_record_many
from portal.imports import (
    BOOLEAN,
    CHOICE,
    DATE,
    DATETIME,
    INTEGER,
    UUID,
    Column,
    Importer,
    Layout,
    SqlCheck,
    SqlValue,
    Staging,
    register,
    safe_cast,
)
from portal.jobs import JobRun

__all__ = ("NCE_SUBSCRIPTIONS", "NCE_SUBSCRIPTION_IMPORTER", "NceSubscriptionsFeed", "urlpatterns")

_ORGANIZATION = ORGANIZATION_OF_ROW
_NCE = NceSubscription._meta.db_table
_LEGACY = LegacySubscription._meta.db_table
_CUSTOMER = CUSTOMER_OF_ROW
#: The catalog's availabilities with their catalog item ID (`ProductId:SkuId:AvailabilityId`).
_CATALOG = (
    f"SELECT a.id, a.term_duration, a.billing_plans, "
    f"k.product_id || ':' || k.sku_id || ':' || a.availability_id AS catalog_item_id "
    f"FROM {Availability._meta.db_table} a JOIN {Sku._meta.db_table} k ON k.id = a.sku_id"
)
_AVAILABILITY = f"(SELECT x.id FROM ({_CATALOG}) x WHERE x.catalog_item_id = s.offer_id)"
_SUBSCRIPTION_ID = safe_cast("s.subscription_id", UUID)
_MIGRATED_FROM_ID = safe_cast("s.migrated_from_subscription_id", UUID)
_MIGRATED_FROM = (
    f"(SELECT l.id FROM {_LEGACY} l WHERE l.subscription_id = {_MIGRATED_FROM_ID} "
    f"AND l.organization_id = {_ORGANIZATION} AND l.customer_id = {_CUSTOMER})"
)
#: Partner Center writes dates as date-times (`2024-03-31T00:00:00Z`): the date is what counts.
_DATE_FORMATS = ("%Y-%m-%d", "ISO8601", "%m/%d/%Y")
_OPTIONAL = {"required": False, "blank": True}
_CATALOG_ITEM_ID = "[A-Za-z0-9]{12}:[A-Za-z0-9]{4}:[A-Za-z0-9]{1,12}"
_ENDED = (SubscriptionStatus.CANCELLED, SubscriptionStatus.DELETED)

NCE_SUBSCRIPTIONS = Layout(
    name="commerce.vendor_nce_subscriptions",
    title="New-commerce subscriptions (vendor feed)",
    columns=(
        PARTNER_ID,
        Column("customerTenantId", kind=UUID, field="customer_tenant_id", aliases=("CustomerTenantId",)),
        Column("id", kind=UUID, field="subscription_id", aliases=("subscriptionId", "SubscriptionId")),
        Column(
            "offerId",
            field="offer_id",
            aliases=("catalogItemId", "CatalogItemId", "OfferId"),
            pattern=_CATALOG_ITEM_ID,
            pattern_help="is not a catalog item ID (ProductId:SkuId:AvailabilityId)",
            upper=True,
        ),
        Column("orderId", kind=UUID, field="order_id", aliases=("OrderId",), **_OPTIONAL),
        Column("quantity", kind=INTEGER, min_value=1, max_value=1_000_000),
        Column("effectiveStartDate", kind=DATE, field="term_start", formats=_DATE_FORMATS),
        Column("commitmentEndDate", kind=DATE, field="term_end", formats=_DATE_FORMATS),
        Column("status", kind=CHOICE, choices=tuple(SubscriptionStatus.values), **_OPTIONAL),
        Column("autoRenewEnabled", kind=BOOLEAN, field="auto_renew", **_OPTIONAL),
        Column(
            "billingCycle",
            kind=CHOICE,
            field="billing_cycle",
            choices=tuple(BillingCycle.values),
        ),
        Column("termDuration", kind=CHOICE, field="term_duration", choices=tuple(TermDuration.values)),
        unit_price_column(required=True),
        currency_column(required=True),
        Column("migratedFromSubscriptionId", kind=UUID, field="migrated_from_subscription_id", **_OPTIONAL),
        Column(
            "cancellationAllowedUntilDate",
            kind=DATETIME,
            field="cancellation_window_ends_at",
            **_OPTIONAL,
        ),
        # Read-only facts of Partner Center's resource a feed may carry: accepted, checked, not stored.
        Column("friendlyName", field="friendly_name", max_length=200, **_OPTIONAL),
        Column("offerName", field="offer_name", max_length=200, **_OPTIONAL),
    ),
    key=("id",),
    rules=MONEY_RULES,
    references=(PARTNER_EXISTS,),
    checks=(
        # Only a well-formed ID is looked up: a malformed one already says so.
        SqlCheck(
            "offerId",
            f"s.offer_id ~ '^{_CATALOG_ITEM_ID}$' "
            f"AND NOT EXISTS (SELECT 1 FROM ({_CATALOG}) x WHERE x.catalog_item_id = s.offer_id)",
            "is not a catalog item of the catalog (ProductId:SkuId:AvailabilityId of an availability)",
        ),
        CUSTOMER_OF_PARTNER,
        SqlCheck(
            "id",
            f"EXISTS (SELECT 1 FROM {_NCE} n WHERE n.subscription_id = {_SUBSCRIPTION_ID} "
            f"AND n.organization_id <> {_ORGANIZATION})",
            "is a subscription of another partner",
        ),
        SqlCheck(
            "commitmentEndDate",
            f"{safe_cast('s.term_end', DATE)} < {safe_cast('s.term_start', DATE)}",
            "is before effectiveStartDate",
        ),
        SqlCheck(
            "termDuration",
            f"EXISTS (SELECT 1 FROM ({_CATALOG}) x WHERE x.catalog_item_id = s.offer_id "
            "AND x.term_duration <> s.term_duration)",
            "is not the term of the catalog item in offerId",
        ),
        SqlCheck(
            "billingCycle",
            f"EXISTS (SELECT 1 FROM ({_CATALOG}) x WHERE x.catalog_item_id = s.offer_id "
            "AND NOT s.billing_cycle = ANY(x.billing_plans))",
            "is not a billing plan of the catalog item in offerId",
        ),
        SqlCheck(
            "migratedFromSubscriptionId",
            f"{_MIGRATED_FROM_ID} IS NOT NULL AND {_CUSTOMER} IS NOT NULL AND {_MIGRATED_FROM} IS NULL",
            "is not a legacy subscription of this partner's customer",
        ),
        SqlCheck(
            "migratedFromSubscriptionId",
            f"EXISTS (SELECT 1 FROM {_NCE} n WHERE n.migrated_from_id = {_MIGRATED_FROM} "
            f"AND n.subscription_id <> {_SUBSCRIPTION_ID}) "
            "OR EXISTS (SELECT 1 FROM {staging} b WHERE b.line < s.line "
            "AND b.migrated_from_subscription_id = s.migrated_from_subscription_id)",
            "is already the source of another new-commerce subscription",
        ),
    ),
)

#: Stored columns a correction may change, with the feed's names for them in the history.
_TRACKED = {
    "friendly_name": "friendlyName",
    "quantity": "quantity",
    "status": "status",
    "term_start": "effectiveStartDate",
    "term_end": "commitmentEndDate",
    "auto_renew": "autoRenewEnabled",
    "billing_cycle": "billingCycle",
    "term_duration": "termDuration",
    "unit_price": "unitPrice",
    "currency": "currency",
    "catalog_item_id": "offerId",
    "cancellation_window_ends_at": "cancellationAllowedUntilDate",
    "migrated_from_id": "migratedFromSubscriptionId",
    "order_id": "orderId",
}


def _stored(staging: Staging) -> dict[Any, dict[str, Any]]:
    """The stored subscriptions the valid rows name, by subscription id (every partner's: the feed
    is the vendor's and each row is checked against its own partner above)."""
    statement = pgsql.SQL(
        "SELECT subscription_id::uuid FROM {} WHERE errors IS NULL AND outcome IS NULL"
    ).format(staging.identifier)
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))
        ids = [subscription_id for (subscription_id,) in cursor.fetchall()]
    rows = NceSubscription.objects.filter(subscription_id__in=ids).values(
        "pk", "organization_id", "subscription_id", *_TRACKED
    )
    return {row["subscription_id"]: row for row in rows}


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    before = _stored(staging)
    staging.upsert(
        table=_NCE,
        key=("subscription_id",),
        columns={
            "subscription_id": "subscription_id",
            "customer_id": SqlValue(_CUSTOMER),
            "availability_id": SqlValue(_AVAILABILITY),
            "catalog_item_id": "offer_id",
            "friendly_name": "friendly_name",
            "order_id": "order_id",
            "quantity": "quantity",
            "term_start": "term_start",
            "term_end": "term_end",
            "status": "status",
            "auto_renew": "auto_renew",
            "billing_cycle": "billing_cycle",
            "term_duration": "term_duration",
            "unit_price": "unit_price",
            "currency": "currency",
            "migrated_from_id": SqlValue(_MIGRATED_FROM),
            "cancellation_window_ends_at": "cancellation_window_ends_at",
        },
        fallbacks={
            "order_id": "gen_random_uuid()",
            "friendly_name": "''",
            "status": f"'{SubscriptionStatus.ACTIVE}'",
            "auto_renew": "true",
        },
        insert_only={"created_at": "now()"},
        scope_from=_ORGANIZATION,
    )
    after = _stored(staging)
    _mark_cancelled(after)
    _history(before, after, job)
    return {}


def _mark_cancelled(after: dict[Any, dict[str, Any]]) -> None:
    """A subscription the vendor reports cancelled or deleted gets its `cancelled_at` once."""
    ended = [row["pk"] for row in after.values() if row["status"] in _ENDED]
    if ended:
        NceSubscription.objects.filter(pk__in=ended, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )


def _history(before: dict[Any, dict[str, Any]], after: dict[Any, dict[str, Any]], job: JobRun) -> None:
    """One history event per subscription the feed created or corrected: what changed, before → after."""
    content_type = ContentType.objects.get_for_model(NceSubscription)
    entries = []
    for subscription_id, now in after.items():
        then = before.get(subscription_id)
        if then is None:
            changed = {name: [None, now[column]] for column, name in _TRACKED.items()}
            note = "Arrived from the vendor's new-commerce subscriptions feed."
            from_status = ""
        else:
            changed = {
                name: [then[column], now[column]]
                for column, name in _TRACKED.items()
                if then[column] != now[column]
            }
            if not changed:
                continue
            note = "Corrected by the vendor's feed: " + "; ".join(
                f"{name} {_shown(old)} → {_shown(new)}" for name, (old, new) in changed.items()
            )
            from_status = then["status"]
        entries.append(
            Entry(
                organization_id=now["organization_id"],
                content_type=content_type,
                object_id=str(now["pk"]),
                from_status=from_status,
                to_status=now["status"],
                note=note[:2000],
                data={"source": "vendor feed", "job": job.pk, "changes": changed},
            )
        )
    history_record_many(entries, actor=job.created_by or "vendor feed")


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat else str(value)


NCE_SUBSCRIPTION_IMPORTER = register(Importer(layout=NCE_SUBSCRIPTIONS, load=_load))


class NceSubscriptionsFeed(FeedView):
    """New-commerce subscriptions of partners' customers (Partner Center's Subscription shape)."""

    feed = "subscriptions"
    importer_name = NCE_SUBSCRIPTIONS.name


urlpatterns = feed_urls({"new-commerce-subscriptions": NceSubscriptionsFeed})
