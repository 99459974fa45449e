"""Each list of the Security workspace filters with one FilterSet, the same for its page and its API:
the same parameters give the same rows in both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.roles import Role
from security.choices import GLOBAL_ADMINISTRATOR_ROLE_ID, AlertStatus, AlertType, GdapStatus, MfaMechanism
from security.models import TrainingCourse
from security.services.settings import user_mfa_policy_set
from tests.conftest import confirm_totp
from tests.factories import (
    CustomerFactory,
    CustomerMfaStatFactory,
    DapRelationshipFactory,
    GdapRelationshipFactory,
    SecurityAlertFactory,
    TrainingAssignmentFactory,
    UserFactory,
    active_gdap_relationship,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/security"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
ROLES = (Role.GLOBAL_ADMIN, Role.ADMIN_AGENT)


@pytest.fixture
def page(org_a, verified_client):
    person = UserFactory(organization=org_a, email="gina@alpha.example", roles=list(ROLES))
    return verified_client(person)


@pytest.fixture
def api(org_a, api_for):
    return api_for(org_a, scopes=("security:read",), roles=ROLES)


def api_ids(api, path: str, params: dict, key: str = "id") -> set:
    response = api.get(f"{BASE}/{path}", params)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return {row[key] for row in body.get("results", body.get("value"))}


def page_context(page, name: str, params: dict):
    response = page.get(reverse(name), params)
    assert response.status_code == 200, response.content[:300]
    return response.context


def test_gdap_relationships(org_a, org_b, page, api):
    contoso = CustomerFactory(organization=org_a, name="Contoso")
    active_gdap_relationship(org_a, customer=contoso, display_name="Contoso-Helpdesk")
    active_gdap_relationship(org_a, display_name="With GA", roles=[HELPDESK, GLOBAL_ADMINISTRATOR_ROLE_ID])
    active_gdap_relationship(org_a, display_name="Extends", auto_extend_duration=timedelta(days=180))
    GdapRelationshipFactory(organization=org_a, display_name="Draft")
    active_gdap_relationship(org_b, display_name="Theirs")

    for params in (
        {},
        {"status": GdapStatus.ACTIVE},
        {"status": GdapStatus.CREATED},
        {"q": "contoso"},
        {"globalAdmin": "true"},
        {"globalAdmin": "false"},
        {"autoExtend": "true"},
        {"customerTenantId": str(contoso.tenant_id)},
        {"status": GdapStatus.ACTIVE, "globalAdmin": "false", "q": "e"},
    ):
        shown = {rel.relationship_id for rel in page_context(page, "security:gdap-list", params)["page"].rows}
        assert shown == api_ids(api, "gdap/relationships/", params), params
    everything = page_context(page, "security:gdap-list", {})["page"].rows
    assert {rel.display_name for rel in everything} == {"Contoso-Helpdesk", "With GA", "Extends", "Draft"}


def test_dap_links(org_a, page, api):
    DapRelationshipFactory(organization=org_a, customer__name="Old Contoso")
    DapRelationshipFactory(organization=org_a, customer__name="Old Fabrikam", removed_at=timezone.now())
    for params in (
        {"removed": "false"},
        {"removed": "true"},
        {"removed": ""},
        {"removed": "", "q": "fabrikam"},
    ):
        shown = {dap.pk for dap in page_context(page, "security:dap-list", params)["page"].rows}
        assert shown == api_ids(api, "dap/", params), params
    # Without the parameter the page lists what is left to remove: the API's `removed=false`.
    shown = {dap.pk for dap in page_context(page, "security:dap-list", {})["page"].rows}
    assert shown == api_ids(api, "dap/", {"removed": "false"})


def test_alerts(org_a, page, api):
    contoso = CustomerFactory(organization=org_a, name="Contoso")
    SecurityAlertFactory(organization=org_a, title="Crypto mining", alert_type=AlertType.CRYPTO_MINING)
    SecurityAlertFactory(organization=org_a, title="Sign-in", customer=contoso)
    SecurityAlertFactory(
        organization=org_a,
        title="Answered",
        status=AlertStatus.RESOLVED,
        responded_at=timezone.now(),
        response_note="done",
    )
    for params in (
        {},
        {"status": AlertStatus.ACTIVE},
        {"alertType": AlertType.CRYPTO_MINING},
        {"q": "contoso"},
        {"customerTenantId": str(contoso.tenant_id)},
    ):
        shown = {alert.pk for alert in page_context(page, "security:alerts", params)["page"].rows}
        assert shown == api_ids(api, "alerts/", params), params


def test_customer_mfa(org_a, page, api):
    CustomerMfaStatFactory(organization=org_a, customer__name="Contoso", admins_with_mfa=3, admins_total=3)
    CustomerMfaStatFactory(organization=org_a, customer__name="Fabrikam", admins_with_mfa=1, admins_total=3)
    CustomerFactory(organization=org_a, name="Northwind")  # no figures: in neither list
    for params in ({}, {"compliant": "true"}, {"compliant": "false"}, {"q": "fabri"}):
        shown = {stat.pk for stat in page_context(page, "security:customers-mfa", params)["page"].rows}
        assert shown == api_ids(api, "mfa/customers/", params), params


def test_mfa_people(org_a, alice, bob, page, api):
    confirm_totp(alice)
    user_mfa_policy_set(actor=alice, user=bob, per_user_mfa_enabled=True, third_party_mfa=False)
    for params in (
        {},
        {"registered": "true"},
        {"registered": "false"},
        {"admin": "true"},
        {"admin": "false"},
        {"mechanism": MfaMechanism.PER_USER_MFA},
        {"search": "BOB"},
    ):
        shown = {row.user.user_id for row in page_context(page, "security:mfa", params)["rows"]}
        assert shown == api_ids(api, "mfa/users/", params), params


def test_trainings(org_a, alice, bob, page, api):
    courses = list(TrainingCourse.objects.order_by("code")[:2])
    today = timezone.localdate()
    TrainingAssignmentFactory(organization=org_a, user=alice, course=courses[0])
    TrainingAssignmentFactory(
        organization=org_a, user=bob, course=courses[1], due_on=today - timedelta(days=1)
    )
    TrainingAssignmentFactory(
        organization=org_a, user=bob, course=courses[0], completed_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    TrainingAssignmentFactory(organization=org_a, user=alice, course=courses[1], canceled_at=timezone.now())
    for params in (
        {"status": "assigned"},
        {"status": "overdue"},
        {"status": "completed"},
        {"status": "canceled"},
        {"status": "assigned", "courseCode": courses[0].code},
        {"status": "overdue", "userId": str(bob.pk)},
        {"status": "completed", "q": "bob"},
    ):
        shown = {row.pk for row in page_context(page, "security:training", params)["assignments"]}
        assert shown == api_ids(api, "trainings/", params), params
