"""Incentives' answers to other workspaces' signals (connected in `IncentivesConfig.ready`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.dispatch import receiver

from earnings.models import Payment
from earnings.signals import payment_sent, payout_run_earnings_due
from incentives.services.payouts import claim_earnings_write, claims_complete_for_payment
from portal.models import JobRun


@receiver(payment_sent, sender=Payment, dispatch_uid="incentives.claims_complete_on_payment_sent")
def claims_complete_on_payment_sent(
    sender: type[Payment], *, payment: Payment, actor: Any, **kwargs: Any
) -> None:
    """spec §6: an approved claim is Completed when the payment carrying its earnings is Sent."""
    claims_complete_for_payment(payment=payment, actor=actor)


@receiver(payout_run_earnings_due, sender=JobRun, dispatch_uid="incentives.claim_earnings_on_payout_run")
def claim_earnings_on_payout_run(
    sender: type[JobRun], *, period: date, job: JobRun, **kwargs: Any
) -> dict[str, int]:
    """spec/earnings.md §8: approved claims of the period or before become earnings in its run."""
    return claim_earnings_write(period=period, job=job)
