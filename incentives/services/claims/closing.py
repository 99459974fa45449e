"""Claims that end without a decision (spec §6): the partner cancels, or a deadline passes and
`claims_expire` closes the claim."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from incentives.models import Claim
from incentives.services.claims.notices import claim_deadline_rejection_notify
from incentives.services.claims.rules import ACTION_DAYS, CONSENT_DAYS, DRAFT_DAYS, S
from incentives.services.claims.transitions import claim_transition
from portal.locks import lock, lock_many
from portal.models import HistoryEvent

__all__ = ("claim_cancel", "claims_expire")


@transaction.atomic
def claim_cancel(*, claim: Claim, actor: Any, note: str = "") -> Claim:
    """The partner withdraws a live claim; the customer becomes free for other partners (R1)."""
    claim = lock(claim, "activity_type")
    return claim_transition(claim=claim, to_status=S.CANCELED, actor=actor, note=note.strip())


def _entered_status_at() -> Subquery:
    """When each claim entered its current status, from its history."""
    return Subquery(
        HistoryEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Claim),
            object_id=Cast(OuterRef("pk"), CharField()),
            to_status=OuterRef("status"),
        )
        .order_by("-at")
        .values("at")[:1]
    )


def _overdue_rules(now: datetime) -> list[tuple[Any, str, str]]:
    """(claims past a deadline, the status they end in, the note) per rule of spec §6."""
    draft_before = now - timedelta(days=DRAFT_DAYS)
    consent_before = now - timedelta(days=CONSENT_DAYS)
    pending = (
        Claim.objects.filter(status=S.PENDING_CONSENT)
        .alias(entered=_entered_status_at())
        .filter(Q(entered__lt=consent_before) | Q(entered__isnull=True, updated_at__lt=consent_before))
    )
    return [
        (
            Claim.objects.filter(status=S.DRAFT, created_at__lt=draft_before),
            S.EXPIRED,
            f"Not sent to the customer within {DRAFT_DAYS} days.",
        ),
        (pending, S.EXPIRED, f"The customer did not answer within {CONSENT_DAYS} days."),
        (
            Claim.objects.filter(status__in=[S.IN_PROGRESS, S.PENDING_POE], expires_at__lt=now),
            S.EXPIRED,
            "Not submitted within the claim window.",
        ),
        (
            Claim.objects.filter(status__in=[S.PARTNER_ACTION_REQUIRED, S.REJECTED], action_due_at__lt=now),
            S.FINAL_REJECTED,
            f"The partner did not act within {ACTION_DAYS} days of the review.",
        ),
    ]


def claims_expire(*, now: datetime | None = None) -> int:
    """Close every claim past its deadline (spec §6), each in its own transaction; safe to rerun.

    Each claim is locked and checked against its rule again, so a claim the partner acted on
    since it was selected is left alone; a claim locked by a request right now waits for the next run.
    A claim finally rejected because the partner did not act after a review is notified to its
    people (claims.notices); one that simply expired unsent is not.
    """
    now = now or timezone.now()
    closed = 0
    for overdue, to_status, note in _overdue_rules(now):
        for pk in list(overdue.values_list("pk", flat=True)):
            with transaction.atomic():
                claim = lock_many(
                    overdue.filter(pk=pk).select_related("activity_type"), skip_locked=True
                ).first()
                if claim is None:
                    continue
                claim_transition(claim=claim, to_status=to_status, actor=None, note=note)
                if to_status == S.FINAL_REJECTED:
                    claim_deadline_rejection_notify(claim, note=note)
                closed += 1
    return closed
