"""Partner Center's earnings values (spec/earnings.md); labels are what a partner reads."""

from django.db import models


class SolutionArea(models.TextChoices):
    AZURE_INFRA = "Infra", "Azure Infrastructure"
    DATA_AI = "Data & AI", "Data & AI (Azure)"
    DIGITAL_APPS = "Digital & App Innovation", "Digital & App Innovation (Azure)"
    BUSINESS_APPS = "Business Applications", "Business Applications"
    MODERN_WORK = "Modern Work", "Modern Work"
    SECURITY = "Security", "Security"


class PartnerRole(models.TextChoices):
    BUILD_INTENT = "Build intent", "Build intent"
    TRANSACT = "Transact", "Transact"
    DEPLOY = "Deploy", "Deploy"
    USE = "Use", "Use"


class PartnerAssociation(models.TextChoices):
    RESELLER = "Reseller", "Reseller"
    INDIRECT_PROVIDER = "Indirect provider", "Indirect provider"
    PAL_OWNER = "PAL owner", "Partner admin link owner"
    DPOR = "DPOR", "Digital partner of record"
    CLAIMING_PARTNER = "Claiming partner", "Claiming partner"


class EarningType(models.TextChoices):
    FEE = "Fee", "Fee"
    REBATE = "Rebate", "Rebate"
    COOP = "Co-op", "Co-op"
    SELL = "Sell", "Sell"


class EarningKind(models.TextChoices):
    """Why a row exists: earnings are immutable, corrections are rows of their own (spec §8)."""

    EARNING = "earning", "Earning"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"


class TransactionType(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    USAGE = "usage", "Usage"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Reversal"


class QuantityType(models.TextChoices):
    BILLED = "Billed quantity", "Billed quantity"
    MAU = "MAU", "Monthly active users"
    CONSUMED = "Consumed units", "Consumed units"


class TransactionSource(models.TextChoices):
    COMMERCE = "commerce", "Commerce subscriptions"
    UPLOAD = "upload", "Uploaded file"
    API = "api", "API"


class PaymentStatus(models.TextChoices):
    """spec §4; an earning without a payment order is Unprocessed."""

    UNPROCESSED = "Unprocessed", "Unprocessed"
    UPCOMING = "Upcoming", "Upcoming"
    TAX_INVOICE_PENDING = "Tax invoice pending", "Tax invoice pending"
    TAX_INVOICE_IN_REVIEW = "Tax invoice in review", "Tax invoice in review"
    TAX_INVOICE_REJECTED = "Tax invoice rejected", "Tax invoice rejected"
    IN_PROGRESS = "In progress", "In progress"
    SENT = "Sent", "Sent"
    REPROCESSING = "Reprocessing", "Reprocessing"
    FAILED = "Failed", "Failed"
    REJECTED_IN_REVIEW = "Rejected in review", "Rejected in review"
    REJECTED = "Rejected", "Rejected"
    REVERSED = "Reversed", "Reversed"
    REVERSAL_IN_PROGRESS = "Reversal in progress", "Reversal in progress"


#: What each status means to the partner and what they must do (spec §4).
PAYMENT_STATUS_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    PaymentStatus.UNPROCESSED: ("Eligible for payment; in the program's cool-down period.", ""),
    PaymentStatus.UPCOMING: ("Payment order generated, awaiting internal review.", ""),
    PaymentStatus.TAX_INVOICE_PENDING: ("Tax invoice incomplete or wrong.", "Update tax invoice"),
    PaymentStatus.TAX_INVOICE_IN_REVIEW: ("Tax invoice under review; released after approval.", ""),
    PaymentStatus.TAX_INVOICE_REJECTED: (
        "Tax invoice rejected; pending payments held until resolved.",
        "Contact support",
    ),
    PaymentStatus.IN_PROGRESS: ("Payment being executed.", ""),
    PaymentStatus.SENT: ("Sent to the partner's bank.", ""),
    PaymentStatus.REPROCESSING: ("Hit a system error, being processed again.", ""),
    PaymentStatus.FAILED: ("Failed on a system error.", "Contact support"),
    PaymentStatus.REJECTED_IN_REVIEW: ("Rejected during internal review.", "Contact support"),
    PaymentStatus.REJECTED: ("Rejected by the bank.", "Contact bank"),
    PaymentStatus.REVERSED: ("Returned by the bank; resent next cycle.", ""),
    PaymentStatus.REVERSAL_IN_PROGRESS: ("Payment being reversed.", ""),
}


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "Electronic bank transfer", "Electronic bank transfer"
    CREDIT_NOTE = "Credit note", "Credit note"


class AdjustmentReason(models.TextChoices):
    """spec §4.2."""

    AR_COMPLIANCE = "AR compliance", "AR compliance"
    COOP_REALLOCATION = "Co-op reallocation", "Co-op reallocation"
    OPERATIONAL = "Operational adjustment", "Operational adjustment"
    INCORRECT_CALCULATION = (
        "Microsoft operational adjustment – incorrect calculation",
        "Microsoft operational adjustment – incorrect calculation",
    )
    INCORRECT_ENROLLMENT = (
        "Microsoft operational adjustment – incorrect enrollment",
        "Microsoft operational adjustment – incorrect enrollment",
    )
    PARTNER_MAPPING = "MCI/CSP partner mapping (subscription)", "MCI/CSP partner mapping (subscription)"
    POLICY_EXCEPTION = "Policy exception", "Policy exception"
    PRIOR_PERIOD = "Prior period earnings", "Prior period earnings"


class IneligibleReason(models.TextChoices):
    """spec §5's catalogue, plus the two reasons the issue names (customer, threshold)."""

    CUSTOMER_NOT_ASSOCIATED = "CUSTOMER_NOT_ASSOCIATED", "Customer is not associated with the partner."
    NOT_ENROLLED = (
        "NOT_ENROLLED",
        "Partner location not enrolled in the program on the transaction date.",
    )
    AR_OVERDUE = "AR_OVERDUE", "Partner's Microsoft invoices overdue (AR compliance)."
    CUSTOMER_SEGMENT = "CUSTOMER_SEGMENT", "Customer segment (e.g. government, education) excluded."
    NOT_POR = "NOT_POR", "Partner is not reseller / partner of record for the subscription."
    PRODUCT_NOT_ELIGIBLE = (
        "PRODUCT_NOT_ELIGIBLE",
        "Product/SKU is not on the engagement's eligible product list.",
    )
    TRIAL_OR_FREE = "TRIAL_OR_FREE", "Trial or zero-price subscription."
    BELOW_MIN_SEATS = "BELOW_MIN_SEATS", "Seat count below engagement minimum."
    BELOW_THRESHOLD = "BELOW_THRESHOLD", "Transaction amount below the engagement's minimum."
    CANCELED_IN_WINDOW = "CANCELED_IN_WINDOW", "Subscription canceled within the 7-day window."
    NO_GROWTH = "NO_GROWTH", "Usage did not exceed baseline / prior high-water mark."
    CAP_REACHED = "CAP_REACHED", "Max cap for scope reached (see MaxCapBalance)."


class ExportStatus(models.TextChoices):
    """spec §2: the asynchronous export request."""

    QUEUED = "Queued", "Queued"
    RUNNING = "Running", "Running"
    COMPLETED = "Completed", "Completed"
    FAILED = "Failed", "Failed"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ReconciliationLineKind(models.TextChoices):
    MATCHED = "matched", "Matched"
    AMOUNT_DIFFERENCE = "amount_difference", "Amount differs"
    PARTNER_ONLY = "partner_only", "Only in your records"
    PORTAL_ONLY = "portal_only", "Only in earnings"
