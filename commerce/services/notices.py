"""The Commerce workspace's notifications (categories in `commerce.notifications`): who is told about
what, in what words. The services that make each event happen call these inside their transaction.

Who hears of it:
* a migration batch done or failed: the person who started it and the people who can place orders
  (`orders.place`) in its organization;
* a vendor-led wave ahead: the people who can manage customers or place orders, once per set of
  subscriptions the wave will take and wave start — the daily check telling the same again tells
  nobody, a set that changed (a new renewal in the window, one migrated meanwhile) is news;
* a price list published: in every partner organization, the people who can view pricing
  (`pricing.view`, what the price list pages ask) — one query names the organizations with anyone
  to tell, then one `notify` per organization (`notify` serves one organization).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from accounts.audiences import people_named, people_who_can
from accounts.models import Organization
from commerce.choices import SubscriptionStatus
from commerce.notifications import (
    MIGRATION_BATCH_DONE,
    MIGRATION_BATCH_FAILED,
    PRICE_LIST_PUBLISHED,
    WAVE_WARNING,
)
from portal.capabilities import Capability
from portal.notifications import notify

if TYPE_CHECKING:
    from commerce.models import MigrationBatch, PriceList

__all__ = ("migration_batch_finished_notify", "price_list_published_notify", "wave_warning_notify")

C = Capability


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


# --- Migration batches ---------------------------------------------------------------------------


def _batch_people(batch: MigrationBatch) -> QuerySet:
    """Whoever started the batch, and the people who place the organization's orders."""
    return people_named(batch.organization_id, [batch.created_by_id]) | people_who_can(
        batch.organization_id, C.ORDERS_PLACE
    )


def _counts_text(counts: dict[str, int]) -> str:
    parts = [f"{_plural(counts.get('completed', 0), 'subscription')} moved to new commerce"]
    if counts.get("add_ons"):
        parts[0] += f" (with {_plural(counts['add_ons'], 'add-on')})"
    if counts.get("failed"):
        parts.append(f"{counts['failed']:,} failed")
    if counts.get("rejected"):
        parts.append(f"{counts['rejected']:,} refused as not eligible")
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def migration_batch_finished_notify(batch: MigrationBatch, *, counts: dict[str, int], error: str = "") -> int:
    """The batch's job finished (`migration_batch_run`): done, or failed — a migration of it failed,
    or the job itself stopped with `error`. `counts` are the batch's migrations by outcome
    (`completed`, `failed`, `rejected`, `add_ons`), as far as it got."""
    reference = batch.external_reference_id
    total = batch.row_count
    moved = counts.get("completed", 0)
    if error:
        category = MIGRATION_BATCH_FAILED
        title = f"Migration batch {reference} failed"
        body = (
            f"The batch stopped with an error: {error}. So far {_counts_text(counts)} of {total:,}. "
            "The subscriptions it did not migrate stay active on the legacy platform: open the batch to "
            "see which moved, and submit the others again."
        )
    elif counts.get("failed"):
        category = MIGRATION_BATCH_FAILED
        title = f"Migration batch {reference}: {counts['failed']:,} of {total:,} migrations failed"
        body = (
            f"The batch finished: {_counts_text(counts)}. The subscriptions whose migration failed stay "
            "active on the legacy platform: open the batch to see why, and retry them."
        )
    else:
        category = MIGRATION_BATCH_DONE
        title = f"Migration batch {reference} done: {moved:,} of {total:,} migrated"
        refused = (
            " Open the batch to see why the refused ones are not eligible." if counts.get("rejected") else ""
        )
        body = f"The batch finished: {_counts_text(counts)}.{refused}"
    return notify(
        category_code=category.code,
        organization_id=batch.organization_id,
        recipients=_batch_people(batch),
        title=title,
        body=body,
        url=reverse("commerce:batch-detail", args=[batch.pk]),
        # A batch's job finishes once (a finished job is not run again): its outcome is the occurrence.
        event_key=f"{category.code}:{batch.pk}",
    )


