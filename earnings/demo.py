"""Deterministic demo data of the Earnings workspace: programs and rates, exchange rates,
enrollments, a year of transactions, the payout runs over them, and payments along their statuses.

Programs: "Microsoft Commerce Incentives" (MCI) with an engagement per solution area, and "Co-op".
Enrollments cover each demo organization's locations, with the cases a partner meets: a location
holding its payments (Fabrikam GB), one whose tax profile is missing (Contoso IE), one not enrolled
(Tailwind CA) and one overdue on its invoices for co-op (Northwind). The transactions, billed from
commerce and generated usage, include rows for every rule the payout engine applies, so the
Ineligible view shows each reason. Used by `manage.py seed_demo`, the end-to-end tests and benches.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.choices import CustomerSegment
from accounts.demo import ORGANIZATIONS
from accounts.models import Customer, Organization, PartnerLocation
from commerce.demo import A1_FACULTY, BASIC, E3, E3_CHARITY, E3_GCC, MARKETS, PREMIUM, PREMIUM_TRIAL, PRODUCTS
from commerce.demo import TEAMS_PHONE as TEAMS_PHONE_SKU
from earnings.choices import (
    EarningType,
    PartnerAssociation,
    PartnerRole,
    PaymentStatus,
    QuantityType,
    SolutionArea,
    TransactionSource,
    TransactionType,
)
from earnings.models import (
    Earning,
    EarningRate,
    Engagement,
    Enrollment,
    ExchangeRate,
    IneligibleTransaction,
    Lever,
    Payment,
    Program,
    Transaction,
)
from earnings.periods import add_months, month_end, month_start
from earnings.services.engine import payout_run_create, payout_run_execute
from earnings.services.payments import payment_status_change
from earnings.services.transactions import transactions_from_commerce
from portal.models import HistoryEvent

__all__ = ("EarningsSeedReport", "earnings_demo_loaded", "earnings_demo_seed")

MCI, COOP = "MCI", "COOP"
PROGRAMS_FROM = date(2020, 7, 1)
MONTHS_OF_TRANSACTIONS = 12
MONTHS_OF_RATES = 18

AZURE_PLAN = ("DZH318Z0BQ3Q", "Azure plan")
DEFENDER = ("CFQ7TTC0LGN0", "Microsoft Defender for Endpoint P2")
ENTRA = ("CFQ7TTC0LFK5", "Microsoft Entra ID P2")
TEAMS_PHONE = TEAMS_PHONE_SKU[0]

#: Monthly USD price per seat of the generated license transactions.
SEAT_PRICE_USD = {
    BASIC[0]: Decimal("6.00"),
    PREMIUM[0]: Decimal("22.00"),
    E3[0]: Decimal("36.00"),
    A1_FACULTY[0]: Decimal("2.25"),
    TEAMS_PHONE: Decimal("8.00"),
    DEFENDER[0]: Decimal("5.20"),
    ENTRA[0]: Decimal("9.00"),
}


@dataclass(frozen=True)
class DemoEngagement:
    program: str
    engagement_id: str
    name: str
    solution_area: str
    #: (lever name, role, association, earning type, {product_id: (rate, min seats)})
    levers: tuple[tuple[str, str, str, str, dict[str, tuple[str, int]]], ...]
    excluded_segments: tuple[str, ...] = ()
    min_transaction_usd: Decimal = Decimal(0)


ENGAGEMENTS = [
    DemoEngagement(
        MCI,
        "MCI-CSP-MW",
        "CSP Core – Modern Work",
        SolutionArea.MODERN_WORK,
        (
            (
                "CSP Core – Transact",
                PartnerRole.TRANSACT,
                PartnerAssociation.RESELLER,
                EarningType.REBATE,
                {
                    BASIC[0]: ("0.03", 0),
                    PREMIUM[0]: ("0.05", 10),
                    E3[0]: ("0.04", 0),
                    A1_FACULTY[0]: ("0.02", 0),
                },
            ),
            ("CSP Core – Deploy", PartnerRole.DEPLOY, "", EarningType.FEE, {E3[0]: ("0.01", 0)}),
        ),
        excluded_segments=(CustomerSegment.GOVERNMENT,),
        min_transaction_usd=Decimal("40"),
    ),
    DemoEngagement(
        MCI,
        "MCI-AZ-CONS",
        "Azure Consumption",
        SolutionArea.AZURE_INFRA,
        (
            (
                "Azure consumption – PAL",
                PartnerRole.USE,
                PartnerAssociation.PAL_OWNER,
                EarningType.REBATE,
                {AZURE_PLAN[0]: ("0.06", 0)},
            ),
        ),
    ),
    DemoEngagement(
        MCI,
        "MCI-SEC-GRW",
        "Security Growth",
        SolutionArea.SECURITY,
        (
            (
                "Security growth – Transact",
                PartnerRole.TRANSACT,
                PartnerAssociation.RESELLER,
                EarningType.REBATE,
                {DEFENDER[0]: ("0.08", 0), ENTRA[0]: ("0.06", 0)},
            ),
        ),
    ),
    DemoEngagement(
        COOP,
        "COOP-MW",
        "Co-op – Modern Work",
        SolutionArea.MODERN_WORK,
        (
            (
                "Co-op",
                PartnerRole.TRANSACT,
                "",
                EarningType.COOP,
                {PREMIUM[0]: ("0.01", 0), E3[0]: ("0.01", 0)},
            ),
        ),
    ),
]

PROGRAMS = {
    MCI: ("Microsoft Commerce Incentives", "Earnings on what customers buy and use through the partner.", 3),
    COOP: ("Co-op", "Marketing funds accrued on Modern Work sales; claimed, not paid as cash.", 3),
}

#: Locations with a payment case (partner_id → Enrollment fields); CA is not enrolled in anything.
HOLD, NO_TAX, NOT_ENROLLED, AR_OVERDUE_COOP = "6120001", "5230003", "8420003", "7310002"


@dataclass
class EarningsSeedReport:
    transactions: int = 0
    created_transactions: int = 0
    payout_runs: int = 0
    earnings: int = 0
    payments: int = 0
    payments_sent: int = 0
    ineligible_reasons: list[str] = field(default_factory=list)


def earnings_demo_loaded() -> bool:
    """True once the demo organizations have earnings."""
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    return Earning.objects.filter(organization__partner_global_id__in=ids).exists()


# --- Vendor data ----------------------------------------------------------------------------------


def earnings_demo_programs() -> None:
    """Programs, engagements, levers and rates; idempotent."""
    programs = {}
    for code, (name, description, lag) in PROGRAMS.items():
        programs[code], _ = Program.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "payment_lag_months": lag,
                "starts_on": PROGRAMS_FROM,
            },
        )
    for demo in ENGAGEMENTS:
        engagement, _ = Engagement.objects.update_or_create(
            engagement_id=demo.engagement_id,
            defaults={
                "program": programs[demo.program],
                "name": demo.name,
                "solution_area": demo.solution_area,
                "excluded_segments": list(demo.excluded_segments),
                "min_transaction_usd": demo.min_transaction_usd,
                "starts_on": PROGRAMS_FROM,
            },
        )
        for name, role, association, earning_type, rates in demo.levers:
            lever, _ = Lever.objects.update_or_create(
                engagement=engagement,
                partner_role=role,
                defaults={"name": name, "partner_association": association, "earning_type": earning_type},
            )
            for product_id, (rate, min_quantity) in rates.items():
                EarningRate.objects.get_or_create(
                    lever=lever,
                    product_id=product_id,
                    segment="",
                    valid_from=PROGRAMS_FROM,
                    defaults={"rate": Decimal(rate), "min_quantity": min_quantity},
                )


def earnings_demo_exchange_rates(*, seed: int, today: date) -> None:
    """A rate on the first of each of the last 18 months for every demo market's currency."""
    rng = random.Random(f"{seed}:fx")
    first = add_months(month_start(today), -(MONTHS_OF_RATES - 1))
    rows = []
    for currency, per_usd in sorted({value for value in MARKETS.values() if value[0] != "USD"}):
        base = 1 / Decimal(per_usd)
        for index in range(MONTHS_OF_RATES):
            wobble = Decimal(1) + Decimal(rng.randint(-300, 300)) / Decimal(10000)
            rows.append(
                ExchangeRate(
                    currency=currency,
                    rate_date=add_months(first, index),
                    rate_to_usd=(base * wobble).quantize(Decimal("0.00000001")),
                )
            )
    ExchangeRate.objects.bulk_create(rows, ignore_conflicts=True)


