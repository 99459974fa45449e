"""Deterministic demo data of the Commerce workspace: catalog, price lists, legacy subscriptions.

The catalog follows spec/commerce.md §4.3 (Business Basic, Business Premium with its pooled
maximum of 300 seats and its trial, Education, Charity and GCC SKUs, and an add-on with its bases).
Every demo customer gets legacy subscriptions: mostly eligible, plus trials, suspended ones,
add-ons on a base, an offer with no new-commerce equivalent (error 5) and a customer already at
the seat cap. Used by `manage.py seed_demo` and by the migration benchmark.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from accounts.choices import CustomerSegment
from accounts.demo import ORGANIZATIONS
from accounts.models import Customer
from commerce.choices import BillingCycle, PriceListStatus, Segment, SubscriptionStatus, TermDuration
from commerce.models import (
    Availability,
    LegacyOffer,
    LegacySubscription,
    NceSubscription,
    PriceList,
    PriceListRow,
    Product,
    Sku,
)
from portal.money import round_money

__all__ = ("CommerceSeedReport", "commerce_demo_catalog", "commerce_demo_loaded", "commerce_demo_seed")

PUBLISHER = "Microsoft Corporation"
PRICE_LIST_SOURCE = "demo-nce-license-based.csv"
PRICES_FROM = date(2024, 1, 1)
OPEN_END = datetime(9999, 11, 30, 23, 59, 59, tzinfo=UTC)
_NAMESPACE = uuid.UUID("6b1f4f9e-8d55-4c1e-9a57-3c2d1e0b7a10")

BASIC, PREMIUM, PREMIUM_TRIAL = ("CFQ7TTC0LH18", "0001"), ("CFQ7TTC0LCHC", "0002"), ("CFQ7TTC0LCHC", "0003")
E3, E3_CHARITY, E3_GCC = ("CFQ7TTC0LFLZ", "0001"), ("CFQ7TTC0LFLZ", "0005"), ("CFQ7TTC0LFLZ", "0008")
A1_FACULTY, TEAMS_PHONE = ("CFQ7TTC0LF8S", "0002"), ("CFQ7TTC0HL73", "0001")

PRODUCTS = {
    "CFQ7TTC0LH18": "Microsoft 365 Business Basic",
    "CFQ7TTC0LCHC": "Microsoft 365 Business Premium",
    "CFQ7TTC0LFLZ": "Microsoft 365 E3",
    "CFQ7TTC0LF8S": "Office 365 A1 Plus",
    "CFQ7TTC0HL73": "Microsoft Teams Phone with Calling Plan",
}


@dataclass(frozen=True)
class DemoSku:
    key: tuple[str, str]
    title: str
    description: str
    max_licenses: int = 10000
    max_seat_pooled: int | None = None
    is_trial: bool = False
    bases: tuple[tuple[str, str], ...] = ()


SKUS = [
    DemoSku(
        BASIC, "Microsoft 365 Business Basic", "Email and web Office apps for small businesses", 300, 300
    ),
    DemoSku(
        PREMIUM,
        "Microsoft 365 Business Premium",
        "Productivity plus advanced security for up to 300 users",
        300,
        300,
    ),
    DemoSku(
        PREMIUM_TRIAL, "Microsoft 365 Business Premium Trial", "One-month trial for 25 users", 25, None, True
    ),
    DemoSku(E3, "Microsoft 365 E3", "Productivity and security for enterprises"),
    DemoSku(E3_CHARITY, "Microsoft 365 E3 for nonprofits", "Microsoft 365 E3 priced for eligible charities"),
    DemoSku(E3_GCC, "Microsoft 365 E3 GCC", "Microsoft 365 E3 for US government community cloud", 2400),
    DemoSku(A1_FACULTY, "Office 365 A1 Plus for faculty", "Office 365 for education staff"),
    DemoSku(
        TEAMS_PHONE,
        "Microsoft Teams Phone with Calling Plan",
        "Phone system and a calling plan for Microsoft Teams",
        bases=(BASIC, PREMIUM),
    ),
]

#: market → (currency, rate against the USD prices below). Invented rates, fixed for determinism.
MARKETS = {
    "US": ("USD", "1"),
    "CA": ("CAD", "1.36"),
    "BR": ("BRL", "5.00"),
    "GB": ("GBP", "0.79"),
    "IE": ("EUR", "0.92"),
    "DE": ("EUR", "0.92"),
    "FR": ("EUR", "0.92"),
    "NL": ("EUR", "0.92"),
    "ES": ("EUR", "0.92"),
    "IT": ("EUR", "0.92"),
    "SE": ("SEK", "10.50"),
    "PL": ("PLN", "4.00"),
    "JP": ("JPY", "150"),
    "AU": ("AUD", "1.52"),
    "IN": ("INR", "83"),
}


@dataclass(frozen=True)
class DemoAvailability:
    sku: tuple[str, str]
    segment: str
    term: str
    availability_id: str
    usd_prices: dict[str, str]  # billing plan → partner price for the whole term (USD)
    markets: tuple[str, ...] = tuple(MARKETS)


AVAILABILITIES = [
    DemoAvailability(BASIC, Segment.COMMERCIAL, TermDuration.P1M, "CFQ7TTC0KBM1", {"Monthly": "6.48"}),
    DemoAvailability(
        BASIC, Segment.COMMERCIAL, TermDuration.P1Y, "CFQ7TTC0KBY1", {"Annual": "64.80", "Monthly": "64.80"}
    ),
    DemoAvailability(PREMIUM, Segment.COMMERCIAL, TermDuration.P1M, "CFQ7TTC0KPM1", {"Monthly": "23.76"}),
    DemoAvailability(
        PREMIUM,
        Segment.COMMERCIAL,
        TermDuration.P1Y,
        "CFQ7TTC0KFFN",
        {"Annual": "237.60", "Monthly": "237.60"},
    ),
    DemoAvailability(
        PREMIUM,
        Segment.COMMERCIAL,
        TermDuration.P3Y,
        "CFQ7TTC0KPY3",
        {"Triennial": "712.80", "Annual": "712.80"},
    ),
    DemoAvailability(PREMIUM_TRIAL, Segment.COMMERCIAL, TermDuration.P1M, "CFQ7TTC0KTR1", {"None": "0.00"}),
    DemoAvailability(E3, Segment.COMMERCIAL, TermDuration.P1M, "CFQ7TTC0KEM1", {"Monthly": "43.20"}),
    DemoAvailability(
        E3, Segment.COMMERCIAL, TermDuration.P1Y, "CFQ7TTC0KEY1", {"Annual": "432.00", "Monthly": "432.00"}
    ),
    DemoAvailability(
        E3_CHARITY,
        Segment.CHARITY,
        TermDuration.P1Y,
        "CFQ7TTC0KNP1",
        {"Annual": "216.00", "Monthly": "216.00"},
    ),
    DemoAvailability(
        E3_GCC,
        Segment.GOVERNMENT,
        TermDuration.P1Y,
        "CFQ7TTC0KGC1",
        {"Annual": "388.80", "Monthly": "388.80"},
        ("US",),
    ),
    DemoAvailability(
        A1_FACULTY,
        Segment.EDUCATION,
        TermDuration.P1Y,
        "CFQ7TTC0KED1",
        {"Annual": "27.00", "Monthly": "27.00"},
    ),
    DemoAvailability(TEAMS_PHONE, Segment.COMMERCIAL, TermDuration.P1M, "CFQ7TTC0KTM1", {"Monthly": "9.60"}),
    DemoAvailability(
        TEAMS_PHONE,
        Segment.COMMERCIAL,
        TermDuration.P1Y,
        "CFQ7TTC0KTY1",
        {"Annual": "96.00", "Monthly": "96.00"},
    ),
]

#: Legacy offers and their new-commerce equivalents; Business Voice has none (error 5).
LEGACY_OFFERS = {
    "basic": ("Microsoft 365 Business Basic (legacy)", Segment.COMMERCIAL, BASIC),
    "premium": ("Microsoft 365 Business Premium (legacy)", Segment.COMMERCIAL, PREMIUM),
    "premium_trial": ("Microsoft 365 Business Premium Trial (legacy)", Segment.COMMERCIAL, PREMIUM_TRIAL),
    "e3": ("Office 365 E3 (legacy)", Segment.COMMERCIAL, E3),
    "e3_charity": ("Microsoft 365 E3 for Nonprofits (legacy)", Segment.CHARITY, E3_CHARITY),
    "e3_gcc": ("Microsoft 365 E3 GCC (legacy)", Segment.GOVERNMENT, E3_GCC),
    "a1_faculty": ("Office 365 A1 Plus for faculty (legacy)", Segment.EDUCATION, A1_FACULTY),
    "teams_phone": ("Microsoft Teams Phone with Calling Plan (legacy)", Segment.COMMERCIAL, TEAMS_PHONE),
    "business_voice": ("Microsoft 365 Business Voice (legacy)", Segment.COMMERCIAL, None),
}


#: What one seat of each legacy offer costs a year (USD, partner price): a tenth below the annual
#: new-commerce price, so the subscription page shows a price impact. Invented.
LEGACY_ANNUAL_USD = {
    "basic": "58.32",
    "premium": "213.84",
    "premium_trial": "0.00",
    "e3": "388.80",
    "e3_charity": "194.40",
    "e3_gcc": "349.92",
    "a1_faculty": "24.30",
    "teams_phone": "86.40",
    "business_voice": "162.00",
}


def legacy_price(offer: str, billing: str, market: str) -> tuple[Decimal | None, str]:
    """A legacy seat's price for one billing period (a month or a year) in the market's currency."""
    if market not in MARKETS:
        return None, ""
    yearly, currency = market_price(LEGACY_ANNUAL_USD[offer], market)
    return (round_money(yearly / 12) if billing == BillingCycle.MONTHLY else yearly), currency


def offer_id_for(key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"legacy-offer:{key}")


def market_price(usd: str, market: str) -> tuple[Decimal, str]:
    currency, rate = MARKETS[market]
    return round_money(Decimal(usd) * Decimal(rate)), currency


@dataclass
class CommerceSeedReport:
    legacy_subscriptions: int = 0
    created: int = 0
    price_lists: int = 0


# --- The catalog ----------------------------------------------------------------------------------


def commerce_demo_catalog() -> dict[tuple[str, str], Sku]:
    """Products, SKUs, availabilities, legacy offers and a current price list per market.

    Idempotent: a second run updates the few catalog rows and adds only missing price rows.
    """
    for product_id, title in PRODUCTS.items():
        Product.objects.update_or_create(
            product_id=product_id, defaults={"title": title, "publisher": PUBLISHER}
        )
    skus: dict[tuple[str, str], Sku] = {}
    for demo in SKUS:
        skus[demo.key], _ = Sku.objects.update_or_create(
            product_id=demo.key[0],
            sku_id=demo.key[1],
            defaults={
                "title": demo.title,
                "description": demo.description,
                "min_licenses": 1,
                "max_licenses": demo.max_licenses,
                "max_seat_pooled": demo.max_seat_pooled,
                "is_trial": demo.is_trial,
                "is_addon": bool(demo.bases),
            },
        )
    for demo in SKUS:
        if demo.bases:
            skus[demo.key].prerequisites.add(*(skus[base] for base in demo.bases))
    for demo in AVAILABILITIES:
        Availability.objects.update_or_create(
            availability_id=demo.availability_id,
            defaults={
                "sku": skus[demo.sku],
                "segment": demo.segment,
                "term_duration": demo.term,
                "billing_plans": list(demo.usd_prices),
                "markets": list(demo.markets),
            },
        )
    for key, (name, segment, equivalent) in LEGACY_OFFERS.items():
        LegacyOffer.objects.update_or_create(
            offer_id=offer_id_for(key),
            defaults={
                "name": name,
                "segment": segment,
                "equivalent_sku": skus[equivalent] if equivalent else None,
            },
        )
    _price_lists(skus)
    return skus


def _price_lists(skus: dict[tuple[str, str], Sku]) -> None:
    starts = datetime.combine(PRICES_FROM, datetime.min.time(), tzinfo=UTC)
    for market, (currency, _) in MARKETS.items():
        price_list, _ = PriceList.objects.get_or_create(
            market=market,
            is_preview=False,
            effective_month=PRICES_FROM,
            source_file=PRICE_LIST_SOURCE,
            defaults={
                "name": f"Demo new commerce license-based price list {market}",
                "currency": currency,
                "status": PriceListStatus.READY,
            },
        )
        rows = []
        for demo in AVAILABILITIES:
            if market not in demo.markets:
                continue
            sku = skus[demo.sku]
            for billing, usd in demo.usd_prices.items():
                unit_price, _ = market_price(usd, market)
                rows.append(
                    PriceListRow(
                        price_list=price_list,
                        product_title=PRODUCTS[sku.product_id],
                        product_id=sku.product_id,
                        sku_id=sku.sku_id,
                        sku_title=sku.title,
                        publisher=PUBLISHER,
                        sku_description=sku.description,
                        term_duration=demo.term,
                        billing_plan=billing,
                        market=market,
                        currency=currency,
                        unit_price=unit_price,
                        effective_start_date=starts,
                        effective_end_date=OPEN_END,
                        tags="License;Trial" if sku.is_trial else "License",
                        erp_price=round_money(unit_price * Decimal("1.2")),
                        segment=demo.segment,
                    )
                )
        PriceListRow.objects.bulk_create(rows, ignore_conflicts=True)
        PriceList.objects.filter(pk=price_list.pk).update(row_count=price_list.rows.count())


# --- Subscriptions ----------------------------------------------------------------------------------


def _term(rng: random.Random, today: date, monthly: bool) -> tuple[str, str, date, date]:
    """(term, billing, start, end) of a legacy subscription somewhere in its current term."""
    if monthly:
        end = today + timedelta(days=rng.randint(1, 27))
        return TermDuration.P1M, BillingCycle.MONTHLY, end - relativedelta(months=1) + timedelta(days=1), end
    end = today + timedelta(days=rng.randint(3, 330))
    billing = rng.choice([BillingCycle.MONTHLY, BillingCycle.MONTHLY, BillingCycle.ANNUAL])
    return TermDuration.P1Y, billing, end - relativedelta(years=1) + timedelta(days=1), end


def _subscriptions_for(
    customer: Customer, number: int, *, seed: int, today: date, offers: dict[str, uuid.UUID]
) -> list[tuple[LegacySubscription, list[LegacySubscription]]]:
    """The legacy subscriptions of one customer: (base, add-ons) pairs, the same on every run.

    `number` is the customer's position in its organization; it picks the special cases.
    """
    rng = random.Random(f"{seed}:{customer.tenant_id}")

    def make(offer: str, quantity: int, *, monthly: bool = False, **extra) -> LegacySubscription:
        term, billing, start, end = _term(rng, today, monthly)
        fields = {
            "organization_id": customer.organization_id,
            "customer": customer,
            "offer_id": offers[offer],
            "subscription_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "friendly_name": LEGACY_OFFERS[offer][0].removesuffix(" (legacy)"),
            "quantity": quantity,
            "term_duration": term,
            "billing_cycle": billing,
            "term_start": start,
            "term_end": end,
            "created_at": timezone.make_aware(datetime.combine(start, datetime.min.time())),
        }
        fields.update(extra)
        fields["unit_price"], fields["currency"] = legacy_price(
            offer, fields["billing_cycle"], customer.country
        )
        return LegacySubscription(**fields)

    seats = [5, 12, 25, 40, 60, 120]
    if customer.segment == CustomerSegment.EDUCATION:
        return [(make("a1_faculty", rng.choice([50, 200, 800])), [])]
    if customer.segment == CustomerSegment.GOVERNMENT:
        return [(make("e3_gcc", rng.choice([25, 120, 250])), [])]
    if customer.segment == CustomerSegment.CHARITY:
        return [(make("e3_charity", rng.choice(seats)), [])]
    main = rng.choice(["basic", "premium", "e3"])
    result = [(make(main, rng.choice(seats), monthly=rng.random() < 0.15), [])]
    if number % 4 == 1:
        base = make("premium", 40)
        result.append((base, [make("teams_phone", 10, parent=base)]))
    if number % 5 == 2:
        result.append((make("business_voice", rng.choice(seats)), []))
    if number % 7 == 3:
        result.append(
            (make("premium_trial", 25, monthly=True, is_trial=True, billing_cycle=BillingCycle.NONE), [])
        )
    if number % 9 == 4:
        result.append((make("basic", rng.choice(seats), status=SubscriptionStatus.SUSPENDED), []))
    if number % 11 == 5:
        # Already holds 250 pooled Business Premium seats in new commerce: 80 more break the cap.
        result.append((make("premium", 80), []))
    return result


def _seat_cap_holders(customers: list[tuple[Customer, int]], skus, today: date) -> list[NceSubscription]:
    availability = Availability.objects.select_related("sku").get(availability_id="CFQ7TTC0KFFN")
    rows = []
    for customer, number in customers:
        if customer.segment != CustomerSegment.COMMERCIAL or number % 11 != 5:
            continue
        unit_price, currency = market_price("237.60", customer.country)
        start = today - timedelta(days=100)
        rows.append(
            NceSubscription(
                organization_id=customer.organization_id,
                customer=customer,
                subscription_id=uuid.uuid5(_NAMESPACE, f"nce:{customer.tenant_id}"),
                order_id=uuid.uuid5(_NAMESPACE, f"order:{customer.tenant_id}"),
                availability=availability,
                catalog_item_id=availability.catalog_item_id,
                quantity=250,
                term_duration=TermDuration.P1Y,
                billing_cycle=BillingCycle.MONTHLY,
                term_start=start,
                term_end=start + relativedelta(years=1) - timedelta(days=1),
                unit_price=unit_price,
                currency=currency,
            )
        )
    return rows


def commerce_demo_loaded() -> bool:
    """True once the demo organizations have legacy subscriptions."""
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    return LegacySubscription.objects.filter(organization__partner_global_id__in=ids).exists()


@transaction.atomic
def commerce_demo_seed(*, seed: int, scale: int = 1) -> CommerceSeedReport:
    """The catalog, then legacy subscriptions for the first 40 × `scale` customers of each demo
    organization (the accounts demo's customer count at the same scale).

    Set-based and idempotent: only customers without any legacy subscription get theirs, so a
    second run (or a larger `scale`) tops up.
    """
    skus = commerce_demo_catalog()
    offers = {key: offer_id_for(key) for key in LEGACY_OFFERS}
    today = timezone.localdate()
    report = CommerceSeedReport(price_lists=PriceList.objects.filter(source_file=PRICE_LIST_SOURCE).count())
    per_organization = 40 * scale
    customers: list[tuple[Customer, int]] = []
    for demo in ORGANIZATIONS:
        ordered = Customer.objects.filter(organization__partner_global_id=demo.partner_global_id).order_by(
            "pk"
        )
        for number, customer in enumerate(ordered[:per_organization]):
            customers.append((customer, number))
    covered = set(
        LegacySubscription.objects.filter(customer__in=[c for c, _ in customers]).values_list(
            "customer_id", flat=True
        )
    )
    todo = [(customer, number) for customer, number in customers if customer.pk not in covered]
    bases, addons = [], []
    for customer, number in todo:
        for base, children in _subscriptions_for(customer, number, seed=seed, today=today, offers=offers):
            bases.append(base)
            addons.extend(children)
    LegacySubscription.objects.bulk_create(bases, batch_size=5000)
    # The add-ons' parent ids are read from their bases, which have primary keys by now.
    LegacySubscription.objects.bulk_create(addons, batch_size=5000)
    NceSubscription.objects.bulk_create(
        _seat_cap_holders(todo, skus, today), batch_size=5000, ignore_conflicts=True
    )
    report.created = len(bases) + len(addons)
    report.legacy_subscriptions = LegacySubscription.objects.filter(
        organization__partner_global_id__in=[demo.partner_global_id for demo in ORGANIZATIONS]
    ).count()
    return report
