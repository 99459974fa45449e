"""The Membership data files (membership.imports) through the import pipeline: good CSV and XLSX
files load, a corrected file updates its rows, the same file twice changes nothing, a file with any
bad row is rejected as a whole with each problem's row, column and value (nothing written), and
"valid rows only" writes the good rows and reports the others."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from membership import imports
from membership.choices import AssessmentStatus, LicenseStatus, OsType
from membership.models import (
    MarketplaceBilledSale,
    MarketplaceLicense,
    PersonCertification,
    SurfaceAssessment,
    VmImageUsage,
)
from membership.services.imports import membership_import_start
from portal.choices import JobStatus
from portal.models import AuditEvent, JobRun
from portal.uploads import UploadRejected
from tests.factories import OrganizationFactory, PartnerLocationFactory, UserFactory

pytestmark = pytest.mark.django_db

TENANT = "6f1c1d9e-4b0a-4c55-9a51-2b7f0c3e8a01"
SUBSCRIPTION = "0b7e4c1a-2f3d-4e5f-8a9b-1c2d3e4f5a6b"


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="data@vendor.example")


@pytest.fixture
def location(org_a):
    return PartnerLocationFactory(organization=org_a, partner_id="7100001", country="US")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Start an import and run its job (Celery runs eagerly once the request's transaction commits)."""

    def run(code, organization, file, *, actor=None, valid_rows_only=False) -> JobRun:
        with django_capture_on_commit_callbacks(execute=True):
            job = membership_import_start(
                code, organization=organization, upload=file, actor=actor, valid_rows_only=valid_rows_only
            )
        job.refresh_from_db()
        return job

    return run


