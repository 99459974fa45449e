"""The security requirements dashboard: rows, weights, score, advisories, snapshots and the
Action Center items of failed mandatory requirements (spec/security.md §1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, PartnerType
from accounts.models import ActionItem
from portal.roles import Role
from security.choices import (
    GDAP_AUTO_EXTEND_DAYS,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AlertStatus,
    CheckStatus,
    ComplianceStatus,
    GdapStatus,
    RequirementKind,
    RequirementState,
    RequirementType,
)
from security.models import SecurityScoreSnapshot
from security.services.requirements import (
    requirement_dedupe_key,
    security_requirements_sync_action_items,
    security_score,
    security_snapshot_take,
    security_snapshots_take_all,
)
from security.services.settings import security_settings_update
from tests.conftest import confirm_totp
from tests.factories import (
    CustomerAzureSubscriptionFactory,
    CustomerFactory,
    CustomerMfaStatFactory,
    DapRelationshipFactory,
    GdapRelationshipFactory,
    OrganizationFactory,
    SecurityAlertFactory,
    SecuritySettingsFactory,
    UserFactory,
    VerificationCheckFactory,
    active_gdap_relationship,
)

RT = RequirementType
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]


@pytest.fixture
def _frozen():
    with freeze_time(NOW):
        yield


def rows_by_type(result):
    return {row.requirement_type: row for row in result.requirements}


def answered_alert(organization, *, hours: float, ago_days: int = 3):
    created = NOW - timedelta(days=ago_days)
    return SecurityAlertFactory(
        organization=organization,
        created_at=created,
        responded_at=created + timedelta(hours=hours),
        status=AlertStatus.RESOLVED,
        response_note="Checked.",
    )


def customers_with_mfa(organization, *, compliant: int, total: int):
    for index in range(total):
        CustomerMfaStatFactory(
            organization=organization, admins_total=3, admins_with_mfa=3 if index < compliant else 2
        )


def subscriptions(organization, *, with_budget: int, total: int):
    for index in range(total):
        budget = {"budget_amount": Decimal("500"), "budget_currency": "EUR"} if index < with_budget else {}
        CustomerAzureSubscriptionFactory(organization=organization, **budget)


@pytest.fixture
def healthy(org_a, alice):
    """Admins with MFA and a security contact: every mandatory row passes, nothing else recorded."""
    confirm_totp(alice)
    SecuritySettingsFactory(organization=org_a)
    return org_a


# --- Spec §1.3 worked examples --------------------------------------------------------------------


def test_example_a_indirect_provider_scores_80_without_authorization(org_a, alice):
    org_a.partner_types = [PartnerType.INDIRECT_PROVIDER]
    org_a.save()
    confirm_totp(alice)
    SecuritySettingsFactory(organization=org_a)
    answered_alert(org_a, hours=20)
    answered_alert(org_a, hours=40)  # average 30 h
    customers_with_mfa(org_a, compliant=42, total=60)
    subscriptions(org_a, with_budget=18, total=24)

    result = security_score(org_a)

    rows = rows_by_type(result)
    assert [rows[t].score for t in (RT.MFA_FOR_ADMINS, RT.SECURITY_CONTACT)] == [25, 10]
    assert rows[RT.ALERTS_RESOLVED].score == 10
    assert rows[RT.ALERTS_RESOLVED].details == {"averageResponseTimeInHours": 30.0}
    assert rows[RT.CUSTOMER_ADMIN_MFA].score == 11  # round(15 × 0.70)
    assert rows[RT.CUSTOMER_ADMIN_MFA].details == {"compliantTenantCount": 42, "totalTenantCount": 60}
    assert rows[RT.SPENDING_BUDGETS].score == 8  # round(10 × 0.75)
    assert (result.earned, result.possible, result.score) == (64, 80, 80)
    assert result.authorization_ok is False
    assert rows[RT.ALERTS_RESOLVED].compliance_status == ComplianceStatus.NONCOMPLIANT
    assert (result.mandatory_completed, result.mandatory_total) == (2, 3)
    assert (result.recommended_completed, result.recommended_total) == (0, 2)


def test_example_b_indirect_reseller_scores_83_with_authorization(org_a, alice):
    org_a.partner_types = [PartnerType.INDIRECT_RESELLER]
    org_a.save()
    confirm_totp(alice)
    SecuritySettingsFactory(organization=org_a)
    # An alert left unanswered for days does not count: indirect resellers' providers answer them.
    SecurityAlertFactory(organization=org_a, created_at=NOW - timedelta(days=4))
    customers_with_mfa(org_a, compliant=60, total=60)
    subscriptions(org_a, with_budget=0, total=5)

    result = security_score(org_a)

    rows = rows_by_type(result)
    assert rows[RT.ALERTS_RESOLVED].compliance_status == ComplianceStatus.NOT_APPLICABLE
    assert rows[RT.ALERTS_RESOLVED].score == 0
    assert rows[RT.CUSTOMER_ADMIN_MFA].score == 15
    assert rows[RT.SPENDING_BUDGETS].score == 0
    assert (result.earned, result.possible, result.score) == (50, 60, 83)
    assert result.authorization_ok is True
    assert (result.mandatory_completed, result.mandatory_total) == (2, 2)


# --- Rows -----------------------------------------------------------------------------------------


def test_it_scores_100_when_only_the_mandatory_rows_apply(healthy):
    result = security_score(healthy)

    rows = rows_by_type(result)
    assert rows[RT.CUSTOMER_ADMIN_MFA].compliance_status == ComplianceStatus.NOT_APPLICABLE
    assert rows[RT.SPENDING_BUDGETS].compliance_status == ComplianceStatus.NOT_APPLICABLE
    assert rows[RT.ALERTS_RESOLVED].compliance_status == ComplianceStatus.COMPLIANT  # no alerts to answer
    assert (result.earned, result.possible, result.score, result.authorization_ok) == (55, 55, 100, True)


def test_an_admin_without_mfa_fails_the_admin_row_and_authorization(healthy):
    UserFactory(organization=healthy, email="zed@alpha.example", roles=[Role.ADMIN_AGENT])

    result = security_score(healthy)

    row = rows_by_type(result)[RT.MFA_FOR_ADMINS]
    assert row.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert (row.score, row.max_score, row.mandatory) == (0, 25, True)
    assert row.details["adminsRequiredNotUsingMfaCount"] == 1
    assert "1 admin" in row.action
    assert result.authorization_ok is False
    assert result.score == round(100 * 30 / 55)


def test_people_without_admin_roles_only_affect_the_preview_row(healthy, bob):
    result = security_score(healthy)

    rows = rows_by_type(result)
    preview = rows[RT.ALL_USERS_MFA]
    assert preview.state == RequirementState.PREVIEW
    assert preview.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert (preview.score, preview.max_score) == (0, 10)
    assert rows[RT.MFA_FOR_ADMINS].compliance_status == ComplianceStatus.COMPLIANT
    assert result.score == 100
    assert result.possible == 55  # the preview row is in neither sum


def test_a_missing_security_contact_fails_a_mandatory_row(org_a, alice):
    confirm_totp(alice)

    row = rows_by_type(security_score(org_a))[RT.SECURITY_CONTACT]

    assert row.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert row.evidence == "No security contact is set."


@pytest.mark.parametrize(
    ("hours", "points", "status"),
    [
        (24, 20, ComplianceStatus.COMPLIANT),
        (30, 10, ComplianceStatus.NONCOMPLIANT),
        (48, 10, ComplianceStatus.NONCOMPLIANT),
        (49, 0, ComplianceStatus.NONCOMPLIANT),
    ],
)
def test_alert_response_points_follow_the_24_and_48_hour_steps(healthy, hours, points, status):
    answered_alert(healthy, hours=hours)

    row = rows_by_type(security_score(healthy))[RT.ALERTS_RESOLVED]

    assert (row.score, row.compliance_status) == (points, status)


def test_alerts_older_than_30_days_do_not_count(healthy):
    answered_alert(healthy, hours=90, ago_days=31)

    row = rows_by_type(security_score(healthy))[RT.ALERTS_RESOLVED]

    assert row.details == {"averageResponseTimeInHours": None}
    assert row.score == 20


def test_customers_without_mfa_figures_are_left_out_of_the_ratio(healthy):
    customers_with_mfa(healthy, compliant=1, total=2)
    CustomerFactory(organization=healthy)

    row = rows_by_type(security_score(healthy))[RT.CUSTOMER_ADMIN_MFA]

    assert row.details == {"compliantTenantCount": 1, "totalTenantCount": 2}
    assert row.score == 8  # round(15 × 0.5) = 7.5, rounded half up
    assert "1 customer without figures" in row.evidence


def test_budget_row_lists_subscriptions_with_and_without_budget(healthy):
    subscriptions(healthy, with_budget=3, total=3)

    row = rows_by_type(security_score(healthy))[RT.SPENDING_BUDGETS]

    assert row.compliance_status == ComplianceStatus.COMPLIANT
    assert row.details == {
        "subscriptionsWithBudgetCount": 3,
        "subscriptionsWithoutBudgetCount": 0,
        "totalSubscriptionCount": 3,
    }
    assert row.action == ""


def test_other_organizations_data_never_counts(healthy, org_b, charlie):
    UserFactory(organization=org_b, roles=[Role.GLOBAL_ADMIN])
    SecurityAlertFactory(organization=org_b, created_at=NOW - timedelta(days=3))
    customers_with_mfa(org_b, compliant=0, total=2)
    DapRelationshipFactory(organization=org_b)

    result = security_score(healthy)

    assert result.score == 100
    assert all(row.compliance_status != ComplianceStatus.NONCOMPLIANT for row in result.advisories)


def test_as_graph_has_graphs_field_names(healthy):
    row = rows_by_type(security_score(healthy))[RT.MFA_FOR_ADMINS]

    graph = row.as_graph()

    assert graph == {
        "id": "mfaEnforcedForAdmins",
        "requirementType": "mfaEnforcedForAdmins",
        "complianceStatus": "compliant",
        "score": 25,
        "maxScore": 25,
        "state": "active",
        "actionUrl": row.action_url,
        "helpUrl": row.help_url,
        "updatedDateTime": "2026-03-10T12:00:00+00:00",
        "adminsRequiredNotUsingMfaCount": 0,
        "legacyPerUserMfaStatus": "disabled",
    }
    assert row.action_url.startswith("/security/")
    assert row.help_url.startswith("https://learn.microsoft.com/")


# --- Advisories -----------------------------------------------------------------------------------


def advisory(organization, requirement_type):
    row = rows_by_type(security_score(organization))[requirement_type]
    assert (row.kind, row.score, row.max_score, row.mandatory) == (RequirementKind.ADVISORY, 0, 0, False)
    return row


def test_a_dap_left_is_an_advisory_to_remove_it(healthy):
    dap = DapRelationshipFactory(organization=healthy)

    row = advisory(healthy, RT.NO_DAP)
    assert row.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert row.details == {"dapRelationshipCount": 1}
    assert row.action.startswith("Remove 1 DAP relationship")
    assert row.action_url.endswith("/")
    assert security_score(healthy).score == 100  # advisories are unscored

    dap.removed_at = NOW
    dap.save()
    assert advisory(healthy, RT.NO_DAP).compliance_status == ComplianceStatus.COMPLIANT


def test_a_live_relationship_with_global_administrator_is_not_least_privileged(healthy):
    GdapRelationshipFactory(organization=healthy, roles=[GLOBAL_ADMINISTRATOR_ROLE_ID])  # only requested
    assert advisory(healthy, RT.GDAP_LEAST_PRIVILEGE).compliance_status == ComplianceStatus.COMPLIANT

    active_gdap_relationship(healthy, roles=[GLOBAL_ADMINISTRATOR_ROLE_ID])

    row = advisory(healthy, RT.GDAP_LEAST_PRIVILEGE)
    assert row.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert row.details == {"relationshipsWithGlobalAdministratorCount": 1}


def test_a_live_relationship_ending_soon_without_auto_extend_is_flagged(healthy):
    active_gdap_relationship(healthy, activated_at=NOW - timedelta(days=700), duration=timedelta(days=730))
    active_gdap_relationship(
        healthy,
        activated_at=NOW - timedelta(days=700),
        duration=timedelta(days=730),
        auto_extend_duration=GDAP_AUTO_EXTEND_DAYS,
    )
    active_gdap_relationship(healthy, activated_at=NOW - timedelta(days=10))

    row = advisory(healthy, RT.GDAP_NOT_EXPIRING)

    assert row.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert row.details == {"expiringRelationshipCount": 1, "warningDays": 30}


def test_ended_relationships_are_not_flagged_as_expiring(healthy):
    GdapRelationshipFactory(
        organization=healthy, status=GdapStatus.EXPIRED, activated_at=NOW - timedelta(days=40), end_at=NOW
    )

    assert advisory(healthy, RT.GDAP_NOT_EXPIRING).compliance_status == ComplianceStatus.COMPLIANT


def test_account_verified_needs_every_check_verified(healthy):
    assert advisory(healthy, RT.ACCOUNT_VERIFIED).compliance_status == ComplianceStatus.NOT_APPLICABLE

    check = VerificationCheckFactory(organization=healthy, status=CheckStatus.ACTION_REQUIRED)
    row = advisory(healthy, RT.ACCOUNT_VERIFIED)
    assert row.compliance_status == ComplianceStatus.NONCOMPLIANT
    assert row.details == {"verifiedCheckCount": 0, "totalCheckCount": 1}

    check.status = CheckStatus.VERIFIED
    check.save()
    assert advisory(healthy, RT.ACCOUNT_VERIFIED).compliance_status == ComplianceStatus.COMPLIANT


# --- Snapshots ------------------------------------------------------------------------------------


def test_one_snapshot_a_day_and_running_again_updates_it(healthy):
    first = security_snapshot_take(healthy)
    assert (first.taken_on, first.score, first.authorization_ok) == (date(2026, 3, 10), 100, True)
    assert {row["requirement_type"] for row in first.requirements} >= {RT.MFA_FOR_ADMINS, RT.NO_DAP}

    UserFactory(organization=healthy, roles=[Role.GLOBAL_ADMIN])
    again = security_snapshot_take(healthy)

    assert again.pk == first.pk
    assert (again.score, again.earned, again.possible, again.authorization_ok) == (55, 30, 55, False)
    assert SecurityScoreSnapshot.objects.filter(organization=healthy).count() == 1


def test_snapshots_of_other_days_are_kept(healthy):
    security_snapshot_take(healthy, on=date(2026, 3, 9))
    security_snapshot_take(healthy)

    assert list(
        SecurityScoreSnapshot.objects.filter(organization=healthy).values_list("taken_on", flat=True)
    ) == [date(2026, 3, 10), date(2026, 3, 9)]


def test_snapshots_take_all_covers_every_organization(healthy, org_b):
    OrganizationFactory()

    assert security_snapshots_take_all() == 3
    assert SecurityScoreSnapshot.objects.filter(taken_on=date(2026, 3, 10)).count() == 3


# --- Action Center --------------------------------------------------------------------------------


def requirement_items(organization):
    return ActionItem.objects.filter(
        organization=organization, code=ActionItemCode.SECURITY_REQUIREMENT_FAILED
    ).order_by("dedupe_key")


def test_each_failed_mandatory_requirement_raises_one_item(org_a, alice):
    UserFactory(organization=org_a, roles=[Role.ADMIN_AGENT])  # an admin without MFA
    SecurityAlertFactory(organization=org_a, created_at=NOW - timedelta(days=3))  # open for 72 h

    security_snapshot_take(org_a)
    security_snapshot_take(org_a)  # idempotent

    items = list(requirement_items(org_a))
    assert [item.dedupe_key for item in items] == sorted(
        requirement_dedupe_key(t) for t in (RT.MFA_FOR_ADMINS, RT.SECURITY_CONTACT, RT.ALERTS_RESOLVED)
    )
    for item in items:
        assert item.status == ActionItemStatus.OPEN
        assert sorted(item.audience_roles) == [Role.ADMIN_AGENT, Role.GLOBAL_ADMIN]
        assert item.target_url.startswith("/security/")


def test_an_item_is_resolved_when_its_requirement_passes(org_a, alice):
    confirm_totp(alice)
    security_snapshot_take(org_a)
    item = requirement_items(org_a).get()
    assert item.dedupe_key == requirement_dedupe_key(RT.SECURITY_CONTACT)

    security_settings_update(actor=alice, organization=org_a, security_contact_email="sec@alpha.example")

    item.refresh_from_db()
    assert item.status == ActionItemStatus.RESOLVED


def test_recommended_rows_and_advisories_raise_no_requirement_item(healthy):
    DapRelationshipFactory(organization=healthy)
    customers_with_mfa(healthy, compliant=0, total=1)

    security_requirements_sync_action_items(healthy, security_score(healthy))

    assert not requirement_items(healthy).exists()


def test_people_without_mfa_raise_the_mfa_not_enrolled_item(healthy, bob):
    security_snapshot_take(healthy)
    item = ActionItem.objects.get(organization=healthy, code=ActionItemCode.MFA_NOT_ENROLLED)
    assert item.title == "1 person without MFA"

    confirm_totp(bob)
    security_snapshot_take(healthy)

    item.refresh_from_db()
    assert item.status == ActionItemStatus.RESOLVED
