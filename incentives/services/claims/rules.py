"""What every claim service checks first (spec/incentives.md §6–§7): the allowed transitions,
the deadlines, the refusal errors, and the proof a claim still lacks.

Who may act is not checked here: the pages and the API check the capability before they call a
service, and they only ever hand it a claim of the person's own organization."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError

from incentives.choices import TERMINAL_STATUSES, ClaimStatus, ProofKind
from incentives.models import Claim, ProofDocument
from incentives.services.eligibility import RuleFailure

__all__ = ("ClaimRefused", "PROOF_STATUSES", "TRANSITIONS", "proof_missing_kinds")

S = ClaimStatus
_CANCEL_OR_EXPIRE = frozenset({S.CANCELED, S.EXPIRED})
_DECISIONS = frozenset({S.APPROVED, S.PARTNER_ACTION_REQUIRED, S.REJECTED, S.FINAL_REJECTED})
#: Where a claim may go from each status (spec §6). Terminal statuses go nowhere. Any live claim may
#: be canceled by the partner, except an approved one: its earnings exist, and taking them back is a
#: reversal in the Earnings ledger. Only claims with a running deadline expire; the ones waiting for
#: the partner after a review end as Final rejected when their 15 days pass.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PENDING_CONSENT}) | _CANCEL_OR_EXPIRE,
    S.PENDING_CONSENT: frozenset({S.CONSENT_DECLINED, S.IN_PROGRESS}) | _CANCEL_OR_EXPIRE,
    S.IN_PROGRESS: frozenset({S.PENDING_POE}) | _CANCEL_OR_EXPIRE,
    S.PENDING_POE: frozenset({S.SUBMITTED}) | _CANCEL_OR_EXPIRE,
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.CANCELED}) | _DECISIONS,
    S.UNDER_REVIEW: frozenset({S.CANCELED}) | _DECISIONS,
    S.PARTNER_ACTION_REQUIRED: frozenset({S.SUBMITTED, S.FINAL_REJECTED, S.CANCELED}),
    S.REJECTED: frozenset({S.SUBMITTED, S.FINAL_REJECTED, S.CANCELED}),
    S.APPROVED: frozenset({S.COMPLETED}),
    **{status: frozenset() for status in TERMINAL_STATUSES},
}

#: Statuses in which the partner may add or remove proof of execution.
PROOF_STATUSES = frozenset({S.IN_PROGRESS, S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED})

DRAFT_DAYS = 30
CONSENT_DAYS = 14
ACTION_DAYS = 15
REMIND_DAYS = 7


class ClaimRefused(ValidationError):
    """A claim that may not be created: one message per failed rule, coded with the rule's code."""

    def __init__(self, failures: list[RuleFailure]):
        self.failures = list(failures)
        super().__init__([ValidationError(failure.message, code=failure.code) for failure in self.failures])


def _refuse(message: str, *, field: str = "status", code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def proof_missing_kinds(claim: Claim, present: Iterable[str] | None = None) -> list[str]:
    """The required proof kinds (spec §7) the claim has no document of yet, in catalogue order.

    `present`: the kinds attached, when the caller has them already.
    """
    if present is None:
        present = ProofDocument.objects.filter(claim=claim).values_list("kind", flat=True)
    attached = set(present)
    return [kind for kind in claim.activity_type.required_proof if kind not in attached]


def _kind_labels(kinds: Iterable[str]) -> str:
    return ", ".join(str(ProofKind(kind).label) for kind in kinds)


def _deadline(claim: Claim) -> datetime | None:
    """When the partner's current step is due: the claim window, or 15 days after a review."""
    if claim.status in (S.PARTNER_ACTION_REQUIRED, S.REJECTED):
        return claim.action_due_at
    if claim.status in (S.DRAFT, S.PENDING_CONSENT, S.IN_PROGRESS, S.PENDING_POE):
        return claim.expires_at
    return None
