"""Commerce read side: what the pages and the API read about subscriptions, migrations, batches
and price lists, scoped to the viewer (`visible_to`).

Writers are in `commerce.services`; nothing here changes state or checks capabilities (the page
and the API policy do, before calling). Lists are ordered on indexed columns and the workspace's
figures are counted up to `COUNT_CAP`, so a partner with 200,000 subscriptions reads them as fast
as one with 70.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Customer
from commerce.choices import MigrationStatus, PriceListStatus, SubscriptionStatus
from commerce.eligibility import Eligibility, eligibility_for
from commerce.models import (
    LegacySubscription,
    Migration,
    MigrationBatch,
    NceSubscription,
    PriceList,
    PriceListRow,
)
from portal.paging import COUNT_CAP

__all__ = (
    "BATCH_MIGRATIONS_SHOWN",
    "LIST_PAGE_SIZE",
    "RECENT_BATCHES",
    "RECENT_MIGRATIONS",
    "CappedCount",
    "CommerceSummary",
    "batch_migrations",
    "batch_with_counts",
    "batches",
    "comparable_price_lists",
    "commerce_summary",
    "customer_by_tenant_id",
    "legacy_subscription_of",
    "legacy_subscriptions",
    "migration_add_ons",
    "migrations",
    "nce_subscriptions",
    "price_list_rows",
    "subscription_migrations",
    "with_eligibility",
)

RECENT_MIGRATIONS = 10
RECENT_BATCHES = 5
#: Rows per page of the new-commerce subscription, migration and batch lists.
LIST_PAGE_SIZE = 20
#: A batch page lists this many of its migrations.
BATCH_MIGRATIONS_SHOWN = 500

#: What the list tables show of each row's relations (commerce/_nce_subscription_table.html,
#: commerce/_migration_table.html).
_NCE_RELATED = ("customer", "availability__sku")
_MIGRATION_RELATED = ("customer", "current_subscription__offer")


@dataclass(frozen=True)
class CappedCount:
    """A number of rows counted up to COUNT_CAP: "123", or the cap and a plus past it ("1,000+")."""

    value: int

    @property
    def capped(self) -> bool:
        return self.value > COUNT_CAP

    def __str__(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.value:,}"


def _capped_count(rows: QuerySet) -> CappedCount:
    return CappedCount(rows.order_by()[: COUNT_CAP + 1].count())


# --- Subscriptions ---------------------------------------------------------------------------------


def legacy_subscriptions(user) -> QuerySet[LegacySubscription]:
    """The viewer's legacy subscriptions, soonest renewal first (index organization, term_end, id).

    Without their customer and offer: `with_eligibility` attaches them, shared between rows.
    """
    return LegacySubscription.objects.visible_to(user).order_by("term_end", "id")


def nce_subscriptions(user) -> QuerySet[NceSubscription]:
    """The viewer's new-commerce subscriptions, soonest term end first."""
    return NceSubscription.objects.visible_to(user).select_related(*_NCE_RELATED).order_by("term_end", "id")


def with_eligibility(
    subscriptions: Iterable[LegacySubscription],
) -> list[tuple[LegacySubscription, Eligibility | None]]:
    """Each subscription (of `legacy_subscriptions`) with whether it can move to new commerce as
    it is, and why not; a fixed number of queries, which also attach the customer and offer."""
    subscriptions = list(subscriptions)
    results = eligibility_for(subscriptions)
    return [(subscription, results.get(subscription.pk)) for subscription in subscriptions]


def legacy_subscription_of(user, customer: Customer, subscription_id: UUID) -> LegacySubscription:
    """One legacy subscription of the customer by its Partner Center id (DoesNotExist otherwise)."""
    return LegacySubscription.objects.visible_to(user).get(customer=customer, subscription_id=subscription_id)


def customer_by_tenant_id(user, tenant_id: UUID) -> Customer:
    """The viewer's customer with this tenant id; 404 for anyone else's."""
    return get_object_or_404(Customer.objects.visible_to(user), tenant_id=tenant_id)


# --- Migrations ------------------------------------------------------------------------------------


def migrations(user) -> QuerySet[Migration]:
    """The viewer's migrations, newest first (index organization, started_time, id)."""
    return (
        Migration.objects.visible_to(user)
        .select_related(*_MIGRATION_RELATED)
        .order_by("-started_time", "-id")
    )


def subscription_migrations(subscription: LegacySubscription) -> QuerySet[Migration]:
    return subscription.migrations.select_related(*_MIGRATION_RELATED)


def migration_add_ons(migration: Migration) -> QuerySet[Migration]:
    return migration.add_on_migrations.select_related("current_subscription__offer")


# --- Batches ---------------------------------------------------------------------------------------


def batches(user) -> QuerySet[MigrationBatch]:
    """The viewer's batches, newest first, with their `completed` and `failed` migrations."""
    return MigrationBatch.objects.visible_to(user).with_counts().select_related("job")


def batch_with_counts(batch: MigrationBatch) -> MigrationBatch:
    return MigrationBatch.objects.with_counts().select_related("job").get(pk=batch.pk)


def batch_migrations(batch: MigrationBatch) -> QuerySet[Migration]:
    return batch.migrations.select_related(*_MIGRATION_RELATED)[:BATCH_MIGRATIONS_SHOWN]


# --- The workspace's overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class CommerceSummary:
    active_legacy: CappedCount
    migrated: CappedCount
    active_nce: CappedCount
    failed: CappedCount
    recent_migrations: list[Migration]
    recent_batches: list[MigrationBatch]


def commerce_summary(user) -> CommerceSummary:
    """The Commerce workspace's figures, its latest migrations and batches.

    A legacy subscription completes at most one migration (a database constraint), so counting
    completed migrations counts the subscriptions moved.
    """
    visible_migrations = Migration.objects.visible_to(user)
    return CommerceSummary(
        active_legacy=_capped_count(
            LegacySubscription.objects.visible_to(user).filter(status=SubscriptionStatus.ACTIVE)
        ),
        migrated=_capped_count(visible_migrations.filter(status=MigrationStatus.COMPLETED)),
        active_nce=_capped_count(
            NceSubscription.objects.visible_to(user).filter(status=SubscriptionStatus.ACTIVE)
        ),
        failed=_capped_count(visible_migrations.filter(status=MigrationStatus.FAILED)),
        recent_migrations=list(migrations(user)[:RECENT_MIGRATIONS]),
        recent_batches=list(batches(user)[:RECENT_BATCHES]),
    )


# --- Price lists (vendor data: every partner reads the same lists) -----------------------------------


def price_list_rows(user, price_list: PriceList) -> QuerySet[PriceListRow]:
    return PriceListRow.objects.visible_to(user).filter(price_list=price_list)


def comparable_price_lists(user, price_list: PriceList) -> list[PriceList]:
    """Ready lists of the same market and currency a list can be compared with, newest first."""
    return list(
        PriceList.objects.visible_to(user)
        .filter(market=price_list.market, currency=price_list.currency, status=PriceListStatus.READY)
        .exclude(pk=price_list.pk)
    )
