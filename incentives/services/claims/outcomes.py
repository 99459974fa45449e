"""Outcome links (phase 3): a submitted or approved claim linked to the customer's transactions;
the payout of every claim sharing a transaction is recomputed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from earnings.models import Transaction
from incentives.models import Claim, OutcomeLink
from incentives.services.claims.rules import S, _refuse
from incentives.services.payouts import claim_payouts_compute
from portal.audit import audit_record
from portal.locks import lock

__all__ = ("outcome_link", "outcome_unlink")

_OUTCOME_STATUSES = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.COMPLETED})


def _outcome_check(claim: Claim, actor: Any, transactions: Iterable[Transaction]) -> list[Transaction]:
    if claim.status not in _OUTCOME_STATUSES:
        raise _refuse(
            "Only submitted, approved or completed claims are linked to outcomes; "
            f"this one is {claim.status}."
        )
    rows = list(transactions)
    if not rows:
        raise _refuse("Choose at least one transaction.", field="transactions", code="required")
    foreign = [
        row.transaction_id
        for row in rows
        if row.organization_id != claim.organization_id or row.customer_id != claim.customer_id
    ]
    if foreign:
        raise _refuse(
            f"These transactions are not {claim.customer.name}'s: {', '.join(sorted(foreign))}.",
            field="transactions",
            code="other_customer",
        )
    return rows


@transaction.atomic
def outcome_link(*, claim: Claim, transactions: Iterable[Transaction], actor: Any) -> int:
    """Link the claim to the customer's transactions (one activity, many outcomes; many activities,
    one outcome); returns how many links are new. The payout is recomputed from the outcomes."""
    claim = lock(claim, "activity_type")
    rows = _outcome_check(claim, actor, transactions)
    existing = set(OutcomeLink.objects.filter(claim=claim).values_list("transaction_id", flat=True))
    new = [row for row in rows if row.pk not in existing]
    OutcomeLink.objects.bulk_create(
        [
            OutcomeLink(organization_id=claim.organization_id, claim=claim, transaction=row, linked_by=actor)
            for row in new
        ],
        ignore_conflicts=True,
    )
    if new:
        audit_record(
            actor=actor,
            action="incentives.claim.outcomes_linked",
            organization_id=claim.organization_id,
            target=claim,
            changes={"transactions": sorted(row.transaction_id for row in new)},
        )
        _recompute_with_sharers(claim, [row.pk for row in new])
    return len(new)


@transaction.atomic
def outcome_unlink(*, claim: Claim, transactions: Iterable[Transaction], actor: Any) -> int:
    """Remove links; returns how many were removed. The payout is recomputed."""
    claim = lock(claim, "activity_type")
    rows = _outcome_check(claim, actor, transactions)
    ids = [row.pk for row in rows]
    removed, _ = OutcomeLink.objects.filter(claim=claim, transaction_id__in=ids).delete()
    if removed:
        audit_record(
            actor=actor,
            action="incentives.claim.outcomes_unlinked",
            organization_id=claim.organization_id,
            target=claim,
            changes={"transactions": sorted(row.transaction_id for row in rows)},
        )
        _recompute_with_sharers(claim, ids)
    return removed


def _recompute_with_sharers(claim: Claim, transaction_ids: list[int]) -> None:
    """A transaction's amount is shared among its claims: every claim on it is recomputed."""
    sharers = set(
        OutcomeLink.objects.filter(transaction_id__in=transaction_ids).values_list("claim_id", flat=True)
    )
    claim_payouts_compute(claim_ids=sorted(sharers | {claim.pk}))
