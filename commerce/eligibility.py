"""Can a legacy subscription move to new commerce, and what would it become? (spec/commerce.md §3)

`migration_validate` answers Partner Center's Validate call for one subscription and one request;
`eligibility_for` answers for a list page with the default request in a fixed number of queries.
Both collect every reason a subscription is blocked, never just the first.

The services use the same two steps: `migration_context_load` reads everything a set of
subscriptions needs in a fixed number of queries, and `migration_assess` decides one subscription
from that context without touching the database, so a batch chunk is validated set-based.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.choices import CustomerSegment
from accounts.models import Customer
from commerce.choices import (
    NON_TERMINAL_MIGRATION_STATUSES,
    MigrationStatus,
    ScheduleStatus,
    Segment,
    SubscriptionStatus,
    TermDuration,
    TradeStatus,
)
from commerce.codes import NO_EQUIVALENT_OFFER, EligibilityCode, EligibilityError
from commerce.models import (
    Availability,
    LegacyOffer,
    LegacySubscription,
    Migration,
    MigrationSchedule,
    NceSubscription,
    Sku,
)
from commerce.pricing.impact import PriceImpact, line_charges, price_impact
from commerce.pricing.lookup import PriceKey, PricePoint, choose, price_candidates, tier_ranges
from commerce.pricing.terms import TERM_MONTHS, add_months, full_term_end

__all__ = (
    "NO_EQUIVALENT_OFFER",
    "SEGMENT_FOR_CUSTOMER",
    "SUBSCRIPTION_RELATED",
    "Eligibility",
    "EligibilityCode",
    "EligibilityError",
    "MigrationAssessment",
    "MigrationContext",
    "MigrationProposal",
    "MigrationRequest",
    "add_months",
    "eligibility_for",
    "id_array",
    "migration_assess",
    "migration_context_load",
    "migration_pool_new",
    "migration_pool_take",
    "migration_subscriptions_prepare",
    "migration_validate",
    "migration_validate_assessment",
)


SEGMENT_FOR_CUSTOMER = {
    CustomerSegment.COMMERCIAL: Segment.COMMERCIAL,
    CustomerSegment.EDUCATION: Segment.EDUCATION,
    CustomerSegment.GOVERNMENT: Segment.GOVERNMENT,
    CustomerSegment.CHARITY: Segment.CHARITY,
}

#: Seats that count against a SKU's pooled maximum on the customer tenant.
POOLED_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)

#: What the rules read through each subscription (see `migration_subscriptions_prepare`).
SUBSCRIPTION_RELATED = ("customer", "offer__equivalent_sku__product", "parent")


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
class Eligibility:
    subscription_id: int
    is_eligible: bool
    errors: tuple[EligibilityError, ...]
    proposal: MigrationProposal | None
    #: Before and after, add-ons included (None when not eligible).
    price_impact: PriceImpact | None = None

    @property
    def catalog_item_id(self) -> str | None:
        return self.proposal.catalog_item_id if self.proposal else None


@dataclass(frozen=True)
class MigrationRequest:
    """The optional fields of Partner Center's create/validate body (§3.4).

    `at_renewal` is the vendor-led request (§3.3): an annual term (a 3-year legacy term stays
    3-year) starting the day after the legacy term ends, with the same billing plan and seats.
    """

    term_duration: str | None = None
    billing_cycle: str | None = None
    quantity: int | None = None
    purchase_full_term: bool = False
    custom_term_end_date: date | None = None
    at_renewal: bool = False


@dataclass(frozen=True)
class MigrationAssessment:
    """The answer for one subscription, plus the proposals of the add-ons that move with it."""

    subscription: LegacySubscription
    eligibility: Eligibility
    addons: tuple[tuple[LegacySubscription, MigrationProposal], ...] = ()

    @property
    def is_eligible(self) -> bool:
        return self.eligibility.is_eligible


@dataclass
class MigrationContext:
    """Everything the rules read for a set of subscriptions, loaded in a fixed number of queries."""

    on: date
    addons: dict[int, list[LegacySubscription]] = field(default_factory=dict)
    migration_statuses: dict[int, set[str]] = field(default_factory=dict)
    #: Legacy subscriptions with a schedule waiting to run.
    scheduled: set[int] = field(default_factory=set)
    availabilities: dict[int, list[Availability]] = field(default_factory=dict)
    pooled_seats: dict[tuple[int, int], int] = field(default_factory=dict)
    #: The rows that may price each key in the dates asked about; `choose` picks per date and seats.
    prices: dict[PriceKey, list[PricePoint]] = field(default_factory=dict)
    nce_term_ends: dict[int, set[date]] = field(default_factory=dict)
    #: (SKU id, segment, market, term) → what `_offer` found; thousands of rows share a few keys.
    offers: dict[tuple[int, str, str, str], _Offer] = field(default_factory=dict)


@dataclass(frozen=True)
class _Offer:
    """Where a SKU stands for one segment, market and term."""

    in_segment: list[Availability]
    in_market: list[Availability]
    availability: Availability | None
    catalog_item_id: str


def _offer(context: MigrationContext, sku: Sku, segment: str, market: str, term: str) -> _Offer:
    key = (sku.pk, segment, market, term)
    found = context.offers.get(key)
    if found is None:
        in_segment = [a for a in context.availabilities.get(sku.pk, []) if a.segment == segment]
        in_market = [a for a in in_segment if market in a.markets]
        availability = next((a for a in in_market if a.term_duration == term), None)
        shown = availability or next(iter(in_market or in_segment), None)
        catalog_item_id = shown.catalog_item_id if shown else f"{sku.product_id}:{sku.sku_id}"
        found = context.offers[key] = _Offer(in_segment, in_market, availability, catalog_item_id)
    return found


# --- Loading --------------------------------------------------------------------------------------


def id_array(ids: Iterable[int], db_type: str = "bigint") -> RawSQL:
    """For `field__in=`: the ids as ONE array parameter rather than one placeholder each.

    A chunk passes thousands of ids; building and parsing that many placeholders costs more
    than the query itself.
    """
    return RawSQL(f"SELECT unnest(%s::{db_type}[])", (list(ids),))


def _prices(
    *, markets: Iterable[str], skus: Iterable[Sku], first_day: date, last_day: date
) -> dict[PriceKey, list[PricePoint]]:
    """The rows that may price these markets and SKUs between the two days, in one query."""
    skus = list(skus)
    return price_candidates(
        markets=markets,
        product_ids={sku.product_id for sku in skus},
        sku_ids={sku.sku_id for sku in skus},
        first_day=first_day,
        last_day=last_day,
    )


def migration_subscriptions_prepare(subscriptions: Iterable[LegacySubscription]) -> list[LegacySubscription]:
    """Attach what the rules read (customer, offer → SKU → product, base subscription).

    Three queries whatever the number of subscriptions; subscriptions sharing a customer or an
    offer share one instance, which keeps a chunk of thousands cheap (`select_related` would
    build five objects per row).
    """
    subscriptions = list(subscriptions)
    customers = {
        c.pk: c for c in Customer.objects.filter(pk__in=id_array(s.customer_id for s in subscriptions))
    }
    offers = LegacyOffer.objects.select_related("equivalent_sku__product").in_bulk(
        {s.offer_id for s in subscriptions}
    )
    # Asked even without add-ons among them, so a page costs the same queries whatever it lists.
    parent_ids = {s.parent_id for s in subscriptions if s.parent_id}
    parents = {p.pk: p for p in LegacySubscription.objects.filter(pk__in=id_array(parent_ids))}
    for subscription in subscriptions:
        subscription.customer = customers[subscription.customer_id]
        subscription.offer = offers[subscription.offer_id]
        if subscription.parent_id:
            subscription.parent = parents[subscription.parent_id]
    return subscriptions


def migration_context_load(
    subscriptions: list[LegacySubscription], *, on: date, nce_term_ends: bool = False, prices: bool = True
) -> MigrationContext:
    """Read what the rules need for `subscriptions` (prepared by `migration_subscriptions_prepare`).

    Seven queries whatever the number of subscriptions (one more with `nce_term_ends`, which custom
    term end dates need; one fewer without `prices`, for a caller that needs no price).
    """
    context = MigrationContext(on=on)
    if not subscriptions:
        return context
    ids = {subscription.pk for subscription in subscriptions}
    for addon in LegacySubscription.objects.filter(
        parent_id__in=id_array(ids), status=SubscriptionStatus.ACTIVE
    ).select_related("customer", "offer__equivalent_sku__product"):
        context.addons.setdefault(addon.parent_id, []).append(addon)
    everyone = [*subscriptions, *(addon for addons in context.addons.values() for addon in addons)]
    watched = {s.pk for s in everyone} | {s.parent_id for s in subscriptions if s.parent_id}
    for subscription_id, status in Migration.objects.filter(
        current_subscription_id__in=id_array(watched),
        status__in=[*NON_TERMINAL_MIGRATION_STATUSES, MigrationStatus.COMPLETED],
    ).values_list("current_subscription_id", "status"):
        context.migration_statuses.setdefault(subscription_id, set()).add(status)
    context.scheduled = set(
        MigrationSchedule.objects.filter(
            current_subscription_id__in=id_array(ids), status=ScheduleStatus.CREATED
        ).values_list("current_subscription_id", flat=True)
    )

    skus = {s.offer.equivalent_sku for s in everyone if s.offer.equivalent_sku_id}
    customers = {s.customer_id for s in everyone}
    if skus:
        for availability in Availability.objects.filter(sku__in=skus).select_related("sku"):
            context.availabilities.setdefault(availability.sku_id, []).append(availability)
        # The maximum is pooled on the customer's tenant across every partner (§1), so the seats
        # are counted by tenant, then read per customer row of this partner.
        tenants = {s.customer.tenant_id for s in everyone}
        pooled = (
            NceSubscription.objects.filter(
                customer__tenant_id__in=id_array(tenants, "uuid"),
                availability__sku__in=skus,
                status__in=POOLED_STATUSES,
            )
            .values("customer__tenant_id", "availability__sku_id")
            .annotate(seats=Sum("quantity"))
        )
        customers_of_tenant: dict[Any, set[int]] = defaultdict(set)
        for s in everyone:
            customers_of_tenant[s.customer.tenant_id].add(s.customer_id)
        for row in pooled:
            for customer_id in customers_of_tenant[row["customer__tenant_id"]]:
                context.pooled_seats[(customer_id, row["availability__sku_id"])] = row["seats"]
        if prices:
            # Priced on the migration date: today, or the day after the legacy term at renewal.
            last_day = max(on, *(s.term_end + timedelta(days=1) for s in everyone))
            markets = {s.customer.country for s in everyone}
            context.prices = _prices(markets=markets, skus=skus, first_day=on, last_day=last_day)
    if nce_term_ends:
        for customer_id, term_end in NceSubscription.objects.filter(
            customer_id__in=id_array(customers), status=SubscriptionStatus.ACTIVE
        ).values_list("customer_id", "term_end"):
            context.nce_term_ends.setdefault(customer_id, set()).add(term_end)
    return context


# --- The rules ------------------------------------------------------------------------------------


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def _default_term(subscription: LegacySubscription, request: MigrationRequest) -> str:
    if request.term_duration:
        return request.term_duration
    if request.at_renewal:
        # Vendor-led migrations set an annual term; legacy 3-year terms go to 3-year terms (§3.1).
        return TermDuration.P3Y if subscription.term_duration == TermDuration.P3Y else TermDuration.P1Y
    return subscription.term_duration


def _term_dates(
    subscription: LegacySubscription, request: MigrationRequest, term: str, context: MigrationContext
) -> tuple[date, date, list[EligibilityError]]:
    """Term start and end (§3.1): co-terminous by default, a new full term, or a custom end."""
    start = subscription.term_end + timedelta(days=1) if request.at_renewal else context.on
    full_end = full_term_end(start, term)
    errors = []
    custom = request.custom_term_end_date
    if custom is not None:
        end = custom
        if not start <= custom <= full_end:
            errors.append(
                EligibilityError(
                    EligibilityCode.CUSTOM_TERM_END,
                    f"The custom term end date {custom} must fall within the new {term} term "
                    f"({start} to {full_end}).",
                )
            )
        elif not (_is_month_end(custom) or custom in context.nce_term_ends.get(subscription.customer_id, ())):
            errors.append(
                EligibilityError(
                    EligibilityCode.CUSTOM_TERM_END_ALIGNMENT,
                    f"The custom term end date {custom} must be a calendar month end or the end date "
                    "of another active new-commerce subscription of the customer.",
                )
            )
    elif request.purchase_full_term or request.at_renewal:
        end = full_end
    else:
        end = subscription.term_end
        if end < start:
            errors.append(
                EligibilityError(
                    EligibilityCode.TOO_CLOSE_TO_TERM_END,
                    f"The legacy term ended on {end}; purchase a full term to migrate.",
                )
            )
        elif end == start:
            errors.append(
                EligibilityError(
                    EligibilityCode.LAST_DAY_FULL_TERM_ONLY,
                    f"The legacy term ends today ({end}): in its last 24 hours a subscription "
                    "migrates only with a new full term (purchaseFullTerm).",
                )
            )
        elif end > full_end:
            errors.append(
                EligibilityError(
                    EligibilityCode.TERM_END,
                    f"The legacy term ends on {end}, after a {term} term starting {start} would end "
                    f"({full_end}); purchase a full term or choose a custom term end date.",
                )
            )
    return start, end, errors


def _line(
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
    """The checks every migrated line passes (a base or an add-on): offer, market, term, seats, price."""
    errors: list[EligibilityError] = []
    sku: Sku | None = subscription.offer.equivalent_sku
    customer = subscription.customer
    if subscription.is_trial or (sku is not None and sku.is_trial):
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
    if sku is None:
        errors.append(EligibilityError(EligibilityCode.NO_EQUIVALENT, NO_EQUIVALENT_OFFER))
        return None, errors

    segment = SEGMENT_FOR_CUSTOMER.get(customer.segment, Segment.COMMERCIAL)
    offer = _offer(context, sku, segment, customer.country, term)
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
                f"in the customer's market {customer.country}.",
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
    if sku.max_seat_pooled is not None:
        key = (customer.pk, sku.pk)
        held = context.pooled_seats.get(key, 0) + (pool_used or {}).get(key, 0)
        remaining = max(sku.max_seat_pooled - held, 0)
        if quantity > remaining:
            errors.append(
                EligibilityError(
                    EligibilityCode.SEAT_LIMIT,
                    f"The requested number of {quantity} seats exceeds the remaining limit of "
                    f"{remaining} seats allowed per subscription for the CatalogItemId - {catalog_item_id}",
                )
            )
    price = None
    if availability is not None and billing in availability.billing_plans:
        # Priced on the migration date, for the line's seats (commerce.pricing.lookup).
        key = (customer.country, sku.product_id, sku.sku_id, term, billing, segment)
        candidates = context.prices.get(key, [])
        price = choose(candidates, on=start, quantity=quantity)
        if price is None:
            tiers = tier_ranges(candidates, on=start)
            seats = f" for {quantity} seats (its tiers: {', '.join(tiers)} seats)" if tiers else ""
            errors.append(
                EligibilityError(
                    EligibilityCode.NO_PRICE,
                    f"The current {customer.country} price list has no {segment} price for "
                    f"{sku.product_id}:{sku.sku_id} with term {term} and billing {billing} on "
                    f"{start}{seats}.",
                )
            )
    if errors or availability is None or price is None:
        return None, errors
    return (
        MigrationProposal(
            catalog_item_id=catalog_item_id,
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
                legacy=subscription,
            ),
        ),
        errors,
    )


def migration_assess(
    subscription: LegacySubscription,
    context: MigrationContext,
    request: MigrationRequest | None = None,
    *,
    pool_used: dict[tuple[int, int], int] | None = None,
) -> MigrationAssessment:
    """Every reason `subscription` cannot move with `request`, or what it would become.

    `pool_used` holds seats already promised earlier in the same batch, per (customer, SKU).
    No database access: everything comes from `context`.
    """
    request = request or MigrationRequest()
    errors: list[EligibilityError] = []
    if subscription.status != SubscriptionStatus.ACTIVE:
        errors.append(
            EligibilityError(
                EligibilityCode.NOT_ACTIVE,
                f"The legacy subscription is {subscription.get_status_display().lower()}; "
                "only active subscriptions can be migrated.",
            )
        )
    statuses = context.migration_statuses.get(subscription.pk, set())
    if statuses & set(NON_TERMINAL_MIGRATION_STATUSES):
        errors.append(
            EligibilityError(
                EligibilityCode.OPEN_MIGRATION, "A migration of this subscription is already in progress."
            )
        )
    if subscription.pk in context.scheduled:
        errors.append(
            EligibilityError(
                EligibilityCode.SCHEDULED,
                "A migration of this subscription is scheduled; change or cancel the schedule instead.",
            )
        )
    if subscription.promotion_id:
        errors.append(
            EligibilityError(
                EligibilityCode.PROMOTIONS,
                f"The promotion {subscription.promotion_id} applies to this subscription; it can "
                "migrate once the promotion has ended.",
            )
        )
    if subscription.trade_status == TradeStatus.NOT_ALLOWED:
        errors.append(
            EligibilityError(
                EligibilityCode.TRADE_STATUS,
                "The subscription's trade status does not allow new purchases; it cannot move to "
                "New Commerce until the vendor clears it.",
            )
        )
    month_after_start = add_months(subscription.term_start, 1)
    if not request.at_renewal and context.on < month_after_start:
        errors.append(
            EligibilityError(
                EligibilityCode.ACTIVE_LESS_THAN_A_MONTH,
                f"The subscription started on {subscription.term_start}; it can migrate from "
                f"{month_after_start}, once it has been active for a month.",
            )
        )
    if subscription.parent_id:
        base = subscription.parent
        base_statuses = context.migration_statuses.get(base.pk, set())
        base_moving = bool(base_statuses & {*NON_TERMINAL_MIGRATION_STATUSES, MigrationStatus.COMPLETED})
        if not base_moving and base.status != SubscriptionStatus.ACTIVE:
            errors.append(
                EligibilityError(
                    EligibilityCode.ADDON_BASE,
                    f"The base subscription {base.subscription_id} is "
                    f"{base.get_status_display().lower()}; an add-on migrates only with an active base.",
                )
            )
        elif not base_moving:
            errors.append(
                EligibilityError(
                    EligibilityCode.ADDON_BASE,
                    f"Add-ons migrate together with their base subscription; migrate the base "
                    f"subscription {base.subscription_id}.",
                )
            )

    term = _default_term(subscription, request)
    billing = request.billing_cycle or subscription.billing_cycle
    quantity = request.quantity if request.quantity is not None else subscription.quantity
    proposal = None
    addon_proposals: list[tuple[LegacySubscription, MigrationProposal]] = []
    if term not in TERM_MONTHS:
        errors.append(
            EligibilityError(EligibilityCode.TERM_BILLING, f"{term!r} is not a term; use P1M, P1Y or P3Y.")
        )
    else:
        start, end, term_errors = _term_dates(subscription, request, term, context)
        errors.extend(term_errors)
        proposal, line_errors = _line(
            subscription,
            context,
            term=term,
            billing=billing,
            quantity=quantity,
            start=start,
            end=end,
            pool_used=pool_used,
        )
        errors.extend(line_errors)
        # Active add-ons move with their base, on the base's term and billing plan.
        for addon in context.addons.get(subscription.pk, []):
            addon_errors = []
            if context.migration_statuses.get(addon.pk, set()) & set(NON_TERMINAL_MIGRATION_STATUSES):
                addon_errors.append(
                    EligibilityError(EligibilityCode.OPEN_MIGRATION, "A migration is already in progress.")
                )
            addon_proposal, line_errors = _line(
                addon,
                context,
                term=term,
                billing=billing,
                quantity=addon.quantity,
                start=start,
                end=end,
                pool_used=pool_used,
            )
            addon_errors.extend(line_errors)
            for error in addon_errors:
                errors.append(
                    EligibilityError(
                        EligibilityCode.ADDON,
                        f"Add-on {addon.subscription_id} ({addon.offer.name}) cannot move with its base: "
                        f"{error.code}: {error.description}",
                    )
                )
            if addon_proposal is not None:
                addon_proposals.append((addon, addon_proposal))
    eligible = not errors
    return MigrationAssessment(
        subscription=subscription,
        eligibility=Eligibility(
            subscription_id=subscription.pk,
            is_eligible=eligible,
            errors=tuple(errors),
            proposal=proposal if eligible else None,
            price_impact=price_impact(proposal, (p for _, p in addon_proposals)) if eligible else None,
        ),
        addons=tuple(addon_proposals) if eligible else (),
    )


def migration_pool_take(assessment: MigrationAssessment, pool_used: dict[tuple[int, int], int]) -> None:
    """Count an accepted migration's seats against the pooled maximum for the rest of a batch."""
    lines = [(assessment.subscription, assessment.eligibility.proposal), *assessment.addons]
    for subscription, proposal in lines:
        sku_id = subscription.offer.equivalent_sku_id
        if proposal is not None and sku_id is not None:
            pool_used[(subscription.customer_id, sku_id)] += proposal.quantity


