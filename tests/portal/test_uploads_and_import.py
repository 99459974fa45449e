import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.imports import customers_import_validate
from accounts.models import Customer
from portal.choices import JobStatus
from portal.models import JobRun
from portal.uploads import UploadRejected, sniff, validate_upload
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    b"name,domain,country,segment,employee_count\n"
    b"Contoso,contoso.example,de,commercial,120\n"
    b"Adatum,adatum.example,FR,education,\n"
)


def _upload(content: bytes, name="customers.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_it_sniffs_the_real_type_not_the_name():
    assert sniff(b"%PDF-1.7\n...") == "pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "png"
    assert sniff("name,domain\nMüller,m.example\n".encode()) == "csv"
    assert sniff(b"\x00\x01\x02\xff\xfe binary") is None


def test_it_refuses_a_pdf_named_csv():
    with pytest.raises(UploadRejected, match="The file is PDF; expected CSV"):
        validate_upload(_upload(b"%PDF-1.4 fake"), allowed={"csv"})


def test_it_refuses_files_over_the_limit(settings):
    with pytest.raises(UploadRejected, match="the limit is"):
        validate_upload(_upload(b"a,b\n" * 1000), allowed={"csv"}, max_bytes=100)


def test_it_lists_every_bad_row_and_writes_nothing(alice):
    CustomerFactory(organization=alice.organization, domain="taken.example")
    content = (
        b"name,domain,country,segment\n"
        b"Good,good.example,DE,commercial\n"
        b",nodot,Germany,retail\n"
        b"Taken,taken.example,DE,commercial\n"
        b"Twice,good.example,DE,commercial\n"
    )
    with pytest.raises(UploadRejected) as rejected:
        customers_import_validate(organization=alice.organization, upload=_upload(content))
    problems = {(e.row, e.column) for e in rejected.value.errors}
    assert problems == {
        (3, "name"),
        (3, "domain"),
        (3, "country"),
        (3, "segment"),
        (4, "domain"),
        (5, "domain"),
    }
    assert "repeats row 2" in str(rejected.value.errors[-1])
    assert Customer.objects.filter(organization=alice.organization).count() == 1


def test_it_names_missing_columns():
    with pytest.raises(UploadRejected) as rejected:
        customers_import_validate(organization=None, upload=_upload(b"name,country\nX,DE\n"))
    assert [e.column for e in rejected.value.errors] == ["domain", "segment"]


def test_the_page_shows_row_errors_and_imports_nothing(alice, verified_client):
    response = verified_client(alice).post(
        reverse("accounts:customer-import"),
        {"file": _upload(b"name,domain,country,segment\nX,bad,DE,commercial\n")},
    )
    assert response.status_code == 200
    assert b"is not a domain" in response.content
    assert not JobRun.objects.exists()


def test_a_good_file_imports_through_a_job(alice, verified_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = verified_client(alice).post(
            reverse("accounts:customer-import"), {"file": _upload(GOOD_CSV)}
        )
    job = JobRun.objects.get()
    assert response["Location"] == reverse("portal:job-detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.result) == (JobStatus.SUCCEEDED, 2, 2, {"customers": 2})
    contoso = Customer.objects.get(domain="contoso.example")
    assert (contoso.country, contoso.employee_count) == ("DE", 120)
    progress = verified_client(alice).get(reverse("portal:job-progress", args=[job.pk]))
    assert b"100%" in progress.content


def test_an_xlsx_file_imports_too(alice):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "domain", "country", "segment"])
    sheet.append(["Litware", "litware.example", "US", "government"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = customers_import_validate(
        organization=alice.organization, upload=SimpleUploadedFile("c.xlsx", buffer.getvalue())
    )
    assert rows == [
        {
            "name": "Litware",
            "domain": "litware.example",
            "country": "US",
            "segment": "government",
            "employee_count": None,
        }
    ]
