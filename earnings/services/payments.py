"""Payment orders after the run: status changes along spec §4, and the partner's payment hold."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from earnings.choices import PaymentStatus
from earnings.models import Earning, Enrollment, Payment
from earnings.services.notices import payment_on_hold_notify, payment_sent_notify
from earnings.services.summary import payment_status_summary_rebuild
from earnings.signals import payment_sent
from portal.audit import audit_record
from portal.history import history_record
from portal.locks import lock
from portal.webhooks import register_event, webhook_emit

__all__ = ("PAYMENT_STATUS_CHANGED", "TRANSITIONS", "hold_set", "payment_status_change")

PAYMENT_STATUS_CHANGED = register_event(
    "earnings.payment.status_changed", "A payment order moved to another status (e.g. Sent, Reversed)."
)

S = PaymentStatus
#: Where a payment order may go from each status (spec §4). A reversed payment is resent in a
#: later cycle (X5: Sent → Reversed → In progress → Sent); a rejected or failed one is retried.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.UPCOMING: frozenset(
        {S.TAX_INVOICE_PENDING, S.TAX_INVOICE_IN_REVIEW, S.IN_PROGRESS, S.REJECTED_IN_REVIEW}
    ),
    S.TAX_INVOICE_PENDING: frozenset({S.TAX_INVOICE_IN_REVIEW}),
    S.TAX_INVOICE_IN_REVIEW: frozenset({S.TAX_INVOICE_REJECTED, S.IN_PROGRESS}),
    S.TAX_INVOICE_REJECTED: frozenset({S.TAX_INVOICE_PENDING, S.TAX_INVOICE_IN_REVIEW}),
    S.REJECTED_IN_REVIEW: frozenset({S.UPCOMING}),
    S.IN_PROGRESS: frozenset({S.SENT, S.FAILED, S.REJECTED, S.REPROCESSING}),
    S.REPROCESSING: frozenset({S.IN_PROGRESS, S.SENT, S.FAILED}),
    S.FAILED: frozenset({S.REPROCESSING}),
    S.REJECTED: frozenset({S.IN_PROGRESS}),
    S.SENT: frozenset({S.REVERSAL_IN_PROGRESS, S.REVERSED}),
    S.REVERSAL_IN_PROGRESS: frozenset({S.REVERSED}),
    S.REVERSED: frozenset({S.IN_PROGRESS}),
}


@transaction.atomic
def payment_status_change(*, payment: Payment, to_status: str, actor: Any, note: str = "") -> Payment:
    """Move the payment to `to_status` if spec §4 allows it, and its earnings with it."""
    payment = lock(payment)
    from_status = payment.status
    if to_status not in TRANSITIONS.get(from_status, ()):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_status, ()))) or "none"
        raise ValidationError(
            {"status": f"A payment in {from_status} cannot move to {to_status}; allowed: {allowed}."}
        )
    today = timezone.localdate()
    payment.status = to_status
    payment.updated_at = timezone.now()
    fields = ["status", "updated_at"]
    if to_status == PaymentStatus.SENT:
        payment.payment_date = today
        fields.append("payment_date")
    payment.save(update_fields=fields)
    Earning.objects.filter(payment=payment).update(payment_status=to_status)
    event = history_record(
        subject=payment, actor=actor, from_status=from_status, to_status=to_status, note=note
    )
    audit_record(
        actor=actor,
        action="earnings.payment.status_changed",
        organization_id=payment.organization_id,
        target=payment,
        changes={"status": [from_status, to_status], "note": note},
    )
    if to_status == PaymentStatus.SENT:
        payment_sent.send(sender=Payment, payment=payment, actor=actor)
        payment_sent_notify(payment, occurrence=event.seq)
    months = Earning.objects.filter(payment=payment).dates("earning_date", "month")
    payment_status_summary_rebuild([payment.organization_id], months=list(months))
    webhook_emit(
        organization_id=payment.organization_id,
        event=PAYMENT_STATUS_CHANGED,
        data={
            "paymentId": payment.payment_id,
            "fromStatus": from_status,
            "paymentStatus": to_status,
            "paymentDate": payment.payment_date,
            "totalPayment": str(payment.total_payment),
            "paymentCurrencyCode": payment.currency,
        },
    )
    return payment


@transaction.atomic
def hold_set(*, enrollment: Enrollment, hold: bool, actor: Any, reason: str = "") -> Enrollment:
    """ "Hold my payment" (spec §4.1): while held, payment runs create no payment for the enrollment.

    Putting a hold tells the people who see the enrollment's payments, with `reason` (else who put
    it) and whatever else blocks its payments."""
    enrollment = lock(enrollment)
    if enrollment.hold_payment == hold:
        return enrollment
    enrollment.hold_payment = hold
    enrollment.save(update_fields=["hold_payment"])
    changes: dict[str, Any] = {"hold_payment": [not hold, hold]}
    if reason:
        changes["reason"] = reason
    audit = audit_record(
        actor=actor,
        action="earnings.enrollment.hold_set" if hold else "earnings.enrollment.hold_lifted",
        organization_id=enrollment.organization_id,
        target=enrollment,
        changes=changes,
    )
    if hold:
        payment_on_hold_notify(enrollment, actor=actor, reason=reason, occurrence=audit.pk)
    return enrollment
