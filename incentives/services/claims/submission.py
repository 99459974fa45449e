"""Submitting a claim, and resubmitting it with the partner's answer to a review: every missing
piece (proof, delivery date, deadline) is named at once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incentives.models import Claim, ClaimReview
from incentives.services.claims.rules import S, _deadline, _kind_labels, _refuse, proof_missing_kinds
from incentives.services.claims.transitions import claim_transition
from portal.locks import lock

__all__ = ("claim_respond", "claim_submit")


def _submit(claim: Claim, *, actor: Any, delivered_on: date | None, note: str) -> Claim:
    """Checks shared by submit and respond; the claim is locked. Nothing changes when one fails."""
    now = timezone.now()
    if claim.status not in (S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED):
        if claim.status == S.IN_PROGRESS:
            raise _refuse(
                "Attach the proof of execution before submitting the claim.",
                field="proof",
                code="proof_missing",
            )
        raise _refuse(f"A claim in {claim.status} cannot be submitted.", code="transition")
    if claim.status == S.REJECTED and claim.resubmit_count >= 1:
        raise _refuse(
            "This claim was already resubmitted once after a rejection; it cannot be resubmitted again.",
            code="resubmitted",
        )
    # Every problem is named at once, so the partner fixes them together.
    errors: dict[str, list[ValidationError]] = {}

    def problem(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    deadline = _deadline(claim)
    if deadline is not None and now > deadline:
        problem(
            "status",
            "late",
            f"The submission is late: the deadline was {timezone.localtime(deadline):%d %B %Y %H:%M}.",
        )
    missing = proof_missing_kinds(claim)
    if missing:
        problem("proof", "proof_missing", f"Proof of execution is missing: {_kind_labels(missing)}.")
    delivered_on = delivered_on or claim.delivered_on
    activity = claim.activity_type
    if delivered_on is None:
        problem("delivered_on", "required", "Enter the date the activity was delivered.")
    elif not activity.starts_on <= delivered_on <= activity.ends_on:
        problem(
            "delivered_on",
            "outside_dates",
            f"The activity was delivered on {delivered_on:%d %B %Y}, outside the activity's dates "
            f"({activity.starts_on:%d %B %Y} – {activity.ends_on:%d %B %Y}).",
        )
    elif delivered_on > timezone.localdate():
        problem("delivered_on", "future", "The delivery date cannot be in the future.")
    elif claim.status == S.PENDING_POE:
        submit_by = delivered_on + timedelta(days=activity.submission_deadline_days)
        if timezone.localdate() > submit_by:
            problem(
                "delivered_on",
                "late",
                f"The submission is late: claims are due within {activity.submission_deadline_days} days "
                f"of delivery, by {submit_by:%d %B %Y}.",
            )
    if errors:
        raise ValidationError(errors)
    fields: dict[str, Any] = {"delivered_on": delivered_on, "submitted_at": now, "action_due_at": None}
    if claim.status == S.REJECTED:
        fields["resubmit_count"] = claim.resubmit_count + 1
    return claim_transition(claim=claim, to_status=S.SUBMITTED, actor=actor, note=note, fields=fields)


@transaction.atomic
def claim_submit(*, claim: Claim, actor: Any, delivered_on: date | None = None) -> Claim:
    """Pending POE, Partner action required or Rejected (once) → Submitted, with every proof present."""
    claim = lock(claim, "activity_type")
    note = "Resubmitted after rejection." if claim.status == S.REJECTED else ""
    return _submit(claim, actor=actor, delivered_on=delivered_on, note=note)


@transaction.atomic
def claim_respond(*, claim: Claim, actor: Any, response: str) -> Claim:
    """The partner's answer to the latest review: recorded on the review, and the claim is resubmitted."""
    claim = lock(claim, "activity_type")
    response = response.strip()
    if not response:
        raise _refuse("Write an answer to the reviewer.", field="response", code="required")
    if claim.status != S.PARTNER_ACTION_REQUIRED:
        raise _refuse(f"Only a claim in Partner action required can be answered; this one is {claim.status}.")
    review = ClaimReview.objects.filter(claim=claim).order_by("-decided_at", "-pk").first()
    if review is not None:
        review.partner_response = response
        review.responded_at = timezone.now()
        review.save(update_fields=["partner_response", "responded_at"])
    return _submit(claim, actor=actor, delivered_on=None, note=response)
