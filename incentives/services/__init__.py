"""The domain operations of the Incentives workspace: the only code that changes its state.

The claim lifecycle from creation through consent, proof, review, expiry and reminders to outcome
links (`claims`); customer and partner eligibility (`eligibility`); potential and approved
payouts and their hand-off to the Earnings ledger (`payouts`); the seller opportunities shared
with a partner (`opportunities`); the overview's claim summary (`summary`).

Services don't check capabilities: the page (one check, `require_capability`) and the API policy
(`capabilities` per action) do, before calling them.
"""

from incentives.services.claims.closing import claim_cancel, claims_expire
from incentives.services.claims.consent import consent_claim, consent_record, consent_request
from incentives.services.claims.creation import claim_create
from incentives.services.claims.outcomes import outcome_link, outcome_unlink
from incentives.services.claims.proof import proof_attach, proof_remove
from incentives.services.claims.reminders import claims_remind
from incentives.services.claims.review import claim_review, claim_review_start
from incentives.services.claims.rules import PROOF_STATUSES, TRANSITIONS, ClaimRefused, proof_missing_kinds
from incentives.services.claims.submission import claim_respond, claim_submit
from incentives.services.claims.transitions import CLAIM_STATUS_CHANGED, claim_transition
from incentives.services.eligibility import (
    Eligibility,
    EligibilityCode,
    RuleFailure,
    customer_eligibility,
    market_tier_of,
)
from incentives.services.opportunities import OpportunityImport, opportunities_import, opportunity_upsert
from incentives.services.payouts import (
    PayoutExplanation,
    claim_earnings_write,
    claim_payouts_compute,
    claims_complete_for_payment,
    potential_payout,
)
from incentives.services.summary import claim_summary_rebuild

__all__ = (
    "CLAIM_STATUS_CHANGED",
    "PROOF_STATUSES",
    "TRANSITIONS",
    "ClaimRefused",
    "Eligibility",
    "EligibilityCode",
    "OpportunityImport",
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
    "claim_summary_rebuild",
    "claim_transition",
    "claims_complete_for_payment",
    "claims_expire",
    "claims_remind",
    "consent_claim",
    "consent_record",
    "consent_request",
    "customer_eligibility",
    "market_tier_of",
    "opportunities_import",
    "opportunity_upsert",
    "outcome_link",
    "outcome_unlink",
    "potential_payout",
    "proof_attach",
    "proof_missing_kinds",
    "proof_remove",
)
