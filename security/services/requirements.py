"""The security requirements dashboard: the rows, the score and the daily snapshot (spec §1).

Rows are computed from live data each time; `SecurityScoreSnapshot` keeps one evaluation a day
for the history chart. Weights and formula are spec §1.3:

* binary rows score all or nothing, ratio rows `round(max × ratio)`;
* score = round(100 × Σ score / Σ max) over active, applicable scored rows (preview rows show
  their would-be points but count in neither sum; a not-applicable row is left out of both);
* authorization_ok = every applicable mandatory row is compliant, whatever the percentage.

Advisories (DAP left, GDAP least privilege, GDAP expiry, account verification) are our own
checks, shown unscored. They read the security models directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus, PartnerType, Severity
from accounts.models import ActionItem, Customer, Organization
from accounts.services.action_center import action_item_raise, action_item_resolve
from portal.roles import Role
from security.choices import (
    GDAP_AUTO_EXTEND_NONE,
    GDAP_LIVE_STATUSES,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    CheckStatus,
    ComplianceStatus,
    RequirementKind,
    RequirementState,
    RequirementType,
)
from security.models import (
    CustomerAzureSubscription,
    CustomerMfaStat,
    DapRelationship,
    GdapRelationship,
    SecurityScoreSnapshot,
    UserMfaPolicy,
    VerificationCheck,
)
from security.selectors.mfa import mfa_coverage
from security.selectors.posture import alerts_average_response_hours, settings_or_default
from security.services.notices import requirement_failed_notify, score_dropped_notify

__all__ = (
    "ALERT_AUDIENCE",
    "MANDATORY",
    "WEIGHTS",
    "RequirementResult",
    "SecurityScore",
    "requirement_dedupe_key",
    "security_requirements_refresh",
    "security_requirements_sync_action_items",
    "security_score",
    "security_snapshot_take",
    "security_snapshots_take_all",
)

RT = RequirementType
#: Who is told about security alerts and failed requirements in the Action Center.
ALERT_AUDIENCE = [Role.ADMIN_AGENT.value, Role.GLOBAL_ADMIN.value]
COMPLIANT, NONCOMPLIANT, NOT_APPLICABLE = (
    ComplianceStatus.COMPLIANT.value,
    ComplianceStatus.NONCOMPLIANT.value,
    ComplianceStatus.NOT_APPLICABLE.value,
)

#: Default weights (spec §1.3): 80 points for the five active rows, 10 for the preview row.
WEIGHTS: dict[str, int] = {
    RT.MFA_FOR_ADMINS: 25,
    RT.SECURITY_CONTACT: 10,
    RT.ALERTS_RESOLVED: 20,
    RT.CUSTOMER_ADMIN_MFA: 15,
    RT.SPENDING_BUDGETS: 10,
    RT.ALL_USERS_MFA: 10,
}
MANDATORY = frozenset({RT.MFA_FOR_ADMINS, RT.SECURITY_CONTACT, RT.ALERTS_RESOLVED})
PREVIEW = frozenset({RT.ALL_USERS_MFA})
#: Alert response: full points at ≤ 24 h average, half at ≤ 48 h, else none.
ALERT_FULL_HOURS = 24
ALERT_HALF_HOURS = 48

_LEARN = "https://learn.microsoft.com/partner-center/security"
HELP_URLS: dict[str, str] = {
    RT.MFA_FOR_ADMINS: f"{_LEARN}/partner-security-requirements",
    RT.SECURITY_CONTACT: f"{_LEARN}/partner-security-requirements",
    RT.ALERTS_RESOLVED: f"{_LEARN}/security-alerts",
    RT.CUSTOMER_ADMIN_MFA: f"{_LEARN}/customer-security-requirements",
    RT.SPENDING_BUDGETS: "https://learn.microsoft.com/azure/cost-management-billing/costs/tutorial-acm-create-budgets",
    RT.ALL_USERS_MFA: f"{_LEARN}/partner-security-requirements",
    RT.NO_DAP: "https://learn.microsoft.com/partner-center/customers/dap-faq",
    RT.GDAP_LEAST_PRIVILEGE: "https://learn.microsoft.com/partner-center/customers/gdap-least-privileged-roles-by-task",
    RT.GDAP_NOT_EXPIRING: "https://learn.microsoft.com/partner-center/customers/gdap-introduction",
    RT.ACCOUNT_VERIFIED: "https://learn.microsoft.com/partner-center/enroll/verification-responses",
}
#: The portal page where each row is acted on (URL names of `security/urls.py`).
ACTION_PAGES: dict[str, str] = {
    RT.MFA_FOR_ADMINS: "mfa",
    RT.SECURITY_CONTACT: "settings",
    RT.ALERTS_RESOLVED: "alerts",
    RT.CUSTOMER_ADMIN_MFA: "customers-mfa",
    RT.SPENDING_BUDGETS: "azure-budgets",
    RT.ALL_USERS_MFA: "mfa",
    RT.NO_DAP: "dap-list",
    RT.GDAP_LEAST_PRIVILEGE: "gdap-list",
    RT.GDAP_NOT_EXPIRING: "gdap-list",
    RT.ACCOUNT_VERIFIED: "compliance",
}


def _action_url(requirement_type: str) -> str:
    return reverse(f"security:{ACTION_PAGES[requirement_type]}")


@dataclass(frozen=True)
class RequirementResult:
    requirement_type: str
    kind: str
    mandatory: bool
    state: str
    compliance_status: str
    score: int
    max_score: int
    details: dict[str, Any]
    evidence: str
    action: str
    action_url: str
    help_url: str
    updated_at: datetime

    @property
    def is_compliant(self) -> bool:
        return self.compliance_status == COMPLIANT

    @property
    def is_applicable(self) -> bool:
        return self.compliance_status != NOT_APPLICABLE

    @property
    def counts_in_score(self) -> bool:
        return (
            self.kind == RequirementKind.SCORED
            and self.state == RequirementState.ACTIVE
            and self.is_applicable
        )

    @property
    def label(self) -> str:
        return RequirementType(self.requirement_type).label

    def as_graph(self) -> dict[str, Any]:
        """Graph's `partnerSecurityRequirement` shape, with the type's own fields after the common ones."""
        return {
            "id": self.requirement_type,
            "requirementType": self.requirement_type,
            "complianceStatus": self.compliance_status,
            "score": self.score,
            "maxScore": self.max_score,
            "state": self.state,
            "actionUrl": self.action_url,
            "helpUrl": self.help_url,
            "updatedDateTime": self.updated_at.isoformat(),
            **self.details,
        }

    def as_json(self) -> dict[str, Any]:
        """Every field, JSON-ready (the snapshot keeps these)."""
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat()
        return data


@dataclass(frozen=True)
class SecurityScore:
    score: int
    earned: int
    possible: int
    authorization_ok: bool
    requirements: list[RequirementResult] = field(default_factory=list)

    def _rows(self, *, mandatory: bool) -> list[RequirementResult]:
        return [
            row
            for row in self.requirements
            if row.kind == RequirementKind.SCORED
            and row.state == RequirementState.ACTIVE
            and row.is_applicable
            and row.mandatory is mandatory
        ]

    @property
    def mandatory_total(self) -> int:
        return len(self._rows(mandatory=True))

    @property
    def mandatory_completed(self) -> int:
        return sum(row.is_compliant for row in self._rows(mandatory=True))

    @property
    def recommended_total(self) -> int:
        return len(self._rows(mandatory=False))

    @property
    def recommended_completed(self) -> int:
        return sum(row.is_compliant for row in self._rows(mandatory=False))

    @property
    def advisories(self) -> list[RequirementResult]:
        return [row for row in self.requirements if row.kind == RequirementKind.ADVISORY]

    def failed_mandatory(self) -> list[RequirementResult]:
        return [row for row in self._rows(mandatory=True) if not row.is_compliant]


# --- The rows -------------------------------------------------------------------------------------


def ratio_points(max_score: int, part: int, whole: int) -> int:
    """round(max × part / whole), halves rounded up as people expect (spec §1.3 examples)."""
    return (2 * max_score * part + whole) // (2 * whole)


def _row(
    requirement_type: str,
    *,
    now: datetime,
    status: str,
    score: int = 0,
    details: dict[str, Any] | None = None,
    evidence: str,
    action: str = "",
) -> RequirementResult:
    advisory = requirement_type not in WEIGHTS
    return RequirementResult(
        requirement_type=str(requirement_type),
        kind=RequirementKind.ADVISORY.value if advisory else RequirementKind.SCORED.value,
        mandatory=requirement_type in MANDATORY,
        state=(RequirementState.PREVIEW if requirement_type in PREVIEW else RequirementState.ACTIVE).value,
        compliance_status=status,
        score=0 if advisory or status == NOT_APPLICABLE else score,
        max_score=WEIGHTS.get(requirement_type, 0),
        details=details or {},
        evidence=evidence,
        action="" if status == COMPLIANT else action,
        action_url=_action_url(requirement_type),
        help_url=HELP_URLS[requirement_type],
        updated_at=now,
    )


def _binary(requirement_type: str, ok: bool, **kwargs: Any) -> RequirementResult:
    return _row(
        requirement_type,
        status=COMPLIANT if ok else NONCOMPLIANT,
        score=WEIGHTS.get(requirement_type, 0) if ok else 0,
        **kwargs,
    )


def _ratio(requirement_type: str, part: int, whole: int, **kwargs: Any) -> RequirementResult:
    if whole == 0:
        return _row(requirement_type, status=NOT_APPLICABLE, **kwargs)
    return _row(
        requirement_type,
        status=COMPLIANT if part == whole else NONCOMPLIANT,
        score=ratio_points(WEIGHTS[requirement_type], part, whole),
        **kwargs,
    )


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _admin_mfa_rows(organization: Organization, now: datetime) -> list[RequirementResult]:
    coverage = mfa_coverage(organization)
    missing = coverage.admins_without_mfa
    per_user_mfa = UserMfaPolicy.objects.filter(
        organization=organization, per_user_mfa_enabled=True, user__is_active=True
    ).exists()
    admins = _binary(
        RT.MFA_FOR_ADMINS,
        missing == 0,
        now=now,
        details={
            "adminsRequiredNotUsingMfaCount": missing,
            # Graph's legacy indicator: per-user MFA (rather than a tenant policy) is in use.
            "legacyPerUserMfaStatus": "enabled" if per_user_mfa else "disabled",
        },
        evidence=(
            f"{coverage.admins_with_mfa} of {_plural(coverage.admins_total, 'admin')} use MFA."
            if coverage.admins_total
            else "No one holds an admin role."
        ),
        action=f"Make {_plural(missing, 'admin')} without MFA set up an authenticator app.",
    )
    users_missing = coverage.users_without_mfa
    everyone = _binary(
        RT.ALL_USERS_MFA,
        users_missing == 0,
        now=now,
        details={"usersNotRegisteredCount": users_missing, "usersTotalCount": coverage.users_total},
        evidence=f"{coverage.users_with_mfa} of {_plural(coverage.users_total, 'user')} registered for MFA.",
        action=f"Ask {_plural(users_missing, 'person', 'people')} to register an authenticator app.",
    )
    return [admins, everyone]


def _contact_row(organization: Organization, now: datetime) -> RequirementResult:
    settings_row = settings_or_default(organization)
    has_contact = settings_row.has_security_contact
    return _binary(
        RT.SECURITY_CONTACT,
        has_contact,
        now=now,
        evidence=(
            f"Security contact: {settings_row.security_contact_name or settings_row.security_contact_email}"
            f" <{settings_row.security_contact_email}>."
            if has_contact
            else "No security contact is set."
        ),
        action="Name a security contact with an email address Microsoft can reach.",
    )


def _only_indirect_reseller(organization: Organization) -> bool:
    types = set(organization.partner_types or [])
    return bool(types) and types == {PartnerType.INDIRECT_RESELLER}


def _alerts_row(organization: Organization, now: datetime) -> RequirementResult:
    if _only_indirect_reseller(organization):
        return _row(
            RT.ALERTS_RESOLVED,
            now=now,
            status=NOT_APPLICABLE,
            evidence="Not applicable to indirect resellers: your indirect provider answers alerts.",
        )
    hours = alerts_average_response_hours(organization, now=now)
    max_score = WEIGHTS[RT.ALERTS_RESOLVED]
    if hours is None or hours <= ALERT_FULL_HOURS:
        score = max_score
    elif hours <= ALERT_HALF_HOURS:
        score = max_score // 2
    else:
        score = 0
    return _row(
        RT.ALERTS_RESOLVED,
        now=now,
        status=COMPLIANT if hours is None or hours <= ALERT_FULL_HOURS else NONCOMPLIANT,
        score=score,
        details={"averageResponseTimeInHours": None if hours is None else round(hours, 1)},
        evidence=(
            "No security alerts in the last 30 days."
            if hours is None
            else f"Alerts of the last 30 days were answered in {hours:.1f} hours on average (target: 24)."
        ),
        action="Answer open alerts and respond to new ones within 24 hours.",
    )


def _customer_mfa_row(organization: Organization, now: datetime) -> RequirementResult:
    counts = CustomerMfaStat.objects.filter(organization=organization).aggregate(
        total=Count("pk"), compliant=Count("pk", filter=Q(admins_with_mfa=F("admins_total")))
    )
    total, compliant = counts["total"], counts["compliant"]
    without_data = Customer.objects.filter(organization=organization).count() - total
    evidence = (
        f"{compliant} of {_plural(total, 'customer tenant')} have MFA for every admin."
        if total
        else "No customer MFA figures yet: import them from the customers' MFA page."
    )
    if without_data > 0:
        evidence += f" {_plural(without_data, 'customer')} without figures are not counted."
    return _ratio(
        RT.CUSTOMER_ADMIN_MFA,
        compliant,
        total,
        now=now,
        details={"compliantTenantCount": compliant, "totalTenantCount": total},
        evidence=evidence,
        action=f"Help {_plural(total - compliant, 'customer')} turn on MFA for all their admins.",
    )


def _budget_row(organization: Organization, now: datetime) -> RequirementResult:
    counts = CustomerAzureSubscription.objects.filter(organization=organization).aggregate(
        total=Count("pk"), with_budget=Count("pk", filter=Q(budget_amount__isnull=False))
    )
    total, with_budget = counts["total"], counts["with_budget"]
    return _ratio(
        RT.SPENDING_BUDGETS,
        with_budget,
        total,
        now=now,
        details={
            "subscriptionsWithBudgetCount": with_budget,
            "subscriptionsWithoutBudgetCount": total - with_budget,
            "totalSubscriptionCount": total,
        },
        evidence=(
            f"{with_budget} of {_plural(total, 'Azure subscription')} have a spending budget."
            if total
            else "No customer Azure subscriptions recorded."
        ),
        action=f"Set a spending budget on {_plural(total - with_budget, 'subscription')}.",
    )


def _advisories(organization: Organization, now: datetime) -> list[RequirementResult]:
    rows = []
    daps = DapRelationship.objects.filter(organization=organization, removed_at__isnull=True).count()
    rows.append(
        _binary(
            RT.NO_DAP,
            daps == 0,
            now=now,
            details={"dapRelationshipCount": daps},
            evidence=f"{_plural(daps, 'DAP relationship')} left." if daps else "No DAP relationships left.",
            action=f"Remove {_plural(daps, 'DAP relationship')}; GDAP gives least-privilege access.",
        )
    )
    live = GdapRelationship.objects.filter(organization=organization, status__in=GDAP_LIVE_STATUSES)
    granted = GdapRelationship.roles.through.objects.filter(
        gdaprelationship_id=OuterRef("pk"), entrarole_id=GLOBAL_ADMINISTRATOR_ROLE_ID
    )
    with_global_admin = live.filter(Exists(granted)).count()
    rows.append(
        _binary(
            RT.GDAP_LEAST_PRIVILEGE,
            with_global_admin == 0,
            now=now,
            details={"relationshipsWithGlobalAdministratorCount": with_global_admin},
            evidence=(
                f"{_plural(with_global_admin, 'live GDAP relationship')} grant Global Administrator."
                if with_global_admin
                else "No live GDAP relationship grants Global Administrator."
            ),
            action="Remove Global Administrator from the relationships and use the least-privileged roles.",
        )
    )
    horizon = now + timedelta(days=settings.SECURITY_GDAP_WARNING_DAYS)
    expiring = live.filter(auto_extend_duration=GDAP_AUTO_EXTEND_NONE, end_at__lte=horizon).count()
    rows.append(
        _binary(
            RT.GDAP_NOT_EXPIRING,
            expiring == 0,
            now=now,
            details={
                "expiringRelationshipCount": expiring,
                "warningDays": settings.SECURITY_GDAP_WARNING_DAYS,
            },
            evidence=(
                f"{_plural(expiring, 'GDAP relationship')} without auto-extend end within "
                f"{settings.SECURITY_GDAP_WARNING_DAYS} days."
                if expiring
                else f"No GDAP relationship ends within {settings.SECURITY_GDAP_WARNING_DAYS} days."
            ),
            action="Renew the relationships or turn on auto-extend before access ends.",
        )
    )
    checks = VerificationCheck.objects.filter(organization=organization)
    total = checks.count()
    open_checks = checks.exclude(status=CheckStatus.VERIFIED).count()
    if total == 0:
        rows.append(
            _row(
                RT.ACCOUNT_VERIFIED,
                now=now,
                status=NOT_APPLICABLE,
                evidence="No program verification is under way.",
            )
        )
    else:
        rows.append(
            _binary(
                RT.ACCOUNT_VERIFIED,
                open_checks == 0,
                now=now,
                details={"verifiedCheckCount": total - open_checks, "totalCheckCount": total},
                evidence=f"{total - open_checks} of {_plural(total, 'verification check')} verified.",
                action=f"Complete {_plural(open_checks, 'verification check')}.",
            )
        )
    return rows


# --- Score, snapshots and Action Center -------------------------------------------------------------


def score_of(requirements: list[RequirementResult]) -> tuple[int, int, int, bool]:
    """(score, earned, possible, authorization_ok) of evaluated rows (spec §1.3)."""
    counted = [row for row in requirements if row.counts_in_score]
    earned = sum(row.score for row in counted)
    possible = sum(row.max_score for row in counted)
    score = (200 * earned + possible) // (2 * possible) if possible else 0
    authorization_ok = all(row.is_compliant for row in counted if row.mandatory)
    return score, earned, possible, authorization_ok


def security_score(organization: Organization, *, now: datetime | None = None) -> SecurityScore:
    """Evaluate every requirement and advisory of the organization now."""
    now = now or timezone.now()
    admin_row, all_users_row = _admin_mfa_rows(organization, now)
    requirements = [
        admin_row,
        _contact_row(organization, now),
        _alerts_row(organization, now),
        _customer_mfa_row(organization, now),
        _budget_row(organization, now),
        all_users_row,
        *_advisories(organization, now),
    ]
    score, earned, possible, authorization_ok = score_of(requirements)
    return SecurityScore(
        score=score,
        earned=earned,
        possible=possible,
        authorization_ok=authorization_ok,
        requirements=requirements,
    )


@transaction.atomic
def security_snapshot_take(organization: Organization, *, on: date | None = None) -> SecurityScoreSnapshot:
    """Keep the day's score (one row a day; running again that day updates it) and settle the
    Action Center items of failed mandatory requirements."""
    on = on or timezone.localdate()
    result = security_score(organization)
    previous = (
        SecurityScoreSnapshot.objects.filter(organization=organization, taken_on__lt=on)
        .order_by("-taken_on")
        .first()
    )
    snapshot, _ = SecurityScoreSnapshot.objects.update_or_create(
        organization=organization,
        taken_on=on,
        defaults={
            "score": result.score,
            "earned": result.earned,
            "possible": result.possible,
            "authorization_ok": result.authorization_ok,
            "requirements": [row.as_json() for row in result.requirements],
            "taken_at": timezone.now(),
        },
    )
    security_requirements_sync_action_items(organization, result)
    if previous is not None and result.score < previous.score:
        _score_dropped(organization, on=on, previous=previous, result=result)
    return snapshot


def _score_dropped(
    organization: Organization, *, on: date, previous: SecurityScoreSnapshot, result: SecurityScore
) -> None:
    """Tell the security managers the score fell since the last snapshot, and which rows lost points."""
    before = {row.get("requirement_type"): row.get("score", 0) for row in previous.requirements or []}
    lost = [
        (row.label, before[row.requirement_type] - row.score)
        for row in result.requirements
        if row.counts_in_score and row.requirement_type in before and row.score < before[row.requirement_type]
    ]
    score_dropped_notify(
        organization_id=organization.pk,
        on=on,
        before=previous.score,
        before_on=previous.taken_on,
        after=result.score,
        lost=lost,
    )


def security_snapshots_take_all(*, on: date | None = None) -> int:
    """The nightly run: one snapshot per partner organization; each commits on its own."""
    organization_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in organization_ids:
        security_snapshot_take(Organization.objects.get(pk=organization_id), on=on)
    return len(organization_ids)


def requirement_dedupe_key(requirement_type: str) -> str:
    return f"security:requirement:{requirement_type}"


MFA_NOT_ENROLLED_KEY = "security:mfa-not-enrolled"


def security_requirements_sync_action_items(organization: Organization, score: SecurityScore) -> None:
    """One SECURITY_REQUIREMENT_FAILED item per failed mandatory requirement; resolved once it passes.

    A requirement that turns to failed (no item yet, or its item was resolved) also notifies the
    security managers; one that stays failed does not again. Also keeps the MFA_NOT_ENROLLED item
    (people of the tenant without MFA) in step.
    """
    failing = {
        row.requirement_type
        for row in score.requirements
        if row.mandatory and row.kind == RequirementKind.SCORED and row.is_applicable and not row.is_compliant
    }
    # The items of the failing rows as they were before this evaluation: open means already failing.
    known = {
        key: (status, resolved_at)
        for key, status, resolved_at in ActionItem.objects.filter(
            organization_id=organization.pk,
            dedupe_key__in=[requirement_dedupe_key(kind) for kind in failing],
        ).values_list("dedupe_key", "status", "resolved_at")
    }
    for row in score.requirements:
        if not row.mandatory or row.kind != RequirementKind.SCORED:
            continue
        key = requirement_dedupe_key(row.requirement_type)
        if row.is_applicable and not row.is_compliant:
            status, resolved_at = known.get(key, (None, None))
            if status is None or status == ActionItemStatus.RESOLVED:
                # This failure is told once: the item's last resolution tells it from earlier ones.
                occurrence = resolved_at.isoformat() if resolved_at else "first"
                requirement_failed_notify(organization_id=organization.pk, row=row, occurrence=occurrence)
            action_item_raise(
                organization_id=organization.pk,
                code=ActionItemCode.SECURITY_REQUIREMENT_FAILED,
                dedupe_key=key,
                title=f"Security requirement not met: {row.label}"[:200],
                severity=Severity.HIGH,
                body=f"{row.evidence} {row.action} Mandatory to keep your CSP authorization.".strip(),
                target_url=row.action_url,
                audience_roles=ALERT_AUDIENCE,
            )
        else:
            action_item_resolve(organization_id=organization.pk, dedupe_key=key)
    everyone = next((row for row in score.requirements if row.requirement_type == RT.ALL_USERS_MFA), None)
    if everyone is not None and not everyone.is_compliant:
        missing = everyone.details.get("usersNotRegisteredCount", 0)
        action_item_raise(
            organization_id=organization.pk,
            code=ActionItemCode.MFA_NOT_ENROLLED,
            dedupe_key=MFA_NOT_ENROLLED_KEY,
            title=f"{_plural(missing, 'person', 'people')} without MFA",
            severity=Severity.MEDIUM,
            body=everyone.action,
            target_url=everyone.action_url,
            audience_roles=ALERT_AUDIENCE,
        )
    else:
        action_item_resolve(organization_id=organization.pk, dedupe_key=MFA_NOT_ENROLLED_KEY)


def security_requirements_refresh(organization: Organization) -> SecurityScore:
    """Evaluate the score now and settle its Action Center items at once, for a change that moves a
    mandatory requirement (an answered alert, a new security contact) instead of waiting for the
    nightly snapshot."""
    score = security_score(organization)
    security_requirements_sync_action_items(organization, score)
    return score