# --- Vendor-led waves ----------------------------------------------------------------------------


def wave_warning_notify(
    *,
    organization_id: int,
    wave: Any,
    count: int,
    first_move: date,
    subscriptions: str,
) -> int:
    """The organization has `count` legacy subscriptions the vendor-led `wave` (a
    `commerce.services.waves.Wave`) will migrate, the first on `first_move`. Told at most once a
    month per wave (the set changes daily as the wave migrates and renewals come near; the Action
    Center item keeps the current count), so people are warned, not flooded. `subscriptions` (a
    digest of the set's ids) is kept for the caller's own use."""
    start = wave.start
    return notify(
        category_code=WAVE_WARNING.code,
        organization_id=organization_id,
        recipients=people_who_can(organization_id, C.CUSTOMERS_MANAGE, C.ORDERS_PLACE),
        title=(
            f"{_plural(count, 'legacy subscription')} move{'s' if count == 1 else ''} to new commerce "
            f"in the vendor-led {wave.label} wave"
        ),
        body=(
            f"From {start:%d %B %Y} the vendor migrates legacy subscriptions at renewal: an annual term "
            f"with the same billing plan and seat count. The first of yours moves on {first_move:%d %B %Y}. "
            "Migrate them yourself before then to choose the term, billing plan and seats."
        ),
        url=f"{reverse('commerce:subscription-list')}?status={SubscriptionStatus.ACTIVE}&migrated=false",
        event_key=f"{WAVE_WARNING.code}:{wave.name}:{start.isoformat()}:{first_move:%Y-%m}",
    )


# --- Price lists ---------------------------------------------------------------------------------


def price_list_published_notify(price_list: PriceList, *, replaces: PriceList | None = None) -> int:
    """A new price list is in (the price list loader): tell the pricing viewers of every partner
    organization, one `notify` per organization that has any. A corrected file (`replaces`, the
    list it took the place of) says so and links to what it changed. Returns how many people were
    told."""
    kind = "preview price list" if price_list.is_preview else "price list"
    when = "next month's prices, before they apply" if price_list.is_preview else "the prices that apply"
    title = f"New {kind}: {price_list.name}"
    body = (
        f"The vendor published the {price_list.market} {kind} for {price_list.effective_month:%B %Y}: "
        f"{_plural(price_list.row_count, 'price')} in {price_list.currency}, {when}. Open it to see "
        "the prices or download them, and compare it with the previous list to see what changed."
    )
    url = reverse("commerce:price-list-detail", args=[price_list.pk])
    if replaces is not None:
        title = f"Corrected {kind}: {price_list.name}"
        body = (
            f"The vendor corrected the {price_list.market} {kind} for {price_list.effective_month:%B %Y}: "
            f"{_plural(price_list.row_count, 'price')} in {price_list.currency} replace the list published "
            f"on {replaces.uploaded_at:%d %B %Y}, which no longer applies. Open it to see what the "
            "correction changed."
        )
        url = f"{reverse('commerce:price-list-diff', args=[price_list.pk])}?against={replaces.pk}"
    event_key = f"{PRICE_LIST_PUBLISHED.code}:{price_list.pk}"
    # One query: the organizations with someone who may open the price list pages.
    organizations = (
        Organization.objects.filter(Exists(people_who_can(OuterRef("pk"), C.PRICING_VIEW)))
        .order_by("pk")
        .values_list("pk", "legal_name")
    )
    told = 0
    for organization_id, name in organizations:
        told += notify(
            category_code=PRICE_LIST_PUBLISHED.code,
            organization_id=organization_id,
            organization_name=name,
            recipients=people_who_can(organization_id, C.PRICING_VIEW),
            title=title,
            body=body,
            url=url,
            event_key=event_key,
        )
    return told
