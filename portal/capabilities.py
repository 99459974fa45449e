"""The one table that maps Partner Center roles to capabilities.

Pages, API permissions, templates and tests all ask `can(user, capability)`; nothing else
decides who may do what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser as User


class Capability:
    """Capability codes (spec/accounts.md §3.1); never typed as literals elsewhere."""

    ACCOUNT_MANAGE = "account.manage"
    ACCOUNT_VIEW = "account.view"
    AUDIT_VIEW = "audit.view"
    USERS_MANAGE = "users.manage"
    USERS_VIEW = "users.view"
    API_CLIENTS_MANAGE = "api_clients.manage"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_MANAGE = "customers.manage"
    CUSTOMERS_AOBO = "customers.aobo"
    GDAP_MANAGE = "gdap.manage"
    ORDERS_PLACE = "orders.place"
    PRICING_VIEW = "pricing.view"
    BILLING_MANAGE = "billing.manage"
    MEMBERSHIP_MANAGE = "membership.manage"
    MEMBERSHIP_VIEW = "membership.view"
    PROFILE_EDIT = "profile.edit"
    REFERRALS_MANAGE_ALL = "referrals.manage_all"
    REFERRALS_MANAGE_OWN = "referrals.manage_own"
    INCENTIVES_MANAGE = "incentives.manage"
    INCENTIVES_VIEW = "incentives.view"
    INCENTIVES_CLAIMS = "incentives.claims"
    EARNINGS_VIEW = "earnings.view"
    EARNINGS_RECONCILE = "earnings.reconcile"
    INSIGHTS_VIEW = "insights.view"
    COMPLIANCE_MANAGE = "compliance.manage"
    COMPLIANCE_ADMIN_ASSIGN = "compliance.assign_admin"
    SECURITY_VIEW = "security.view"
    SECURITY_MANAGE = "security.manage"
    ACTION_CENTER_VIEW = "action_center.view"
    JOBS_VIEW = "jobs.view"
    WEBHOOKS_MANAGE = "webhooks.manage"


C = Capability

_EVERYONE = frozenset({C.ACTION_CENTER_VIEW})
_ACCOUNT_ADMIN = frozenset(
    {
        C.ACCOUNT_MANAGE,
        C.ACCOUNT_VIEW,
        C.AUDIT_VIEW,
        C.USERS_MANAGE,
        C.USERS_VIEW,
        C.API_CLIENTS_MANAGE,
        C.WEBHOOKS_MANAGE,
        C.JOBS_VIEW,
        C.CUSTOMERS_VIEW,
        C.MEMBERSHIP_VIEW,
        C.SECURITY_VIEW,
        # Account admins manage legal info and program enrollments (spec/accounts.md §3.1).
        C.COMPLIANCE_MANAGE,
    }
)

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: _ACCOUNT_ADMIN | {C.COMPLIANCE_ADMIN_ASSIGN},
    Role.ACCOUNT_ADMIN: _ACCOUNT_ADMIN,
    Role.GLOBAL_ADMIN: _ACCOUNT_ADMIN
    | {
        C.COMPLIANCE_ADMIN_ASSIGN,
        C.CUSTOMERS_MANAGE,
        C.CUSTOMERS_AOBO,
        C.GDAP_MANAGE,
        C.ORDERS_PLACE,
        C.PRICING_VIEW,
        C.BILLING_MANAGE,
        C.INSIGHTS_VIEW,
        C.MEMBERSHIP_MANAGE,
        C.EARNINGS_VIEW,
        C.EARNINGS_RECONCILE,
        C.INCENTIVES_VIEW,
        C.INCENTIVES_CLAIMS,
        C.REFERRALS_MANAGE_ALL,
        C.REFERRALS_MANAGE_OWN,
        C.SECURITY_MANAGE,
        C.COMPLIANCE_MANAGE,
    },
    Role.USER_MANAGEMENT_ADMIN: frozenset({C.USERS_MANAGE, C.USERS_VIEW, C.ACCOUNT_VIEW}),
    Role.ADMIN_AGENT: frozenset(
        {
            C.CUSTOMERS_VIEW,
            C.CUSTOMERS_MANAGE,
            C.CUSTOMERS_AOBO,
            C.GDAP_MANAGE,
            C.ORDERS_PLACE,
            C.PRICING_VIEW,
            C.SECURITY_VIEW,
            C.SECURITY_MANAGE,
            C.JOBS_VIEW,
        }
    ),
    Role.SALES_AGENT: frozenset(
        {C.CUSTOMERS_VIEW, C.CUSTOMERS_MANAGE, C.ORDERS_PLACE, C.PRICING_VIEW, C.JOBS_VIEW}
    ),
    Role.HELPDESK_AGENT: frozenset({C.CUSTOMERS_VIEW}),
    Role.BILLING_ADMIN: frozenset({C.BILLING_MANAGE, C.PRICING_VIEW, C.EARNINGS_VIEW, C.JOBS_VIEW}),
    Role.PARTNER_ADMIN: frozenset({C.MEMBERSHIP_MANAGE, C.MEMBERSHIP_VIEW, C.INSIGHTS_VIEW}),
    Role.BUSINESS_PROFILE_CONTRIBUTOR: frozenset({C.PROFILE_EDIT, C.MEMBERSHIP_VIEW}),
    Role.REFERRALS_ADMIN: frozenset({C.REFERRALS_MANAGE_ALL, C.REFERRALS_MANAGE_OWN}),
    Role.REFERRALS_USER: frozenset({C.REFERRALS_MANAGE_OWN}),
    Role.INCENTIVES_ADMIN: frozenset(
        {
            C.INCENTIVES_MANAGE,
            C.INCENTIVES_VIEW,
            C.INCENTIVES_CLAIMS,
            C.EARNINGS_VIEW,
            C.EARNINGS_RECONCILE,
            C.JOBS_VIEW,
        }
    ),
    Role.INCENTIVES_USER: frozenset(
        {C.INCENTIVES_VIEW, C.INCENTIVES_CLAIMS, C.EARNINGS_VIEW, C.EARNINGS_RECONCILE}
    ),
    Role.INCENTIVES_MARKETER: frozenset({C.INCENTIVES_CLAIMS, C.INCENTIVES_VIEW}),
    Role.EXECUTIVE_REPORT_VIEWER: frozenset({C.INSIGHTS_VIEW}),
    Role.DEVELOPER: frozenset({C.PRICING_VIEW}),
    Role.COMPLIANCE_ADMIN: frozenset({C.COMPLIANCE_MANAGE, C.ACCOUNT_VIEW}),
}


def capabilities_of_roles(roles: set[str] | frozenset[str]) -> frozenset[str]:
    granted: set[str] = set(_EVERYONE)
    for role in roles:
        granted |= ROLE_CAPABILITIES[role]
    return frozenset(granted)


def is_vendor_staff(actor: Any) -> bool:
    """The vendor's own staff: signed in, staff, and outside every partner organization.

    A partner user is never vendor staff, whatever its flags.
    """
    return (
        bool(getattr(actor, "is_authenticated", False))
        and bool(getattr(actor, "is_staff", False))
        and getattr(actor, "organization_id", None) is None
    )


def can(user: User, capability: str, organization_id: int | None = None) -> bool:
    """True when the user holds a role granting `capability` in their organization.

    `organization_id`, when given, must be the user's own organization: capabilities never
    reach across tenants.
    """
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return False
    if organization_id is not None and organization_id != user.organization_id:
        return False
    return capability in user.capabilities


def can_any(user: User, *capabilities: str) -> bool:
    """True when the user holds at least one of `capabilities` (pages, templates, history)."""
    return any(can(user, capability) for capability in capabilities)


def locations_granting(user: User, capability: str) -> frozenset[int] | None:
    """The partner locations where `user` holds `capability`; None means every location.

    Location-scoped roles (spec/accounts.md §2) limit what a user sees to their locations' rows.
    """
    granted: set[int] = set()
    for role, location_id in user.role_locations:
        if capability not in ROLE_CAPABILITIES[role]:
            continue
        if location_id is None:
            return None
        granted.add(location_id)
    return frozenset(granted)
