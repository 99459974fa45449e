from django.db import models


class PartnerType(models.TextChoices):
    DIRECT_BILL_CSP = "direct_bill_csp", "CSP direct bill partner"
    INDIRECT_PROVIDER = "indirect_provider", "CSP indirect provider"
    INDIRECT_RESELLER = "indirect_reseller", "CSP indirect reseller"
    ISV = "isv", "Independent software vendor (ISV)"
    SERVICES = "services", "Services partner"
    TRAINING = "training", "Training services partner"


class CustomerSegment(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    EDUCATION = "education", "Education"
    GOVERNMENT = "government", "Government"
    CHARITY = "charity", "Charity"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Done"
    DISMISSED = "dismissed", "Dismissed"


class ActionItemCode(models.TextChoices):
    """Action Center item types (spec/accounts.md §5); workspaces add theirs here."""

    VERIFICATION_ACTION_REQUIRED = "VERIFICATION_ACTION_REQUIRED", "Verification needs action"
    COMPLIANCE_ADMIN_MISSING = "COMPLIANCE_ADMIN_MISSING", "Compliance admin missing"
    TAX_PROFILE_MISSING = "TAX_PROFILE_MISSING", "Tax profile missing"
    BANK_PROFILE_MISSING = "BANK_PROFILE_MISSING", "Bank profile missing"
    SECURITY_REQUIREMENT_FAILED = "SECURITY_REQUIREMENT_FAILED", "Security requirement failed"
    GDAP_EXPIRING = "GDAP_EXPIRING", "GDAP relationship expiring"
    DAP_INACTIVE = "DAP_INACTIVE", "Inactive DAP relationship"
    MIGRATION_DEADLINE = "MIGRATION_DEADLINE", "Migration deadline"
    REFERRAL_EXPIRING = "REFERRAL_EXPIRING", "Referral expiring"
    DESIGNATION_AT_RISK = "DESIGNATION_AT_RISK", "Designation at risk"
    DESIGNATION_ATTAINED = "DESIGNATION_ATTAINED", "Designation attained"
    ISV_APPLICATION_DECIDED = "ISV_APPLICATION_DECIDED", "ISV Success application decided"
    MFA_NOT_ENROLLED = "MFA_NOT_ENROLLED", "Users without MFA"
    INVITATION_PENDING = "INVITATION_PENDING", "Invitation pending"
    CLAIM_INFO_REQUESTED = "CLAIM_INFO_REQUESTED", "Claim: more information requested"
    CLAIM_PROOF_MISSING = "CLAIM_PROOF_MISSING", "Claim: proof of execution missing"
    CLAIM_DEADLINE_NEAR = "CLAIM_DEADLINE_NEAR", "Claim: deadline near"
    SECURITY_ALERT_OPEN = "SECURITY_ALERT_OPEN", "Security alert waiting for a response"
    COMPLIANCE_TRAINING_DUE = "COMPLIANCE_TRAINING_DUE", "Compliance training due"