def _enrollments(organization: Organization) -> None:
    programs = {program.code: program for program in Program.objects.filter(code__in=PROGRAMS)}
    for location in PartnerLocation.objects.filter(organization=organization).order_by("pk"):
        if location.partner_id == NOT_ENROLLED:
            continue
        for code, program in programs.items():
            Enrollment.objects.get_or_create(
                participant_id=location.partner_id,
                program=program,
                defaults={
                    "organization": organization,
                    "location": location,
                    "participant_name": location.name or organization.legal_name,
                    "enrolled_from": PROGRAMS_FROM,
                    "payment_currency": MARKETS.get(location.country, ("USD",))[0],
                    "bank_profile_ok": True,
                    "tax_profile_ok": location.partner_id != NO_TAX,
                    "hold_payment": location.partner_id == HOLD,
                    "ar_overdue": location.partner_id == AR_OVERDUE_COOP and code == COOP,
                    "sales_tax_rate": Decimal("0.19") if location.country == "DE" else Decimal(0),
                },
            )


# --- Transactions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    product: tuple[str, str]
    sku_id: str
    seats: int
    area: str = SolutionArea.MODERN_WORK
    role: str = PartnerRole.TRANSACT
    association: str = PartnerAssociation.RESELLER
    is_trial: bool = False
    kind: str = TransactionType.PURCHASE
    quantity_type: str = QuantityType.BILLED
    usd: Decimal | None = None  # usage: the amount itself


