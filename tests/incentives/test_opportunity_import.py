"""Opportunity files through the import pipeline (portal.imports): every row checked first, each bad
row named (row and column), nothing written on error unless the valid rows only are asked for, and
the same file twice changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incentives.models import Opportunity
from incentives.opportunity_import import COLUMNS
from incentives.services.opportunities import opportunities_import
from portal.choices import JobStatus
from portal.models import AuditEvent, JobRun
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


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """Start an import as the admin does and run its job; the finished JobRun."""

    def run(organization, upload, actor, *, valid_rows_only: bool = False) -> JobRun:
        with django_capture_on_commit_callbacks(execute=True):
            job = opportunities_import(
                organization=organization, file=upload, actor=actor, valid_rows_only=valid_rows_only
            )
        job.refresh_from_db()
        return job

    return run


def counts(job: JobRun) -> tuple[int, int, int, int]:
    return tuple(job.result[name] for name in ("created", "updated", "unchanged", "rejected"))


def problems(job: JobRun) -> list[tuple[int, str]]:
    return [(error["row"], error["column"]) for error in job.import_errors]


def test_a_csv_is_imported_and_a_known_id_updated(org_a, alice, customers, run_import):
    OpportunityFactory(
        organization=org_a, customer=customers[1], msx_opportunity_id="7-EXISTING01", stage="Qualify"
    )
    rows = [
        row(customers[0]),
        row(customers[1], msxOpportunityId="7-existing01", stage="Propose", estimatedValueUSD="80,000.50"),
    ]

    job = run_import(org_a, csv_file(rows), alice)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.kind == "import:incentives.opportunities"
    assert counts(job) == (1, 1, 0, 0)
    created = Opportunity.objects.get(msx_opportunity_id="7-3KXYZ12AB")
    assert (created.customer, created.estimated_value_usd, created.stage, str(created.close_date)) == (
        customers[0],
        Decimal("1200000.00"),
        "Develop",
        "2026-09-30",
    )
    assert (created.organization, created.seller_email) == (org_a, "sam@vendor.example")
    updated = Opportunity.objects.get(msx_opportunity_id="7-EXISTING01")
    assert (updated.stage, updated.estimated_value_usd) == ("Propose", Decimal("80000.50"))
    event = AuditEvent.objects.get(action="incentives.opportunities_imported")
    assert event.changes == {"file_name": "opportunities.csv", "created": 1, "updated": 1}
    assert (event.actor, event.organization_id) == (alice, org_a.pk)


def test_an_xlsx_is_imported_with_the_default_stage(org_a, alice, customers, run_import):
    job = run_import(org_a, xlsx_file([row(customers[0], stage="", closeDate="")]), alice)

    assert counts(job) == (1, 0, 0, 0)
    opportunity = Opportunity.objects.get()
    assert (opportunity.stage, opportunity.close_date, opportunity.seller_email) == (
        "Qualify",
        None,
        "sam@vendor.example",
    )


ROW_ERRORS = [
    ({"msxOpportunityId": ""}, "msxOpportunityId", "is required"),
    ({"msxOpportunityId": "OPP-1"}, "msxOpportunityId", "is not an MSX opportunity ID"),
    ({"name": ""}, "name", "is required"),
    ({"name": "x" * 201}, "name", "is longer than 200 characters"),
    (
        {"customerTenantId": "00000000-0000-4000-8000-000000000000"},
        "customerTenantId",
        "is not the tenant ID",
    ),
    ({"customerTenantId": "not-a-tenant"}, "customerTenantId", "is not a GUID"),
    ({"solutionArea": "Gardening"}, "solutionArea", "is not one of"),
    ({"estimatedValueUSD": "lots"}, "estimatedValueUSD", "is not a number"),
    ({"estimatedValueUSD": "0"}, "estimatedValueUSD", "must be a positive amount below 10,000,000,000 USD"),
    ({"estimatedValueUSD": "10000000000"}, "estimatedValueUSD", "must be a positive amount"),
    ({"estimatedValueUSD": "10.005"}, "estimatedValueUSD", "more than two decimal places"),
    ({"sellerName": ""}, "sellerName", "is required"),
    ({"stage": "Maybe"}, "stage", "is not one of"),
    ({"sellerEmail": "sam-at-vendor"}, "sellerEmail", "is not an e-mail address"),
    ({"closeDate": "30/09/2026"}, "closeDate", "is not a date"),
]


@pytest.mark.parametrize(
    ("change", "column", "message"), ROW_ERRORS, ids=[e[1] + ":" + e[2] for e in ROW_ERRORS]
)
def test_each_bad_row_is_named_and_nothing_is_written(
    org_a, alice, customers, run_import, change, column, message
):
    rows = [row(customers[1], msxOpportunityId="7-GOODROW01"), row(customers[0], **change)]

    job = run_import(org_a, csv_file(rows), alice)

    assert job.status == JobStatus.FAILED
    assert problems(job) == [(3, column)]
    assert message in job.import_errors[0]["message"]
    assert not Opportunity.objects.exists()
    assert not AuditEvent.objects.exists()


def test_every_bad_row_is_listed_at_once(org_a, alice, customers, run_import):
    rows = [
        row(customers[0], msxOpportunityId="7-GOODROW01"),
        row(customers[0], msxOpportunityId="OPP-1", estimatedValueUSD="lots"),
        row(customers[1], msxOpportunityId="7-GOODROW02", sellerEmail="nope", closeDate="someday"),
    ]

    job = run_import(org_a, csv_file(rows), alice)

    assert problems(job) == [
        (3, "msxOpportunityId"),
        (3, "estimatedValueUSD"),
        (4, "sellerEmail"),
        (4, "closeDate"),
    ]
    assert {error["value"] for error in job.import_errors} == {"OPP-1", "lots", "nope", "someday"}
    assert job.result["problems"] == 4
    assert not Opportunity.objects.exists()


def test_an_id_twice_in_the_file_or_shared_with_another_partner_is_refused(
    org_a, org_b, alice, customers, run_import
):
    OpportunityFactory(organization=org_b, msx_opportunity_id="7-BETAOWNED")
    rows = [row(customers[0]), row(customers[1]), row(customers[0], msxOpportunityId="7-betaowned")]

    job = run_import(org_a, csv_file(rows), alice)

    assert [(e["row"], e["column"], e["message"]) for e in job.import_errors] == [
        (3, "msxOpportunityId", "repeats line 2"),
        (4, "msxOpportunityId", "is shared with another partner organization"),
    ]
    assert Opportunity.objects.filter(organization=org_a).count() == 0
    assert Opportunity.objects.get().organization == org_b


def test_valid_rows_only_imports_the_good_rows(org_a, org_b, alice, customers, run_import):
    OpportunityFactory(organization=org_b, msx_opportunity_id="7-BETAOWNED", name="Beta's")
    rows = [
        row(customers[0]),
        row(customers[1], msxOpportunityId="7-BETAOWNED", name="Taken over"),
        row(customers[1], msxOpportunityId="7-GOODROW02", stage="Won"),
        row(customers[0], msxOpportunityId="7-GOODROW03", estimatedValueUSD="-5"),
    ]

    job = run_import(org_a, csv_file(rows), alice, valid_rows_only=True)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert counts(job) == (2, 0, 0, 2)
    assert problems(job) == [(3, "msxOpportunityId"), (5, "estimatedValueUSD")]
    assert set(Opportunity.objects.filter(organization=org_a).values_list("msx_opportunity_id", "stage")) == {
        ("7-3KXYZ12AB", "Develop"),
        ("7-GOODROW02", "Won"),
    }
    assert Opportunity.objects.get(msx_opportunity_id="7-BETAOWNED").name == "Beta's"


def test_the_same_file_twice_changes_nothing(org_a, alice, customers, run_import):
    rows = [row(customers[0]), row(customers[1], msxOpportunityId="7-GOODROW02", closeDate="")]
    first = run_import(org_a, csv_file(rows), alice)
    before = list(Opportunity.objects.order_by("pk").values())

    second = run_import(org_a, csv_file(rows), alice)

    assert counts(first) == (2, 0, 0, 0)
    assert counts(second) == (0, 0, 2, 0)
    assert list(Opportunity.objects.order_by("pk").values()) == before, "imported_at included"

    rows[1]["stage"] = "Won"
    changed = run_import(org_a, csv_file(rows), alice)
    assert counts(changed) == (0, 1, 1, 0)


def test_a_file_without_the_required_columns_or_of_another_type_is_rejected_at_once(org_a, alice, customers):
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
    assert not JobRun.objects.exists()