def csv_file(rows: list[list[object]], name: str = "report.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list[object]], name: str = "report.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def counts(job: JobRun) -> tuple[int, int, int, int]:
    assert job.status == JobStatus.SUCCEEDED, job.errors
    return tuple(job.result[name] for name in ("created", "updated", "unchanged", "rejected"))


def problems(job: JobRun) -> list[str]:
    """Each problem as `row N, column 'C': 'value' reason`."""
    return [
        f"row {e['row']}, column {e['column']!r}: {e['value']!r} {e['message']}"
        if "value" in e
        else f"row {e['row']}, column {e['column']!r}: {e['message']}"
        for e in job.import_errors
    ]


def rejected(job: JobRun) -> list[str]:
    assert job.status == JobStatus.FAILED and job.result["rejected_file"], job.result
    assert "nothing was imported" in job.result["message"]
    return problems(job)


LICENSE_HEADER = [column.name for column in imports.LICENSE_REPORT.columns]


def license_row(**changes) -> list[object]:
    row = {
        "Date": "2026-10-14",
        "Offer name": "Contoso Insights",
        "Offer ID": "contoso-insights",
        "Plan name": "Standard",
        "Plan ID": "standard",
        "Customer name": "Fabrikam Ltd",
        "Customer tenant ID": TENANT,
        "Country/region": "gb",
        "Licenses purchased": "50",
        "Licenses assigned": "38",
        "License status": "active",
        "Subscription ID": SUBSCRIPTION,
        "Term start": "2026-07-01",
        "Term end": "2027-06-30",
    }
    row.update(changes)
    return [row[header] for header in LICENSE_HEADER]


# --- The column contract --------------------------------------------------------------------------


def test_report_columns_are_the_spec_names_which_are_the_models_verbose_names():
    assert LICENSE_HEADER == [
        "Date",
        "Offer name",
        "Offer ID",
        "Plan name",
        "Plan ID",
        "Customer name",
        "Customer tenant ID",
        "Country/region",
        "Licenses purchased",
        "Licenses assigned",
        "License status",
        "Subscription ID",
        "Term start",
        "Term end",
    ]
    assert [column.name for column in imports.VM_IMAGE_REPORT.columns] == [
        "Month",
        "Offer name",
        "Plan (SKU)",
        "Image version",
        "OS type",
        "Customer count",
        "Deployments",
        "Active VMs",
        "Normalized usage hours",
        "Raw usage hours",
        "Country/region",
        "Is latest version",
    ]
    assert [column.name for column in imports.SURFACE_ASSESSMENTS.columns] == [
        "Learner name",
        "Email",
        "Partner location (PartnerID)",
        "Country",
        "Assessment name",
        "Completion date",
        "Score",
        "Status",
    ]
    for layout, model in (
        (imports.LICENSE_REPORT, MarketplaceLicense),
        (imports.VM_IMAGE_REPORT, VmImageUsage),
    ):
        verbose = [str(model._meta.get_field(c.staged_name).verbose_name) for c in layout.columns]
        assert verbose == [c.name for c in layout.columns]
    assert set(imports.IMPORTERS) == {
        "license_report",
        "vm_image_report",
        "surface_assessments",
        "person_certifications",
        "billed_sales",
    }
    assert {importer.kind for importer in imports.IMPORTERS.values()} == {
        f"import:membership.{code}" for code in imports.IMPORTERS
    }


# --- Marketplace license report --------------------------------------------------------------------


def test_a_license_report_loads_and_a_corrected_file_updates_its_rows(org_a, staff, run):
    other_subscription = str(uuid.uuid4())
    file = csv_file(
        [
            LICENSE_HEADER,
            license_row(),
            license_row(**{"Subscription ID": other_subscription, "License status": "Suspended"}),
        ]
    )

    job = run("license_report", org_a, file, actor=staff)

    assert counts(job) == (2, 0, 0, 0)
    assert (job.organization, job.created_by, job.kind) == (org_a, staff, "import:membership.license_report")
    row = MarketplaceLicense.objects.get(subscription_id=SUBSCRIPTION)
    assert (row.organization, row.date, row.country, row.license_status) == (
        org_a,
        date(2026, 10, 14),
        "GB",
        LicenseStatus.ACTIVE,
    )
    assert (row.licenses_purchased, row.licenses_assigned, str(row.customer_tenant_id)) == (50, 38, TENANT)
    event = AuditEvent.objects.get(action="membership.license_report.imported")
    assert (event.actor, event.organization_id, event.changes) == (
        staff,
        org_a.pk,
        {"file_name": "report.csv", "created": 2, "updated": 0},
    )

    again = run(
        "license_report",
        org_a,
        csv_file([LICENSE_HEADER, license_row(**{"Licenses assigned": "45"})]),
        actor=staff,
    )

    assert counts(again) == (0, 1, 0, 0)
    assert MarketplaceLicense.objects.count() == 2
    assert MarketplaceLicense.objects.get(subscription_id=SUBSCRIPTION).licenses_assigned == 45


def test_the_same_license_report_twice_changes_nothing(org_a, run):
    rows = [LICENSE_HEADER, license_row(), license_row(**{"Subscription ID": str(uuid.uuid4())})]
    assert counts(run("license_report", org_a, csv_file(rows))) == (2, 0, 0, 0)
    stored = sorted(MarketplaceLicense.objects.values_list("pk", "licenses_assigned", "country"))

    again = run("license_report", org_a, csv_file(rows))

    assert counts(again) == (0, 0, 2, 0)
    assert sorted(MarketplaceLicense.objects.values_list("pk", "licenses_assigned", "country")) == stored


def test_a_bad_license_report_names_every_bad_cell_and_writes_nothing(org_a, run):
    file = csv_file(
        [
            LICENSE_HEADER,
            license_row(),  # a good row: not written either
            license_row(**{"Date": "14/10/2026", "Customer tenant ID": "not-a-guid", "Subscription ID": "x"}),
            license_row(**{"License status": "Frozen", "Country/region": "GBR", "Licenses purchased": "-5"}),
            license_row(
                **{"Term end": "2026-06-30", "Licenses assigned": "60", "Subscription ID": str(uuid.uuid4())}
            ),
            license_row(**{"Customer name": "", "Plan ID": "p" * 101}),
        ]
    )

    errors = rejected(run("license_report", org_a, file))

    assert "row 3, column 'Date': '14/10/2026' is not a date (YYYY-MM-DD or MM/DD/YYYY)" in errors
    assert "row 3, column 'Customer tenant ID': 'not-a-guid' is not a GUID" in errors
    assert "row 3, column 'Subscription ID': 'x' is not a GUID" in errors
    assert (
        "row 4, column 'License status': 'Frozen' is not one of Active, Suspended, Cancelled, Expired"
        in errors
    )
    assert (
        "row 4, column 'Country/region': 'GBR' is not a two-letter country code (ISO 3166-1, e.g. US)"
        in errors
    )
    assert "row 4, column 'Licenses purchased': '-5' is below 0" in errors
    assert "row 5, column 'Term end': '2026-06-30' is before the term start 2026-07-01" in errors
    assert "row 5, column 'Licenses assigned': '60' is more than the 50 licenses purchased" in errors
    assert "row 6, column 'Customer name': '' is required" in errors
    assert "row 6, column 'Plan ID': '" + "p" * 101 + "' is longer than 100 characters" in errors
    assert not any(e.startswith("row 2") for e in errors)
    assert not MarketplaceLicense.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="membership.").exists()


