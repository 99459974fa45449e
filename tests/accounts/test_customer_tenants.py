"""Customers are real tenants: the tenant ID is given (by the partner, a file or a feed), unique per
organization only; partners add and edit customers; Microsoft's BAM customers.csv imports as is."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Customer
from accounts.services import customers
from accounts.services.customer_import import customers_import_start
from portal.choices import JobStatus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TENANT = uuid.UUID("2d9a5b63-2a4f-4d7e-9d2a-8a5f0c7b1e11")


def _import(user, content: bytes, capture, **kwargs):
    with capture(execute=True):
        job = customers_import_start(
            actor=user,
            organization=user.organization,
            upload=SimpleUploadedFile("customers.csv", content),
            **kwargs,
        )
    job.refresh_from_db()
    return job


def test_the_same_tenant_may_be_a_customer_of_two_partners(alice, charlie):
    for user in (alice, charlie):
        customers.customer_create(
            actor=user,
            organization=user.organization,
            name="Contoso",
            domain="contoso.example",
            country="DE",
            segment="commercial",
            tenant_id=TENANT,
        )
    assert Customer.objects.filter(tenant_id=TENANT).count() == 2


def test_a_tenant_is_one_customer_within_an_organization(alice):
    CustomerFactory(organization=alice.organization, tenant_id=TENANT, domain="a.example")
    with pytest.raises(ValidationError) as refused:
        customers.customer_create(
            actor=alice,
            organization=alice.organization,
            name="Other",
            domain="b.example",
            country="DE",
            segment="commercial",
            tenant_id=TENANT,
        )
    assert "tenant_id" in refused.value.message_dict


def test_a_partner_adds_a_customer_with_its_tenant_id_and_edits_it(alice, verified_client):
    client = verified_client(alice)
    response = client.post(
        reverse("accounts:customer-create"),
        {
            "name": "Contoso",
            "tenant_id": str(TENANT),
            "domain": "contoso.example",
            "country": "de",
            "segment": "commercial",
        },
    )
    customer = Customer.objects.get(organization=alice.organization, domain="contoso.example")
    assert response["Location"] == reverse("accounts:customer-detail", args=[customer.pk])
    assert customer.tenant_id == TENANT
    page = client.get(reverse("accounts:customer-detail", args=[customer.pk])).content.decode()
    assert reverse("accounts:customer-edit", args=[customer.pk]) in page
    edit = client.get(reverse("accounts:customer-edit", args=[customer.pk]))
    assert str(TENANT) in edit.content.decode()
    other = uuid.uuid4()
    response = client.post(
        reverse("accounts:customer-edit", args=[customer.pk]),
        {
            "name": "Contoso Ltd",
            "tenant_id": str(other),
            "domain": "contoso.example",
            "country": "DE",
            "segment": "education",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.tenant_id, customer.segment) == ("Contoso Ltd", other, "education")


def test_another_organizations_customer_cannot_be_edited(alice, charlie, verified_client):
    foreign = CustomerFactory(organization=charlie.organization)
    response = verified_client(alice).get(reverse("accounts:customer-edit", args=[foreign.pk]))
    assert response.status_code == 404


BAM_CUSTOMERS = (
    "TenantId,Domain,CompanyName\r\n"
    f"{TENANT},contoso.onmicrosoft.com,Contoso Ltd\r\n"
    "6c1f4a1e-0b3a-4c55-9a8e-0f1d2e3c4b5a,fabrikam.onmicrosoft.com,Fabrikam Inc\r\n"
)


def test_the_bam_tools_customers_csv_imports_as_is(alice, django_capture_on_commit_callbacks):
    alice.organization.country = "AT"
    alice.organization.save()
    job = _import(alice, BAM_CUSTOMERS.encode(), django_capture_on_commit_callbacks)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    contoso = Customer.objects.get(organization=alice.organization, domain="contoso.onmicrosoft.com")
    assert (contoso.name, contoso.tenant_id, contoso.country, contoso.segment) == (
        "Contoso Ltd",
        TENANT,
        "AT",
        "commercial",
    )
    # An empty cell leaves what is known: the country set later stays on a re-import.
    contoso.country = "DE"
    contoso.save()
    again = _import(alice, BAM_CUSTOMERS.encode(), django_capture_on_commit_callbacks)
    assert (again.result["created"], again.result["updated"], again.result["unchanged"]) == (0, 0, 2)
    contoso.refresh_from_db()
    assert contoso.country == "DE"


def test_a_tenant_id_repeated_or_held_by_another_customer_is_a_row_problem(
    alice, django_capture_on_commit_callbacks
):
    CustomerFactory(organization=alice.organization, tenant_id=TENANT, domain="old.example")
    content = (
        "TenantId,Domain,CompanyName\n"
        f"{TENANT},new.example,New\n"
        "6c1f4a1e-0b3a-4c55-9a8e-0f1d2e3c4b5a,one.example,One\n"
        "6c1f4a1e-0b3a-4c55-9a8e-0f1d2e3c4b5a,two.example,Two\n"
    ).encode()
    job = _import(alice, content, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED
    problems = {(e["row"], e["column"]): e["message"] for e in job.import_errors}
    assert "another of your customers" in problems[(2, "tenant_id")]
    assert "earlier row" in problems[(4, "tenant_id")]
    assert set(problems) == {(2, "tenant_id"), (4, "tenant_id")}
