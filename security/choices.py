"""Values of the security and compliance workspace (spec/security.md, spec/accounts.md §4).

Where Microsoft Graph or Partner Center publishes a value (requirement types, GDAP statuses), the
stored value is Graph's spelling, so the API answers what an integrator already parses.
"""

from datetime import UTC, datetime, timedelta

from django.db import models


class RequirementType(models.TextChoices):
    MFA_FOR_ADMINS = "mfaEnforcedForAdmins", "MFA for every admin user"
    SECURITY_CONTACT = "securityContactProvided", "Security contact provided"
    ALERTS_RESOLVED = "securityAlertsPromptlyResolved", "Security alerts answered within 24 hours"
    CUSTOMER_ADMIN_MFA = "mfaEnforcedForAdminsOfCustomers", "MFA for customers' admin users"
    SPENDING_BUDGETS = (
        "spendingBudgetSetForCustomerAzureSubscriptions",
        "Spending budgets on customers' Azure subscriptions",
    )
    ALL_USERS_MFA = "allUsersMfaRegistered", "Every user registered for MFA"
    # Advisories (spec §1.2): our own checks, shown unscored.
    NO_DAP = "noDapRelationships", "No DAP relationships left"
    GDAP_LEAST_PRIVILEGE = "gdapLeastPrivileged", "GDAP relationships least-privileged"
    GDAP_NOT_EXPIRING = "gdapNotExpiring", "GDAP relationships not about to expire"
    ACCOUNT_VERIFIED = "accountVerified", "Account verification complete"


class RequirementKind(models.TextChoices):
    SCORED = "scored", "Scored"
    ADVISORY = "advisory", "Advisory"


class ComplianceStatus(models.TextChoices):
    COMPLIANT = "compliant", "Completed"
    # Graph's own (misspelt) value, kept so API clients parse it as they do Graph's.
    NONCOMPLIANT = "noncomplaint", "Not completed"
    NOT_APPLICABLE = "notApplicable", "Not applicable"


class RequirementState(models.TextChoices):
    ACTIVE = "active", "Active"
    PREVIEW = "preview", "Preview"


class MfaMechanism(models.TextChoices):
    """What enforces MFA for a user; earlier entries win (spec §2.1)."""

    CONDITIONAL_ACCESS = "conditional_access", "Conditional access"
    SECURITY_DEFAULTS = "security_defaults", "Security defaults"
    PER_USER_MFA = "per_user_mfa", "Per-user MFA"
    THIRD_PARTY = "third_party", "Third-party MFA"
    NONE = "none", "None"


class MfaMethod(models.TextChoices):
    AUTHENTICATOR_APP = "authenticator_app", "Authenticator app"
    FIDO2 = "fido2", "FIDO2 security key"
    PHONE_SMS = "phone_sms", "Phone (SMS)"
    PHONE_CALL = "phone_call", "Phone (call)"
    WINDOWS_HELLO = "windows_hello", "Windows Hello"
    TEMPORARY_ACCESS_PASS = "temporary_access_pass", "Temporary access pass"
    BACKUP_CODES = "backup_codes", "Backup codes"


class AlertStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class AlertType(models.TextChoices):
    """Partner Center's fraud and security alert kinds."""

    CRYPTO_MINING = "cryptoMining", "Crypto-mining activity"
    SPENDING_ANOMALY = "spendingAnomaly", "Unusual Azure spending"
    UNUSUAL_SIGN_IN = "unusualSignIn", "Unusual sign-in"
    LEAKED_CREDENTIALS = "leakedCredentials", "Leaked credentials"
    MALWARE = "malware", "Malware detected"
    OTHER = "other", "Other"


class GdapStatus(models.TextChoices):
    """Graph `delegatedAdminRelationshipStatus` (spec §3.1)."""

    ACTIVATING = "activating", "Activating"
    ACTIVE = "active", "Active"
    APPROVAL_PENDING = "approvalPending", "Approval pending"
    APPROVED = "approved", "Approved"
    CREATED = "created", "Created"
    EXPIRED = "expired", "Expired"
    EXPIRING = "expiring", "Expiring"
    TERMINATED = "terminated", "Terminated"
    TERMINATING = "terminating", "Terminating"
    TERMINATION_REQUESTED = "terminationRequested", "Termination requested"


#: Statuses in which the partner holds the relationship's roles in the customer tenant.
GDAP_LIVE_STATUSES = frozenset({GdapStatus.ACTIVE, GdapStatus.EXPIRING})
#: Statuses from which nothing moves any more.
GDAP_FINAL_STATUSES = frozenset({GdapStatus.EXPIRED, GdapStatus.TERMINATED})


class AccessAssignmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"
    ERROR = "error", "Error"


#: Graph's duration bounds and the only auto-extension values it accepts (spec §3.1).
GDAP_MIN_DURATION = timedelta(days=1)
GDAP_MAX_DURATION = timedelta(days=730)
GDAP_AUTO_EXTEND_NONE = timedelta(0)
GDAP_AUTO_EXTEND_DAYS = timedelta(days=180)
GDAP_APPROVAL_EXPIRY = timedelta(days=90)
GDAP_DISPLAY_NAME_MAX = 50
GLOBAL_ADMINISTRATOR_ROLE_ID = "62e90394-69f5-4237-9190-012177145e10"

#: Partner Center stopped creating DAP relationships at the end of November 2023 (spec §3).
DAP_CREATION_ENDED = datetime(2023, 12, 1, tzinfo=UTC)
DAP_INACTIVE_DAYS = 90


