"""Can a legacy subscription move to new commerce, and what would it become? (spec/commerce.md §3)

`migration_validate` answers Partner Center's Validate call for one subscription and one request;
`eligibility_for` answers for a list page with the default request in a fixed number of queries.
Both collect every reason a subscription is blocked, never just the first.

The services use the same two steps: `migration_context_load` reads everything a set of
subscriptions needs in a fixed number of queries, and `migration_assess` decides one subscription
from that context without touching the database, so a batch chunk is validated set-based. What
thousands of rows share — a line's offer, price and figures (`commerce.eligibility_lines`), term
dates — is decided once per context; only the pooled seats are counted row by row.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Customer
from commerce.choices import (
    NON_TERMINAL_MIGRATION_STATUSES,
    MigrationStatus,
    ScheduleStatus,
    SubscriptionStatus,
    TermDuration,
    TradeStatus,
)
from commerce.codes import NO_EQUIVALENT_OFFER, EligibilityCode, EligibilityError
from commerce.eligibility_lines import SEGMENT_FOR_CUSTOMER, LineFacts, MigrationProposal, Offer, line_check
from commerce.models import (
    Availability,
    LegacyOffer,
    LegacySubscription,
    Migration,
    MigrationSchedule,
    NceSubscription,
    Sku,
)
from commerce.pricing.impact import PriceImpact, price_impact
from commerce.pricing.lookup import PriceKey, PricePoint, price_candidates
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
    "gc_paused",
    "id_array",
    "migration_assess",
    "migration_context_load",
    "migration_pool_new",
    "migration_pool_take",
    "migration_request",
    "migration_subscriptions_prepare",
    "migration_validate",
    "migration_validate_assessment",
)


#: Seats that count against a SKU's pooled maximum on the customer tenant.
POOLED_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)

#: What the rules read through each subscription (see `migration_subscriptions_prepare`).
SUBSCRIPTION_RELATED = ("customer", "offer__equivalent_sku__product", "parent")


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


_DEFAULT_REQUEST = MigrationRequest()


@lru_cache(maxsize=4096)
def migration_request(
    term_duration: str | None = None,
    billing_cycle: str | None = None,
    quantity: int | None = None,
    purchase_full_term: bool = False,
    custom_term_end_date: date | None = None,
) -> MigrationRequest:
    """A batch row's request. Requests are immutable, so the rows asking for the same share one
    (a file of 100,000 rows asks a few hundred different things)."""
    return MigrationRequest(
        term_duration=term_duration,
        billing_cycle=billing_cycle,
        quantity=quantity,
        purchase_full_term=purchase_full_term,
        custom_term_end_date=custom_term_end_date,
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while a batch step builds its objects.

    A chunk or a file builds hundreds of thousands of objects that live until it ends and form no
    cycles (rows, model instances, assessments); each full collection would walk all of them again,
    which costs more than the step itself. Collection resumes after (a nested use leaves it to the
    outer one); cyclic garbage made meanwhile is collected then.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
    #: (SKU id, segment, market, term) → what `offer_of` found; thousands of rows share a few keys.
    offers: dict[tuple[int, str, str, str], Offer] = field(default_factory=dict)
    #: What the rules decided once for the rows that share it (`line_check`, `_term_dates_of`): a file
    #: of 100,000 rows asks for a few thousand distinct lines, terms and prices.
    lines: dict[tuple, LineFacts] = field(default_factory=dict)
    proposals: dict[tuple, MigrationProposal] = field(default_factory=dict)
    #: id of a proposal in `proposals` → its price impact without add-ons.
    impacts: dict[int, PriceImpact] = field(default_factory=dict)
    term_dates: dict[tuple, tuple[date, date, tuple[EligibilityError, ...]]] = field(default_factory=dict)


# --- Loading --------------------------------------------------------------------------------------


def id_array(ids: Iterable[int], db_type: str = "bigint") -> RawSQL:
    """For `field__in=`: the ids as ONE array parameter rather than one placeholder each.

    A chunk passes thousands of ids; building and parsing that many placeholders costs more
    than the query itself.
    """
    return RawSQL(f"SELECT unnest(%s::{db_type}[])", (list(ids),))


def _pooled_seats(tenants: Iterable[Any], sku_ids: Iterable[int]) -> list[tuple[Any, int, int]]:
    """(tenant, SKU id, seats) held in new commerce per customer tenant, across every partner.

    Driven from the tenants' customers, each one's subscriptions read by its index (`OFFSET 0`
    keeps the planner from flattening that into a scan of every active subscription, which it
    prefers while a batch fills the table faster than its statistics follow); the arrays are
    compared with `= ANY`, never joined as `IN (SELECT unnest(…))`, which it then ran as a nested
    loop comparing every subscription with every tenant.
    """
    nce, customers = NceSubscription._meta.db_table, Customer._meta.db_table
    availabilities = Availability._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.tenant_id, a.sku_id, sum(n.quantity) FROM {customers} c "
            "CROSS JOIN LATERAL (SELECT n.availability_id, n.quantity "
            f"FROM {nce} n WHERE n.customer_id = c.id AND n.status = ANY(%s::varchar[]) OFFSET 0) n "
            f"JOIN {availabilities} a ON a.id = n.availability_id "
            "WHERE c.tenant_id = ANY(%s::uuid[]) AND a.sku_id = ANY(%s::bigint[]) "
            "GROUP BY c.tenant_id, a.sku_id",
            [list(POOLED_STATUSES), list(tenants), list(sku_ids)],
        )
        return cursor.fetchall()


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
        c.pk: c
        for c in Customer.objects.filter(pk__in=id_array(s.customer_id for s in subscriptions)).order_by()
    }
    offers = LegacyOffer.objects.select_related("equivalent_sku__product").in_bulk(
        {s.offer_id for s in subscriptions}
    )
    # Asked even without add-ons among them, so a page costs the same queries whatever it lists.
    parent_ids = {s.parent_id for s in subscriptions if s.parent_id}
    parents = {p.pk: p for p in LegacySubscription.objects.filter(pk__in=id_array(parent_ids)).order_by()}
    # Cached as `select_related` caches them (the ids are already theirs): the descriptors'
    # assignment checks each value, which for 100,000 rows costs more than the queries.
    cache_customer, cache_offer, cache_parent = (
        LegacySubscription._meta.get_field(name).set_cached_value for name in ("customer", "offer", "parent")
    )
    for subscription in subscriptions:
        cache_customer(subscription, customers[subscription.customer_id])
        cache_offer(subscription, offers[subscription.offer_id])
        if subscription.parent_id:
            cache_parent(subscription, parents[subscription.parent_id])
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
    for subscription_id, status in (
        Migration.objects.filter(
            current_subscription_id__in=id_array(watched),
            status__in=[*NON_TERMINAL_MIGRATION_STATUSES, MigrationStatus.COMPLETED],
        )
        .order_by()
        .values_list("current_subscription_id", "status")
    ):
        context.migration_statuses.setdefault(subscription_id, set()).add(status)
    context.scheduled = set(
        MigrationSchedule.objects.filter(
            current_subscription_id__in=id_array(ids), status=ScheduleStatus.CREATED
        )
        .order_by()
        .values_list("current_subscription_id", flat=True)
    )

    # One pass over the rows (a file holds 100,000): one row per offer and customer stands for all.
    by_offer: dict[int, LegacySubscription] = {}
    by_customer: dict[int, LegacySubscription] = {}
    latest_end = on
    for s in everyone:
        by_offer[s.offer_id] = by_customer[s.customer_id] = s
        latest_end = max(latest_end, s.term_end)
    skus = {s.offer.equivalent_sku for s in by_offer.values() if s.offer.equivalent_sku_id}
    customers = {customer_id: s.customer for customer_id, s in by_customer.items()}
    if skus:
        for availability in Availability.objects.filter(sku__in=skus).select_related("sku"):
            context.availabilities.setdefault(availability.sku_id, []).append(availability)
        # The maximum is pooled on the customer's tenant across every partner (§1), so the seats
        # are counted by tenant, then read per customer row of this partner.
        customers_of_tenant: dict[Any, set[int]] = defaultdict(set)
        for customer_id, customer in customers.items():
            customers_of_tenant[customer.tenant_id].add(customer_id)
        for tenant_id, sku_id, seats in _pooled_seats(customers_of_tenant, {sku.pk for sku in skus}):
            for customer_id in customers_of_tenant[tenant_id]:
                context.pooled_seats[(customer_id, sku_id)] = seats
        if prices:
            # Priced on the migration date: today, or the day after the legacy term at renewal.
            last_day = max(on, latest_end + timedelta(days=1))
            markets = {customer.country for customer in customers.values()}
            context.prices = _prices(markets=markets, skus=skus, first_day=on, last_day=last_day)
    if nce_term_ends:
        for customer_id, term_end in (
            NceSubscription.objects.filter(
                customer_id__in=id_array(customers), status=SubscriptionStatus.ACTIVE
            )
            .order_by()
            .values_list("customer_id", "term_end")
        ):
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


_OPEN = frozenset(NON_TERMINAL_MIGRATION_STATUSES)
_MOVING = frozenset({*NON_TERMINAL_MIGRATION_STATUSES, MigrationStatus.COMPLETED})


def _term_dates_of(
    subscription: LegacySubscription, request: MigrationRequest, term: str, context: MigrationContext
) -> tuple[date, date, tuple[EligibilityError, ...]]:
    """`_term_dates`, decided once per legacy term end, term and kind of request (a custom end
    date reads the customer's other subscriptions: decided per row)."""
    if request.custom_term_end_date is not None:
        start, end, errors = _term_dates(subscription, request, term, context)
        return start, end, tuple(errors)
    key = (subscription.term_end, term, request.purchase_full_term, request.at_renewal)
    found = context.term_dates.get(key)
    if found is None:
        start, end, errors = _term_dates(subscription, request, term, context)
        found = context.term_dates[key] = (start, end, tuple(errors))
    return found


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
    request = request or _DEFAULT_REQUEST
    errors: list[EligibilityError] = []
    pk = subscription.pk
    if subscription.status != SubscriptionStatus.ACTIVE:
        errors.append(
            EligibilityError(
                EligibilityCode.NOT_ACTIVE,
                f"The legacy subscription is {subscription.get_status_display().lower()}; "
                "only active subscriptions can be migrated.",
            )
        )
    statuses = context.migration_statuses.get(pk)
    if statuses and not _OPEN.isdisjoint(statuses):
        errors.append(
            EligibilityError(
                EligibilityCode.OPEN_MIGRATION, "A migration of this subscription is already in progress."
            )
        )
    if pk in context.scheduled:
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
    if not request.at_renewal:
        month_after_start = add_months(subscription.term_start, 1)
        if context.on < month_after_start:
            errors.append(
                EligibilityError(
                    EligibilityCode.ACTIVE_LESS_THAN_A_MONTH,
                    f"The subscription started on {subscription.term_start}; it can migrate from "
                    f"{month_after_start}, once it has been active for a month.",
                )
            )
    if subscription.parent_id:
        base = subscription.parent
        base_moving = not _MOVING.isdisjoint(context.migration_statuses.get(base.pk, ()))
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
        start, end, term_errors = _term_dates_of(subscription, request, term, context)
        if term_errors:
            errors.extend(term_errors)
        proposal, line_errors = line_check(
            subscription,
            context,
            term=term,
            billing=billing,
            quantity=quantity,
            start=start,
            end=end,
            pool_used=pool_used,
        )
        if line_errors:
            errors.extend(line_errors)
        # Active add-ons move with their base, on the base's term and billing plan.
        for addon in context.addons.get(pk, ()):
            addon_errors = []
            if not _OPEN.isdisjoint(context.migration_statuses.get(addon.pk, ())):
                addon_errors.append(
                    EligibilityError(EligibilityCode.OPEN_MIGRATION, "A migration is already in progress.")
                )
            addon_proposal, line_errors = line_check(
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
    if errors:
        return MigrationAssessment(
            subscription=subscription,
            eligibility=Eligibility(
                subscription_id=pk, is_eligible=False, errors=tuple(errors), proposal=None
            ),
        )
    if addon_proposals:
        impact = price_impact(proposal, (p for _, p in addon_proposals))
    else:
        # A proposal is shared by the lines asking for the same, and so is its impact alone.
        impact = context.impacts.get(id(proposal))
        if impact is None:
            impact = context.impacts[id(proposal)] = price_impact(proposal)
    return MigrationAssessment(
        subscription=subscription,
        eligibility=Eligibility(
            subscription_id=pk, is_eligible=True, errors=(), proposal=proposal, price_impact=impact
        ),
        addons=tuple(addon_proposals),
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
