"""The domain operations of the Incentives workspace: the only code that changes its state.

The claim lifecycle from creation through consent, proof, review, expiry and reminders to outcome
links (`claims`); customer and partner eligibility (`eligibility`); potential and approved
payouts and their hand-off to the Earnings ledger (`payouts`).
"""

from incentives.services.claims import (
    CLAIM_STATUS_CHANGED,
    PROOF_STATUSES,
    TRANSITIONS,
    ClaimRefused,
    claim_cancel,
    claim_create,
    claim_respond,
    claim_review,
    claim_review_start,
    claim_submit,
    claim_transition,
    claims_expire,
    claims_remind,
    consent_claim,
    consent_record,
    consent_request,
    outcome_link,
    outcome_unlink,
    proof_attach,
    proof_missing_kinds,
    proof_remove,
)
from incentives.services.eligibility import (
    Eligibility,
    EligibilityCode,
    RuleFailure,
    customer_eligibility,
    market_tier_of,
)
from incentives.services.payouts import (
    PayoutExplanation,
    claim_earnings_write,
    claim_payouts_compute,
    claims_complete_for_payment,
    potential_payout,
)

__all__ = (
    "CLAIM_STATUS_CHANGED",
    "PROOF_STATUSES",
    "TRANSITIONS",
    "ClaimRefused",
    "Eligibility",
    "EligibilityCode",
    "PayoutExplanation",
    "RuleFailure",
    "claim_cancel",
    "claim_create",
    "claim_earnings_write",
    "claim_payouts_compute",
    "claim_respond",
    "claim_review",
    "claim_review_start",
    "claim_submit",
    "claim_transition",
    "claims_complete_for_payment",
    "claims_expire",
    "claims_remind",
    "consent_claim",
    "consent_record",
    "consent_request",
    "customer_eligibility",
    "market_tier_of",
    "outcome_link",
    "outcome_unlink",
    "potential_payout",
    "proof_attach",
    "proof_missing_kinds",
    "proof_remove",
)
