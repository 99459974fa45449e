"""Manual rows of the ledger: an adjustment an admin books for an enrollment (spec §4.2)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from earnings.choices import AdjustmentReason, EarningKind, EarningType, PaymentStatus
from earnings.models import Earning, Enrollment, ExchangeRate
from earnings.periods import month_start
from earnings.services.summary import summary_rebuild
from portal.audit import audit_record
from portal.money import round_money

__all__ = ("adjustment_create",)


def _rate_to_usd(currency: str, on) -> tuple[Decimal, object]:
    if currency == "USD":
        return Decimal(1), on
    rate = ExchangeRate.objects.filter(currency=currency, rate_date__lte=on).order_by("-rate_date").first()
    if rate is None:
        raise ValidationError({"currency": f"There is no exchange rate for {currency} on or before {on}."})
    return rate.rate_to_usd, rate.rate_date


@transaction.atomic
def adjustment_create(
    *,
    enrollment: Enrollment,
    amount: Decimal,
    currency: str,
    reason_code: str,
    note: str,
    actor: Any,
    earning: Earning | None = None,
) -> Earning:
    """Book an adjustment row (positive or negative) for the enrollment, due in this month's run.

    With `earning`, the row is filed under the same program, engagement, lever and filter values,
    but is not tied to its transaction: the payout run keeps transaction rows equal to the rules,
    and would otherwise take a manual correction back. Adjustment rows carry no product or customer.
    """
    amount = round_money(Decimal(amount))
    currency = (currency or "").upper()
    errors = {}
    if amount == 0:
        errors["amount"] = "An adjustment needs an amount other than zero."
    if reason_code not in AdjustmentReason.values:
        errors["reason_code"] = f"{reason_code!r} is not an adjustment reason code."
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = f"{currency!r} is not an ISO 4217 currency code."
    if not note.strip():
        errors["note"] = "Say why the adjustment is made."
    if earning is not None and earning.enrollment_id != enrollment.pk:
        errors["earning"] = f"{earning.earning_id} belongs to another enrollment."
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    rate, rate_date = _rate_to_usd(currency, today)
    earning_type = earning.earning_type if earning else EarningType.REBATE
    row = Earning.objects.create(
        organization_id=enrollment.organization_id,
        earning_id=f"E-A{uuid.uuid4().hex[:16].upper()}",
        kind=EarningKind.ADJUSTMENT,
        reason_code=reason_code,
        note=note.strip()[:500],
        enrollment=enrollment,
        program_id=enrollment.program_id,
        engagement_id=earning.engagement_id if earning else None,
        lever_id=earning.lever_id if earning else None,
        earning_type=earning_type,
        earning_amount=amount,
        currency=currency,
        earning_exchange_rate=rate,
        exchange_rate_date=rate_date,
        earning_amount_usd=round_money(amount * rate),
        earning_date=today,
        calculation_date=today,
        estimated_payment_month=None if earning_type == EarningType.COOP else month_start(today),
        payment_status=PaymentStatus.UNPROCESSED,
        solution_area=earning.solution_area if earning else "",
        partner_role=earning.partner_role if earning else "",
        partner_association=earning.partner_association if earning else "",
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="earnings.adjustment.created",
        organization_id=enrollment.organization_id,
        target=row,
        changes={
            "earningAmount": str(amount),
            "currency": currency,
            "reasonCode": reason_code,
            "adjusts": earning.earning_id if earning else "",
        },
    )
    summary_rebuild([enrollment.organization_id], months=[today])
    return row