def test_valid_rows_only_writes_the_good_rows_and_reports_the_others(org_a, run):
    file = csv_file(
        [
            LICENSE_HEADER,
            license_row(),
            license_row(**{"Date": "someday", "Subscription ID": str(uuid.uuid4())}),
            license_row(**{"Subscription ID": str(uuid.uuid4()), "Plan ID": "premium"}),
        ]
    )

    job = run("license_report", org_a, file, valid_rows_only=True)

    assert counts(job) == (2, 0, 0, 1)
    assert job.result["problems"] == 1
    assert problems(job) == ["row 3, column 'Date': 'someday' is not a date (YYYY-MM-DD or MM/DD/YYYY)"]
    assert set(MarketplaceLicense.objects.values_list("plan_id", flat=True)) == {"standard", "premium"}
    assert job.result["result_file"]


def test_a_missing_column_rejects_the_header_before_any_row(org_a, run):
    header = [h for h in LICENSE_HEADER if h != "Plan ID"]
    row = license_row()
    del row[LICENSE_HEADER.index("Plan ID")]

    with pytest.raises(UploadRejected) as caught:
        run("license_report", org_a, csv_file([header, row]))

    assert [str(error) for error in caught.value.errors] == [
        "row 1, column 'Plan ID': required column is missing"
    ]
    assert not JobRun.objects.exists()


