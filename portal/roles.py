"""The Partner Center roles a user holds in an organization; capabilities derive from them."""

from django.db import models


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
