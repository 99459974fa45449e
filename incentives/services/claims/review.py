"""The vendor staff's review of a submitted claim (spec §8): start, then approve, ask for
information, or reject (finally, the second time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from incentives.choices import ReviewDecision, ReviewReason
from incentives.models import Claim, ClaimReview
from incentives.services.claims.notices import claim_decision_notify
from incentives.services.claims.rules import ACTION_DAYS, S, _refuse
from incentives.services.claims.transitions import claim_transition
from incentives.services.payouts import claim_payouts_compute
from portal.capabilities import is_vendor_staff
from portal.locks import lock

__all__ = ("claim_review", "claim_review_start")


def _check_reviewer(reviewer: Any) -> None:
    if not is_vendor_staff(reviewer):
        raise PermissionDenied("Claims are reviewed by vendor staff only.")


@transaction.atomic
def claim_review_start(*, claim: Claim, reviewer: Any) -> Claim:
    """Submitted → Under review: a reviewer took the claim."""
    _check_reviewer(reviewer)
    claim = lock(claim, "activity_type")
    return claim_transition(claim=claim, to_status=S.UNDER_REVIEW, actor=reviewer, note="Review started.")


@transaction.atomic
def claim_review(
    *, claim: Claim, reviewer: Any, decision: str, reason_code: str = "", comment: str = ""
) -> Claim:
    """A reviewer's decision on a Submitted or Under review claim (spec §8).

    Ask for information or reject: the partner has 15 days to act. A claim rejected once before
    (and resubmitted) is rejected finally. Approval computes the approved payout. The claim's
    people are notified of the decision in the same transaction (claims.notices).
    """
    _check_reviewer(reviewer)
    claim = lock(claim, "activity_type")
    if decision not in ReviewDecision.values:
        raise _refuse(f"Unknown decision {decision!r}.", field="decision")
    if reason_code and reason_code not in ReviewReason.values:
        raise _refuse(f"Unknown reason code {reason_code!r}.", field="reason_code")
    if decision != ReviewDecision.APPROVE and not reason_code:
        raise _refuse("Choose the reason the partner will see.", field="reason_code", code="required")
    if claim.status not in (S.SUBMITTED, S.UNDER_REVIEW):
        raise _refuse(f"Only submitted claims can be reviewed; this one is {claim.status}.")
    now = timezone.now()
    fields: dict[str, Any] = {"decided_at": now}
    if decision == ReviewDecision.APPROVE:
        to_status = S.APPROVED
    elif decision == ReviewDecision.REQUEST_INFO:
        to_status = S.PARTNER_ACTION_REQUIRED
        fields["action_due_at"] = now + timedelta(days=ACTION_DAYS)
    elif decision == ReviewDecision.REJECT and claim.resubmit_count == 0:
        to_status = S.REJECTED
        fields["action_due_at"] = now + timedelta(days=ACTION_DAYS)
    else:
        to_status = S.FINAL_REJECTED
        fields["action_due_at"] = None
    review = ClaimReview.objects.create(
        organization_id=claim.organization_id,
        claim=claim,
        reviewer=reviewer,
        decision=decision,
        reason_code=reason_code,
        comment=comment.strip(),
        decided_at=now,
    )
    reason = str(ReviewReason(reason_code).label) if reason_code else ""
    note = " ".join(part for part in (reason, comment.strip()) if part)
    claim = claim_transition(claim=claim, to_status=to_status, actor=reviewer, note=note, fields=fields)
    if to_status == S.APPROVED:
        claim_payouts_compute(claim_ids=[claim.pk])
        claim.refresh_from_db()
    claim_decision_notify(claim, review)
    return claim
