"""The claim lifecycle (spec/incentives.md §6–§8): creation, consent, proof, review, expiry, outcomes.

Every status change goes through `transitions.claim_transition`, which checks `rules.TRANSITIONS`,
records the change in the claim's history, writes an audit row and emits
"incentives.claim.status_changed". Each service locks the claim row first (`portal.locks.lock`), so
two requests on one claim are applied one after the other and each sees the other's result.

Modules, one step of the lifecycle each: `rules` (transitions, deadlines, refusals, missing
proof), `transitions`, `creation`, `consent`, `proof`, `submission`, `review` (vendor staff),
`closing` (cancel and expiry), `reminders` (Action Center items), `notices` (the notifications of
a review's decision, a final rejection by deadline and a payment) and `outcomes` (links to
transactions). Import from the module; `incentives.services` re-exports the public services.
"""
