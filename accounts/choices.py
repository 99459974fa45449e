from django.db import models


class PartnerType(models.TextChoices):
    DIRECT_BILL_CSP = "direct_bill_csp", "CSP direct bill partner"
    INDIRECT_PROVIDER = "indirect_provider", "CSP indirect provider"
    INDIRECT_RESELLER = "indirect_reseller", "CSP indirect reseller"
    ISV = "isv", "Independent software vendor (ISV)"
    SERVICES = "services", "Services partner"
    TRAINING = "training", "Training services partner"


class Role(models.TextChoices):
    """The Partner Center roles (spec/accounts.md §3)."""

    OWNER = "owner", "Owner"
    ACCOUNT_ADMIN = "account_admin", "Account admin"
    GLOBAL_ADMIN = "global_admin", "Global admin"
    USER_MANAGEMENT_ADMIN = "user_management_admin", "User management admin"
    ADMIN_AGENT = "admin_agent", "Admin agent"
    SALES_AGENT = "sales_agent", "Sales agent"
    HELPDESK_AGENT = "helpdesk_agent", "Helpdesk agent"
    BILLING_ADMIN = "billing_admin", "Billing admin"
    PARTNER_ADMIN = "partner_admin", "AI Cloud Partner Program partner admin"
    BUSINESS_PROFILE_CONTRIBUTOR = "business_profile_contributor", "Business profile contributor"
    REFERRALS_ADMIN = "referrals_admin", "Referrals admin"
    REFERRALS_USER = "referrals_user", "Referrals user"
    INCENTIVES_ADMIN = "incentives_admin", "Incentives admin"
    INCENTIVES_USER = "incentives_user", "Incentives user"
    INCENTIVES_MARKETER = "incentives_marketer", "Incentives marketer"
    EXECUTIVE_REPORT_VIEWER = "executive_report_viewer", "Executive report viewer"
    DEVELOPER = "developer", "Developer"
    COMPLIANCE_ADMIN = "compliance_admin", "Compliance admin"


#: Roles that live in the partner's Entra tenant; the others are Partner Center-only roles.
ENTRA_ROLES = frozenset(
    {
        Role.GLOBAL_ADMIN,
        Role.USER_MANAGEMENT_ADMIN,
        Role.ADMIN_AGENT,
        Role.SALES_AGENT,
        Role.HELPDESK_AGENT,
        Role.BILLING_ADMIN,
    }
)

#: Roles whose assignment may be limited to partner locations (spec/accounts.md §2).
LOCATION_SCOPED_ROLES = frozenset(
    {
        Role.INCENTIVES_ADMIN,
        Role.INCENTIVES_USER,
        Role.INCENTIVES_MARKETER,
        Role.REFERRALS_ADMIN,
        Role.REFERRALS_USER,
        Role.EXECUTIVE_REPORT_VIEWER,
    }
)


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