def migration_pool_new() -> dict[tuple[int, int], int]:
    return defaultdict(int)


# --- The public questions ------------------------------------------------------------------------


def migration_validate(
    *,
    subscription: LegacySubscription,
    term_duration: str | None = None,
    billing_cycle: str | None = None,
    quantity: int | None = None,
    purchase_full_term: bool = False,
    custom_term_end_date: date | None = None,
    on: date | None = None,
) -> Eligibility:
    """Partner Center's Validate call: is this subscription eligible with this request?"""
    return migration_validate_assessment(
        subscription=subscription,
        request=MigrationRequest(
            term_duration=term_duration,
            billing_cycle=billing_cycle,
            quantity=quantity,
            purchase_full_term=purchase_full_term,
            custom_term_end_date=custom_term_end_date,
        ),
        on=on,
    ).eligibility


def migration_validate_assessment(
    *, subscription: LegacySubscription, request: MigrationRequest, on: date | None = None
) -> MigrationAssessment:
    """`migration_validate` with the add-on proposals the services need to carry it out."""
    [loaded] = migration_subscriptions_prepare(LegacySubscription.objects.filter(pk=subscription.pk))
    on = on or timezone.localdate()
    context = migration_context_load([loaded], on=on, nce_term_ends=request.custom_term_end_date is not None)
    return migration_assess(loaded, context, request)


def eligibility_for(
    subscriptions: Iterable[LegacySubscription], *, on: date | None = None
) -> dict[int, Eligibility]:
    """The default-request answer for each subscription of a list page, in a fixed number of queries.

    The subscriptions given get their customer, offer and base subscription attached.
    """
    loaded = migration_subscriptions_prepare(subscriptions)
    context = migration_context_load(loaded, on=on or timezone.localdate())
    return {subscription.pk: migration_assess(subscription, context).eligibility for subscription in loaded}
