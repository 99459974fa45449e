"""One line a migration moves (a legacy subscription, or an add-on moving with its base): the
checks every line passes — offer, customer segment and market, term and billing plan, seats, price —
and what it becomes (`MigrationProposal`). Part of the eligibility engine (`commerce.eligibility`,
which re-exports what others use).

A batch asks for the same few lines thousands of times, so everything but the pooled seats (which
the lines before it in a batch change) is decided once per key and kept in the context
(`LineFacts`), and the rows asking for the same line, end date and legacy price share one immutable
proposal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from accounts.choices import CustomerSegment
from commerce.choices import Segment
from commerce.codes import NO_EQUIVALENT_OFFER, EligibilityCode, EligibilityError
from commerce.models import Availability, LegacySubscription, Sku
from commerce.pricing.impact import line_charges
from commerce.pricing.lookup import PricePoint, choose, tier_ranges

if TYPE_CHECKING:
    from commerce.eligibility import MigrationContext

__all__ = ("SEGMENT_FOR_CUSTOMER", "LineFacts", "MigrationProposal", "Offer", "line_check", "offer_of")

SEGMENT_FOR_CUSTOMER = {
    CustomerSegment.COMMERCIAL: Segment.COMMERCIAL,
    CustomerSegment.EDUCATION: Segment.EDUCATION,
    CustomerSegment.GOVERNMENT: Segment.GOVERNMENT,
    CustomerSegment.CHARITY: Segment.CHARITY,
}


@dataclass(frozen=True)
class MigrationProposal:
    """What the migrated line would be and cost (the figures: commerce.pricing.impact)."""

    catalog_item_id: str
    availability_id: int
    term_duration: str
    billing_cycle: str
    quantity: int
    term_start: date
    term_end: date
    unit_price: Decimal
    currency: str
    charge_per_period: Decimal
    period: str
    legacy_charge_per_period: Decimal | None
    #: The price impact over the new term, and what the legacy subscription costs over the same
    #: span (None when the vendor sent no legacy price).
    charge_per_term: Decimal | None = None
    legacy_charge_per_term: Decimal | None = None
    #: The legacy price's currency; when it is not `currency`, the two are shown side by side.
    legacy_currency: str = ""


@dataclass(frozen=True)
class Offer:
    """Where a SKU stands for one segment, market and term."""

    in_segment: list[Availability]
    in_market: list[Availability]
    availability: Availability | None
    catalog_item_id: str


def offer_of(context: MigrationContext, sku: Sku, segment: str, market: str, term: str) -> Offer:
    key = (sku.pk, segment, market, term)
    found = context.offers.get(key)
    if found is None:
        in_segment = [a for a in context.availabilities.get(sku.pk, []) if a.segment == segment]
        in_market = [a for a in in_segment if market in a.markets]
        availability = next((a for a in in_market if a.term_duration == term), None)
        shown = availability or next(iter(in_market or in_segment), None)
        catalog_item_id = shown.catalog_item_id if shown else f"{sku.product_id}:{sku.sku_id}"
        found = context.offers[key] = Offer(in_segment, in_market, availability, catalog_item_id)
    return found


@dataclass(frozen=True)
class LineFacts:
    """What a line's checks find besides the pooled seats: the same for every line asking for the
    same SKU, customer segment and market, term, billing plan, seats and start (`line_check` keeps one
    per such key in the context, so a file of thousands of rows decides each once)."""

    #: Trial, seats the offer allows, segment, market, term and billing plan; then the price.
    before: tuple[EligibilityError, ...]
    after: tuple[EligibilityError, ...]
    offer: Offer
    price: PricePoint | None


def _trial_and_quantity(is_trial: bool, sku: Sku | None, quantity: int) -> list[EligibilityError]:
    errors = []
    if is_trial or (sku is not None and sku.is_trial):
        errors.append(
            EligibilityError(
                EligibilityCode.TRIAL,
                "Trial subscriptions cannot be migrated; convert the trial to a paid subscription first.",
            )
        )
    if quantity < 1 or (sku is not None and not sku.min_licenses <= quantity <= sku.max_licenses):
        bounds = f"{sku.min_licenses} to {sku.max_licenses}" if sku is not None else "at least 1"
        errors.append(
            EligibilityError(
                EligibilityCode.QUANTITY,
                f"The requested quantity of {quantity} seats is outside the {bounds} seats the offer allows.",
            )
        )
    return errors


def _line_facts(
    context: MigrationContext,
    sku: Sku,
    *,
    is_trial: bool,
    segment: str,
    market: str,
    term: str,
    billing: str,
    quantity: int,
    start: date,
) -> LineFacts:
    errors = _trial_and_quantity(is_trial, sku, quantity)
    offer = offer_of(context, sku, segment, market, term)
    in_segment, in_market, availability = offer.in_segment, offer.in_market, offer.availability
    catalog_item_id = offer.catalog_item_id
    if not in_segment:
        errors.append(
            EligibilityError(
                EligibilityCode.NO_EQUIVALENT,
                f"{sku.title} ({sku.product_id}:{sku.sku_id}) is not available in New Commerce "
                f"for {segment} customers.",
            )
        )
    elif not in_market:
        errors.append(
            EligibilityError(
                EligibilityCode.NO_EQUIVALENT,
                f"{sku.title} ({sku.product_id}:{sku.sku_id}) is not available in New Commerce "
                f"in the customer's market {market}.",
            )
        )
    elif availability is None:
        offered = ", ".join(sorted({a.term_duration for a in in_market}))
        errors.append(
            EligibilityError(
                EligibilityCode.TERM_BILLING,
                f"The term {term} is not offered for {catalog_item_id}; offered terms: {offered}.",
            )
        )
    elif billing not in availability.billing_plans:
        errors.append(
            EligibilityError(
                EligibilityCode.TERM_BILLING,
                f"Billing {billing} is not offered for the {term} term of {catalog_item_id}; "
                f"offered: {', '.join(availability.billing_plans)}.",
            )
        )
    price, after = None, []
    if availability is not None and billing in availability.billing_plans:
        # Priced on the migration date, for the line's seats (commerce.pricing.lookup).
        candidates = context.prices.get((market, sku.product_id, sku.sku_id, term, billing, segment), [])
        price = choose(candidates, on=start, quantity=quantity)
        if price is None:
            tiers = tier_ranges(candidates, on=start)
            seats = f" for {quantity} seats (its tiers: {', '.join(tiers)} seats)" if tiers else ""
            after.append(
                EligibilityError(
                    EligibilityCode.NO_PRICE,
                    f"The current {market} price list has no {segment} price for "
                    f"{sku.product_id}:{sku.sku_id} with term {term} and billing {billing} on "
                    f"{start}{seats}.",
                )
            )
    return LineFacts(before=tuple(errors), after=tuple(after), offer=offer, price=price)


def _proposal(
    context: MigrationContext,
    key: tuple,
    facts: LineFacts,
    legacy: LegacySubscription,
    *,
    term: str,
    billing: str,
    quantity: int,
    start: date,
    end: date,
) -> MigrationProposal:
    """The line's proposal, one (immutable) instance per line key, end and legacy price."""
    known = legacy.unit_price is not None
    legacy_key = (
        (legacy.unit_price, legacy.currency, legacy.quantity, legacy.billing_cycle, legacy.term_duration)
        if known
        else (None, legacy.currency)
    )
    proposal_key = (key, end, legacy_key)
    proposal = context.proposals.get(proposal_key)
    if proposal is None:
        price, availability = facts.price, facts.offer.availability
        proposal = context.proposals[proposal_key] = MigrationProposal(
            catalog_item_id=facts.offer.catalog_item_id,
            availability_id=availability.pk,
            term_duration=term,
            billing_cycle=billing,
            quantity=quantity,
            term_start=start,
            term_end=end,
            unit_price=price.unit_price,
            currency=price.currency,
            **line_charges(
                unit_price=price.unit_price,
                currency=price.currency,
                quantity=quantity,
                term=term,
                billing=billing,
                start=start,
                end=end,
                legacy=legacy,
            ),
        )
    return proposal


