"""MFA as pages and API read it: the partner's own people (spec §2.1) and the customers' tenants
(spec §2.2).

A person "has MFA" when they have a confirmed authenticator-app device (django-otp). The portal
asks for the second factor at every sign-in, so whoever is registered is also enforced; the
*mechanism* shown is the tenant policy that applies, by precedence conditional access > security
defaults > per-user MFA > third party > none.

Everything is computed in the database (filters, order, coverage), so a tenant of thousands of
people costs the same few queries as one of ten; `mfa_rows` dresses up only the rows shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Customer, Organization, RoleAssignment, User
from portal.roles import Role
from security.choices import MfaMechanism, MfaMethod
from security.models import CustomerMfaStat, SecuritySettings
from security.selectors.posture import settings_or_default

__all__ = (
    "ADMIN_ROLES",
    "CustomerMfaSummary",
    "MfaCoverage",
    "MfaUserRow",
    "customer_mfa_stats",
    "customer_mfa_summary",
    "customers_without_mfa_figures",
    "mfa_coverage",
    "mfa_people",
    "mfa_rows",
)

#: Roles that administer the partner account or tenant: their MFA is mandatory (spec §1.1).
ADMIN_ROLES: frozenset[str] = frozenset(
    {
        Role.OWNER,
        Role.ACCOUNT_ADMIN,
        Role.GLOBAL_ADMIN,
        Role.USER_MANAGEMENT_ADMIN,
        Role.ADMIN_AGENT,
        Role.BILLING_ADMIN,
    }
)


# --- The partner's own people ---------------------------------------------------------------------


@dataclass(frozen=True)
class MfaUserRow:
    """spec §2.1 `MfaUserStatus` for one person."""

    user_id: int
    email: str
    display_name: str
    roles: list[str]
    is_admin_role: bool
    mfa_registered: bool
    mfa_enforced: bool
    enforcement_mechanism: str
    applicable_policies: list[str]
    methods: list[str]
    last_sign_in_at: datetime | None
    last_non_mfa_sign_in_at: datetime | None
    checked_at: datetime


@dataclass(frozen=True)
class MfaCoverage:
    users_total: int
    users_with_mfa: int
    admins_total: int
    admins_with_mfa: int

    @property
    def coverage_pct(self) -> float | None:
        return _pct(self.users_with_mfa, self.users_total)

    @property
    def admin_coverage_pct(self) -> float | None:
        return _pct(self.admins_with_mfa, self.admins_total)

    @property
    def admins_without_mfa(self) -> int:
        return self.admins_total - self.admins_with_mfa

    @property
    def users_without_mfa(self) -> int:
        return self.users_total - self.users_with_mfa


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _people(organization: Organization) -> QuerySet[User]:
    # API clients' service identities and deactivated people cannot sign in to pages.
    return User.objects.filter(organization=organization, is_active=True, is_service_account=False)


# `id IN (subquery)` rather than EXISTS per person: PostgreSQL hashes the subquery once, so a
# tenant of thousands of people is one pass.
def _registered() -> Q:
    return Q(pk__in=TOTPDevice.objects.filter(confirmed=True).values("user_id"))


def _admin() -> Q:
    return Q(pk__in=RoleAssignment.objects.filter(role__in=ADMIN_ROLES).values("user_id"))


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _policy_flag(name: str) -> Coalesce:
    """A flag of the person's per-user MFA policy (off when they have none)."""
    return Coalesce(F(f"mfa_policy__{name}"), Value(False), output_field=BooleanField())


def _mechanism(settings_row: SecuritySettings) -> Case | Value:
    """The policy that applies first (tenant-wide policies are the same for everyone)."""
    if settings_row.conditional_access_requires_mfa:
        return Value(MfaMechanism.CONDITIONAL_ACCESS.value)
    if settings_row.security_defaults_enabled:
        return Value(MfaMechanism.SECURITY_DEFAULTS.value)
    return Case(
        When(mfa_policy__per_user_mfa_enabled=True, then=Value(MfaMechanism.PER_USER_MFA.value)),
        When(mfa_policy__third_party_mfa=True, then=Value(MfaMechanism.THIRD_PARTY.value)),
        default=Value(MfaMechanism.NONE.value),
        output_field=CharField(),
    )


