"""A new-commerce subscription's life after purchase, migration or renewal (spec/commerce.md §1, §3.3).

For 168 hours after the subscription was bought, migrated or renewed (`cancellation_window_ends_at`,
Partner Center's `cancellationAllowedUntilDate`) its seats may be reduced and it may be cancelled,
each with a prorated credit; afterwards both are refused with the date the window closed, until the
next renewal. Seats can be added at any time, co-terminous with the term, within the SKU's seat
maximum pooled on the customer tenant. A subscription whose term ended renews for a new term when
auto-renew is on (`nce_renewals_run`, daily), which opens a new window.

Every change locks the subscription, records an `NceSubscriptionChange` and a history event in one
transaction. A change carries the client's request id (`MS-RequestId` / `Idempotency-Key`, or the
page form's token): the same request again returns the change it made the first time and changes
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from commerce.choices import SubscriptionChangeKind, SubscriptionStatus
from commerce.eligibility import POOLED_STATUSES, TERM_MONTHS, add_months
from commerce.models import NceSubscription, NceSubscriptionChange
from commerce.pricing.lookup import price_for
from commerce.services.engine import CANCELLATION_WINDOW
from portal.history import history_record
from portal.locks import advisory_lock, lock
from portal.money import format_money, round_money

logger = logging.getLogger(__name__)

__all__ = (
    "CANCELLATION_WINDOW",
    "NceChangeRefused",
    "NceWindow",
    "nce_credit",
    "nce_renewals_run",
    "nce_subscription_cancel",
    "nce_subscription_renew",
    "nce_subscription_seats_change",
    "nce_window",
)

#: What a request id may be: the change table's column, printable.
REQUEST_ID_MAX_LENGTH = 100
_SEATS = (SubscriptionChangeKind.SEATS_ADDED, SubscriptionChangeKind.SEATS_REDUCED)


class NceChangeRefused(ValidationError):
    """A change the subscription's state refuses, not one the request got wrong: the window has
    closed, the subscription is no longer active, the request id was used for another change.

    The API answers it with 409 and `windowClosedAt`; pages show it like any ValidationError.
    """

    def __init__(self, field: str, reason: str, *, window_closed_at: datetime | None = None):
        super().__init__({field: [reason]})
        self.field = field
        self.reason = reason
        self.window_closed_at = window_closed_at


@dataclass(frozen=True)
class NceWindow:
    """Where a subscription stands against its 7-day window at one moment."""

    ends_at: datetime | None
    is_open: bool

    @property
    def closed_at(self) -> datetime | None:
        return None if self.is_open else self.ends_at


def nce_window(subscription: NceSubscription, *, now: datetime | None = None) -> NceWindow:
    """Open while `now` is before `cancellation_window_ends_at` (168 hours after purchase, migration
    or renewal); a subscription without one (the vendor says it cannot be cancelled) is closed."""
    ends_at = subscription.cancellation_window_ends_at
    now = now or timezone.now()
    return NceWindow(ends_at=ends_at, is_open=ends_at is not None and now < ends_at)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _window_closed(subscription: NceSubscription, window: NceWindow, *, field: str, what: str, later: str):
    renewal = subscription.term_end.isoformat()
    if window.ends_at is None:
        reason = f"This subscription has no 7-day window to {what}; {later} at renewal on {renewal}."
    else:
        closed = _utc(window.ends_at)
        reason = f"The 7-day window to {what} closed on {closed}; {later} at renewal on {renewal}."
    return NceChangeRefused(field, reason, window_closed_at=window.ends_at)


def nce_credit(subscription: NceSubscription, *, seats: int, on: date) -> Decimal:
    """The prorated credit for giving back `seats` seats of `subscription` on day `on`.

    `unit_price` is the partner's price of one seat for a whole term of `term_duration`, so one
    seat-day costs `unit_price / full-term days`, where the full term runs from `term_start` for
    the term's months (365 or 366 days for P1Y; a co-terminous term that ends sooner was charged
    only for its own days). The credit is the unused part of what the term charges for those seats:

        unit_price × seats × remaining days / full-term days

    where the remaining days run from `on` through `term_end`, both included (the day of the
    change is not charged: a cancellation on the first day gives everything back). Rounded to the
    cent with banker's rounding (`portal.money.round_money`). For monthly billing the credit is
    what the remaining instalments no longer carry.
    """
    start = subscription.term_start
    full_days = (add_months(start, TERM_MONTHS[subscription.term_duration]) - start).days
    remaining = (subscription.term_end - max(on, start)).days + 1
    remaining = min(max(remaining, 0), full_days)
    return round_money(subscription.unit_price * seats * remaining / full_days)


def _checked_request_id(request_id: str) -> str:
    request_id = (request_id or "").strip()
    if len(request_id) > REQUEST_ID_MAX_LENGTH or not request_id.isprintable():
        raise ValidationError(
            {"requestId": [f"A request id has at most {REQUEST_ID_MAX_LENGTH} printable characters."]}
        )
    return request_id


def _replayed(
    subscription: NceSubscription, request_id: str, *, kinds: tuple[str, ...], quantity: int | None = None
) -> NceSubscriptionChange | None:
    """The change this request id already made, if any; NceChangeRefused when it made another one."""
    if not request_id:
        return None
    change = subscription.changes.filter(request_id=request_id).first()
    if change is None:
        return None
    if change.kind not in kinds or (quantity is not None and change.quantity_after != quantity):
        raise NceChangeRefused(
            "requestId",
            f"The request id {request_id!r} was already used for another change of this subscription "
            f"({change.get_kind_display().lower()}, {change.quantity_before} → {change.quantity_after} "
            f"seats, on {_utc(change.changed_at)}).",
        )
    change.replayed = True
    return change


def _require_active(subscription: NceSubscription, *, what: str) -> None:
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise NceChangeRefused(
            "status",
            f"The subscription is {subscription.get_status_display().lower()}; only an active {what}.",
        )


def _pooled_remaining(subscription: NceSubscription) -> int | None:
    """Seats the SKU's pooled maximum still allows on the customer's tenant (None: no maximum).

    The pool spans every partner's subscriptions on the same customer tenant, so this reads
    across organizations: the count only, nothing of another partner is shown.
    """
    sku = subscription.availability.sku
    if sku.max_seat_pooled is None:
        return None
    # Two additions on the same tenant and SKU take turns, so both cannot take the last seats.
    advisory_lock("commerce.nce.pool", subscription.customer.tenant_id, sku.pk)
    held = (
        NceSubscription.objects.filter(
            customer__tenant_id=subscription.customer.tenant_id,
            availability__sku=sku,
            status__in=POOLED_STATUSES,
        ).aggregate(seats=Sum("quantity"))["seats"]
        or 0
    )
    return max(sku.max_seat_pooled - held, 0)


def _record(
    subscription: NceSubscription,
    *,
    actor: Any,
    kind: str,
    before: int,
    after: int,
    credit: Decimal,
    request_id: str,
    now: datetime,
    from_status: str,
    note: str,
    data: dict[str, Any] | None = None,
) -> NceSubscriptionChange:
    change = NceSubscriptionChange.objects.create(
        organization_id=subscription.organization_id,
        subscription=subscription,
        kind=kind,
        quantity_before=before,
        quantity_after=after,
        credit=credit,
        currency=subscription.currency,
        changed_at=now,
        changed_by=actor if getattr(actor, "pk", None) else None,
        request_id=request_id,
    )
    history_record(
        subject=subscription,
        actor=actor,
        from_status=from_status,
        to_status=subscription.status,
        note=note,
        data={
            "change": kind,
            "quantityBefore": before,
            "quantityAfter": after,
            "credit": str(credit),
            "currency": subscription.currency,
            "requestId": request_id,
            **(data or {}),
        },
        at=now,
    )
    change.replayed = False
    return change


@transaction.atomic
def nce_subscription_seats_change(
    *,
    actor: Any,
    subscription: NceSubscription,
    quantity: int,
    request_id: str = "",
    now: datetime | None = None,
) -> NceSubscriptionChange:
    """Set the subscription's seats to `quantity`.

    Adding seats is allowed at any time (they co-terminate with the term; no credit), within the
    offer's per-subscription maximum and the SKU's maximum pooled on the customer tenant. Reducing
    is allowed only inside the 7-day window, never below the offer's minimum (at least 1), and
    credits the returned seats (`nce_credit`). Raises ValidationError for a bad quantity and
    NceChangeRefused when the subscription's state refuses the change. The returned change has
    `replayed` True when the request id had already made it.
    """
    now = now or timezone.now()
    request_id = _checked_request_id(request_id)
    subscription = lock(subscription, "customer", "availability__sku")
    replay = _replayed(subscription, request_id, kinds=_SEATS, quantity=quantity)
    if replay is not None:
        return replay
    _require_active(subscription, what="subscription's seats can change")
    before = subscription.quantity
    sku = subscription.availability.sku
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError({"quantity": [f"{quantity!r} is not a whole number of seats."]})
    lowest = max(1, sku.min_licenses)
    if not lowest <= quantity <= sku.max_licenses:
        raise ValidationError(
            {
                "quantity": [
                    f"The requested quantity of {quantity} seats is outside the {lowest} to "
                    f"{sku.max_licenses} seats the offer allows."
                ]
            }
        )
    if quantity == before:
        raise ValidationError(
            {"quantity": [f"The subscription already has {before} seats; nothing to change."]}
        )
    if quantity > before:
        added = quantity - before
        remaining = _pooled_remaining(subscription)
        if remaining is not None and added > remaining:
            raise ValidationError(
                {
                    "quantity": [
                        f"The requested number of {added} seats exceeds the remaining limit of "
                        f"{remaining} seats allowed per subscription for the CatalogItemId - "
                        f"{subscription.catalog_item_id}"
                    ]
                }
            )
        kind, credit = SubscriptionChangeKind.SEATS_ADDED, Decimal("0")
        note = (
            f"{added} seats added ({before} → {quantity}), co-terminous with the term ending "
            f"{subscription.term_end}."
        )
    else:
        window = nce_window(subscription, now=now)
        if not window.is_open:
            raise _window_closed(
                subscription, window, field="quantity", what="reduce seats", later="seats can be reduced"
            )
        removed = before - quantity
        kind = SubscriptionChangeKind.SEATS_REDUCED
        credit = nce_credit(subscription, seats=removed, on=timezone.localdate(now))
        note = (
            f"{removed} seats removed ({before} → {quantity}) inside the 7-day window; "
            f"credit {format_money(credit, subscription.currency)}."
        )
    subscription.quantity = quantity
    subscription.save(update_fields=["quantity"])
    return _record(
        subscription,
        actor=actor,
        kind=kind,
        before=before,
        after=quantity,
        credit=credit,
        request_id=request_id,
        now=now,
        from_status=subscription.status,
        note=note,
    )


@transaction.atomic
def nce_subscription_cancel(
    *, actor: Any, subscription: NceSubscription, request_id: str = "", now: datetime | None = None
) -> NceSubscriptionChange:
    """Cancel the subscription inside its 7-day window: status cancelled, `cancelled_at` now, and a
    credit of every seat for the rest of the term (`nce_credit`). Refused (NceChangeRefused) once
    the window has closed or when the subscription is not active."""
    now = now or timezone.now()
    request_id = _checked_request_id(request_id)
    subscription = lock(subscription, "customer", "availability__sku")
    replay = _replayed(subscription, request_id, kinds=(SubscriptionChangeKind.CANCELLED,))
    if replay is not None:
        return replay
    _require_active(subscription, what="subscription can be cancelled")
    window = nce_window(subscription, now=now)
    if not window.is_open:
        raise _window_closed(
            subscription, window, field="status", what="cancel", later="the subscription can end"
        )
    seats = subscription.quantity
    credit = nce_credit(subscription, seats=seats, on=timezone.localdate(now))
    before = subscription.status
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at = now
    subscription.save(update_fields=["status", "cancelled_at"])
    return _record(
        subscription,
        actor=actor,
        kind=SubscriptionChangeKind.CANCELLED,
        before=seats,
        after=0,
        credit=credit,
        request_id=request_id,
        now=now,
        from_status=before,
        note=(
            f"Cancelled inside the 7-day window; credit {format_money(credit, subscription.currency)} "
            f"for {seats} seats."
        ),
    )


def _renewal_price(subscription: NceSubscription, on: date) -> Decimal:
    """The price list's price for the subscription's seats on the renewal day (a price change
    applies at renewal, §1); the subscription's own when the list has none in its currency."""
    sku = subscription.availability.sku
    row = price_for(
        market=subscription.customer.country,
        product_id=sku.product_id,
        sku_id=sku.sku_id,
        term_duration=subscription.term_duration,
        billing_plan=subscription.billing_cycle,
        segment=subscription.availability.segment,
        on=on,
        quantity=subscription.quantity,
    )
    if row is None or row.currency != subscription.currency:
        return subscription.unit_price
    return row.unit_price


