"""The claims' Action Center items (spec §6): raised when a claim needs the partner (more
information requested, proof missing, deadline near) and resolved when its cause is gone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from accounts.services.action_center import action_item_raise, action_item_resolve
from incentives.models import Claim, ClaimReview, ProofDocument
from incentives.services.claims.rules import REMIND_DAYS, S, _deadline, _kind_labels, proof_missing_kinds
from portal.roles import Role

__all__ = ("claims_remind",)

#: Partners who act on claims: the Action Center shows them the claim reminders.
_CLAIM_ROLES = [Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER, Role.INCENTIVES_MARKETER]


def _reminder_key(claim: Claim, reason: str) -> str:
    return f"incentives-claim-{claim.pk}-{reason}"


def _claim_url(claim: Claim) -> str:
    return reverse("incentives:claim-detail", kwargs={"pk": claim.pk})


def _reminders_settle(claim: Claim) -> None:
    """Resolve the claim's Action Center items whose cause the claim's current state removed."""
    if claim.status != S.PARTNER_ACTION_REQUIRED:
        action_item_resolve(organization_id=claim.organization_id, dedupe_key=_reminder_key(claim, "info"))
    if claim.status not in (S.IN_PROGRESS, S.PENDING_POE) or not proof_missing_kinds(claim):
        action_item_resolve(organization_id=claim.organization_id, dedupe_key=_reminder_key(claim, "proof"))
    if claim.status not in (S.IN_PROGRESS, S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED):
        action_item_resolve(
            organization_id=claim.organization_id, dedupe_key=_reminder_key(claim, "deadline")
        )


def _remind(claim: Claim, reason: str, *, code: str, title: str, body: str, due_at, severity) -> None:
    action_item_raise(
        organization_id=claim.organization_id,
        code=code,
        dedupe_key=_reminder_key(claim, reason),
        title=title[:200],
        body=body,
        severity=severity,
        due_at=due_at,
        target_url=_claim_url(claim),
        audience_roles=_CLAIM_ROLES,
        location_id=claim.location_id,
    )


def claims_remind(*, now: datetime | None = None) -> int:
    """Raise or refresh the Action Center items of claims that need the partner; resolve the rest.

    More information requested, proof missing, and a deadline within 7 days: one item per claim
    and reason (idempotent). Returns how many items this run raised or refreshed.
    """
    now = now or timezone.now()
    live = (
        Claim.objects.filter(status__in=[S.IN_PROGRESS, S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED])
        .select_related("activity_type", "customer")
        .prefetch_related(
            Prefetch("proof", queryset=ProofDocument.objects.only("pk", "claim_id", "kind")),
            Prefetch("reviews", queryset=ClaimReview.objects.order_by("-decided_at", "-pk")),
        )
        .order_by("pk")
    )
    raised: set[tuple[int, str]] = set()
    for claim in live:
        if claim.status == S.PARTNER_ACTION_REQUIRED:
            review = next(iter(claim.reviews.all()), None)
            reason = review.get_reason_code_display() if review and review.reason_code else ""
            _remind(
                claim,
                "info",
                code=ActionItemCode.CLAIM_INFO_REQUESTED,
                title=f"Claim {claim.claim_id}: the reviewer asked for more information",
                body=" ".join(p for p in (reason, review.comment if review else "") if p),
                due_at=claim.action_due_at,
                severity=Severity.HIGH,
            )
            raised.add((claim.organization_id, _reminder_key(claim, "info")))
        if claim.status in (S.IN_PROGRESS, S.PENDING_POE):
            missing = proof_missing_kinds(claim, [document.kind for document in claim.proof.all()])
            if missing:
                _remind(
                    claim,
                    "proof",
                    code=ActionItemCode.CLAIM_PROOF_MISSING,
                    title=f"Claim {claim.claim_id}: proof of execution missing",
                    body=f"Attach {_kind_labels(missing)} and submit the claim.",
                    due_at=claim.expires_at,
                    severity=Severity.MEDIUM,
                )
                raised.add((claim.organization_id, _reminder_key(claim, "proof")))
        deadline = _deadline(claim)
        if deadline is not None and now <= deadline <= now + timedelta(days=REMIND_DAYS):
            _remind(
                claim,
                "deadline",
                code=ActionItemCode.CLAIM_DEADLINE_NEAR,
                title=f"Claim {claim.claim_id} is due on {timezone.localtime(deadline):%d %B %Y}",
                body=f"{claim.friendly_name} for {claim.customer.name}: submit it before the deadline or it "
                f"closes without payment.",
                due_at=deadline,
                severity=Severity.HIGH,
            )
            raised.add((claim.organization_id, _reminder_key(claim, "deadline")))
    stale = ActionItem.objects.filter(
        code__in=[
            ActionItemCode.CLAIM_INFO_REQUESTED,
            ActionItemCode.CLAIM_PROOF_MISSING,
            ActionItemCode.CLAIM_DEADLINE_NEAR,
        ],
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).values_list("organization_id", "dedupe_key")
    for organization_id, dedupe_key in list(stale):
        if (organization_id, dedupe_key) not in raised:
            action_item_resolve(organization_id=organization_id, dedupe_key=dedupe_key)
    return len(raised)
