"""Partner activities (spec/incentives.md): pay patterns, claim statuses, proof, review reasons."""

from django.db import models


class PayPattern(models.TextChoices):
    FIXED = "FIXED", "Fixed fee per activity"
    VARIABLE = "VARIABLE", "Variable, tied to a seller opportunity"


class ActivityAvailability(models.TextChoices):
    UPCOMING = "Upcoming", "Upcoming"
    ACTIVE = "Active", "Active"
    EXPIRED = "Expired", "Expired"


class MarketTier(models.TextChoices):
    A = "A", "Market A"
    B = "B", "Market B"
    C = "C", "Market C"


class CustomerIdType(models.TextChoices):
    DOMAIN = "domain", "Domain name"
    TENANT_ID = "tenant_id", "Tenant ID"
    TPID = "tpid", "TPID"
    AZURE_SUBSCRIPTION = "azure_subscription", "Azure subscription ID"
    MSX_OPPORTUNITY = "msx_opportunity", "MSX opportunity ID"


class OpportunityStage(models.TextChoices):
    QUALIFY = "Qualify", "Qualify"
    DEVELOP = "Develop", "Develop"
    PROPOSE = "Propose", "Propose"
    CLOSE = "Close", "Close"
    WON = "Won", "Closed won"
    LOST = "Lost", "Closed lost"


#: Stages of an opportunity a partner may still claim against.
OPEN_STAGES = frozenset(
    {OpportunityStage.QUALIFY, OpportunityStage.DEVELOP, OpportunityStage.PROPOSE, OpportunityStage.CLOSE}
)


class ClaimStatus(models.TextChoices):
    """spec §6."""

    DRAFT = "Draft", "Draft"
    PENDING_CONSENT = "Pending customer consent", "Pending customer consent"
    CONSENT_DECLINED = "Consent declined", "Consent declined"
    IN_PROGRESS = "In progress", "In progress"
    PENDING_POE = "Pending POE", "Pending POE"
    SUBMITTED = "Submitted", "Submitted"
    UNDER_REVIEW = "Under review", "Under review"
    PARTNER_ACTION_REQUIRED = "Partner action required", "Partner action required"
    APPROVED = "Approved", "Approved"
    REJECTED = "Rejected", "Rejected"
    FINAL_REJECTED = "Final rejected", "Final rejected"
    EXPIRED = "Expired", "Expired"
    CANCELED = "Canceled", "Canceled"
    COMPLETED = "Completed", "Completed"


TERMINAL_STATUSES = frozenset(
    {
        ClaimStatus.CONSENT_DECLINED,
        ClaimStatus.FINAL_REJECTED,
        ClaimStatus.EXPIRED,
        ClaimStatus.CANCELED,
        ClaimStatus.COMPLETED,
    }
)
#: Statuses in which the partner is the one to act (the overview's "needs you now").
PARTNER_TURN = (
    ClaimStatus.DRAFT,
    ClaimStatus.IN_PROGRESS,
    ClaimStatus.PENDING_POE,
    ClaimStatus.PARTNER_ACTION_REQUIRED,
    ClaimStatus.REJECTED,
)


class ProofKind(models.TextChoices):
    """spec §7: the documents a claim's proof of execution is made of."""

    INVOICE = "INVOICE", "Invoice to the customer"
    FINDINGS = "FINDINGS", "Findings & recommendations document"
    POE = "POE", "Proof-of-execution document"
    REPORT = "REPORT", "Assessment, migration or PoC report"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REQUEST_INFO = "request_info", "Ask for more information"
    REJECT = "reject", "Reject"
    FINAL_REJECT = "final_reject", "Reject finally"


class ReviewReason(models.TextChoices):
    """spec §8."""

    POE_INCOMPLETE = "POE_INCOMPLETE", "A required proof-of-execution item is missing."
    INVOICE_MISMATCH = "INVOICE_MISMATCH", "Invoice customer, date or amount does not match the claim."
    GENERIC_CONTENT = "GENERIC_CONTENT", "Findings document is not specific to this customer."
    SURVEY_MISSING = "SURVEY_MISSING", "Customer survey not completed before the deadline."
    DATES_OUTSIDE_WINDOW = "DATES_OUTSIDE_WINDOW", "Activity delivered outside the engagement dates."
    CUSTOMER_INELIGIBLE = "CUSTOMER_INELIGIBLE", "Customer no longer meets engagement criteria."
    DUPLICATE_ACTIVITY = "DUPLICATE_ACTIVITY", "Customer already received this activity from another partner."
    PARTNER_INELIGIBLE = "PARTNER_INELIGIBLE", "Location not eligible at delivery date."
    OPPORTUNITY_CLOSED_LOST = (
        "OPPORTUNITY_CLOSED_LOST",
        "Linked opportunity closed as lost before delivery (VARIABLE).",
    )
    CAP_EXHAUSTED = "CAP_EXHAUSTED", "Engagement or partner cap reached."
