"""Telling people about a claim's decisions (portal.notifications), raised by the services that make
them, in their transaction: the reviewer asks for more information, approves or rejects
(`claim_review`), a claim waiting for the partner is finally rejected when its 15 days pass
(`claims_expire`), and the payment carrying its earnings is sent (`claims_complete_for_payment`).

Who hears of it: the claim's owner (who created it) and whoever submitted it last, with the people
of the organization who can work its claims (`incentives.claims`). Each `event_key` names one
occurrence — a review row, a payment, the deadline — so a retried task or a rerun tells nobody
twice, while a second round of "more information" on the same claim does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.audiences import people_named, people_who_can
from incentives.choices import ClaimStatus, ReviewReason
from incentives.models import Claim, ClaimReview
from incentives.notifications import CLAIM_APPROVED, CLAIM_INFO_REQUESTED, CLAIM_PAID, CLAIM_REJECTED
from portal.capabilities import Capability
from portal.models import HistoryEvent
from portal.notifications import notify

__all__ = ("claim_deadline_rejection_notify", "claim_decision_notify", "claim_paid_notify", "claim_people")

S = ClaimStatus


def _submitter_id(claim: Claim) -> int | None:
    """Who submitted the claim last (its history), if a person did."""
    return (
        HistoryEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Claim),
            object_id=str(claim.pk),
            to_status=S.SUBMITTED,
            actor__isnull=False,
        )
        .order_by("-at", "-id")
        .values_list("actor_id", flat=True)
        .first()
    )


def claim_people(claim: Claim) -> QuerySet:
    """The claim's owner and last submitter, and the organization's people who can work claims."""
    named = people_named(claim.organization_id, [claim.created_by_id, _submitter_id(claim)])
    return named | people_who_can(claim.organization_id, Capability.INCENTIVES_CLAIMS)


def _url(claim: Claim) -> str:
    return reverse("incentives:claim-detail", kwargs={"pk": claim.pk})


def _day(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%d %B %Y}" if moment else ""


def _about(claim: Claim) -> str:
    return f"{claim.friendly_name} for {claim.customer.name}"


def _tell(claim: Claim, *, category: Any, title: str, body: str, occurrence: str) -> int:
    return notify(
        category_code=category.code,
        organization_id=claim.organization_id,
        recipients=claim_people(claim),
        title=title,
        body=body,
        url=_url(claim),
        event_key=f"{category.code}:{claim.pk}:{occurrence}",
    )


def _reason(review: ClaimReview) -> str:
    reason = str(ReviewReason(review.reason_code).label) if review.reason_code else ""
    comment = review.comment.strip()
    if comment:
        comment = comment if comment.endswith((".", "!", "?")) else f"{comment}."
    return " ".join(part for part in (reason, comment) if part)


def claim_decision_notify(claim: Claim, review: ClaimReview) -> int:
    """The reviewer's decision `review` moved the claim to its current status."""
    why = _reason(review)
    occurrence = f"review-{review.pk}"
    if claim.status == S.PARTNER_ACTION_REQUIRED:
        return _tell(
            claim,
            category=CLAIM_INFO_REQUESTED,
            title=f"Claim {claim.claim_id} needs more information",
            body=f"{_about(claim)}: the reviewer asks — {why} Answer the reviewer on the claim's page "
            f"(attach what is missing) by {_day(claim.action_due_at)}, or the claim is finally rejected.",
            occurrence=occurrence,
        )
    if claim.status == S.APPROVED:
        payout = claim.approved_payout_usd
        amount = f" with a payout of {payout:,.2f} USD" if payout is not None else ""
        note = f" Reviewer's note: {why}" if why else ""
        return _tell(
            claim,
            category=CLAIM_APPROVED,
            title=f"Claim {claim.claim_id} approved",
            body=f"{_about(claim)} was approved{amount}. It becomes earnings in the next monthly "
            f"payout run; nothing more to do.{note}",
            occurrence=occurrence,
        )
    if claim.status == S.REJECTED:
        return _tell(
            claim,
            category=CLAIM_REJECTED,
            title=f"Claim {claim.claim_id} rejected",
            body=f"{_about(claim)} was rejected. Reason: {why} You may fix the claim and resubmit it "
            f"once, by {_day(claim.action_due_at)}; otherwise it is finally rejected.",
            occurrence=occurrence,
        )
    if claim.status == S.FINAL_REJECTED:
        return _tell(
            claim,
            category=CLAIM_REJECTED,
            title=f"Claim {claim.claim_id} finally rejected",
            body=f"{_about(claim)} was finally rejected. Reason: {why} The decision is final: the claim "
            "cannot be resubmitted.",
            occurrence=occurrence,
        )
    return 0


def claim_deadline_rejection_notify(claim: Claim, *, note: str) -> int:
    """A claim waiting for the partner after a review passed its 15 days: finally rejected."""
    return _tell(
        claim,
        category=CLAIM_REJECTED,
        title=f"Claim {claim.claim_id} finally rejected",
        body=f"{_about(claim)} was finally rejected. Reason: {note} The claim is closed and cannot be "
        "resubmitted.",
        occurrence="deadline",
    )


def claim_paid_notify(claim: Claim, *, payment_id: str) -> int:
    """The payment carrying the claim's earnings was sent: the claim is Completed."""
    payout = claim.approved_payout_usd
    amount = f" ({payout:,.2f} USD approved)" if payout is not None else ""
    return _tell(
        claim,
        category=CLAIM_PAID,
        title=f"Claim {claim.claim_id} paid",
        body=f"{_about(claim)}{amount}: payment {payment_id} carrying its earnings was sent, and the "
        "claim is Completed. The payment's details are in Earnings.",
        occurrence=f"payment-{payment_id}",
    )
