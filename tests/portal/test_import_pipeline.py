"""The one import pipeline (portal.imports) through the customer import: formats, encodings, ZIPs,
every problem in one pass, all-or-nothing or valid rows only, idempotent re-imports, result file."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.imports import CUSTOMER_IMPORTER
from accounts.models import Customer
from accounts.services.customer_import import customers_import_start
from portal.choices import JobStatus
from portal.imports import DATE, DATETIME, DECIMAL, Column, Layout
from portal.imports.layout import check_chunk
from portal.imports.reader import open_table
from portal.models import JobRun
from portal.uploads import UploadRejected, UploadTooLarge
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = ["name", "domain", "country", "segment", "employee_count"]
ROWS = [
    ["Contoso", "contoso.example", "de", "Commercial", "120"],
    ["Adatum", "adatum.example", "FR", "education", ""],
    ["Müller & Söhne", "mueller.example", "AT", "government", "1,200"],
]


def _csv(rows=ROWS, header=HEADER, delimiter=",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _xlsx(rows=ROWS, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([int(cell) if cell.isdigit() else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip(name: str, content: bytes, *more: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
        for other, data in more:
            archive.writestr(other, data)
    return buffer.getvalue()


def _import(user, content: bytes, name="customers.csv", *, valid_rows_only=False, capture=None) -> JobRun:
    upload = SimpleUploadedFile(name, content)
    job = customers_import_start(
        actor=user, organization=user.organization, upload=upload, valid_rows_only=valid_rows_only
    )
    job.refresh_from_db()
    return job


def _customers(user) -> dict[str, tuple]:
    return {
        c.domain: (c.name, c.country, c.segment, c.employee_count)
        for c in Customer.objects.filter(organization=user.organization)
    }


EXPECTED = {
    "contoso.example": ("Contoso", "DE", "commercial", 120),
    "adatum.example": ("Adatum", "FR", "education", None),
    "mueller.example": ("Müller & Söhne", "AT", "government", 1200),
}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("customers.csv", _csv().encode()),
        ("customers-bom.csv", b"\xef\xbb\xbf" + _csv().encode()),
        ("customers-utf16.csv", _csv().encode("utf-16")),  # with its BOM, as Excel's "Unicode text"
        ("customers-utf16.tsv", _csv(delimiter="\t").encode("utf-16")),
        ("customers.tsv", _csv(delimiter="\t").encode()),
        ("customers.xlsx", _xlsx()),
        ("customers.zip", _zip("customers.csv", _csv().encode())),
        ("customers-xlsx.zip", _zip("export/customers.xlsx", _xlsx())),
    ],
)
def test_every_format_and_encoding_imports_the_same_customers(
    alice, name, content, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = customers_import_start(
            actor=alice, organization=alice.organization, upload=SimpleUploadedFile(name, content)
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert _customers(alice) == EXPECTED
    assert (job.result["rows"], job.result["created"], job.result["unchanged"]) == (3, 3, 0)


def test_the_same_file_twice_changes_nothing_and_a_changed_row_is_updated(
    alice, django_capture_on_commit_callbacks
):
    content = _csv().encode()
    with django_capture_on_commit_callbacks(execute=True):
        first = _import(alice, content)
    ids = set(Customer.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        second = _import(alice, content)
    second.refresh_from_db()
    assert (second.result["created"], second.result["updated"], second.result["unchanged"]) == (0, 0, 3)
    assert set(Customer.objects.values_list("pk", flat=True)) == ids
    changed = [["Contoso Ltd", "contoso.example", "DE", "commercial", "125"], *ROWS[1:]]
    with django_capture_on_commit_callbacks(execute=True):
        third = _import(alice, _csv(changed).encode())
    third.refresh_from_db()
    assert (third.result["created"], third.result["updated"], third.result["unchanged"]) == (0, 1, 2)
    assert _customers(alice)["contoso.example"] == ("Contoso Ltd", "DE", "commercial", 125)
    assert first.pk != second.pk != third.pk


BAD_ROWS = [
    ["Good", "good.example", "DE", "commercial", ""],
    ["", "nodot", "Germany", "retail", "many"],
    ["=HYPERLINK(1)", "formula.example", "DE", "commercial", "-3"],
    ["Twice", "good.example", "DE", "commercial", ""],
    ["Fine", "fine.example", "US", "government", "10"],
]


def test_every_problem_is_reported_in_one_pass_and_nothing_is_written(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(alice, _csv(BAD_ROWS).encode())
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    problems = [(e["row"], e["column"], e.get("value"), e["message"]) for e in job.import_errors]
    assert problems[:2] == [
        (3, "name", "", "is required"),
        (3, "domain", "nodot", "is not a domain (e.g. contoso.onmicrosoft.com)"),
    ]
    assert {(row, column) for row, column, _, _ in problems} == {
        (3, "name"),
        (3, "domain"),
        (3, "country"),
        (3, "segment"),
        (3, "employee_count"),
        (4, "name"),
        (4, "employee_count"),
        (5, "domain"),
    }
    assert dict(((r, c), v) for r, c, v, _ in problems)[(3, "country")] == "Germany"
    assert "formula" in dict(((r, c), m) for r, c, _, m in problems)[(4, "name")]
    assert "repeats line 2" in dict(((r, c), m) for r, c, _, m in problems)[(5, "domain")]
    assert job.result["problems"] == 8
    assert not Customer.objects.filter(organization=alice.organization).exists()


def test_valid_rows_only_imports_the_good_rows_and_returns_the_others(
    alice, verified_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(alice, _csv(BAD_ROWS).encode(), valid_rows_only=True)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert set(_customers(alice)) == {"good.example", "fine.example"}
    assert (job.result["created"], job.result["rejected"]) == (2, 3)
    response = verified_client(alice).get(reverse("portal:job-result-file", args=[job.pk]))
    assert response.status_code == 200
    result = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["Line"], row["Outcome"]) for row in result] == [
        ("2", "created"),
        ("3", "rejected"),
        ("4", "rejected"),
        ("5", "rejected"),
        ("6", "created"),
    ]
    assert result[1]["country"] == "Germany", "a rejected row comes back as it was written"
    assert "repeats line 2" in result[3]["Errors"]
    # Formula-like cells are neutralised by the one file writer.
    assert result[2]["name"].startswith("'=")


def test_the_page_takes_the_file_and_the_job_page_lists_the_problems(
    alice, verified_client, django_capture_on_commit_callbacks
):
    client = verified_client(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:customer-import"),
            {"file": SimpleUploadedFile("c.csv", _csv(BAD_ROWS).encode())},
        )
    job = JobRun.objects.get()
    assert response["Location"] == reverse("portal:job-detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "nothing was imported" in page
    assert "Germany" in page and "is not an ISO 3166-1 alpha-2 country code" in page
    assert "Download the result file" in page


def test_a_wrong_header_is_refused_at_once_and_keeps_nothing(alice):
    with pytest.raises(UploadRejected) as rejected:
        _import(alice, b"name,country\nX,DE\n")
    assert [(e.row, e.column) for e in rejected.value.errors] == [(1, "domain")]
    assert not JobRun.objects.exists()


def test_aliases_match_and_unknown_columns_are_reported(alice, django_capture_on_commit_callbacks):
    content = _csv(
        [["Contoso", "contoso.example", "DE", "commercial", "x"]],
        header=["Company name", "Primary domain", "Country/region", "Segment", "Notes"],
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(alice, content)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result["unknown_columns"] == ["Notes"]
    assert _customers(alice) == {"contoso.example": ("Contoso", "DE", "commercial", None)}


def test_a_zip_must_hold_exactly_one_table(alice):
    with pytest.raises(UploadRejected, match="exactly one CSV, TSV or XLSX file; it holds 2"):
        _import(alice, _zip("a.csv", b"x", ("b.csv", b"y")), "two.zip")


def test_a_zip_bomb_is_refused_unread(alice, settings):
    settings.PORTAL_UPLOAD_MAX_UNPACKED_BYTES = 5 * 1024 * 1024
    bomb = _zip("customers.csv", _csv().encode() + b"\n" * (50 * 1024 * 1024))
    assert len(bomb) < 200_000
    with pytest.raises(UploadTooLarge):
        _import(alice, bomb, "bomb.zip")
    assert not JobRun.objects.exists()


def test_a_binary_file_is_refused_with_what_it_is(alice):
    with pytest.raises(UploadRejected, match="The file is PDF"):
        _import(alice, b"%PDF-1.7\n" + b"0" * 100, "customers.csv")


def test_an_existing_customer_is_updated_not_duplicated(alice, django_capture_on_commit_callbacks):
    existing = CustomerFactory(organization=alice.organization, domain="contoso.example", name="Old name")
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(alice, _csv().encode())
    job.refresh_from_db()
    assert (job.result["created"], job.result["updated"]) == (2, 1)
    existing.refresh_from_db()
    assert existing.name == "Contoso"
    assert Customer.objects.filter(organization=alice.organization).count() == 3


# --- The layout on its own -------------------------------------------------------------------------

DATES = Layout(
    name="tests.dates",
    columns=(
        Column("Day", kind=DATE),
        Column("At", kind=DATETIME, blank=True),
        Column("Amount", kind=DECIMAL, blank=True),
    ),
)


def test_dates_in_iso_and_microsoft_forms_and_plain_decimals():
    content = _csv(
        [
            ["2025-09-14", "09/14/2025 13:05:00", "1,234.50"],
            ["9/14/2025", "2025-09-14T13:05:00Z", "-0.5"],
            ["14.09.2025", "yesterday", "1.2.3"],
        ],
        header=["Day", "At", "Amount"],
    ).encode()
    with open_table(io.BytesIO(content)) as table:
        header = DATES.match_header(table.header)
        checked = check_chunk(DATES, header, next(table.chunks).frame)
    assert checked.values.loc[2, "day"] == "2025-09-14"
    assert checked.values.loc[3, "day"] == "2025-09-14"
    assert checked.values.loc[2, "at"].startswith("2025-09-14T13:05:00")
    assert checked.values.loc[2, "amount"] == "1234.50"
    assert [(e.row, e.column, e.value) for e in checked.errors] == [
        (4, "Day", "14.09.2025"),
        (4, "At", "yesterday"),
        (4, "Amount", "1.2.3"),
    ]
    assert "YYYY-MM-DD or MM/DD/YYYY" in checked.errors[0].message


def test_a_file_with_a_header_only_is_refused(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(alice, _csv([]).encode())
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "header but no rows" in job.errors[0]["message"]


def test_the_importer_is_registered_under_its_layout():
    from portal.imports import importer_for

    assert importer_for("accounts.customers") is CUSTOMER_IMPORTER


def test_a_worker_lost_before_the_result_file_leaves_the_import_done_and_says_so(alice):
    from portal.choices import JobStatus as Status
    from portal.imports import import_run
    from portal.jobs import job_create

    job = job_create(
        kind="import:accounts.customers",
        organization_id=alice.organization_id,
        parameters={"layout": "accounts.customers", "staged_file": "imports/staged/gone"},
    )
    JobRun.objects.filter(pk=job.pk).update(
        status=Status.SUCCEEDED, result={"rows": 3, "created": 3, "result_file_pending": True}
    )
    result = import_run(job.pk)
    job.refresh_from_db()
    assert "result_file_pending" not in job.result and job.result["created"] == 3
    assert job.result["result_file_error"] == result["result_file_error"]