@transaction.atomic
def nce_subscription_renew(
    *, actor: Any, subscription: NceSubscription, now: datetime | None = None
) -> list[NceSubscriptionChange]:
    """Renew an active, auto-renewing subscription whose term has ended: a new term of the same
    duration from the day after the old one ended (one per term missed), priced from the price list
    on its first day, and a new 7-day window from now. Nothing when it is not due (a rerun)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    subscription = lock(subscription, "customer", "availability__sku")
    changes: list[NceSubscriptionChange] = []
    if subscription.status != SubscriptionStatus.ACTIVE or not subscription.auto_renew:
        return changes
    while subscription.term_end < today:
        old_start, old_end = subscription.term_start, subscription.term_end
        old_price = subscription.unit_price
        start = old_end + timedelta(days=1)
        subscription.term_start = start
        subscription.term_end = add_months(start, TERM_MONTHS[subscription.term_duration]) - timedelta(days=1)
        subscription.unit_price = _renewal_price(subscription, start)
        subscription.cancellation_window_ends_at = now + CANCELLATION_WINDOW
        subscription.save(
            update_fields=["term_start", "term_end", "unit_price", "cancellation_window_ends_at"]
        )
        new_price = subscription.unit_price
        price = (
            f"; price {old_price.normalize():f} → {new_price.normalize():f} {subscription.currency}"
            if old_price != new_price
            else ""
        )
        changes.append(
            _record(
                subscription,
                actor=actor,
                kind=SubscriptionChangeKind.RENEWED,
                before=subscription.quantity,
                after=subscription.quantity,
                credit=Decimal("0"),
                # No request id: under the lock, a renewed term no longer ends in the past.
                request_id="",
                now=now,
                from_status=subscription.status,
                note=(
                    f"Renewed for {subscription.term_start} → {subscription.term_end}{price}; seats can be "
                    f"reduced or the subscription cancelled until "
                    f"{_utc(subscription.cancellation_window_ends_at)}."
                ),
                data={
                    "termBefore": [old_start.isoformat(), old_end.isoformat()],
                    "termAfter": [subscription.term_start.isoformat(), subscription.term_end.isoformat()],
                    "unitPriceBefore": str(old_price),
                    "unitPriceAfter": str(subscription.unit_price),
                },
            )
        )
    return changes


def nce_renewals_run(*, now: datetime | None = None) -> dict[str, int]:
    """Renew every subscription that is due (the daily beat task); each in its own transaction, so
    one failure leaves the others renewed and a rerun picks up only what is still due."""
    now = now or timezone.now()
    # Every organization's subscriptions: renewal is the vendor's, not a person's, action.
    due = list(
        NceSubscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, auto_renew=True, term_end__lt=timezone.localdate(now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    renewed = failed = 0
    for pk in due:
        try:
            changes = nce_subscription_renew(
                actor="vendor renewal", subscription=NceSubscription(pk=pk), now=now
            )
        except Exception:
            logger.exception("renewing new-commerce subscription %s failed", pk)
            failed += 1
        else:
            renewed += bool(changes)
    return {"due": len(due), "renewed": renewed, "failed": failed}
