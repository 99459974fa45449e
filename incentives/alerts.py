"""Alert rules on incentives data: "a claim has waited more than <days> days" (checked daily)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from incentives.choices import ClaimStatus
from incentives.models import Claim
from portal.capabilities import Capability
from portal.notifications.models import AlertRule
from portal.notifications.rules import NUMBER, Firing, RuleKind, RuleParameter, register_rule_kind

#: A claim waits while it is with the vendor; the clock starts when it was submitted.
WAITING = (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW)


def _claim_waiting(rule: AlertRule, _context) -> list[Firing]:
    days = int(Decimal(rule.parameters["days"]))
    since = timezone.now() - timedelta(days=days)
    waiting = (
        Claim.objects.visible_to(rule.owner)
        .filter(status__in=WAITING, submitted_at__lt=since)
        .only("pk", "claim_id", "friendly_name", "submitted_at", "status")
        .order_by("submitted_at")[:500]
    )
    return [
        Firing(
            key=f"claim:{claim.pk}:{claim.submitted_at:%Y%m%d%H%M%S}",
            title=f"claim {claim.claim_id} has waited more than {days} days",
            body=f"{claim.friendly_name}: {claim.status} since {claim.submitted_at:%d %B %Y}.",
            url=reverse("incentives:claim-detail", args=[claim.pk]),
            data={"claimId": claim.claim_id, "status": claim.status, "submittedAt": claim.submitted_at},
        )
        for claim in waiting
    ]


CLAIM_WAITING = register_rule_kind(
    RuleKind(
        code="incentives.claim_waiting",
        label="A claim has waited too long",
        description="Checked every day: a submitted claim still waiting for the vendor after this many days.",
        capability=Capability.INCENTIVES_VIEW,
        parameters=(RuleParameter("days", "Days", NUMBER, min_value=Decimal(1), max_value=Decimal(365)),),
        evaluate=_claim_waiting,
        scheduled=True,
    )
)
