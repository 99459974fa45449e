"""Price lists: import through the one import pipeline in the real column layout, preview lists,
the diff, price lookups, pages, API."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time
from openpyxl import Workbook

from commerce.choices import PriceListStatus
from commerce.eligibility import migration_validate
from commerce.models import PriceList, PriceListRow, Product, Sku
from commerce.pricing.columns import PRICE_LIST_COLUMNS
from commerce.pricing.diff import DIFF_COLUMNS, price_list_diff, price_list_diff_counts
from commerce.pricing.lookup import choose, price_candidates, price_for
from commerce.services import PRICE_LIST_IMPORTER, price_list_import_start, price_lists
from portal.choices import JobStatus
from portal.imports import import_run, pipeline
from portal.models import AuditEvent, JobRun
from portal.notifications.models import Notification
from portal.uploads import UploadRejected
from tests.factories import CustomerFactory, PriceListFactory, PriceListRowFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
CURRENT = (DATA / "price_list_us.csv").read_bytes()
PREVIEW = (DATA / "price_list_us_preview.csv").read_bytes()
HEADER = CURRENT.split(b"\n", 1)[0].decode()
GOOD_ROW = CURRENT.split(b"\n")[1].decode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Staged and result files go to a scratch directory."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def vendor_staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True)


def _upload(content: bytes, name: str = "price_list_us.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def run(vendor_staff, django_capture_on_commit_callbacks):
    """Start an import and run its job (Celery runs eagerly once the request's transaction commits)."""

    def run(content: bytes = CURRENT, *, name="price_list_us.csv", **options) -> JobRun:
        options.setdefault("is_preview", False)
        with django_capture_on_commit_callbacks(execute=True):
            job = price_list_import_start(actor=vendor_staff, upload=_upload(content, name), **options)
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def imported(run):
    """Import a file that must import; returns its list."""

    def make(content: bytes = CURRENT, **options) -> PriceList:
        job = run(content, **options)
        assert job.status == JobStatus.SUCCEEDED, job.errors
        return PriceList.objects.get(pk=job.result["price_list_id"])

    return make


def _file(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode() + b"\n"


def _row(**changes: str) -> str:
    values = next(csv.reader([GOOD_ROW]))
    for column, value in changes.items():
        values[PRICE_LIST_COLUMNS.index(column.replace("_", " "))] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


def _xlsx(content: bytes) -> bytes:
    """The file as a spreadsheet program saves it: numbers and dates as typed cells."""
    workbook = Workbook()
    sheet = workbook.active
    for number, values in enumerate(csv.reader(io.StringIO(content.decode()))):
        if number:
            columns = PRICE_LIST_COLUMNS
            values = [_typed(column, value) for column, value in zip(columns, values, strict=True)]
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _typed(column: str, value: str):
    if not value:
        return None
    if column in ("UnitPrice", "ERP Price"):
        return float(value)
    if column in ("SkuId", "PricingTierRangeMin", "PricingTierRangeMax"):
        return int(value)  # SkuId 0001 becomes the number 1, as a spreadsheet shows it
    if column.startswith("Effective"):
        return datetime.fromisoformat(value).replace(tzinfo=None)
    return value


def _zip(content: bytes, name: str = "price_list_us.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _rows(price_list: PriceList) -> list[tuple]:
    return sorted(
        price_list.rows.values_list(
            "product_id", "sku_id", "term_duration", "billing_plan", "segment", "unit_price", "erp_price",
            "pricing_tier_range_min", "pricing_tier_range_max", "effective_start_date", "effective_end_date",
            "unit_of_measure", "tags", "end_of_sale_date",
        )
    )  # fmt: skip


def _problems(job: JobRun) -> dict[tuple[int, str], str]:
    return {(error["row"], error["column"]): error["message"] for error in job.import_errors}


def _result_file(job: JobRun) -> list[dict[str, str]]:
    with default_storage.open(job.result["result_file"], "rb") as stored:
        return list(csv.DictReader(io.StringIO(stored.read().decode("utf-8-sig"))))


def _assert_nothing_written():
    assert not PriceList.objects.exists()
    assert not PriceListRow.objects.exists()
    assert not Product.objects.exists()


# --- Import ------------------------------------------------------------------------------------------


def test_it_imports_the_sample_file_through_the_pipeline(run, vendor_staff, _media):
    job = run()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.kind, job.organization_id, job.created_by) == (
        "import:commerce.price_list",
        None,
        vendor_staff,
    )
    assert (job.result["rows"], job.result["created"], job.result["rejected"]) == (9, 9, 0)
    assert job.result["price_list"] == "created"
    price_list = PriceList.objects.get()
    assert price_list.pk == job.result["price_list_id"]
    assert (price_list.status, price_list.row_count, price_list.job) == (PriceListStatus.READY, 9, job)
    assert (price_list.market, price_list.currency, price_list.is_preview) == ("US", "USD", False)
    assert price_list.effective_month == date(2025, 4, 1)
    assert price_list.name == "US price list April 2025"
    assert (price_list.uploaded_by, price_list.source_file) == (vendor_staff, "price_list_us.csv")
    assert len(price_list.content_hash) == 64
    gcc = PriceListRow.objects.get(price_list=price_list, product_id="CFQ7TTC0LFLZ")
    assert (gcc.unit_price, gcc.erp_price, gcc.segment, gcc.market, gcc.currency) == (
        Decimal("388.80"),
        Decimal("432.00"),
        "Government",
        "US",
        "USD",
    )
    assert (gcc.pricing_tier_range_min, gcc.pricing_tier_range_max) == (1, 2400)
    assert gcc.effective_start_date == datetime(2025, 4, 1, tzinfo=UTC)
    assert gcc.effective_end_date == datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    trial = PriceListRow.objects.get(price_list=price_list, sku_id="0003")
    assert (trial.billing_plan, trial.unit_of_measure, trial.tags) == ("None", "", "License;Trial")
    assert trial.effective_end_date == datetime(9999, 11, 30, 23, 59, 59, tzinfo=UTC)
    assert (trial.end_of_sale_date, trial.change_indicator) == (None, "")
    # The catalog learns the products and SKUs, set-based.
    assert Product.objects.get(product_id="CFQ7TTC0LCHC").title == "Microsoft 365 Business Premium"
    assert Sku.objects.get(product_id="CFQ7TTC0LCHC", sku_id="0003").is_trial
    assert not Sku.objects.get(product_id="CFQ7TTC0LCHC", sku_id="0002").is_trial
    assert Sku.objects.count() == 5
    assert AuditEvent.objects.filter(action="price_list.import_started").count() == 1
    assert AuditEvent.objects.get(action="price_list.imported").target_id == str(price_list.pk)
    # The result file holds every row with its outcome; the staged upload is gone.
    assert [row["Outcome"] for row in _result_file(job)] == ["created"] * 9
    assert not list((_media / "imports" / "staged").iterdir())


def test_the_same_file_twice_is_one_list(run, imported):
    first = imported()
    again = run()
    assert again.status == JobStatus.SUCCEEDED, again.errors
    assert (again.result["price_list"], again.result["price_list_id"]) == ("unchanged", first.pk)
    assert (again.result["created"], again.result["unchanged"]) == (0, 9)
    assert {row["Outcome"] for row in _result_file(again)} == {"unchanged"}
    assert PriceList.objects.count() == 1
    assert PriceListRow.objects.count() == 9
    # The same rows as a preview, for another month, or with one price changed are other lists.
    assert imported(is_preview=True).pk != first.pk
    assert imported(effective_month=date(2025, 5, 20)).effective_month == date(2025, 5, 1)
    changed = imported(CURRENT.replace(b",64.80,", b",65.00,", 1))
    assert changed.pk != first.pk and changed.row_count == 9
    assert PriceList.objects.count() == 4


def test_an_xlsx_file_imports_the_same_rows(imported):
    """Numbers and dates as a spreadsheet types them: SkuId 1 is 0001, 64.8 is 64.80."""
    from_csv = imported()
    from_xlsx = imported(_xlsx(CURRENT), name="price_list_us.xlsx")
    assert from_xlsx.pk != from_csv.pk  # another file, so another list
    assert set(from_xlsx.rows.values_list("sku_id", flat=True)) == {"0001", "0002", "0003", "0008"}
    assert _rows(from_xlsx) == _rows(from_csv)


def test_a_file_written_differently_imports_the_same_rows(imported):
    """Windows line ends, padded cells, lower-case codes and a date-only start: the same rows."""
    reference = imported()
    lines = CURRENT.decode().strip().split("\n")
    odd = [
        lines[0],
        *(line.replace(",License,", ", License ,").replace(",US,", ",us,") for line in lines[1:]),
    ]
    odd[1] = odd[1].replace("2025-04-01T00:00:00Z", "2025-04-01").replace(",Annual,", ",annual,")
    price_list = imported("\r\n".join(odd).encode() + b"\r\n")
    assert _rows(price_list) == _rows(reference)
    assert price_list.market == "US"


def test_microsofts_zip_download_imports(imported):
    price_list = imported(_zip(CURRENT), name="NCE_LicenseBasedPriceList_US.zip")
    assert price_list.row_count == 9
    assert price_list.source_file == "NCE_LicenseBasedPriceList_US.zip"


def test_a_utf16_file_imports_the_same_rows(imported):
    """Partner Center also writes UTF-16 with a byte-order mark, TAB-separated."""
    reference = imported()
    tabbed = "\n".join("\t".join(next(csv.reader([line]))) for line in CURRENT.decode().strip().split("\n"))
    content = codecs.BOM_UTF16_LE + tabbed.encode("utf-16-le")
    price_list = imported(content, name="price_list_us.tsv", is_preview=True)
    assert price_list.pk != reference.pk
    assert _rows(price_list) == _rows(reference)


def test_change_indicator_and_end_of_sale_are_kept(imported):
    header = f"ChangeIndicator,{HEADER},EndofSaleDate"
    content = _file(
        f"Unchanged,{_row()},",
        f"Changed,{_row(SkuId='0002', UnitPrice='70.00')},2025-06-30T23:59:59Z",
        f",{_row(SkuId='0003')},",
        header=header,
    )
    price_list = imported(content)
    kept = dict(price_list.rows.values_list("sku_id", "change_indicator"))
    assert kept == {"0001": "Unchanged", "0002": "Changed", "0003": ""}
    ending = price_list.rows.get(sku_id="0002").end_of_sale_date
    assert ending == datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def test_a_bad_file_lists_every_bad_row_and_writes_nothing(run):
    job = run(
        _file(
            _row(),  # row 2 is good
            _row(UnitPrice="12,50", SkuId="0002"),
            _row(EffectiveStartDate="04/01/2025", SkuId="0003"),
            _row(TermDuration="P2Y", BillingPlan="Quarterly", SkuId="0004"),
            _row(Segment="Retail", ProductId="CFQ7TTC0LH1", SkuId="0005"),
            _row(SkuId="1"),  # row 7 repeats row 2 (SkuId 0001, as a spreadsheet writes it)
            _row(EffectiveEndDate="2025-03-31T00:00:00Z", SkuId="0006"),
            _row(PricingTierRangeMin="10", PricingTierRangeMax="5", SkuId="0007"),
            _row(Market="GB", Currency="GBP", SkuId="0008"),
            _row(UnitPrice="-1.00", EffectiveEndDate="2025-02-30T00:00:00Z", SkuId="0009"),
            _row(UnitPrice="1.1234567", SkuId="00010"),
        )
    )
    assert job.status == JobStatus.FAILED
    assert job.result["rejected_file"]
    problems = _problems(job)
    assert set(problems) == {
        (3, "UnitPrice"),
        (4, "EffectiveStartDate"),
        (5, "TermDuration"),
        (5, "BillingPlan"),
        (6, "ProductId"),
        (6, "Segment"),
        (7, "ProductId"),
        (8, "EffectiveEndDate"),
        (9, "PricingTierRangeMax"),
        (10, "Market"),
        (10, "Currency"),
        (11, "UnitPrice"),
        (11, "EffectiveEndDate"),
        (12, "SkuId"),
        (12, "UnitPrice"),
    }
    assert problems[(3, "UnitPrice")] == "is not a number"
    assert problems[(4, "EffectiveStartDate")] == "is not an ISO 8601 date like 2025-04-01T00:00:00Z"
    assert problems[(5, "TermDuration")] == "is not one of P1M, P1Y, P3Y"
    assert problems[(5, "BillingPlan")] == "is not one of Monthly, Annual, Triennial, None"
    assert problems[(6, "ProductId")] == "is not a 12-character ProductId like CFQ7TTC0LH18"
    assert problems[(6, "Segment")] == "is not one of Commercial, Education, Government, Charity"
    assert problems[(7, "ProductId")].startswith("repeats an earlier row's price")
    assert problems[(8, "EffectiveEndDate")] == "is not after EffectiveStartDate"
    assert problems[(9, "PricingTierRangeMax")] == "is below PricingTierRangeMin"
    assert problems[(10, "Market")] == "is not the market of the file's other rows; a file holds one market"
    assert problems[(11, "UnitPrice")] == "is below 0"
    assert problems[(12, "SkuId")] == "is not a SkuId of up to 4 characters like 0001"
    assert problems[(12, "UnitPrice")] == "has more than 6 decimal places"
    values = {(error["row"], error["column"]): error.get("value") for error in job.import_errors}
    assert (values[(3, "UnitPrice")], values[(10, "Market")]) == ("12,50", "GB")
    assert "15 problem(s) found in 11 rows; nothing was imported" in job.result["message"]
    outcomes = [row["Outcome"] for row in _result_file(job)]
    assert outcomes == ["not imported"] + ["rejected"] * 10
    _assert_nothing_written()


def test_p1m_with_annual_billing_is_refused(run):
    job = run(_file(_row(TermDuration="P1M", BillingPlan="Annual"), _row(SkuId="0002")))
    assert job.status == JobStatus.FAILED
    (error,) = job.import_errors
    assert (error["row"], error["column"], error["value"]) == (2, "BillingPlan", "Annual")
    assert "TermDuration P1M" in error["message"] and "BillingPlan Annual" in error["message"]
    _assert_nothing_written()


def test_the_valid_rows_only_are_imported_when_asked(run):
    job = run(
        _file(_row(), _row(UnitPrice="abc", SkuId="0002"), _row(SkuId="0003"), _row(Market="GB", SkuId="4")),
        valid_rows_only=True,
    )
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.result["created"], job.result["rejected"], job.result["problems"]) == (2, 2, 2)
    price_list = PriceList.objects.get(pk=job.result["price_list_id"])
    assert (price_list.market, price_list.row_count) == ("US", 2)
    assert sorted(price_list.rows.values_list("sku_id", flat=True)) == ["0001", "0003"]
    assert [row["Outcome"] for row in _result_file(job)] == ["created", "rejected", "created", "rejected"]
    assert {(error["row"], error["column"]) for error in job.import_errors} == {
        (3, "UnitPrice"),
        (5, "Market"),
    }


def test_the_spec_sample_with_two_markets_is_refused_at_its_gb_row(run):
    gb_row = (
        "Microsoft 365 E3 (Nonprofit),CFQ7TTC0LFLZ,0005,Microsoft 365 E3 for nonprofits,"
        "Microsoft Corporation,Microsoft 365 E3 priced for eligible charities,,P1Y,Annual,GB,GBP,216.00,,,"
        "2025-04-01T00:00:00Z,"
        "9999-11-30T23:59:59Z,License,240.00,Charity"
    )
    lines = CURRENT.decode().strip().split("\n")
    job = run("\n".join([*lines[:9], gb_row, lines[9]]).encode())
    assert [(error["row"], error["column"]) for error in job.import_errors] == [
        (10, "Market"),
        (10, "Currency"),
    ]


def _rejection(content: bytes, vendor_staff, name="bad.csv") -> UploadRejected:
    with pytest.raises(UploadRejected) as rejected:
        price_list_import_start(actor=vendor_staff, upload=_upload(content, name), is_preview=False)
    assert not JobRun.objects.exists()
    return rejected.value


def test_it_names_missing_columns_at_once(vendor_staff):
    rejection = _rejection(b"ProductTitle,ProductId\nX,CFQ7TTC0LH18\n", vendor_staff)
    assert rejection.message == "The header does not match the layout: nothing was imported."
    assert "ERP Price" in [error.column for error in rejection.errors]


def test_wrong_type_and_too_big_files_get_a_clear_error(settings, vendor_staff):
    assert _rejection(b"%PDF-1.7 not a price list", vendor_staff, "prices.csv").message.startswith(
        "The file is PDF; expected CSV, TSV, XLSX or a ZIP"
    )
    settings.PORTAL_PRICE_LIST_MAX_BYTES = 1024
    assert "limit" in _rejection(CURRENT, vendor_staff).message
    _assert_nothing_written()


def test_a_failing_load_writes_nothing_and_fails_the_job(run, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("catalog unavailable")

    monkeypatch.setattr(price_lists, "_catalog_upsert", broken)
    with pytest.raises(RuntimeError):
        run()
    job = JobRun.objects.get()
    assert job.status == JobStatus.FAILED
    assert "catalog unavailable" in job.errors[0]["message"]
    _assert_nothing_written()


def test_a_rerun_after_a_lost_worker_finds_the_list_it_wrote(vendor_staff, monkeypatch):
    """A worker lost after the rows were committed but before the job said so: the redelivered
    job imports the file again and finds the very same list."""
    job = price_list_import_start(actor=vendor_staff, upload=_upload(CURRENT), is_preview=False)
    finish = pipeline.job_finish

    def lost(*args, **kwargs):
        monkeypatch.setattr(pipeline, "job_finish", finish)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(pipeline, "job_finish", lost)
    with pytest.raises(RuntimeError):
        import_run(job.pk)
    assert PriceList.objects.count() == 1
    result = import_run(job.pk)
    assert (result["price_list"], result["unchanged"]) == ("unchanged", 9)
    assert (PriceList.objects.count(), PriceListRow.objects.count()) == (1, 9)


def test_the_admin_imports_a_price_list_through_the_pipeline(
    vendor_staff, verified_client, django_capture_on_commit_callbacks
):
    client = verified_client(vendor_staff)
    add = reverse("admin:commerce_pricelist_add")
    page = client.get(add)
    assert page.status_code == 200
    assert b"Import the valid rows only" in page.content and b"ChangeIndicator (optional)" in page.content
    # A header without the layout's columns is refused at once, on the upload page.
    refused = client.post(add, {"file": _upload(b"ProductTitle,ProductId\nX,CFQ7TTC0LH18\n")})
    assert refused.status_code == 200
    assert b"required column is missing" in refused.content
    assert not JobRun.objects.exists()

    # Bad rows: the job's page lists each one (row, column, value, reason); nothing is written.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, {"file": _upload(_file(_row(UnitPrice="abc"), _row(Segment="Retail")))})
    job = JobRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:commerce_pricelist_import_job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "2 problem(s) found in 2 rows; nothing was imported" in page
    assert "<td>2</td><td>UnitPrice</td><td><code>abc</code></td><td>is not a number</td>" in page
    _assert_nothing_written()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, {"file": _upload(PREVIEW), "is_preview": "on"})
    job = JobRun.objects.latest("pk")
    price_list = PriceList.objects.get()
    assert price_list.is_preview and price_list.effective_month == date(2025, 5, 1)
    assert (price_list.status, price_list.row_count) == (PriceListStatus.READY, 9)
    page = client.get(response["Location"]).content.decode()
    assert (
        f'Created <a href="{reverse("admin:commerce_pricelist_change", args=[price_list.pk])}">'
        f"{price_list.name} (9 rows)</a>" in page
    )
    result = client.get(reverse("admin:commerce_pricelist_import_result", args=[job.pk]))
    assert result["Content-Disposition"] == 'attachment; filename="price_list_us-result.csv"'
    listing = client.get(
        reverse("admin:commerce_pricelist_changelist"), {"is_preview__exact": "1", "q": "US"}
    )
    assert price_list.name.encode() in listing.content
    detail = client.get(reverse("admin:commerce_pricelist_change", args=[price_list.pk]))
    assert reverse("admin:commerce_pricelist_import_job", args=[job.pk]).encode() in detail.content
    rows = client.get(reverse("admin:commerce_pricelistrow_changelist"), {"q": "CFQ7TTC0LFK5"})
    assert b"Microsoft 365 A3 for faculty" in rows.content
    assert client.get(reverse("admin:commerce_sku_changelist")).status_code == 200

    # The same file again: the job's page names the list already there.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, {"file": _upload(PREVIEW), "is_preview": "on"})
    assert "These rows are already the list <a" in client.get(response["Location"]).content.decode()
    assert PriceList.objects.count() == 1
    other_job = JobRun.objects.create(kind="import:accounts.customers")
    assert client.get(reverse("admin:commerce_pricelist_import_job", args=[other_job.pk])).status_code == 404


def test_the_importer_is_registered_for_the_worker():
    assert pipeline.importer_for("commerce.price_list") is PRICE_LIST_IMPORTER


# --- Preview, diff, price lookups -------------------------------------------------------------------------


def test_a_preview_list_shows_next_months_prices(imported, alice, verified_client):
    current = imported()
    preview = imported(PREVIEW, is_preview=True, name="price_list_us_preview.csv")
    assert (preview.is_preview, preview.effective_month) == (True, date(2025, 5, 1))
    assert preview.name == "US preview price list May 2025"
    trial = preview.rows.get(sku_id="0003")
    assert trial.end_of_sale_date == datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    page = verified_client(alice).get(
        reverse("commerce:price-list-detail", args=[preview.pk]), {"q": "premium"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Preview of the prices effective from <strong>May 2025</strong>" in html
    assert "USD 250.80" in html and "2025-05-01" in html and "2025-06-30" in html
    # Until May the current list still prices it.
    assert price_for(
        market="US", product_id="CFQ7TTC0LCHC", sku_id="0002", term_duration="P1Y",
        billing_plan="Annual", segment="Commercial", on=date(2025, 5, 15), quantity=10,
    ).price_list == current  # fmt: skip


def test_the_diff_shows_new_removed_and_changed_prices(imported, alice, verified_client):
    current = imported()
    preview = imported(PREVIEW, is_preview=True)
    changes = price_list_diff(base=current, other=preview)
    summary = [
        (c.change, c.product_id, c.sku_id, c.term_duration, c.old_unit_price, c.new_unit_price)
        for c in changes
    ]
    assert summary == [
        ("Changed", "CFQ7TTC0LCHC", "0002", "P1Y", Decimal("237.60"), Decimal("250.80")),
        ("New", "CFQ7TTC0LFK5", "0001", "P1Y", None, Decimal("93.60")),
        ("Removed", "CFQ7TTC0LCHC", "0002", "P3Y", Decimal("712.80"), None),
    ]
    assert changes[0].difference == Decimal("13.20")
    assert price_list_diff_counts(base=current, other=preview) == {
        "New": 1,
        "Removed": 1,
        "Changed": 1,
    }

    client = verified_client(alice)
    page = client.get(reverse("commerce:price-list-diff", args=[preview.pk]))  # against: the current list
    assert page.status_code == 200
    assert page.context["base"] == current
    assert page.context["counts"] == {"New": 1, "Removed": 1, "Changed": 1}
    assert len(page.context["page_obj"].object_list) == 3
    only_new = client.get(
        reverse("commerce:price-list-diff", args=[preview.pk]), {"against": current.pk, "change": "New"}
    )
    assert [row.product_id for row in only_new.context["page_obj"]] == ["CFQ7TTC0LFK5"]

    download = client.get(reverse("commerce:price-list-diff-csv", args=[preview.pk]), {"against": current.pk})
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment;" in download["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert lines[0] == DIFF_COLUMNS
    premium, a3 = "Microsoft 365 Business Premium", "Microsoft 365 A3 for faculty"
    april, may, open_end = "2025-04-01T00:00:00Z", "2025-05-01T00:00:00Z", "9999-11-30T23:59:59Z"
    assert lines[1:] == [
        ["Changed", premium, "CFQ7TTC0LCHC", "0002", premium, "P1Y", "Annual", "Commercial", "", "USD"]
        + ["237.60", "250.80", april, may, open_end, open_end],
        ["New", a3, "CFQ7TTC0LFK5", "0001", a3, "P1Y", "Annual", "Education", "", "USD"]
        + ["", "93.60", "", may, "", open_end],
        ["Removed", premium, "CFQ7TTC0LCHC", "0002", premium, "P3Y", "Triennial", "Commercial", "", "USD"]
        + ["712.80", "", april, "", open_end, ""],
    ]


def test_the_diff_refuses_a_list_of_another_market(imported, alice, verified_client):
    current = imported()
    other = PriceListFactory(market="GB", currency="GBP")
    response = verified_client(alice).get(
        reverse("commerce:price-list-diff", args=[current.pk]), {"against": other.pk}
    )
    assert response.status_code == 404


def test_price_for_picks_the_row_by_its_effective_dates(imported):
    current = imported()
    later = PriceListFactory(effective_month=date(2025, 7, 1))
    PriceListRowFactory(
        price_list=later,
        product_id="CFQ7TTC0LFLZ",
        sku_id="0008",
        segment="Government",
        unit_price=Decimal("399.00"),
        effective_start_date=datetime(2025, 7, 1, tzinfo=UTC),
    )
    gcc = {"market": "US", "product_id": "CFQ7TTC0LFLZ", "sku_id": "0008", "term_duration": "P1Y",
           "billing_plan": "Annual", "segment": "Government", "quantity": 100}  # fmt: skip
    assert price_for(**gcc, on=date(2025, 3, 31)) is None
    assert price_for(**gcc, on=date(2025, 4, 1)).unit_price == Decimal("388.80")
    assert price_for(**gcc, on=date(2025, 6, 30)).price_list == current
    assert price_for(**gcc, on=date(2025, 7, 1)).unit_price == Decimal("399.00")
    assert price_for(**{**gcc, "segment": "Commercial"}, on=date(2025, 5, 1)) is None
    # A list that is not ready, or is a preview, never prices anything.
    PriceList.objects.filter(pk=later.pk).update(status=PriceListStatus.IMPORTING)
    assert price_for(**gcc, on=date(2025, 7, 1)) is None


# --- Pages and API ------------------------------------------------------------------------------------


def test_the_pages_list_filter_and_download(imported, alice, charlie, bob, verified_client, client):
    current = imported()
    preview = imported(PREVIEW, is_preview=True)
    alice_client = verified_client(alice)
    index = alice_client.get(reverse("commerce:price-list-index"), {"is_preview": "true"})
    assert index.status_code == 200
    assert list(index.context["object_list"]) == [preview]
    detail = reverse("commerce:price-list-detail", args=[current.pk])
    page = alice_client.get(detail, {"segment": "Education"})
    assert [row.product_id for row in page.context["object_list"]] == ["CFQ7TTC0LF8S"]
    partial = alice_client.get(detail, {"term_duration": "P3Y"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"712.80" in partial.content
    assert f"/commerce/price-lists/{current.pk}/rows.csv?term_duration=P3Y".encode() in partial.content
    download = alice_client.get(reverse("commerce:price-list-rows-csv", args=[current.pk]), {"q": "basic"})
    text = b"".join(download.streaming_content).decode()
    lines = text.strip().split("\n")
    assert lines[0] == HEADER
    assert sorted(lines[1:]) == sorted(
        line for line in CURRENT.decode().strip().split("\n")[1:] if "Basic" in line
    )
    # The vendor's lists are the same for every partner; a role without pricing.view gets 403.
    assert verified_client(charlie).get(detail).status_code == 200
    assert verified_client(bob).get(detail).status_code == 403
    assert client.get(detail).status_code == 302
    assert verified_client(alice).get(reverse("commerce:price-list-detail", args=[999999])).status_code == 404


def test_the_api_lists_lists_and_their_rows_in_partner_center_names(imported, org_a, api_for):
    current = imported()
    api = api_for(org_a, scopes=("commerce:read",))
    lists = api.get("/api/v1/commerce/price-lists/", {"is_preview": "false"})
    assert lists.status_code == 200, lists.content
    assert [row["id"] for row in lists.json()["results"]] == [current.pk]
    assert lists.json()["results"][0]["effectiveMonth"] == "2025-04-01"
    rows = api.get(f"/api/v1/commerce/price-lists/{current.pk}/rows/", {"segment": "Government"})
    assert rows.status_code == 200, rows.content
    (row,) = rows.json()["results"]
    assert row["productId"] == "CFQ7TTC0LFLZ"
    assert row["unitPrice"] == "388.800000"
    assert row["erpPrice"] == "432.000000"
    assert (row["pricingTierRangeMin"], row["pricingTierRangeMax"]) == (1, 2400)
    assert row["effectiveEndDate"] == "2025-06-30T23:59:59Z"
    assert set(row) >= {
        "productTitle",
        "skuTitle",
        "termDuration",
        "billingPlan",
        "segment",
        "tags",
        "publisher",
    }
    searched = api.get(
        f"/api/v1/commerce/price-lists/{current.pk}/rows/", {"q": "premium", "term_duration": "P1M"}
    )
    assert [row["skuId"] for row in searched.json()["results"]] == ["0003", "0002"]
    assert api.get(f"/api/v1/commerce/price-lists/{current.pk}/").json()["rowCount"] == 9
    assert api.get("/api/v1/commerce/price-lists/999999/rows/").status_code == 404
    no_scope = api_for(org_a, scopes=("accounts:read",)).get("/api/v1/commerce/price-lists/")
    assert no_scope.status_code == 403
    assert no_scope["Content-Type"] == "application/problem+json"


def test_price_lists_are_shared_vendor_data_and_hidden_from_anyone_outside_a_partner(
    org_a, org_b, alice, vendor_staff, api_for
):
    from django.contrib.auth.models import AnonymousUser  # noqa: PLC0415 - only this test

    price_list = PriceListRowFactory().price_list
    assert list(PriceList.objects.visible_to(alice)) == [price_list]
    assert not PriceList.objects.visible_to(AnonymousUser()).exists()
    assert not PriceListRow.objects.visible_to(vendor_staff).exists()  # staff use the admin
    for organization in (org_a, org_b):
        api = api_for(organization, scopes=("commerce:read",))
        assert api.get(f"/api/v1/commerce/price-lists/{price_list.pk}/").status_code == 200
        assert len(api.get(f"/api/v1/commerce/price-lists/{price_list.pk}/rows/").json()["results"]) == 1
    writer = api_for(org_b, scopes=("commerce:read", "commerce:write"))
    assert writer.post("/api/v1/commerce/price-lists/", {}).status_code == 405  # read-only resource


# --- The look-up: quantity tiers, overlapping rows, superseded lists ---------------------------------

PREMIUM = {"market": "US", "product_id": "CFQ7TTC0LCHC", "sku_id": "0002", "term_duration": "P1Y",
           "billing_plan": "Annual", "segment": "Commercial"}  # fmt: skip


def _price_row(price_list: PriceList, price: str, *, start=(2025, 4, 1), end=(9999, 11, 30), **fields):
    return PriceListRowFactory(
        price_list=price_list,
        product_id="CFQ7TTC0LCHC",
        sku_id="0002",
        unit_price=Decimal(price),
        effective_start_date=datetime(*start, tzinfo=UTC),
        effective_end_date=datetime(*end, 23, 59, 59, tzinfo=UTC)
        if end[0] == 9999
        else datetime(*end, tzinfo=UTC),
        **fields,
    )


def _price(on: date = date(2025, 5, 15), quantity: int = 10, **key) -> Decimal | None:
    row = price_for(**{**PREMIUM, **key}, on=on, quantity=quantity)
    return row.unit_price if row is not None else None


def test_price_for_takes_the_tier_holding_the_quantity():
    price_list = PriceListFactory()
    _price_row(price_list, "240.00", pricing_tier_range_min=1, pricing_tier_range_max=100)
    _price_row(price_list, "230.00", pricing_tier_range_min=101, pricing_tier_range_max=2400)
    _price_row(price_list, "200.00", pricing_tier_range_min=5001, pricing_tier_range_max=None)
    assert _price(quantity=1) == Decimal("240.00")  # the first tier's minimum
    assert _price(quantity=100) == Decimal("240.00")  # its maximum
    assert _price(quantity=101) == Decimal("230.00")  # the next tier's minimum
    assert _price(quantity=2400) == Decimal("230.00")
    assert _price(quantity=3000) is None  # between tiers: no price
    assert _price(quantity=5001) == Decimal("200.00")  # a blank maximum is open
    assert _price(quantity=1_000_000) == Decimal("200.00")


def test_a_quantity_above_every_tier_has_no_price_and_validate_says_why(db, org_a):
    from commerce.demo import commerce_demo_catalog  # noqa: PLC0415 - the migration catalog
    from tests.commerce.conftest import legacy_subscription as legacy  # noqa: PLC0415

    commerce_demo_catalog()
    # The demo's US list prices Business Premium without tiers; a newer list tiers it up to 100.
    tiered = PriceListFactory(effective_month=date(2025, 4, 1))
    _price_row(tiered, "240.00", pricing_tier_range_min=1, pricing_tier_range_max=100, billing_plan="Monthly")
    customer = CustomerFactory(organization=org_a, country="US")
    subscription = legacy(customer, "premium", quantity=150, term_end=date(2025, 9, 14))
    with freeze_time("2025-05-20"):
        refused = migration_validate(subscription=subscription)
        allowed = migration_validate(subscription=subscription, quantity=100)
    [error] = refused.errors
    assert (error.code, error.number) == ("PriceNotInPriceList", 1004)
    assert "for 150 seats (its tiers: 1–100 seats)" in error.description
    assert allowed.is_eligible and allowed.proposal.unit_price == Decimal("240.00")


def test_of_overlapping_rows_the_one_ending_first_applies():
    price_list = PriceListFactory()
    _price_row(price_list, "237.60", start=(2025, 4, 1), end=(9999, 11, 30))
    _price_row(price_list, "199.00", start=(2025, 5, 1), end=(2025, 6, 30))  # a promotion inside it
    _price_row(price_list, "250.80", start=(2025, 6, 1), end=(9999, 11, 30))  # a price rise from June
    assert _price(on=date(2025, 4, 15)) == Decimal("237.60")
    # Both open rows and the May–June row cover 15 May: the one ending first applies, not the newest.
    assert _price(on=date(2025, 5, 15)) == Decimal("199.00")
    assert _price(on=date(2025, 6, 15)) == Decimal("199.00")
    # From 30 June the promotion is over; of the two open rows, the later start breaks the tie.
    assert _price(on=date(2025, 6, 30)) == Decimal("250.80")
    # A row not started yet is never in force.
    assert _price(on=date(2025, 4, 30)) == Decimal("237.60")


def test_the_newest_list_speaks_and_a_superseded_or_preview_list_never_does():
    april = PriceListFactory(effective_month=date(2025, 4, 1))
    _price_row(april, "237.60")
    may = PriceListFactory(effective_month=date(2025, 5, 1))
    _price_row(may, "245.00", start=(2025, 5, 1))
    assert _price(on=date(2025, 4, 20)) == Decimal("237.60")  # May's row not in force yet
    assert _price(on=date(2025, 5, 15)) == Decimal("245.00")
    corrected = PriceListFactory(effective_month=date(2025, 5, 1))
    _price_row(corrected, "244.00", start=(2025, 5, 1))
    PriceList.objects.filter(pk=may.pk).update(status=PriceListStatus.SUPERSEDED, replaced_by=corrected)
    assert _price(on=date(2025, 5, 15)) == Decimal("244.00")
    PriceList.objects.filter(pk=corrected.pk).update(status=PriceListStatus.SUPERSEDED)
    assert _price(on=date(2025, 5, 15)) == Decimal("237.60")  # April's list still prices it
    _price_row(PriceListFactory(effective_month=date(2025, 6, 1), is_preview=True), "1.00")
    assert _price(on=date(2025, 5, 15)) == Decimal("237.60")


@pytest.mark.parametrize("seed", range(6))
def test_the_set_based_look_up_gives_the_answer_of_price_for(seed):
    """Random lists, tiers and overlapping ranges: for every key, day and quantity, the rows one
    query reads for a whole chunk, chosen in Python, give what `price_for` gives."""
    rng = random.Random(seed)
    skus, terms = ["0001", "0002"], [("P1Y", "Annual"), ("P1Y", "Monthly")]
    lists = []
    for month in (3, 4, 5):
        for _ in range(rng.randint(1, 2)):
            lists.append(PriceListFactory(effective_month=date(2025, month, 1), uploaded_at=_moment(rng)))
    for price_list in lists:
        if rng.random() < 0.2:
            PriceList.objects.filter(pk=price_list.pk).update(status=PriceListStatus.SUPERSEDED)
        for sku, (term, plan) in itertools.product(skus, terms):
            for tier in rng.choice([[(None, None)], [(1, 50), (51, None)], [(1, 10), (20, 300)]]):
                starts = {
                    date(2025, rng.randint(2, 6), rng.choice([1, 15])) for _ in range(rng.randint(0, 2))
                }
                for start in starts:  # one row per start and tier: the table's key
                    end = rng.choice([date(2025, start.month + 1, 20), date(9999, 11, 30)])
                    PriceListRowFactory(
                        price_list=price_list,
                        product_id="CFQ7TTC0LCHC",
                        sku_id=sku,
                        term_duration=term,
                        billing_plan=plan,
                        unit_price=Decimal(rng.randint(100, 300)),
                        pricing_tier_range_min=tier[0],
                        pricing_tier_range_max=tier[1],
                        effective_start_date=datetime.combine(start, datetime.min.time(), tzinfo=UTC),
                        effective_end_date=datetime.combine(end, datetime.min.time(), tzinfo=UTC),
                    )
    days = [date(2025, month, day) for month in (2, 3, 4, 5, 6, 7) for day in (1, 14, 15, 20)]
    with CaptureQueriesContext(connection) as read:
        candidates = price_candidates(
            markets={"US"},
            product_ids={"CFQ7TTC0LCHC"},
            sku_ids=set(skus),
            first_day=days[0],
            last_day=days[-1],
        )
    assert len(read) == 1
    compared = 0
    for sku, (term, plan), on, quantity in itertools.product(
        skus, terms, days, (1, 10, 15, 50, 51, 300, 400)
    ):
        key = ("US", "CFQ7TTC0LCHC", sku, term, plan, "Commercial")
        single = price_for(**dict(zip(("market", "product_id", "sku_id", "term_duration", "billing_plan",
                                       "segment"), key, strict=True)), on=on, quantity=quantity)  # fmt: skip
        chosen = choose(candidates.get(key, []), on=on, quantity=quantity)
        assert (chosen.id if chosen else None) == (single.pk if single else None), (key, on, quantity)
        compared += single is not None
    assert compared  # the data priced something


def _moment(rng: random.Random) -> datetime:
    return datetime(2025, 5, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 10_000))


# --- A corrected file -------------------------------------------------------------------------------------

CORRECTED = CURRENT.replace(b",237.60,", b",240.00,", 1).replace(
    b"2025-06-30T23:59:59Z", b"2025-07-31T23:59:59Z"
)


def test_a_corrected_file_replaces_the_months_list(run, imported, vendor_staff, verified_client):
    first = imported()
    job = run(CORRECTED, name="price_list_us_v2.csv")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    corrected = PriceList.objects.get(pk=job.result["price_list_id"])
    first.refresh_from_db()
    assert (corrected.status, corrected.replaced_by) == (PriceListStatus.READY, None)
    assert (first.status, first.replaced_by) == (PriceListStatus.SUPERSEDED, corrected)
    assert job.result["price_list"] == "created"
    assert job.result["replaced_price_list_id"] == first.pk
    assert job.result["note"].startswith(f"A correction: this file replaces {first.name} imported on ")
    assert AuditEvent.objects.filter(action="price_list.imported").latest("pk").changes["replaced"] == [
        first.pk
    ]
    job_page = verified_client(vendor_staff).get(
        reverse("admin:commerce_pricelist_import_job", args=[job.pk])
    )
    assert f"A correction: this file replaces {first.name}" in job_page.content.decode()
    # Only the corrected list prices anything now.
    assert price_for(**PREMIUM, on=date(2025, 5, 15), quantity=10).price_list == corrected
    assert _price(on=date(2025, 5, 15)) == Decimal("240.00")

    # What the correction changed: the same diff as a preview's, against the list it replaced.
    changes = price_list_diff(base=first, other=corrected)
    assert [
        (c.change, c.product_id, c.term_duration, c.old_unit_price, c.new_unit_price) for c in changes
    ] == [
        ("Changed", "CFQ7TTC0LCHC", "P1Y", Decimal("237.60"), Decimal("240.00")),
        ("Changed", "CFQ7TTC0LFLZ", "P1Y", Decimal("388.80"), Decimal("388.80")),  # its end moved
    ]
    assert changes[1].new_effective_end_date == datetime(2025, 7, 31, 23, 59, 59, tzinfo=UTC)

    # The identical corrected file again changes nothing.
    again = run(CORRECTED, name="price_list_us_v2.csv")
    assert (again.result["price_list"], again.result["price_list_id"]) == ("unchanged", corrected.pk)
    assert "replaced_price_list_id" not in again.result
    assert PriceList.objects.count() == 2

    # The old file again does not bring the replaced list back: it is a new correction of its own.
    old_again = run(CURRENT)
    assert old_again.result["price_list"] == "created"
    assert old_again.result["replaced_price_list_id"] == corrected.pk
    third = PriceList.objects.get(pk=old_again.result["price_list_id"])
    assert third.pk not in (first.pk, corrected.pk)
    assert dict(PriceList.objects.values_list("pk", "status")) == {
        first.pk: PriceListStatus.SUPERSEDED,
        corrected.pk: PriceListStatus.SUPERSEDED,
        third.pk: PriceListStatus.READY,
    }
    assert PriceList.objects.get(pk=first.pk).replaced_by == corrected  # its own successor stays
    assert _price(on=date(2025, 5, 15)) == Decimal("237.60")
    # A preview of the same month is another kind of list: it replaces nothing.
    preview = imported(is_preview=True)
    assert PriceList.objects.get(pk=third.pk).status == PriceListStatus.READY
    assert preview.status == PriceListStatus.READY


def test_the_pages_and_api_show_a_replaced_list_and_what_the_correction_changed(
    imported, alice, org_a, verified_client, api_for
):
    first = imported()
    corrected = imported(CORRECTED, name="price_list_us_v2.csv")
    client = verified_client(alice)

    index = client.get(reverse("commerce:price-list-index")).content.decode()
    assert "Replaced by a corrected file" in index
    assert f'href="/commerce/price-lists/{corrected.pk}/" data-testid="replaced-by"' in index
    assert f'href="/commerce/price-lists/{first.pk}/"' in index  # the replaced list is still readable

    replaced_page = client.get(reverse("commerce:price-list-detail", args=[first.pk]))
    assert replaced_page.status_code == 200
    html = replaced_page.content.decode()
    assert 'data-testid="replaced-notice"' in html
    assert f"/commerce/price-lists/{corrected.pk}/diff/?against={first.pk}" in html
    corrected_page = client.get(reverse("commerce:price-list-detail", args=[corrected.pk])).content.decode()
    assert 'data-testid="correction-notice"' in corrected_page

    # The corrected list's diff compares it with the list it replaced, unless told otherwise.
    diff_page = client.get(reverse("commerce:price-list-diff", args=[corrected.pk]))
    assert diff_page.context["base"] == first
    assert diff_page.context["counts"] == {"New": 0, "Removed": 0, "Changed": 2}
    assert b'data-testid="correction-diff"' in diff_page.content
    download = client.get(reverse("commerce:price-list-diff-csv", args=[corrected.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(line[0], line[2], line[10], line[11]) for line in lines[1:]] == [
        ("Changed", "CFQ7TTC0LCHC", "237.60", "240.00"),
        ("Changed", "CFQ7TTC0LFLZ", "388.80", "388.80"),
    ]

    api = api_for(org_a, scopes=("commerce:read",))
    listed = {row["id"]: row for row in api.get("/api/v1/commerce/price-lists/").json()["results"]}
    assert (listed[first.pk]["status"], listed[first.pk]["replacedBy"]) == ("superseded", corrected.pk)
    assert (listed[corrected.pk]["status"], listed[corrected.pk]["replacedBy"]) == ("ready", None)


def test_a_correction_is_told_as_a_correction(imported, alice, django_capture_on_commit_callbacks):
    first = imported()
    corrected = imported(CORRECTED, name="price_list_us_v2.csv")
    told = Notification.objects.filter(recipient=alice).order_by("pk")
    assert [n.title for n in told] == [
        "New price list: US price list April 2025",
        "Corrected price list: US price list April 2025",
    ]
    correction = told.last()
    assert "The vendor corrected the US price list for April 2025" in correction.body
    assert correction.url == f"/commerce/price-lists/{corrected.pk}/diff/?against={first.pk}"
