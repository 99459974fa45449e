"""The price impact of a migration: what a subscription costs before (legacy) and after (new
commerce), per billing period and over the new term, and the total of many migrations.

After: the price list's unit price covers the whole term (spec/commerce.md §4.1), so a P1Y term
billed monthly costs UnitPrice / 12 a month, billed annually UnitPrice a year, and a term billed
once (Triennial, P1M billed monthly, a trial) UnitPrice for the term. The price is the one in force
on the migration date (the request's day, or the day after the legacy term for a migration at
renewal), for the customer's segment and the line's seats (`commerce.pricing.lookup`).

Before: `LegacySubscription.unit_price` is what one seat costs for one legacy billing period
(a month when billed monthly, a year when billed annually); unknown when the vendor sent none. It
is turned into the new subscription's billing period (a legacy annual price of 240 is 20 a month),
never into another currency: a legacy price in another currency is shown beside the new one with no
difference. A legacy price without a currency is in the customer's market currency, the price
list's. The legacy side counts the legacy subscription's own seats: what it costs today.

Over the term: the new term runs from its start to its end, both days included. A term shorter
than a full one (co-terminous with the legacy term, or a custom end date) is prorated by days:
the full term's price × days in the term / days in a full term from the same start. C1 of the spec:
40 seats × 237.60 for 20 May to 14 September 2025 is 9,504.00 × 118 / 365 = 3,072.53. The legacy
side is prorated over the very same days, so the two compare like for like.

A subscription's impact (`PriceImpact`, on `Eligibility.price_impact`) counts its add-ons, which
move with it on the same term and billing plan; `MigrationProposal` keeps each line's own figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from commerce.choices import BillingCycle
from commerce.pricing.terms import TERM_MONTHS, full_term_end
from portal.money import round_money

if TYPE_CHECKING:
    from commerce.eligibility import MigrationProposal
    from commerce.models import LegacySubscription

__all__ = ("ImpactTotal", "PriceImpact", "impact_total", "line_charges", "price_impact")

#: Months in one billing period of a legacy subscription, by its billing cycle.
_LEGACY_PERIOD_MONTHS = {BillingCycle.MONTHLY: 1, BillingCycle.ANNUAL: 12, BillingCycle.TRIENNIAL: 36}


class _Charged(Protocol):
    """The money fields `MigrationProposal` and `PriceImpact` share (what `impact_total` adds up)."""

    currency: str
    legacy_currency: str
    period: str
    charge_per_period: Decimal
    charge_per_term: Decimal | None
    legacy_charge_per_period: Decimal | None
    legacy_charge_per_term: Decimal | None


def _period(term: str, billing: str) -> tuple[str, int]:
    """The new subscription's billing period and its length in months."""
    months = TERM_MONTHS[term]
    if billing == BillingCycle.MONTHLY:
        return "month", 1
    if billing == BillingCycle.ANNUAL and months >= 12:
        return "year", 12
    return "term", months


def _share(start: date, end: date, term: str) -> Decimal:
    """The part of a full term that start → end covers, by days (1 for a full term)."""
    full_days = (full_term_end(start, term) - start).days + 1
    return Decimal((end - start).days + 1) / Decimal(full_days)


def line_charges(
    *,
    unit_price: Decimal,
    currency: str,
    quantity: int,
    term: str,
    billing: str,
    start: date,
    end: date,
    legacy: LegacySubscription,
) -> dict[str, Any]:
    """One migrated line's figures, as `MigrationProposal` fields: `charge_per_period`, `period`,
    `charge_per_term`, and the legacy subscription's `legacy_charge_per_period`,
    `legacy_charge_per_term` (None when its price is unknown) and `legacy_currency`."""
    period, period_months = _period(term, billing)
    months = TERM_MONTHS[term]
    share = _share(start, end, term)
    figures: dict[str, Any] = {
        "charge_per_period": round_money(unit_price * quantity * period_months / months),
        "period": period,
        "charge_per_term": round_money(unit_price * quantity * share),
        "legacy_charge_per_period": None,
        "legacy_charge_per_term": None,
        "legacy_currency": legacy.currency or currency,
    }
    if legacy.unit_price is not None:
        # A legacy trial (billing None) is billed once for its term.
        legacy_months = _LEGACY_PERIOD_MONTHS.get(legacy.billing_cycle) or TERM_MONTHS[legacy.term_duration]
        per_month = legacy.unit_price * legacy.quantity / legacy_months
        figures["legacy_charge_per_period"] = round_money(per_month * period_months)
        figures["legacy_charge_per_term"] = round_money(per_month * months * share)
    return figures


def _difference(after: Decimal | None, before: Decimal | None, comparable: bool) -> Decimal | None:
    if not comparable or after is None or before is None:
        return None
    return after - before


