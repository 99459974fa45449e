"""The Payments pages' and the payment profile's read side."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum

from earnings.choices import PAYMENT_STATUS_DESCRIPTIONS, PaymentStatus
from earnings.models import Earning, Enrollment, Payment

#: The payment page lists this many of its earnings; the Earnings page and the downloads have all.
PAYMENT_EARNINGS_SHOWN = 20


def payments(*, user) -> QuerySet[Payment]:
    """The organization's payment orders with what the list shows (`tax`: both taxes)."""
    return (
        Payment.objects.visible_to(user)
        .select_related("program", "enrollment")
        .annotate(tax=F("sales_tax") + F("service_fee_tax"))
    )


def payment_for_page(*, user, pk: int) -> Payment | None:
    return Payment.objects.visible_to(user).select_related("program", "enrollment").filter(pk=pk).first()


def payment_earnings(*, user, payment: Payment, limit: int = PAYMENT_EARNINGS_SHOWN) -> list[Earning]:
    """The payment's newest earnings (its index gives them in order)."""
    return list(
        Earning.objects.visible_to(user)
        .filter(payment=payment)
        .select_related("lever", "engagement")
        .order_by("-earning_date", "-id")[:limit]
    )


@dataclass(frozen=True)
class RemittanceLine:
    currency: str
    amount: Decimal
    amount_usd: Decimal
    earning_count: int


def remittance(payment: Payment) -> list[RemittanceLine]:
    """The payment's earnings summed per currency (spec §7); each row is one earningId, which is
    unique in the ledger. Read from the (payment, currency) index alone."""
    rows = (
        Earning.objects.filter(payment=payment)
        .order_by("currency")
        .values("currency")
        .annotate(amount=Sum("earning_amount"), amount_usd=Sum("earning_amount_usd"), n=Count("*"))
    )
    return [RemittanceLine(r["currency"], r["amount"], r["amount_usd"], r["n"]) for r in rows]


def status_description(status: str) -> tuple[str, str]:
    """What a payment status means and what the partner can do about it."""
    return PAYMENT_STATUS_DESCRIPTIONS.get(PaymentStatus(status), ("", ""))


def enrollments(*, user) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.visible_to(user)
        .select_related("program", "location")
        .order_by("program__name", "participant_id")
    )


def enrollment_for_page(*, user, pk: int) -> Enrollment | None:
    return Enrollment.objects.visible_to(user).filter(pk=pk).first()