class Program(models.TextChoices):
    """Programs whose enrollment is verified separately (spec/accounts.md §1)."""

    AI_CLOUD_PARTNER_PROGRAM = "ai_cloud_partner_program", "AI Cloud Partner Program"
    CSP_DIRECT_BILL = "csp_direct_bill", "CSP direct bill"
    CSP_INDIRECT_PROVIDER = "csp_indirect_provider", "CSP indirect provider"
    CSP_INDIRECT_RESELLER = "csp_indirect_reseller", "CSP indirect reseller"
    COMMERCIAL_MARKETPLACE = "commercial_marketplace", "Commercial marketplace (Developer)"


class CheckKind(models.TextChoices):
    EMAIL = "email", "Email ownership"
    EMPLOYMENT = "employment", "Employment"
    BUSINESS = "business", "Business (legal entity)"
    ADDRESS = "address", "Address"
    IDENTITY = "identity", "Identity (primary contact)"
    DOMAIN = "domain", "Domain"


class CheckStatus(models.TextChoices):
    """spec/accounts.md §4.1."""

    NOT_STARTED = "not_started", "Not started"
    PENDING = "pending", "Pending"
    ACTION_REQUIRED = "action_required", "Action required"
    DOCUMENTS_SUBMITTED = "documents_submitted", "Documents submitted"
    IN_REVIEW = "in_review", "In review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    APPEAL_SUBMITTED = "appeal_submitted", "Appeal submitted"


CS = CheckStatus
#: Where a verification check may go from each status (spec/accounts.md §4.1).
CHECK_TRANSITIONS: dict[str, frozenset[str]] = {
    CS.NOT_STARTED: frozenset({CS.PENDING}),
    CS.PENDING: frozenset({CS.VERIFIED, CS.ACTION_REQUIRED, CS.REJECTED}),
    CS.ACTION_REQUIRED: frozenset({CS.DOCUMENTS_SUBMITTED, CS.PENDING}),
    CS.DOCUMENTS_SUBMITTED: frozenset({CS.IN_REVIEW, CS.PENDING}),
    CS.IN_REVIEW: frozenset({CS.VERIFIED, CS.REJECTED, CS.ACTION_REQUIRED}),
    CS.REJECTED: frozenset({CS.APPEAL_SUBMITTED, CS.PENDING}),
    CS.APPEAL_SUBMITTED: frozenset({CS.IN_REVIEW}),
    CS.VERIFIED: frozenset({CS.PENDING}),
}
#: Statuses in which the partner may upload documents for a check.
CHECK_UPLOAD_STATUSES = frozenset({CS.ACTION_REQUIRED, CS.DOCUMENTS_SUBMITTED, CS.REJECTED})
MAX_APPEALS = 3

#: The fields of the legal business profile (spec/accounts.md §1), the only ones
#: `security.services.legal_profile.legal_profile_update` changes.
LEGAL_FIELDS: tuple[str, ...] = (
    "legal_name",
    "doing_business_as",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "website",
    "company_registration_number",
    "tax_id",
    "company_size",
    "primary_contact_first_name",
    "primary_contact_last_name",
    "primary_contact_email",
    "primary_contact_phone",
)
_ADDRESS = (CheckKind.ADDRESS,)
_PRIMARY_CONTACT = (CheckKind.EMAIL, CheckKind.EMPLOYMENT, CheckKind.IDENTITY)
#: Changing one of these fields restarts the verified checks it names, in every enrollment
#: (spec/accounts.md §1: legal name, address or primary contact). The contact's phone number does
#: not identify the person, so it restarts nothing; a new web site or contact mailbox domain needs
#: the domain proven again.
LEGAL_FIELDS_REVERIFY: dict[str, tuple[str, ...]] = {
    "legal_name": (CheckKind.BUSINESS,),
    "address_line1": _ADDRESS,
    "address_line2": _ADDRESS,
    "city": _ADDRESS,
    "state": _ADDRESS,
    "postal_code": _ADDRESS,
    "country": _ADDRESS,
    "primary_contact_first_name": _PRIMARY_CONTACT,
    "primary_contact_last_name": _PRIMARY_CONTACT,
    "primary_contact_email": (*_PRIMARY_CONTACT, CheckKind.DOMAIN),
    "website": (CheckKind.DOMAIN,),
}


class DocumentType(models.TextChoices):
    REGISTRATION_EXTRACT = "registration_extract", "Business register extract"
    INCORPORATION_CERTIFICATE = "incorporation_certificate", "Certificate of incorporation"
    TAX_REGISTRATION = "tax_registration", "Tax / VAT registration"
    BUSINESS_LICENCE = "business_licence", "Government business licence"
    UTILITY_BILL = "utility_bill", "Utility bill"
    BANK_STATEMENT = "bank_statement", "Bank statement"
    ASSIGNMENT_LETTER = "assignment_letter", "Employment / assignment letter"
    DOMAIN_RECORD = "domain_record", "Domain ownership record"
    GOVERNMENT_ID = "government_id", "Government ID"


class Likelihood(models.TextChoices):
    """spec/accounts.md §4.2 bands."""

    LIKELY = "likely", "Likely to pass"
    NEEDS_REVIEW = "needs_review", "Needs review"
    UNLIKELY = "unlikely", "Unlikely — fix before submitting"


class ReviewerDecision(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class TrainingStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    COMPLETED = "completed", "Completed"
    OVERDUE = "overdue", "Overdue"
    CANCELED = "canceled", "Canceled"