def _lines_for(customer: Customer, number: int, rng: random.Random) -> list[_Line]:
    """What one customer buys and uses in a month; `number` (its position) picks the special cases."""

    def license_of(key: tuple[str, str], seats: int) -> _Line:
        return _Line((key[0], PRODUCTS[key[0]]), key[1], seats)

    if customer.segment == CustomerSegment.EDUCATION:
        lines = [license_of(A1_FACULTY, rng.choice([50, 200, 800]))]
    elif customer.segment == CustomerSegment.GOVERNMENT:
        lines = [license_of(E3_GCC, rng.choice([25, 120, 250]))]  # segment excluded by CSP Core
    elif customer.segment == CustomerSegment.CHARITY:
        lines = [license_of(E3_CHARITY, rng.choice([12, 25, 40]))]
    else:
        main = rng.choice([BASIC, PREMIUM, E3])
        lines = [license_of(main, rng.choice([12, 25, 40, 60, 120]))]
    if number % 4 == 1:
        lines.append(license_of(TEAMS_PHONE_SKU, 10))  # not on any eligible product list
    if number % 5 == 2:
        lines.append(license_of(PREMIUM, 5))  # below Premium's 10-seat minimum
    if number % 6 == 3:
        lines.append(license_of(E3, 1))  # 36 USD: below CSP Core's 40 USD threshold
    if number % 7 == 3:
        lines.append(
            _Line((PREMIUM_TRIAL[0], PRODUCTS[PREMIUM_TRIAL[0]]), PREMIUM_TRIAL[1], 25, is_trial=True)
        )
    if number % 3 == 0:
        usage = Decimal(rng.randint(40_000, 900_000)) / 100
        lines.append(
            _Line(
                AZURE_PLAN,
                "0001",
                rng.randint(200, 5000),
                area=SolutionArea.AZURE_INFRA,
                role=PartnerRole.USE,
                association=PartnerAssociation.PAL_OWNER,
                kind=TransactionType.USAGE,
                quantity_type=QuantityType.CONSUMED,
                usd=usage,
            )
        )
    if number % 5 == 0:
        lines.append(_Line(DEFENDER, "0001", rng.choice([25, 60, 150]), area=SolutionArea.SECURITY))
    if number % 8 == 6:
        # Sold through an indirect provider: Security Growth pays the reseller of record only.
        lines.append(
            _Line(
                ENTRA,
                "0001",
                40,
                area=SolutionArea.SECURITY,
                association=PartnerAssociation.INDIRECT_PROVIDER,
            )
        )
    if number % 9 == 4:
        # Deployment services on E3 seats: CSP Core's Deploy lever pays a fee; Co-op has no Deploy lever.
        lines.append(
            _Line(
                (E3[0], PRODUCTS[E3[0]]), E3[1], rng.choice([25, 60]), role=PartnerRole.DEPLOY, association=""
            )
        )
    return lines