def mfa_people(organization: Organization, settings_row: SecuritySettings | None = None) -> QuerySet[User]:
    """Every active person of the partner tenant with their MFA state as columns
    (`mfa_registered`, `has_backup_codes`, `is_admin_role`, `per_user_mfa`, `third_party_mfa`,
    `enforcement_mechanism`): people without MFA first, then admins, then by email."""
    settings_row = settings_row or settings_or_default(organization)
    codes = StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True).filter(
        Exists(StaticToken.objects.filter(device=OuterRef("pk")))
    )
    return (
        _people(organization)
        .annotate(
            mfa_registered=_flag(_registered()),
            has_backup_codes=Exists(codes),
            is_admin_role=_flag(_admin()),
            per_user_mfa=_policy_flag("per_user_mfa_enabled"),
            third_party_mfa=_policy_flag("third_party_mfa"),
            enforcement_mechanism=_mechanism(settings_row),
        )
        .prefetch_related("role_assignments")
        .order_by("mfa_registered", "-is_admin_role", "email")
    )


def _policies(settings_row: SecuritySettings, person: User) -> list[str]:
    """The MFA policies that apply to one person, strongest first (spec §2.1 precedence)."""
    applicable = []
    if settings_row.conditional_access_requires_mfa:
        applicable.append(MfaMechanism.CONDITIONAL_ACCESS.value)
    if settings_row.security_defaults_enabled:
        applicable.append(MfaMechanism.SECURITY_DEFAULTS.value)
    if person.per_user_mfa:
        applicable.append(MfaMechanism.PER_USER_MFA.value)
    if person.third_party_mfa:
        applicable.append(MfaMechanism.THIRD_PARTY.value)
    return applicable


def mfa_rows(people: Iterable[User], settings_row: SecuritySettings) -> list[MfaUserRow]:
    """People of `mfa_people` (e.g. one page of them) as `MfaUserRow`s."""
    now = timezone.now()
    rows = []
    for person in people:
        roles = sorted({assignment.role for assignment in person.role_assignments.all()})
        methods = []
        if person.mfa_registered:
            methods.append(MfaMethod.AUTHENTICATOR_APP.value)
        if person.has_backup_codes:
            methods.append(MfaMethod.BACKUP_CODES.value)
        rows.append(
            MfaUserRow(
                user_id=person.pk,
                email=person.email,
                display_name=person.display_name,
                roles=roles,
                is_admin_role=person.is_admin_role,
                mfa_registered=person.mfa_registered,
                # Every sign-in asks for the second factor, so registered means enforced.
                mfa_enforced=person.mfa_registered,
                enforcement_mechanism=person.enforcement_mechanism,
                applicable_policies=_policies(settings_row, person),
                methods=methods,
                last_sign_in_at=person.last_login,
                # Someone without a device got only as far as the password (then had to enrol).
                last_non_mfa_sign_in_at=None if person.mfa_registered else person.last_login,
                checked_at=now,
            )
        )
    return rows


def mfa_coverage(organization: Organization) -> MfaCoverage:
    """Coverage = people with MFA enforced / active people; admins separately (spec §2.1)."""
    counts = _people(organization).aggregate(
        users_total=Count("pk"),
        users_with_mfa=Count("pk", filter=_registered()),
        admins_total=Count("pk", filter=_admin()),
        admins_with_mfa=Count("pk", filter=_admin() & _registered()),
    )
    return MfaCoverage(**counts)


# --- Customers' tenants ---------------------------------------------------------------------------


def customer_mfa_stats(user_or_organization: User | Organization) -> QuerySet[CustomerMfaStat]:
    """The customers' MFA figures a user may see (or one organization's), customer joined, by name."""
    if isinstance(user_or_organization, Organization):
        queryset = CustomerMfaStat.objects.filter(organization=user_or_organization)
    else:
        queryset = CustomerMfaStat.objects.visible_to(user_or_organization)
    return queryset.select_related("customer").order_by("customer__name", "customer_id")


@dataclass(frozen=True)
class CustomerMfaSummary:
    with_figures: int
    compliant: int
    without_figures: int


def customer_mfa_summary(user: User) -> CustomerMfaSummary:
    """How many customers have figures, how many of those have MFA for every admin, how many none."""
    counts = CustomerMfaStat.objects.visible_to(user).aggregate(
        with_figures=Count("pk"), compliant=Count("pk", filter=Q(admins_with_mfa=F("admins_total")))
    )
    customers = Customer.objects.visible_to(user).count()
    return CustomerMfaSummary(without_figures=customers - counts["with_figures"], **counts)


def customers_without_mfa_figures(user: User, *, limit: int) -> list[Customer]:
    """The first `limit` customers (by name) with no MFA figures yet."""
    missing = ~Exists(CustomerMfaStat.objects.filter(customer=OuterRef("pk")))
    return list(Customer.objects.visible_to(user).filter(missing).order_by("name", "id")[:limit])