def test_a_file_that_is_not_a_table_is_refused(org_a, run):
    pdf = SimpleUploadedFile("report.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 20)

    with pytest.raises(UploadRejected, match="The file is PDF; expected CSV, TSV, XLSX"):
        run("license_report", org_a, pdf)
    empty = run("license_report", org_a, csv_file([LICENSE_HEADER]))
    assert empty.status == JobStatus.FAILED and "no rows" in empty.result["message"]


def test_repeated_rows_in_one_file_are_refused(org_a, run):
    errors = rejected(run("license_report", org_a, csv_file([LICENSE_HEADER, license_row(), license_row()])))

    assert errors == [
        f"row 3, column 'Date + Subscription ID + Plan ID': '2026-10-14 + {SUBSCRIPTION} + standard' "
        "repeats line 2"
    ]


def test_rows_of_another_organization_are_neither_matched_nor_changed(org_a, org_b, run):
    run("license_report", org_b, csv_file([LICENSE_HEADER, license_row()]))

    job = run("license_report", org_a, csv_file([LICENSE_HEADER, license_row(**{"Licenses assigned": "1"})]))

    assert counts(job) == (1, 0, 0, 0)
    assert MarketplaceLicense.objects.get(organization=org_b).licenses_assigned == 38


# --- VM image version report (XLSX) ------------------------------------------------------------------


VM_HEADER = [column.name for column in imports.VM_IMAGE_REPORT.columns]


def vm_row(**changes) -> list[object]:
    row = {
        "Month": "2026-10",
        "Offer name": "Contoso Hardened Ubuntu",
        "Plan (SKU)": "ubuntu-24-04-hardened",
        "Image version": "1.4.0",
        "OS type": "linux",
        "Customer count": 14,
        "Deployments": 40,
        "Active VMs": 122,
        "Normalized usage hours": 71200.5,
        "Raw usage hours": "35600.25",
        "Country/region": "US",
        "Is latest version": "yes",
    }
    row.update(changes)
    return [row[header] for header in VM_HEADER]


def test_a_vm_image_report_loads_from_xlsx_with_date_cells_and_loads_once(org_a, run):
    rows = [
        VM_HEADER,
        vm_row(),
        vm_row(**{"Month": date(2026, 9, 1), "Image version": "1.3.2", "Is latest version": "no"}),
    ]

    assert counts(run("vm_image_report", org_a, xlsx_file(rows))) == (2, 0, 0, 0)

    latest = VmImageUsage.objects.get(image_version="1.4.0")
    assert (latest.month, latest.os_type, latest.is_latest_version, latest.active_vms) == (
        date(2026, 10, 1),
        OsType.LINUX,
        True,
        122,
    )
    assert (latest.normalized_usage_hours, latest.raw_usage_hours) == (
        Decimal("71200.50"),
        Decimal("35600.25"),
    )
    older = VmImageUsage.objects.get(image_version="1.3.2")
    assert (older.month, older.is_latest_version) == (date(2026, 9, 1), False)
    assert counts(run("vm_image_report", org_a, xlsx_file(rows))) == (0, 0, 2, 0)
    assert VmImageUsage.objects.count() == 2


def test_a_bad_vm_image_report_is_rejected_with_its_rows(org_a, run):
    file = xlsx_file(
        [
            VM_HEADER,
            vm_row(**{"Month": "2026-10-15", "OS type": "BeOS"}),
            vm_row(
                **{"Raw usage hours": "-3", "Normalized usage hours": "1.234", "Is latest version": "maybe"}
            ),
            vm_row(**{"Customer count": "2.5", "Image version": "2.0.0", "Active VMs": 3_000_000_000}),
            vm_row(**{"Month": "2026-13", "Image version": "3.0.0", "Raw usage hours": "1e12"}),
        ]
    )

    errors = rejected(run("vm_image_report", org_a, file))

    assert sorted(errors) == sorted(
        [
            "row 2, column 'Month': '2026-10-15' is not a month (YYYY-MM, or the month's first day)",
            "row 2, column 'OS type': 'BeOS' is not one of Linux, Windows",
            "row 3, column 'Normalized usage hours': '1.234' has more than 2 decimal places",
            "row 3, column 'Raw usage hours': '-3' is below 0",
            "row 3, column 'Is latest version': 'maybe' is not true or false",
            "row 4, column 'Customer count': '2.5' is not a whole number",
            "row 4, column 'Active VMs': '3000000000' is above 2,147,483,647",
            "row 5, column 'Month': '2026-13' is not a date (YYYY-MM or YYYY-MM-DD)",
            "row 5, column 'Raw usage hours': '1e12' is 1,000,000,000,000 or more",
        ]
    )
    assert not VmImageUsage.objects.exists()


# --- Surface assessments ------------------------------------------------------------------------------


SURFACE_HEADER = [column.name for column in imports.SURFACE_ASSESSMENTS.columns]
SURFACE_ROWS = [
    SURFACE_HEADER,
    [
        "Ada Byron",
        "Ada@Partner.example",
        "7100001",
        "us",
        "Surface Pro fundamentals",
        "2026-10-02",
        "86",
        "Passed",
    ],
    [
        "Alan Kay",
        "alan@partner.example",
        "7100001",
        "US",
        "Surface Hub deployment",
        "2026-10-03",
        "40",
        "failed",
    ],
]


def test_surface_completions_load_for_the_organizations_locations_once(org_a, location, run):
    assert counts(run("surface_assessments", org_a, csv_file(SURFACE_ROWS))) == (2, 0, 0, 0)

    ada = SurfaceAssessment.objects.get(learner_name="Ada Byron")
    assert (ada.email, ada.location, ada.country, ada.score, ada.status) == (
        "ada@partner.example",
        location,
        "US",
        86,
        AssessmentStatus.PASSED,
    )
    assert SurfaceAssessment.objects.get(learner_name="Alan Kay").status == AssessmentStatus.FAILED
    assert counts(run("surface_assessments", org_a, csv_file(SURFACE_ROWS))) == (0, 0, 2, 0)

    moved = PartnerLocationFactory(organization=org_a, partner_id="7100002")
    corrected = [SURFACE_ROWS[0], [*SURFACE_ROWS[1][:2], "7100002", *SURFACE_ROWS[1][3:]], SURFACE_ROWS[2]]
    assert counts(run("surface_assessments", org_a, csv_file(corrected))) == (0, 1, 1, 0)
    assert SurfaceAssessment.objects.get(learner_name="Ada Byron").location == moved


def test_surface_rows_of_a_foreign_location_or_a_score_above_100_are_refused(org_a, org_b, location, run):
    PartnerLocationFactory(organization=org_b, partner_id="7200002")
    file = csv_file(
        [
            SURFACE_HEADER,
            [
                "Ada Byron",
                "ada@partner.example",
                "7200002",
                "US",
                "Surface Pro",
                "2026-10-02",
                "86",
                "passed",
            ],
            ["Alan Kay", "alan(at)partner", "7100001", "US", "Surface Pro", "2026-10-02", "101", "passed"],
        ]
    )

    errors = rejected(run("surface_assessments", org_a, file))

    assert errors == [
        "row 2, column 'Partner location (PartnerID)': '7200002' is not the PartnerID of a location of this "
        "organization",
        "row 3, column 'Email': 'alan(at)partner' is not an email address",
        "row 3, column 'Score': '101' is above 100",
    ]
    assert not SurfaceAssessment.objects.exists()


# --- Person certifications -----------------------------------------------------------------------------


CERT_HEADER = [
    "Learner name",
    "Email",
    "Certification code",
    "Earned on",
    "Expires on",
    "Partner location (PartnerID)",
]


def test_person_certifications_load_and_the_same_award_is_updated_not_repeated(org_a, location, run):
    rows = [
        CERT_HEADER,
        ["Grace Hopper", "Grace@Partner.example", "ms-700", "2025-09-01", "2026-09-01", "7100001"],
        ["Linus T", "linus@partner.example", "MS-700", "2025-10-01", "", ""],
    ]
    assert counts(run("person_certifications", org_a, csv_file(rows))) == (2, 0, 0, 0)

    grace = PersonCertification.objects.get(email="grace@partner.example")
    assert (grace.certification.code, grace.earned_on, grace.expires_on, grace.location) == (
        "MS-700",
        date(2025, 9, 1),
        date(2026, 9, 1),
        location,
    )
    linus = PersonCertification.objects.get(email="linus@partner.example")
    assert (linus.expires_on, linus.location) == (None, None)
    assert counts(run("person_certifications", org_a, csv_file(rows))) == (0, 0, 2, 0)

    # The optional columns may be left out; the award (email, certification, earned on) is updated.
    again = run(
        "person_certifications",
        org_a,
        csv_file([CERT_HEADER[:4], ["Grace B. Hopper", "GRACE@partner.example", "MS-700", "2025-09-01"]]),
    )

    assert counts(again) == (0, 1, 0, 0)
    grace.refresh_from_db()
    assert (grace.learner_name, grace.expires_on, grace.location) == ("Grace B. Hopper", None, None)
    assert PersonCertification.objects.count() == 2


def test_bad_person_certifications_are_refused(org_a, run):
    tomorrow = timezone.localdate() + timedelta(days=1)
    file = csv_file(
        [
            CERT_HEADER,
            ["Grace Hopper", "grace@partner.example", "XX-999", "2025-09-01", "", ""],
            ["Linus T", "linus@partner.example", "MS-700", "2025-10-01", "2025-10-01", ""],
            ["Ken T", "ken@partner.example", "MS-700", tomorrow.isoformat(), "", ""],
            ["Ada B", "ada@partner.example", "MS-700", "2025-10-01", "", "9999999"],
        ]
    )

    errors = rejected(run("person_certifications", org_a, file))

    assert sorted(errors) == sorted(
        [
            "row 2, column 'Certification code': 'XX-999' is not a certification code of the catalogue "
            "(e.g. MS-700)",
            "row 3, column 'Expires on': '2025-10-01' is not after the day it was earned (2025-10-01)",
            f"row 4, column 'Earned on': '{tomorrow}' is in the future",
            "row 5, column 'Partner location (PartnerID)': '9999999' is not the PartnerID of a location of "
            "this organization",
        ]
    )
    assert not PersonCertification.objects.exists()


def test_valid_certification_rows_only(org_a, run):
    file = csv_file(
        [
            CERT_HEADER[:4],
            ["Grace Hopper", "grace@partner.example", "XX-999", "2025-09-01"],
            ["Linus T", "linus@partner.example", "MS-700", "2025-10-01"],
        ]
    )

    job = run("person_certifications", org_a, file, valid_rows_only=True)

    assert counts(job) == (1, 0, 0, 1)
    assert [e["row"] for e in job.import_errors] == [2]
    assert list(PersonCertification.objects.values_list("email", flat=True)) == ["linus@partner.example"]


# --- Marketplace billed sales ---------------------------------------------------------------------------


SALES_HEADER = ["Month", "Offer ID", "Offer name", "Amount (USD)"]


def test_billed_sales_load_by_month_and_a_restated_month_replaces_the_amount(org_a, staff, run):
    rows = [
        SALES_HEADER,
        ["2026-08", "contoso-insights", "Contoso Insights", "12,500.00"],
        ["2026-09-01", "contoso-insights", "Contoso Insights", "13000"],
    ]
    assert counts(run("billed_sales", org_a, csv_file(rows), actor=staff)) == (2, 0, 0, 0)

    assert list(
        MarketplaceBilledSale.objects.order_by("billed_on").values_list("billed_on", "amount_usd")
    ) == [
        (date(2026, 8, 1), Decimal("12500.00")),
        (date(2026, 9, 1), Decimal("13000")),
    ]
    assert counts(run("billed_sales", org_a, csv_file(rows), actor=staff)) == (0, 0, 2, 0)

    restated = run(
        "billed_sales",
        org_a,
        csv_file([SALES_HEADER, ["2026-09", "CONTOSO-INSIGHTS", "Contoso Insights", "12000"]]),
        actor=staff,
    )

    assert counts(restated) == (0, 1, 0, 0)
    assert MarketplaceBilledSale.objects.count() == 2
    assert MarketplaceBilledSale.objects.get(billed_on=date(2026, 9, 1)).amount_usd == Decimal("12000")


def test_bad_billed_sales_are_refused(org_a, run):
    other = OrganizationFactory()
    file = csv_file(
        [
            SALES_HEADER,
            ["2026-13", "contoso-insights", "Contoso Insights", "100"],
            ["2026-08", "contoso-insights", "Contoso Insights", "ten thousand"],
            ["2026-07", "", "Contoso Insights", "-100"],
        ]
    )

    errors = rejected(run("billed_sales", org_a, file))

    assert errors == [
        "row 2, column 'Month': '2026-13' is not a date (YYYY-MM or YYYY-MM-DD)",
        "row 3, column 'Amount (USD)': 'ten thousand' is not a number",
        "row 4, column 'Offer ID': '' is required",
        "row 4, column 'Amount (USD)': '-100' is below 0",
    ]
    assert not MarketplaceBilledSale.objects.filter(organization__in=[org_a, other]).exists()
