"""Incentives' answers to other workspaces' signals (connected in `IncentivesConfig.ready`)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from earnings.models import Payment
from earnings.signals import payment_sent
from incentives.services.payouts import claims_complete_for_payment


@receiver(payment_sent, sender=Payment, dispatch_uid="incentives.claims_complete_on_payment_sent")
def claims_complete_on_payment_sent(
    sender: type[Payment], *, payment: Payment, actor: Any, **kwargs: Any
) -> None:
    """spec §6: an approved claim is Completed when the payment carrying its earnings is Sent."""
    claims_complete_for_payment(payment=payment, actor=actor)