def line_check(
    subscription: LegacySubscription,
    context: MigrationContext,
    *,
    term: str,
    billing: str,
    quantity: int,
    start: date,
    end: date,
    pool_used: dict[tuple[int, int], int] | None,
) -> tuple[MigrationProposal | None, list[EligibilityError]]:
    """The checks every migrated line passes (a base or an add-on): offer, market, term, seats, price.

    All but the pooled seats (which earlier lines of a batch change) are decided once per key
    (`LineFacts`); the proposal is shared by the lines asking for the same (it is immutable)."""
    sku: Sku | None = subscription.offer.equivalent_sku
    if sku is None:
        errors = _trial_and_quantity(subscription.is_trial, None, quantity)
        errors.append(EligibilityError(EligibilityCode.NO_EQUIVALENT, NO_EQUIVALENT_OFFER))
        return None, errors
    customer = subscription.customer
    segment = SEGMENT_FOR_CUSTOMER.get(customer.segment, Segment.COMMERCIAL)
    key = (sku.pk, subscription.is_trial, segment, customer.country, term, billing, quantity, start)
    facts = context.lines.get(key)
    if facts is None:
        facts = context.lines[key] = _line_facts(
            context,
            sku,
            is_trial=subscription.is_trial,
            segment=segment,
            market=customer.country,
            term=term,
            billing=billing,
            quantity=quantity,
            start=start,
        )
    errors = list(facts.before)
    if sku.max_seat_pooled is not None:
        pooled = (customer.pk, sku.pk)
        held = context.pooled_seats.get(pooled, 0) + (pool_used.get(pooled, 0) if pool_used else 0)
        remaining = max(sku.max_seat_pooled - held, 0)
        if quantity > remaining:
            errors.append(
                EligibilityError(
                    EligibilityCode.SEAT_LIMIT,
                    f"The requested number of {quantity} seats exceeds the remaining limit of "
                    f"{remaining} seats allowed per subscription for the CatalogItemId - "
                    f"{facts.offer.catalog_item_id}",
                )
            )
    if facts.after:
        errors.extend(facts.after)
    if errors or facts.price is None:
        return None, errors
    proposal = _proposal(
        context, key, facts, subscription, term=term, billing=billing, quantity=quantity, start=start, end=end
    )
    return proposal, errors
