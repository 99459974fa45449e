"""The vendor-side API: vendor clients (no organization, feed scopes) push customers in bulk,
idempotently, with a result per record; vendor and partner tokens never cross."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Customer
from accounts.services.vendor_clients import vendor_client_create
from tests.contracts.routes import all_routes
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

FEEDS = [route for route in all_routes() if route.pattern.startswith("api/v1/vendor/") and not route.kwargs]
CUSTOMERS = "/api/v1/vendor/customers/"


@pytest.fixture
def vendor_staff(db):
    return UserFactory(organization=None, is_staff=True)


def _vendor_api(staff, scopes=("vendor.customers:read", "vendor.customers:write")) -> APIClient:
    client, secret = vendor_client_create(
        actor=staff, name=f"billing-{uuid.uuid4().hex[:6]}", scopes=list(scopes)
    )
    credentials = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials", "scope": " ".join(scopes)}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert response.status_code == 200, response.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return api


def _customer(partner: str, tenant: uuid.UUID, domain: str, name: str, country: str = "US") -> dict:
    return {
        "partnerId": partner,
        "companyProfile": {"tenantId": str(tenant), "domain": domain, "companyName": name},
        "billingProfile": {"defaultAddress": {"country": country}},
    }


@pytest.fixture
def partner():
    return OrganizationFactory(partner_global_id="4800001", country="DE")


def test_a_vendor_client_pushes_customers_and_the_same_body_twice_changes_nothing(vendor_staff, partner):
    api = _vendor_api(vendor_staff)
    tenants = [uuid.uuid4() for _ in range(3)]
    body = [
        _customer("4800001", tenant, f"c{n}.example", f"Customer {n}") for n, tenant in enumerate(tenants)
    ]
    first = api.post(CUSTOMERS, body, format="json")
    assert first.status_code == 200, first.content
    assert (first.json()["created"], first.json()["rejected"]) == (3, 0)
    assert [r["outcome"] for r in first.json()["value"]] == ["created"] * 3
    stored = Customer.objects.filter(organization=partner)
    assert {c.tenant_id for c in stored} == set(tenants)
    second = api.post(CUSTOMERS, {"value": body}, format="json")
    assert (second.json()["created"], second.json()["updated"], second.json()["unchanged"]) == (0, 0, 3)
    body[1]["companyProfile"]["companyName"] = "Renamed"
    third = api.post(CUSTOMERS, body, format="json")
    assert [r["outcome"] for r in third.json()["value"]] == ["unchanged", "updated", "unchanged"]
    assert Customer.objects.get(tenant_id=tenants[1]).name == "Renamed"
    assert stored.count() == 3


def test_every_bad_record_is_rejected_with_every_reason_and_the_others_written(vendor_staff, partner):
    api = _vendor_api(vendor_staff)
    body = [
        _customer("4800001", uuid.uuid4(), "good.example", "Good"),
        _customer("9999999", uuid.uuid4(), "orphan.example", "Orphan"),
        {"partnerId": "48", "companyProfile": {"tenantId": "not-a-guid", "domain": "x", "companyName": ""}},
    ]
    response = api.post(CUSTOMERS, body, format="json")
    assert response.status_code == 200
    results = response.json()["value"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "rejected"]
    assert results[1]["errors"] == [
        {
            "property": "partnerId",
            "value": "9999999",
            "reason": "is not a partner organization of this portal",
        }
    ]
    # Each problem names the property as the record sent it.
    assert {e["property"] for e in results[2]["errors"]} == {
        "partnerId",
        "companyProfile.tenantId",
        "companyProfile.domain",
        "companyProfile.companyName",
    }
    assert Customer.objects.filter(organization=partner).count() == 1


def test_unknown_properties_are_reported_not_dropped_silently(vendor_staff, partner):
    api = _vendor_api(vendor_staff)
    record = {**_customer("4800001", uuid.uuid4(), "a.example", "A"), "relationshipToPartner": "reseller"}
    response = api.post(CUSTOMERS, [record], format="json")
    assert response.json()["unknownProperties"] == ["relationshipToPartner"]


def test_a_body_over_the_limit_is_refused_with_the_way_to_send_it(vendor_staff, partner):
    api = _vendor_api(vendor_staff)
    body = [_customer("4800001", uuid.uuid4(), f"c{n}.example", "C") for n in range(1001)]
    response = api.post(CUSTOMERS, body, format="json")
    assert response.status_code == 400
    assert "Send more as a file" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_file_is_imported_as_a_job(vendor_staff, partner, django_capture_on_commit_callbacks):
    api = _vendor_api(vendor_staff)
    tenant = uuid.uuid4()
    content = f"partnerId,TenantId,Domain,CompanyName\n4800001,{tenant},f.example,From a file\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            CUSTOMERS, {"file": SimpleUploadedFile("customers.csv", content)}, format="multipart"
        )
    assert response.status_code == 202, response.content
    status = api.get(response["Location"])
    assert status.status_code == 200
    assert (status.json()["status"], status.json()["result"]["created"]) == ("succeeded", 1)
    assert Customer.objects.get(tenant_id=tenant).organization == partner


def test_a_vendor_client_without_the_feeds_scope_is_refused(vendor_staff, partner):
    api = _vendor_api(vendor_staff, scopes=("vendor.subscriptions:write",))
    response = api.post(CUSTOMERS, [_customer("4800001", uuid.uuid4(), "a.example", "A")], format="json")
    assert response.status_code == 403
    assert "vendor.customers:write" in response.content.decode()


def test_partner_tokens_never_reach_a_vendor_feed(api_for, org_a):
    api = api_for(org_a, scopes=("accounts:read", "accounts:write"))
    assert FEEDS, "the vendor feeds are routed"
    for route in FEEDS:
        path = route.path_for()
        assert api.get(path).status_code == 401, path
        assert api.post(path, [], format="json").status_code == 401, path


def test_vendor_tokens_never_act_as_a_partner(vendor_staff, partner):
    api = _vendor_api(vendor_staff)
    partner_routes = [
        route
        for route in all_routes()
        if route.is_api and not route.pattern.startswith("api/v1/vendor/") and not route.kwargs
    ]
    assert partner_routes
    for route in partner_routes:
        path = route.path_for()
        assert api.get(path).status_code in (401, 403), path


def test_a_vendor_job_of_another_client_is_not_found(
    vendor_staff, partner, django_capture_on_commit_callbacks
):
    first, second = _vendor_api(vendor_staff), _vendor_api(vendor_staff)
    content = f"partnerId,TenantId,Domain,CompanyName\n4800001,{uuid.uuid4()},g.example,G\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        started = first.post(CUSTOMERS, {"file": SimpleUploadedFile("c.csv", content)}, format="multipart")
    assert second.get(started["Location"]).status_code == 404
    assert reverse("vendor-job", args=[1]).startswith("/api/v1/vendor/jobs/")
