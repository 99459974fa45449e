"""Opportunity files (CSV/XLSX): every row checked first, each bad row named, nothing written on error."""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incentives.models import Opportunity
from incentives.opportunity_import import COLUMNS
from incentives.services.opportunities import opportunities_import
from portal.models import AuditEvent
from portal.uploads import UploadRejected
from tests.factories import CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(org_a):
    return [CustomerFactory(organization=org_a, name=name) for name in ("Northwind", "Fabrikam")]


def row(customer, **overrides) -> dict[str, str]:
    values = {
        "msxOpportunityId": "7-3KXYZ12AB",
        "name": "Northwind datacenter exit",
        "customerTenantId": str(customer.tenant_id),
        "solutionArea": "Infra",
        "estimatedValueUSD": "1200000",
        "sellerName": "Sam Seller",
        "stage": "Develop",
        "sellerEmail": "sam@vendor.example",
        "closeDate": "2026-09-30",
    }
    return {**values, **overrides}


def csv_file(rows: list[dict[str, str]], name: str = "opportunities.csv") -> SimpleUploadedFile:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode())


def xlsx_file(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    pd.DataFrame(rows, columns=COLUMNS).to_excel(buffer, index=False)
    return SimpleUploadedFile("opportunities.xlsx", buffer.getvalue())


def test_a_csv_is_imported_and_a_known_id_updated(org_a, alice, customers):
    OpportunityFactory(
        organization=org_a, customer=customers[1], msx_opportunity_id="7-EXISTING01", stage="Qualify"
    )
    rows = [
        row(customers[0]),
        row(customers[1], msxOpportunityId="7-existing01", stage="Propose", estimatedValueUSD="80,000.50"),
    ]

    report = opportunities_import(organization=org_a, file=csv_file(rows), actor=alice)

    assert (report.created, report.updated) == (1, 1)
    created = Opportunity.objects.get(msx_opportunity_id="7-3KXYZ12AB")
    assert (created.customer, created.estimated_value_usd, created.stage, str(created.close_date)) == (
        customers[0],
        Decimal("1200000.00"),
        "Develop",
        "2026-09-30",
    )
    updated = Opportunity.objects.get(msx_opportunity_id="7-EXISTING01")
    assert (updated.stage, updated.estimated_value_usd) == ("Propose", Decimal("80000.50"))
    assert AuditEvent.objects.filter(action="incentives.opportunities_imported").count() == 1


def test_an_xlsx_is_imported_with_the_default_stage(org_a, alice, customers):
    report = opportunities_import(
        organization=org_a, file=xlsx_file([row(customers[0], stage="", closeDate="")]), actor=alice
    )

    assert report.created == 1
    opportunity = Opportunity.objects.get()
    assert (opportunity.stage, opportunity.close_date) == ("Qualify", None)


ROW_ERRORS = [
    ({"msxOpportunityId": ""}, "msxOpportunityId", "is required"),
    ({"msxOpportunityId": "OPP-1"}, "msxOpportunityId", "is not an MSX opportunity ID"),
    ({"name": ""}, "name", "is required"),
    (
        {"customerTenantId": "00000000-0000-4000-8000-000000000000"},
        "customerTenantId",
        "is not the tenant ID",
    ),
    ({"solutionArea": "Gardening"}, "solutionArea", "is not one of"),
    ({"estimatedValueUSD": "lots"}, "estimatedValueUSD", "is not an amount"),
    ({"estimatedValueUSD": "0"}, "estimatedValueUSD", "must be a positive amount"),
    ({"estimatedValueUSD": "10.005"}, "estimatedValueUSD", "more than two decimal places"),
    ({"sellerName": ""}, "sellerName", "is required"),
    ({"stage": "Maybe"}, "stage", "is not one of"),
    ({"sellerEmail": "sam-at-vendor"}, "sellerEmail", "is not an e-mail address"),
    ({"closeDate": "30/09/2026"}, "closeDate", "is not a date"),
]


@pytest.mark.parametrize(
    ("change", "column", "message"), ROW_ERRORS, ids=[e[1] + ":" + e[2] for e in ROW_ERRORS]
)
def test_each_bad_row_is_named_and_nothing_is_written(org_a, alice, customers, change, column, message):
    rows = [row(customers[1], msxOpportunityId="7-GOODROW01"), row(customers[0], **change)]

    with pytest.raises(UploadRejected) as rejected:
        opportunities_import(organization=org_a, file=csv_file(rows), actor=alice)

    assert [(e.row, e.column) for e in rejected.value.errors] == [(3, column)]
    assert message in rejected.value.errors[0].message
    assert not Opportunity.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_id_twice_in_the_file_or_shared_with_another_partner_is_refused(org_a, org_b, alice, customers):
    OpportunityFactory(organization=org_b, msx_opportunity_id="7-BETAOWNED")
    rows = [row(customers[0]), row(customers[1]), row(customers[0], msxOpportunityId="7-BETAOWNED")]

    with pytest.raises(UploadRejected) as rejected:
        opportunities_import(organization=org_a, file=csv_file(rows), actor=alice)

    assert [(e.row, e.column, e.message) for e in rejected.value.errors] == [
        (3, "msxOpportunityId", "7-3KXYZ12AB is also on row 2"),
        (4, "msxOpportunityId", "7-BETAOWNED is shared with another partner organization"),
    ]
    assert Opportunity.objects.filter(organization=org_a).count() == 0


def test_a_file_without_the_required_columns_or_of_another_type_is_rejected(org_a, alice, customers):
    missing = SimpleUploadedFile("o.csv", b"msxOpportunityId,name\n7-3KXYZ12AB,Northwind\n")
    pdf = SimpleUploadedFile("o.csv", b"%PDF-1.4\n%%EOF\n")

    with pytest.raises(UploadRejected) as no_columns:
        opportunities_import(organization=org_a, file=missing, actor=alice)
    with pytest.raises(UploadRejected) as wrong_type:
        opportunities_import(organization=org_a, file=pdf, actor=alice)

    assert {e.column for e in no_columns.value.errors} == {
        "customerTenantId",
        "solutionArea",
        "estimatedValueUSD",
        "sellerName",
    }
    assert "The file is PDF" in wrong_type.value.message
    assert not Opportunity.objects.exists()
