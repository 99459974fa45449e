"""`/api/v1/accounts/customers/` in Partner Center's Customer shape: reads, lookup by tenant ID,
create in Partner Center's body (and the old flat one), PUT/PATCH, unknown properties, bad input."""

import uuid
from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from accounts.api_customers import CustomerColumnsSerializer, CustomerSerializer, customer_document
from accounts.models import Customer
from portal.api import plain_columns
from portal.models import AuditEvent
from portal.roles import Role
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/accounts/customers/"
TENANT = uuid.UUID("2d9a5b63-2a4f-4d7e-9d2a-8a5f0c7b1e11")


def _pc_body(**overrides):
    """Partner Center's create-customer body (learn.microsoft.com, "Create a customer")."""
    body = {
        "companyProfile": {"domain": "contoso.onmicrosoft.com"},
        "billingProfile": {
            "companyName": "Contoso",
            "defaultAddress": {"country": "US"},
        },
    }
    body.update(overrides)
    return body


def test_a_customer_reads_as_partner_centers_customer_resource(api_for, org_a):
    customer = CustomerFactory(
        organization=org_a,
        name="Contoso",
        domain="contoso.onmicrosoft.com",
        tenant_id=TENANT,
        country="US",
        segment="education",
        employee_count=250,
        created_at=datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
    )
    expected = {
        "id": str(TENANT),
        "companyProfile": {
            "tenantId": str(TENANT),
            "domain": "contoso.onmicrosoft.com",
            "companyName": "Contoso",
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "billingProfile": {
            "companyName": "Contoso",
            "defaultAddress": {"country": "US"},
            "attributes": {"objectType": "CustomerBillingProfile"},
        },
        "portalProfile": {
            "id": customer.pk,
            "segment": "education",
            "employeeCount": 250,
            "createdDateTime": "2024-05-01T08:30:00Z",
        },
        "attributes": {"objectType": "Customer"},
    }
    api = api_for(org_a)
    assert api.get(CUSTOMERS).json()["results"] == [expected]
    assert api.get(f"{CUSTOMERS}{TENANT}/").json() == expected


def test_the_fast_rows_and_the_declared_fields_render_the_same_document(org_a):
    """The list renders dict rows in one step; the declared fields (the schema) must agree."""
    CustomerFactory(organization=org_a, employee_count=None)
    CustomerFactory(organization=org_a, employee_count=12, segment="charity")
    columns = plain_columns(CustomerColumnsSerializer)
    rows = list(Customer.objects.order_by("-id").values(*columns))
    objects = list(Customer.objects.order_by("-id"))
    fast = CustomerSerializer(rows, many=True).data
    assert fast == CustomerSerializer(objects, many=True).data
    declared = [serializers.Serializer.to_representation(CustomerSerializer(), obj) for obj in objects]
    assert fast == declared
    assert fast[1]["portalProfile"]["employeeCount"] is None


def test_the_document_is_built_from_the_columns_only(org_a):
    customer = CustomerFactory(organization=org_a)
    columns = plain_columns(CustomerColumnsSerializer)
    assert set(CustomerColumnsSerializer(customer).data) == set(columns)
    row = {name: getattr(customer, name) for name in columns}  # as a list's dict row holds them
    document = customer_document(row)
    assert document["portalProfile"]["id"] == customer.pk and document["id"] == str(customer.tenant_id)


def test_lookup_by_tenant_id_and_by_the_old_number(api_for, org_a, org_b):
    customer = CustomerFactory(organization=org_a, tenant_id=TENANT)
    api = api_for(org_a)
    by_tenant = api.get(f"{CUSTOMERS}{TENANT}/")
    assert by_tenant.status_code == 200
    assert by_tenant.json()["id"] == str(TENANT)
    # Links made when `id` was the portal's number keep working.
    assert api.get(f"{CUSTOMERS}{customer.pk}/").json() == by_tenant.json()
    assert api.get(f"{CUSTOMERS}{str(TENANT).upper()}/").status_code == 200
    assert api.get(f"{CUSTOMERS}{uuid.uuid4()}/").status_code == 404
    assert api.get(f"{CUSTOMERS}not-a-tenant/").status_code == 404
    assert api.get(f"{CUSTOMERS}{'9' * 30}/").status_code == 404
    # Another organization's customer with the same tenant (an indirect provider and its reseller).
    theirs = CustomerFactory(organization=org_b, tenant_id=TENANT, name="Theirs")
    assert api.get(f"{CUSTOMERS}{TENANT}/").json()["portalProfile"]["id"] == customer.pk
    assert api.get(f"{CUSTOMERS}{theirs.pk}/").status_code == 404


def test_the_list_filters_and_pages_as_before(api_for, org_a):
    CustomerFactory(organization=org_a, name="Fabrikam", country="FR")
    CustomerFactory.create_batch(6, organization=org_a, country="DE")
    api = api_for(org_a)
    rows = api.get(CUSTOMERS, {"country": "fr"}).json()["results"]
    assert [row["companyProfile"]["companyName"] for row in rows] == ["Fabrikam"]
    assert rows[0]["billingProfile"]["defaultAddress"]["country"] == "FR"
    page = api.get(CUSTOMERS, {"page_size": 5}).json()
    rest = api.get(page["next"]).json()
    seen = [row["id"] for row in page["results"] + rest["results"]]
    assert len(seen) == len(set(seen)) == 7


def test_it_creates_a_customer_from_partner_centers_body(api_for, org_a):
    body = _pc_body()
    body["companyProfile"]["tenantId"] = str(TENANT)
    body["portalProfile"] = {"segment": "government", "employeeCount": 40}
    response = api_for(org_a).post(CUSTOMERS, body)
    assert response.status_code == 201, response.json()
    document = response.json()
    assert document["id"] == document["companyProfile"]["tenantId"] == str(TENANT)
    assert document["billingProfile"]["defaultAddress"] == {"country": "US"}
    assert document["portalProfile"]["segment"] == "government"
    assert document["unknownProperties"] == []
    customer = Customer.objects.get(organization=org_a)
    assert (customer.name, customer.domain, customer.country, customer.tenant_id) == (
        "Contoso",
        "contoso.onmicrosoft.com",
        "US",
        TENANT,
    )
    assert (customer.segment, customer.employee_count) == ("government", 40)
    assert AuditEvent.objects.filter(action="customer.created", target_id=str(customer.pk)).exists()


def test_a_customer_created_without_a_tenant_gets_one_and_the_defaults(api_for, org_a):
    response = api_for(org_a).post(CUSTOMERS, _pc_body())
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(organization=org_a)
    assert response.json()["id"] == str(customer.tenant_id)
    assert (customer.segment, customer.employee_count) == ("commercial", None)


def test_the_company_profiles_name_is_taken_and_must_agree(api_for, org_a):
    api = api_for(org_a)
    body = _pc_body()
    body["companyProfile"]["companyName"] = "Contoso Ltd"
    response = api.post(CUSTOMERS, body)
    assert response.status_code == 400
    assert "Contoso" in response.json()["errors"]["companyProfile.companyName"][0]
    body["companyProfile"]["companyName"] = "Contoso"
    assert api.post(CUSTOMERS, body).status_code == 201


def test_partner_centers_properties_the_portal_does_not_hold_are_reported(api_for, org_a):
    body = _pc_body(relationshipToPartner="reseller", id="ignored", attributes={"objectType": "Customer"})
    body["billingProfile"].update(email="ops@contoso.example", culture="EN-US", language="En")
    body["billingProfile"]["defaultAddress"].update(city="Redmond", postalCode="98052")
    body["companyProfile"]["attributes"] = {"objectType": "CustomerCompanyProfile"}
    response = api_for(org_a).post(CUSTOMERS, body)
    assert response.status_code == 201, response.json()
    # Read-only properties of the resource (id, attributes) are known: ignored, not reported.
    assert response.json()["unknownProperties"] == [
        "billingProfile.defaultAddress.city",
        "billingProfile.defaultAddress.postalCode",
        "billingProfile.email",
        "billingProfile.culture",
        "billingProfile.language",
        "relationshipToPartner",
    ]
    assert Customer.objects.get(organization=org_a).tenant_id != "ignored"


def test_bad_input_is_a_400_naming_each_property_and_its_value(api_for, org_a):
    body = {
        "companyProfile": {"domain": "not a domain", "tenantId": "not-a-guid"},
        "billingProfile": {"companyName": "Contoso", "defaultAddress": {"country": "Germany"}},
        "portalProfile": {"segment": "retail", "employeeCount": -1},
    }
    response = api_for(org_a).post(CUSTOMERS, body)
    assert response.status_code == 400
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    errors = problem["errors"]
    assert set(errors) == {
        "companyProfile.domain",
        "companyProfile.tenantId",
        "billingProfile.defaultAddress.country",
        "portalProfile.segment",
        "portalProfile.employeeCount",
    }
    assert '"not a domain"' in errors["companyProfile.domain"][0]
    assert '"not-a-guid"' in errors["companyProfile.tenantId"][0]
    assert '"Germany"' in errors["billingProfile.defaultAddress.country"][0]
    assert '"retail"' in errors["portalProfile.segment"][0]
    assert "-1" in errors["portalProfile.employeeCount"][0]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("country", ["XX", "UK", "D", "DEU", "", 49])
def test_a_country_must_be_an_iso_code(api_for, org_a, country):
    body = _pc_body()
    body["billingProfile"]["defaultAddress"]["country"] = country
    response = api_for(org_a).post(CUSTOMERS, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["billingProfile.defaultAddress.country"]


def test_missing_properties_are_named_by_their_path(api_for, org_a):
    response = api_for(org_a).post(CUSTOMERS, {"companyProfile": {}, "billingProfile": {}})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "companyProfile.domain",
        "billingProfile.companyName",
        "billingProfile.defaultAddress",
    }
    response = api_for(org_a).post(CUSTOMERS, {"companyProfile": "contoso.example", "billingProfile": {}})
    assert "companyProfile" in response.json()["errors"]
    response = api_for(org_a).post(CUSTOMERS, [_pc_body()])
    assert response.status_code == 400


def test_the_services_refusals_name_the_property_too(api_for, org_a):
    CustomerFactory(organization=org_a, domain="contoso.onmicrosoft.com", tenant_id=TENANT)
    api = api_for(org_a)
    response = api.post(CUSTOMERS, _pc_body())
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["companyProfile.domain"][0]
    body = _pc_body(companyProfile={"domain": "other.example", "tenantId": str(TENANT)})
    response = api.post(CUSTOMERS, body)
    assert list(response.json()["errors"]) == ["companyProfile.tenantId"]
    body = _pc_body(companyProfile={"domain": "third.example"})
    body["billingProfile"]["companyName"] = "=HYPERLINK()"
    response = api.post(CUSTOMERS, body)
    assert response.status_code == 400
    assert "=HYPERLINK()" in response.json()["errors"]["billingProfile.companyName"][0]


def test_the_old_flat_body_still_creates_a_customer(api_for, org_a):
    api = api_for(org_a)
    body = {"name": "Contoso", "domain": "contoso.example", "country": "de", "segment": "education"}
    response = api.post(CUSTOMERS, {**body, "employee_count": 7, "notes": "x"})
    assert response.status_code == 201, response.json()
    document = response.json()
    assert document["billingProfile"]["defaultAddress"]["country"] == "DE"
    assert document["portalProfile"]["segment"] == "education"
    assert document["unknownProperties"] == ["notes"]
    response = api.post(CUSTOMERS, {"name": "", "domain": "x", "country": "Germany", "segment": "retail"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "domain", "country", "segment"}


def test_patch_changes_what_is_sent_through_the_service(api_for, org_a):
    customer = CustomerFactory(
        organization=org_a, name="Contoso", domain="contoso.example", segment="education", employee_count=9
    )
    api = api_for(org_a)
    response = api.patch(
        f"{CUSTOMERS}{customer.tenant_id}/",
        {"billingProfile": {"defaultAddress": {"country": "fr"}}, "portalProfile": {"employeeCount": None}},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["unknownProperties"] == []
    customer.refresh_from_db()
    assert (customer.name, customer.domain, customer.country) == ("Contoso", "contoso.example", "FR")
    assert (customer.segment, customer.employee_count) == ("education", None)
    event = AuditEvent.objects.get(action="customer.updated", target_id=str(customer.pk))
    assert event.changes["country"] == ["DE", "FR"]
    renamed = api.patch(f"{CUSTOMERS}{customer.pk}/", {"companyProfile": {"companyName": "Contoso AG"}})
    assert renamed.json()["billingProfile"]["companyName"] == "Contoso AG"


def test_put_replaces_partner_centers_properties_and_keeps_the_portals(api_for, org_a):
    customer = CustomerFactory(organization=org_a, segment="charity", employee_count=3)
    new_tenant = uuid.uuid4()
    body = _pc_body()
    body["companyProfile"]["tenantId"] = str(new_tenant)
    api = api_for(org_a)
    response = api.put(f"{CUSTOMERS}{customer.tenant_id}/", body)
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == str(new_tenant)
    customer.refresh_from_db()
    assert (customer.name, customer.country, customer.tenant_id) == ("Contoso", "US", new_tenant)
    assert (customer.segment, customer.employee_count) == ("charity", 3)
    # PUT needs the whole of Partner Center's body.
    response = api.put(f"{CUSTOMERS}{new_tenant}/", {"companyProfile": {"domain": "x.example"}})
    assert response.status_code == 400
    assert "billingProfile" in response.json()["errors"]


def test_an_update_clashing_with_another_customer_is_a_400(api_for, org_a):
    CustomerFactory(organization=org_a, domain="taken.example")
    customer = CustomerFactory(organization=org_a)
    response = api_for(org_a).patch(
        f"{CUSTOMERS}{customer.tenant_id}/", {"companyProfile": {"domain": "TAKEN.example"}}
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["companyProfile.domain"][0]


def test_writes_need_the_manage_capability_and_the_write_scope(api_for, org_a):
    customer = CustomerFactory(organization=org_a)
    path = f"{CUSTOMERS}{customer.tenant_id}/"
    reader = api_for(org_a, scopes=("accounts:read",))
    assert reader.get(path).status_code == 200
    assert reader.patch(path, {"portalProfile": {"employeeCount": 1}}).status_code == 403
    viewer = api_for(org_a, roles=(Role.HELPDESK_AGENT,))
    assert viewer.get(path).status_code == 200
    assert viewer.patch(path, {"portalProfile": {"employeeCount": 1}}).status_code == 403
    assert viewer.put(path, _pc_body()).status_code == 403
    assert viewer.post(CUSTOMERS, _pc_body()).status_code == 403
    customer.refresh_from_db()
    assert customer.employee_count is None


def test_the_schema_documents_the_customer_resource(api_for, org_a):
    document = api_for(org_a).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    schemas = document["components"]["schemas"]
    customer = schemas["Customer"]
    assert list(customer["properties"]) == [
        "id",
        "companyProfile",
        "billingProfile",
        "portalProfile",
        "attributes",
    ]
    for name in ("Customer", "CustomerCompanyProfile", "CustomerBillingProfile", "CustomerPortalProfile"):
        for prop, spec in schemas[name]["properties"].items():
            assert spec.get("description") or any("description" in s for s in spec.get("allOf", [])), (
                f"{name}.{prop} is undocumented"
            )
    detail = document["paths"]["/api/v1/accounts/customers/{id}/"]
    assert {"get", "put", "patch"} <= set(detail)
    parameter = next(p for p in detail["get"]["parameters"] if p["name"] == "id")
    assert parameter["schema"]["format"] == "uuid"
    assert "unknownProperties" in schemas["CustomerWriteResult"]["properties"]