@dataclass(frozen=True)
class PriceImpact:
    """What migrating one subscription (with its add-ons) changes in what it costs.

    The legacy figures are None unless the vendor sent a legacy price for every line, in one
    currency: `legacy_currency`, which may differ from `currency` (then there is no difference)."""

    currency: str
    legacy_currency: str
    billing_cycle: str
    period: str
    term_start: date
    term_end: date
    charge_per_period: Decimal
    charge_per_term: Decimal
    legacy_charge_per_period: Decimal | None
    legacy_charge_per_term: Decimal | None
    #: How many add-ons' charges are included.
    add_ons: int = 0

    @property
    def comparable(self) -> bool:
        return self.legacy_charge_per_term is not None and self.legacy_currency == self.currency

    @property
    def difference_per_period(self) -> Decimal | None:
        return _difference(self.charge_per_period, self.legacy_charge_per_period, self.comparable)

    @property
    def difference_per_term(self) -> Decimal | None:
        return _difference(self.charge_per_term, self.legacy_charge_per_term, self.comparable)


def _sum(values: list[Decimal | None]) -> Decimal | None:
    return None if any(value is None for value in values) else sum(values, Decimal(0))


def price_impact(
    proposal: MigrationProposal | None, addons: Iterable[MigrationProposal] = ()
) -> PriceImpact | None:
    """The impact of migrating the subscription `proposal` describes with the add-ons moving with
    it; None without a proposal (not eligible). The legacy side is known only when every line's is."""
    if proposal is None:
        return None
    lines = [proposal, *addons]
    # Legacy prices of the lines in different currencies don't add up: then the legacy side is unknown.
    one_currency = len({line.legacy_currency for line in lines}) == 1
    legacy_per_period = _sum([line.legacy_charge_per_period for line in lines]) if one_currency else None
    legacy_per_term = _sum([line.legacy_charge_per_term for line in lines]) if one_currency else None
    return PriceImpact(
        currency=proposal.currency,
        legacy_currency=proposal.legacy_currency,
        billing_cycle=proposal.billing_cycle,
        period=proposal.period,
        term_start=proposal.term_start,
        term_end=proposal.term_end,
        charge_per_period=sum((line.charge_per_period for line in lines), Decimal(0)),
        charge_per_term=sum((line.charge_per_term or Decimal(0) for line in lines), Decimal(0)),
        legacy_charge_per_period=legacy_per_period,
        legacy_charge_per_term=legacy_per_term,
        add_ons=len(lines) - 1,
    )


@dataclass
class ImpactTotal:
    """The total impact of many migrations in one currency (the new subscriptions' currency).

    `charge_per_period` and `legacy_charge_per_period` are per billing period ("month", "year",
    "term"): a month and a year don't add up. The legacy totals and `difference_per_term` count
    only the `compared` items, whose legacy price is known and in the same currency; the others
    are `not_compared`.
    """

    currency: str
    count: int = 0
    compared: int = 0
    charge_per_term: Decimal = Decimal(0)
    legacy_charge_per_term: Decimal = Decimal(0)
    difference_per_term: Decimal = Decimal(0)
    charge_per_period: dict[str, Decimal] = field(default_factory=dict)
    legacy_charge_per_period: dict[str, Decimal] = field(default_factory=dict)

    @property
    def not_compared(self) -> int:
        return self.count - self.compared


def impact_total(items: Iterable[_Charged | None]) -> dict[str, ImpactTotal]:
    """Add up the price impact of many migrations, per currency of the new subscriptions.

    `items` are `MigrationProposal`s (one per migrated line: give every add-on's line too, as a
    batch file lists them) or `PriceImpact`s (one per subscription, add-ons included: never both
    for the same migration). None items (not eligible) are skipped. Returns
    `{currency: ImpactTotal}`, currencies in alphabetical order.
    """
    totals: dict[str, ImpactTotal] = {}
    for item in items:
        if item is None:
            continue
        total = totals.setdefault(item.currency, ImpactTotal(currency=item.currency))
        total.count += 1
        after_term = item.charge_per_term or Decimal(0)
        total.charge_per_term += after_term
        per_period = total.charge_per_period
        per_period[item.period] = per_period.get(item.period, Decimal(0)) + item.charge_per_period
        before_term, before_period = item.legacy_charge_per_term, item.legacy_charge_per_period
        if before_term is None or before_period is None or item.legacy_currency != item.currency:
            continue
        total.compared += 1
        total.legacy_charge_per_term += before_term
        total.difference_per_term += after_term - before_term
        legacy = total.legacy_charge_per_period
        legacy[item.period] = legacy.get(item.period, Decimal(0)) + before_period
    return dict(sorted(totals.items()))