def _rate_on(rates: dict[str, list[tuple[date, Decimal]]], currency: str, day: date) -> Decimal:
    if currency == "USD":
        return Decimal(1)
    return [rate for rate_date, rate in rates[currency] if rate_date <= day][-1]


def _generated_transactions(
    organization: Organization, *, seed: int, customers_per_org: int, months: list[date]
) -> list[Transaction]:
    locations = list(
        PartnerLocation.objects.filter(organization=organization).order_by("-is_headquarters", "pk")
    )
    by_country = {location.country: location for location in reversed(locations)}
    headquarters = locations[0]
    customers = list(Customer.objects.filter(organization=organization).order_by("pk")[:customers_per_org])
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    for currency, rate_date, rate in ExchangeRate.objects.order_by("rate_date").values_list(
        "currency", "rate_date", "rate_to_usd"
    ):
        rates.setdefault(currency, []).append((rate_date, rate))
    rows = []
    for month in months:
        tag = f"{month:%Y%m}"
        for number, customer in enumerate(customers):
            rng = random.Random(f"{seed}:{customer.tenant_id}:{tag}")
            # Locations transact for their country's customers, and now and then for others.
            location = customer.location or by_country.get(customer.country)
            if location is None:
                location = locations[-1] if number % 10 == 7 else headquarters
            # The partner is billed in its location's currency (Azure usage in USD).
            currency, per_usd = MARKETS.get(location.country, ("USD", "1"))
            per_usd = Decimal(per_usd)
            day = min(month + timedelta(days=rng.randint(0, 27)), month_end(month))
            for index, line in enumerate(_lines_for(customer, number, rng)):
                if line.usd is not None:
                    amount, line_currency = line.usd, "USD"
                elif line.is_trial:
                    amount, line_currency = Decimal(0), currency
                else:
                    amount = (SEAT_PRICE_USD[line.product[0]] * line.seats * per_usd).quantize(
                        Decimal("0.01")
                    )
                    line_currency = currency
                rate = _rate_on(rates, line_currency, day)
                rows.append(
                    Transaction(
                        organization=organization,
                        transaction_id=f"DEMO-{organization.partner_global_id}-{tag}-{number:05d}-{index}",
                        transaction_date=day,
                        transaction_type=line.kind,
                        source=TransactionSource.UPLOAD,
                        location=location,
                        customer=customer,
                        customer_name=customer.name,
                        customer_tenant_id=str(customer.tenant_id),
                        customer_country=customer.country,
                        customer_segment=customer.segment,
                        product_id=line.product[0],
                        sku_id=line.sku_id,
                        product_name=line.product[1],
                        subscription_id=f"SUB-{str(customer.tenant_id)[:8]}-{line.product[0][-4:]}",
                        invoice_number=f"INV-{organization.partner_global_id}-{tag}",
                        solution_area=line.area,
                        partner_role=line.role,
                        partner_association=line.association,
                        is_trial=line.is_trial,
                        quantity=Decimal(line.seats),
                        quantity_type=line.quantity_type,
                        transaction_currency=line_currency,
                        transaction_amount=amount,
                        transaction_exchange_rate=rate,
                        transaction_amount_usd=(amount * rate).quantize(Decimal("0.01")),
                    )
                )
        # A tenant the partner has no relationship with (CUSTOMER_NOT_ASSOCIATED).
        rows.append(
            Transaction(
                organization=organization,
                transaction_id=f"DEMO-{organization.partner_global_id}-{tag}-unassociated",
                transaction_date=month + timedelta(days=14),
                source=TransactionSource.UPLOAD,
                location=headquarters,
                customer=None,
                customer_name="Unassociated tenant",
                customer_tenant_id=f"00000000-0000-4000-8000-{organization.partner_global_id:0>12}",
                product_id=E3[0],
                sku_id=E3[1],
                product_name=PRODUCTS[E3[0]],
                invoice_number=f"INV-{organization.partner_global_id}-{tag}",
                solution_area=SolutionArea.MODERN_WORK,
                partner_role=PartnerRole.TRANSACT,
                partner_association=PartnerAssociation.RESELLER,
                quantity=Decimal(30),
                transaction_currency="USD",
                transaction_amount=Decimal("1080.00"),
                transaction_exchange_rate=Decimal(1),
                transaction_amount_usd=Decimal("1080.00"),
            )
        )
    return rows


