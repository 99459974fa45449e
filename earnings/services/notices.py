"""The Earnings workspace's notifications (categories in `earnings.notifications`): who is told about
what, in what words. The services that make each event happen call these inside their transaction.

Who hears of it:
* payment sent, payments put on hold: the people who can view earnings and payments
  (`earnings.view`) of the enrollment's partner location — an organization-wide role, or a
  location-scoped one of that location (as the pages show them: `LocationScoped`); for a hold, not
  the person who put it (they know);
* export finished: only the person who asked for it (the file holds the rows they may see), if they
  still may open the Earnings workspace.

Each `event_key` names one occurrence, so a retried task tells nobody twice, while a new occurrence
(a payment sent again after a reversal, a hold put again after it was lifted) does.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.audiences import people, people_named, people_who_can
from accounts.models import RoleAssignment
from earnings.choices import ExportStatus
from earnings.exports import REPORTS
from earnings.notifications import EXPORT_READY, PAYMENT_ON_HOLD, PAYMENT_SENT
from portal.capabilities import ROLE_CAPABILITIES, Capability, is_vendor_staff
from portal.notifications import notify

if TYPE_CHECKING:
    from earnings.models import Enrollment, ExportJob, Payment

__all__ = ("export_finished_notify", "payment_on_hold_notify", "payment_sent_notify")

C = Capability
HOLD_BLOCKER = '"Hold my payment" is selected.'


def _money(amount: Any, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %B %Y %H:%M %Z}"


def earnings_viewers(organization_id: int, location_id: int | None) -> QuerySet:
    """The organization's people who see the earnings and payments of `location_id`: a role giving
    `earnings.view` for the whole organization or for that location (`locations_granting`)."""
    roles = [role for role, granted in ROLE_CAPABILITIES.items() if C.EARNINGS_VIEW in granted]
    where = Q(location__isnull=True) | Q(location_id=location_id)
    seeing = RoleAssignment.objects.filter(organization_id=organization_id, role__in=roles).filter(where)
    return people(organization_id).filter(pk__in=seeing.values("user_id"))


def _enrollment_label(enrollment: Enrollment) -> str:
    return f"{enrollment.participant_name} ({enrollment.participant_id})"


# --- Payments ------------------------------------------------------------------------------------


def payment_sent_notify(payment: Payment, *, occurrence: int) -> int:
    """The payment order reached Sent (`payment_status_change`); `occurrence` is the history event
    of that change, so a payment resent after a reversal is news again."""
    enrollment = payment.enrollment
    tax = f" including {_money(payment.sales_tax, payment.currency)} sales tax" if payment.sales_tax else ""
    return notify(
        category_code=PAYMENT_SENT.code,
        organization_id=payment.organization_id,
        recipients=earnings_viewers(payment.organization_id, enrollment.location_id),
        title=f"Payment {payment.payment_id} of {_money(payment.total_payment, payment.currency)} sent",
        body=(
            f"The {payment.payment_month:%B %Y} payment of {enrollment.program.name} to "
            f"{_enrollment_label(enrollment)} was sent on {payment.payment_date:%d %B %Y} by "
            f"{payment.get_method_display().lower()}: {_money(payment.total_payment, payment.currency)}"
            f"{tax}. It can take a few business days to reach the account. Open the remittance to see "
            "the earnings it pays, and reconcile them with your records."
        ),
        url=reverse("earnings:payment-detail", args=[payment.pk]),
        event_key=f"{PAYMENT_SENT.code}:{payment.payment_id}:{occurrence}",
    )


def _hold_reason(actor: Any, reason: str) -> str:
    if reason:
        return f"Reason: {reason.strip().rstrip('.')}."
    if is_vendor_staff(actor):
        return "The vendor's payments team put them on hold."
    name = (actor.get_full_name() or actor.email) if hasattr(actor, "get_full_name") else ""
    if name:
        return f'{name} selected "Hold my payment" on the payment profile.'
    return '"Hold my payment" was selected on the payment profile.'


def payment_on_hold_notify(enrollment: Enrollment, *, actor: Any, reason: str, occurrence: int) -> int:
    """Payments to the enrollment were put on hold (`hold_set`); `reason` as the one who put it gave
    it (else who did it says why), with whatever else blocks the enrollment's payments.
    `occurrence` names this hold (its audit event): a hold put again after it was lifted is news."""
    others = [blocker for blocker in enrollment.payment_blockers if blocker != HOLD_BLOCKER]
    also = f" Its payments are also blocked: {' '.join(others)}" if others else ""
    recipients = earnings_viewers(enrollment.organization_id, enrollment.location_id)
    if getattr(actor, "pk", None):
        recipients = recipients.exclude(pk=actor.pk)
    return notify(
        category_code=PAYMENT_ON_HOLD.code,
        organization_id=enrollment.organization_id,
        recipients=recipients,
        title=f"Payments to {enrollment.participant_id} in {enrollment.program.name} are on hold",
        body=(
            f"Payments of {enrollment.program.name} to {_enrollment_label(enrollment)} are on hold. "
            f"{_hold_reason(actor, reason)}{also} While the hold lasts, payment runs make no payment "
            "order for it: its earnings stay Unprocessed and are paid with the first run after the "
            "hold is lifted. Lift it on the payment profile page (billing or incentives admins)."
        ),
        url=reverse("earnings:payment-profile"),
        event_key=f"{PAYMENT_ON_HOLD.code}:{enrollment.pk}:{occurrence}",
    )


# --- Exports -------------------------------------------------------------------------------------


def export_finished_notify(export: ExportJob) -> int:
    """The background export finished (`export_execute`): its file is ready, or it failed. Told
    only to whoever asked for it, once per outcome."""
    report = REPORTS.get(export.report)
    name = report.title if report else export.report
    kind = export.get_file_format_display()
    if export.status == ExportStatus.COMPLETED:
        title = f"Your export “{name}” is ready"
        expires = f" The link expires on {_when(export.expires_at)}." if export.expires_at else ""
        body = (
            f"The {kind} file of {export.row_count:,} row{'' if export.row_count == 1 else 's'} is ready "
            f"to download from the export's page.{expires} After that, run the export again."
        )
    elif export.status == ExportStatus.FAILED:
        title = f"Your export “{name}” failed"
        body = (
            f"The {kind} export stopped: {export.error or 'an unexpected error'}. Start it again from the "
            "Reports page; if it fails again, contact partner support."
        )
    else:
        return 0
    requester = people_named(export.organization_id, [export.requested_by_id]).filter(
        pk__in=people_who_can(export.organization_id, C.EARNINGS_VIEW).values("pk")
    )
    return notify(
        category_code=EXPORT_READY.code,
        organization_id=export.organization_id,
        recipients=requester,
        title=title,
        body=body,
        url=reverse("earnings:export-detail", args=[export.pk]),
        event_key=f"{EXPORT_READY.code}:{export.export_id}:{export.status}",
    )
