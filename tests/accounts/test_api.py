import base64
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Customer
from accounts.services import api_clients, people
from portal.api_policy import OrganizationRateThrottle, throttle_key
from portal.cache import redis_client
from portal.models import AuditEvent
from portal.roles import Role
from tests.conftest import token_for
from tests.factories import ActionItemFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/accounts/customers/"


def test_it_lists_only_the_tokens_organization(api_for, org_a, org_b):
    CustomerFactory(organization=org_a, name="Mine")
    CustomerFactory(organization=org_b, name="Theirs")
    response = api_for(org_a).get(CUSTOMERS)
    assert response.status_code == 200
    assert [row["companyProfile"]["companyName"] for row in response.json()["results"]] == ["Mine"]


def test_it_refuses_a_request_without_a_token():
    response = APIClient().get(CUSTOMERS)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_it_refuses_a_token_without_the_workspace_scope(api_for, org_a):
    response = api_for(org_a, scopes=("earnings:read",)).get(CUSTOMERS)
    assert response.status_code == 403
    assert "accounts:read" in response.json()["detail"]


def test_a_read_scope_cannot_write(api_for, org_a):
    response = api_for(org_a, scopes=("accounts:read",)).post(
        CUSTOMERS, {"name": "X", "domain": "x.example", "country": "DE", "segment": "commercial"}
    )
    assert response.status_code == 403


def test_a_revoked_client_is_refused_at_once(org_a, alice):
    token = token_for(org_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert client.get(CUSTOMERS).status_code == 200
    api_clients.api_client_revoke(actor=alice, client=token.application.api_client)
    response = client.get(CUSTOMERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_expired_token_is_refused(org_a):
    token = token_for(org_a)
    token.expires = timezone.now() - timedelta(seconds=1)
    token.save()
    response = APIClient().get(CUSTOMERS, HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert response.status_code == 401


def test_a_token_in_the_query_string_is_ignored(org_a):
    token = token_for(org_a)
    assert APIClient().get(CUSTOMERS, {"access_token": token.token}).status_code == 401


def test_the_roles_of_the_client_limit_what_it_may_do(api_for, org_a):
    response = api_for(org_a, roles=(Role.INCENTIVES_USER,)).get(CUSTOMERS)
    assert response.status_code == 403


def test_a_browser_session_needs_the_second_factor(alice, client, verified_client):
    client.force_login(alice)
    assert client.get(CUSTOMERS).status_code == 401
    assert verified_client(alice).get(CUSTOMERS).status_code == 200


def test_it_creates_a_customer_and_reports_bad_fields_as_problem_json(api_for, org_a):
    api = api_for(org_a)
    response = api.post(
        CUSTOMERS, {"name": "Contoso", "domain": "contoso.example", "country": "de", "segment": "commercial"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["billingProfile"]["defaultAddress"]["country"] == "DE"
    response = api.post(
        CUSTOMERS, {"name": "", "domain": "not a domain", "country": "Germany", "segment": "retail"}
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/invalid")
    assert set(problem["errors"]) == {"name", "domain", "country", "segment"}
    response = api.post(
        CUSTOMERS, {"name": "Again", "domain": "contoso.example", "country": "DE", "segment": "commercial"}
    )
    assert response.status_code == 400
    assert "already exists" in str(response.json()["errors"]["domain"])
    assert Customer.objects.count() == 1


def test_an_idempotency_key_replays_the_first_answer(api_for, org_a):
    api = api_for(org_a)
    body = {"name": "Fabrikam", "domain": "fabrikam.example", "country": "DE", "segment": "commercial"}
    first = api.post(CUSTOMERS, body, HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post(CUSTOMERS, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
    clash = api.post(CUSTOMERS, {**body, "name": "Other"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert clash.status_code == 400


def test_lists_page_with_a_cursor(api_for, org_a):
    CustomerFactory.create_batch(7, organization=org_a)
    api = api_for(org_a)
    page = api.get(CUSTOMERS, {"page_size": 5}).json()
    assert len(page["results"]) == 5
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 2
    assert rest["next"] is None


def test_it_changes_roles_through_the_api_and_audits_it(api_for, org_a):
    member = UserFactory(organization=org_a, roles=[Role.INCENTIVES_USER])
    response = api_for(org_a).post(
        f"/api/v1/accounts/users/{member.pk}/roles/", {"roles": ["referrals_user"]}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["roles"] == ["referrals_user"]
    assert AuditEvent.objects.filter(action="user.roles_changed", target_id=str(member.pk)).exists()


def test_it_invites_through_the_api(api_for, org_a):
    response = api_for(org_a).post(
        "/api/v1/accounts/invitations/", {"email": "new@alpha.example", "roles": ["developer"]}
    )
    assert response.status_code == 201, response.json()


def test_action_items_move_through_the_api(api_for, org_a):
    item = ActionItemFactory(organization=org_a, severity="high")
    api = api_for(org_a)
    assert api.post(f"/api/v1/accounts/action-items/{item.pk}/dismiss/").status_code == 400
    response = api.post(f"/api/v1/accounts/action-items/{item.pk}/done/")
    assert response.json()["status"] == "resolved"


def test_the_audit_log_filters_by_action(api_for, org_a, alice):
    member = UserFactory(organization=org_a)
    people.user_roles_change(actor=alice, user=member, roles=["developer"])
    rows = api_for(org_a).get("/api/v1/accounts/audit-events/", {"action": "user.roles"}).json()["results"]
    assert [row["action"] for row in rows] == ["user.roles_changed"]


def test_the_roles_table_is_published(api_for, org_a):
    rows = api_for(org_a).get("/api/v1/accounts/roles/").json()
    compliance = next(row for row in rows if row["code"] == "compliance_admin")
    assert "compliance.manage" in compliance["capabilities"]
    assert len(rows) == len(Role)


def test_the_token_endpoint_issues_client_credentials_tokens(alice, client):
    api_client, secret = api_clients.api_client_create(
        actor=alice,
        organization=alice.organization,
        name="ERP",
        scopes=["accounts:read"],
        roles=["account_admin"],
    )
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "accounts:read"},
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"{api_client.application.client_id}:{secret}".encode()).decode(),
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    listed = APIClient().get("/api/v1/accounts/organization/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listed.status_code == 200
    assert listed.json()["results"][0]["partner_global_id"] == alice.organization.partner_global_id


def test_requests_over_the_organizations_budget_are_throttled(api_for, org_a, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"organization": "3/minute"},
    }
    api = api_for(org_a)
    responses = [api.get(CUSTOMERS) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert int(responses[-1]["Retry-After"]) <= 60


def test_concurrent_requests_are_all_counted(org_a, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"organization": "1000/day"},
    }
    request = RequestFactory().get("/")
    request.user = UserFactory.build(organization=org_a)
    with ThreadPoolExecutor(8) as pool:
        allowed = list(
            pool.map(lambda _: OrganizationRateThrottle().allow_request(request, None), range(200))
        )
    assert all(allowed)
    window = int(time.time() // 86400) * 86400
    assert int(redis_client().get(throttle_key("organization", f"org-{org_a.pk}", window))) == 200