# --- Payments along their statuses ----------------------------------------------------------------


def _payments_move(months: list[date]) -> int:
    """Payments of all but the last three payment months are sent; one is reversed and resent (X5).

    Only Upcoming payments move, so a second run changes nothing.
    """
    sent = 0
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    payments = Payment.objects.filter(organization__partner_global_id__in=ids)
    for payment in payments.filter(status=PaymentStatus.UPCOMING, payment_month__lt=months[-3]).order_by(
        "payment_month", "pk"
    ):
        payment_status_change(payment=payment, to_status=PaymentStatus.IN_PROGRESS, actor=None)
        payment_status_change(payment=payment, to_status=PaymentStatus.SENT, actor=None)
        sent += 1
    reversed_before = HistoryEvent.objects.filter(to_status=PaymentStatus.REVERSED).exists()
    returned = payments.filter(status=PaymentStatus.SENT).order_by("-payment_month", "pk").first()
    if returned is not None and not reversed_before:
        for status, note in (
            (PaymentStatus.REVERSED, "Returned by the bank: account closed."),
            (PaymentStatus.IN_PROGRESS, "Bank profile updated; resent in the next cycle."),
            (PaymentStatus.SENT, ""),
        ):
            payment_status_change(payment=returned, to_status=status, actor=None, note=note)
    return sent


# --- The seed -------------------------------------------------------------------------------------


@transaction.atomic
def earnings_demo_seed(*, seed: int, scale: int = 1) -> EarningsSeedReport:
    """Vendor data, enrollments, the last 12 months of transactions, a payout run per month in order
    (in this process), then payments moved along. Idempotent: a second run adds nothing."""
    today = timezone.localdate()
    months = [add_months(month_start(today), -offset) for offset in range(MONTHS_OF_TRANSACTIONS, 0, -1)]
    report = EarningsSeedReport()
    earnings_demo_programs()
    earnings_demo_exchange_rates(seed=seed, today=today)
    organizations = list(
        Organization.objects.filter(partner_global_id__in=[demo.partner_global_id for demo in ORGANIZATIONS])
    )
    generated = []
    for organization in organizations:
        _enrollments(organization)
        generated.extend(
            _generated_transactions(organization, seed=seed, customers_per_org=40 * scale, months=months)
        )
    scope = {"organization__in": organizations}
    before = Transaction.objects.filter(**scope).count()
    # Generated ids are stable, so rows of an earlier seed are skipped.
    Transaction.objects.bulk_create(generated, batch_size=5000, ignore_conflicts=True)
    for month in months:
        transactions_from_commerce(month=month)
    report.transactions = Transaction.objects.filter(**scope).count()
    report.created_transactions = report.transactions - before
    for month in months:
        payout_run_execute(payout_run_create(period=month, actor=None))
        report.payout_runs += 1
    report.payments_sent = _payments_move(months)
    report.earnings = Earning.objects.filter(**scope).count()
    report.payments = Payment.objects.filter(**scope).count()
    report.ineligible_reasons = sorted(
        set(IneligibleTransaction.objects.filter(**scope).values_list("reason_code", flat=True).distinct())
    )
    return report
