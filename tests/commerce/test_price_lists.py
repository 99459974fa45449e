"""Price lists: import in the real column layout, preview lists, the diff, price lookups, pages, API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from commerce.choices import PriceListStatus
from commerce.models import PriceList, PriceListRow, Product, Sku
from commerce.pricing import staging
from commerce.pricing.columns import PRICE_LIST_COLUMNS
from commerce.pricing.diff import DIFF_COLUMNS, price_list_diff, price_list_diff_counts
from commerce.pricing.lookup import price_for
from commerce.pricing.validation import price_list_clean, price_list_validate
from commerce.services import price_list_import_run, price_list_import_start, price_lists
from portal.choices import JobStatus
from portal.jobs import job_run_chunks
from portal.models import AuditEvent, JobChunk, JobRun
from portal.uploads import UploadRejected
from tests.factories import PriceListFactory, PriceListRowFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
CURRENT = (DATA / "price_list_us.csv").read_bytes()
PREVIEW = (DATA / "price_list_us_preview.csv").read_bytes()
HEADER = CURRENT.split(b"\n", 1)[0].decode()
GOOD_ROW = CURRENT.split(b"\n")[1].decode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Staged files go to a scratch directory."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def vendor_staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True)


def _upload(content: bytes, name: str = "price_list_us.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _import(actor, content: bytes, *, is_preview=False, name="price_list_us.csv", capture=None) -> PriceList:
    with capture(execute=True):
        price_list = price_list_import_start(
            actor=actor, upload=_upload(content, name), is_preview=is_preview
        )
    price_list.refresh_from_db()
    return price_list


@pytest.fixture
def imported(vendor_staff, django_capture_on_commit_callbacks):
    def make(content: bytes = CURRENT, **kwargs) -> PriceList:
        return _import(vendor_staff, content, capture=django_capture_on_commit_callbacks, **kwargs)

    return make


def _file(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode() + b"\n"


def _row(**changes: str) -> str:
    values = next(csv.reader([GOOD_ROW]))
    for column, value in changes.items():
        values[PRICE_LIST_COLUMNS.index(column)] = value
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


# --- Import ------------------------------------------------------------------------------------------


def test_it_imports_the_sample_file_through_a_job(imported, vendor_staff, _media):
    price_list = imported()
    assert (price_list.status, price_list.row_count) == (PriceListStatus.READY, 9)
    assert (price_list.market, price_list.currency, price_list.is_preview) == ("US", "USD", False)
    assert price_list.effective_month == date(2025, 4, 1)
    assert price_list.name == "US price list April 2025"
    assert price_list.uploaded_by == vendor_staff
    job = price_list.job
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 9, 9)
    gcc = PriceListRow.objects.get(price_list=price_list, product_id="CFQ7TTC0LFLZ")
    assert (gcc.unit_price, gcc.erp_price, gcc.segment) == (
        Decimal("388.80"),
        Decimal("432.00"),
        "Government",
    )
    assert (gcc.pricing_tier_range_min, gcc.pricing_tier_range_max) == (1, 2400)
    assert gcc.effective_start_date == datetime(2025, 4, 1, tzinfo=UTC)
    assert gcc.effective_end_date == datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    trial = PriceListRow.objects.get(price_list=price_list, sku_id="0003")
    assert (trial.billing_plan, trial.unit_of_measure, trial.tags) == ("None", "", "License;Trial")
    assert trial.effective_end_date == datetime(9999, 11, 30, 23, 59, 59, tzinfo=UTC)
    # The catalog learns the products and SKUs, set-based.
    assert Product.objects.get(product_id="CFQ7TTC0LCHC").title == "Microsoft 365 Business Premium"
    assert Sku.objects.get(product_id="CFQ7TTC0LCHC", sku_id="0003").is_trial
    assert not Sku.objects.get(product_id="CFQ7TTC0LCHC", sku_id="0002").is_trial
    assert Sku.objects.count() == 5
    assert AuditEvent.objects.filter(action="price_list.import_started").count() == 1
    # The staged copy is gone once the rows are in.
    assert not list((_media / "price_lists" / "staged").iterdir())


def test_an_xlsx_file_imports_the_same_rows(imported):
    from_csv = imported()
    from_xlsx = imported(_xlsx(CURRENT), name="price_list_us.xlsx")
    assert from_xlsx.row_count == 9

    def rows(price_list):
        return sorted(
            PriceListRow.objects.filter(price_list=price_list).values_list(
                "product_id", "sku_id", "term_duration", "billing_plan", "unit_price", "erp_price",
                "pricing_tier_range_min", "effective_start_date", "effective_end_date", "unit_of_measure",
            )
        )  # fmt: skip

    assert rows(from_xlsx) == rows(from_csv)


def test_a_file_written_differently_imports_the_same_rows(imported):
    """Windows line ends, padded cells and a date-only start take the careful path; same rows."""
    reference = imported()
    lines = CURRENT.decode().strip().split("\n")
    odd = [lines[0], *(line.replace(",License,", ", License ,") for line in lines[1:])]
    odd[1] = odd[1].replace("2025-04-01T00:00:00Z", "2025-04-01")
    content = "\r\n".join(odd).encode() + b"\r\n"
    # The sample is copied to PostgreSQL as it is; this one is written out cleaned first.
    assert price_list_clean(upload=_upload(CURRENT)).raw_csv == CURRENT
    assert price_list_clean(upload=_upload(content)).raw_csv is None
    price_list = imported(content)
    assert price_list.row_count == 9
    fields = (
        "product_id",
        "sku_id",
        "term_duration",
        "billing_plan",
        "unit_price",
        "tags",
        "effective_start_date",
    )
    assert sorted(price_list.rows.values_list(*fields)) == sorted(reference.rows.values_list(*fields))


def test_a_file_with_windows_line_ends_is_copied_as_it_is(imported):
    content = CURRENT.replace(b"\n", b"\r\n")
    assert price_list_clean(upload=_upload(content)).raw_csv == content
    price_list = imported(content)
    assert price_list.row_count == 9
    assert set(price_list.rows.values_list("segment", flat=True)) == {"Commercial", "Education", "Government"}


def test_a_failing_import_marks_the_list_and_its_job_failed(
    vendor_staff, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("catalog unavailable")

    monkeypatch.setattr(price_lists, "_catalog_upsert", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        price_list_import_start(actor=vendor_staff, upload=_upload(CURRENT), is_preview=False)
    price_list = PriceList.objects.get()
    assert price_list.status == PriceListStatus.FAILED
    assert price_list.job.status == JobStatus.FAILED
    assert "catalog unavailable" in price_list.job.errors[0]["message"]


def test_validate_returns_typed_rows():
    rows = price_list_validate(upload=_upload(CURRENT), is_preview=False)
    assert len(rows) == 9
    assert rows[0]["unit_price"] == Decimal("64.80")
    assert rows[0]["effective_end_date"] == datetime(9999, 11, 30, 23, 59, 59, tzinfo=UTC)
    assert rows[0]["erp_price"] == Decimal("72.00")
    assert rows[0]["pricing_tier_range_min"] is None
    assert rows[-1]["pricing_tier_range_max"] == 2400


def _rejection(content: bytes, name="bad.csv") -> UploadRejected:
    with pytest.raises(UploadRejected) as rejected:
        price_list_validate(upload=_upload(content, name), is_preview=False)
    return rejected.value


def _assert_nothing_written():
    assert not PriceList.objects.exists()
    assert not PriceListRow.objects.exists()
    assert not JobRun.objects.exists()
    assert not Product.objects.exists()


def test_a_bad_file_lists_every_bad_row_and_writes_nothing(vendor_staff, django_capture_on_commit_callbacks):
    content = _file(
        _row(),  # row 2 is good
        _row(UnitPrice="12,50", SkuId="0002"),
        _row(EffectiveStartDate="04/01/2025", SkuId="0003"),
        _row(TermDuration="P2Y", BillingPlan="Quarterly", SkuId="0004"),
        _row(Segment="Retail", ProductId="CFQ7TTC0LH1", SkuId="0005"),
        _row(),  # row 7 repeats row 2
        _row(EffectiveEndDate="2025-03-31T00:00:00Z", SkuId="0006"),
        _row(PricingTierRangeMin="10", PricingTierRangeMax="5", SkuId="0007"),
        _row(Market="GB", Currency="GBP", SkuId="0008"),
        _row(UnitPrice="-1.00", EffectiveEndDate="2025-02-30T00:00:00Z", SkuId="0009"),
    )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(UploadRejected) as rejected:
        price_list_import_start(actor=vendor_staff, upload=_upload(content), is_preview=False)
    problems = {(error.row, error.column): error.message for error in rejected.value.errors}
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
    }
    assert problems[(3, "UnitPrice")] == "'12,50' is not a decimal number like 64.80"
    assert "is not an ISO 8601 date" in problems[(4, "EffectiveStartDate")]
    assert problems[(5, "TermDuration")] == "'P2Y' is not one of P1M, P1Y, P3Y"
    assert problems[(5, "BillingPlan")] == "'Quarterly' is not one of Monthly, Annual, Triennial, None"
    assert "12-character ProductId" in problems[(6, "ProductId")]
    assert problems[(6, "Segment")] == "'Retail' is not one of Commercial, Education, Government, Charity"
    assert problems[(7, "ProductId")].startswith("repeats row 2")
    assert problems[(8, "EffectiveEndDate")] == "EffectiveEndDate is not after EffectiveStartDate"
    assert problems[(10, "Market")] == "market 'GB' differs from 'US' (row 2); a file holds one market"
    assert problems[(11, "UnitPrice")] == "'-1.00' is negative"
    assert "13 problem(s) found; nothing was imported" in rejected.value.message
    _assert_nothing_written()


def test_the_spec_sample_with_two_markets_is_refused_at_its_gb_row():
    gb_row = (
        "Microsoft 365 E3 (Nonprofit),CFQ7TTC0LFLZ,0005,Microsoft 365 E3 for nonprofits,"
        "Microsoft Corporation,Microsoft 365 E3 priced for eligible charities,,P1Y,Annual,GB,GBP,216.00,,,"
        "2025-04-01T00:00:00Z,"
        "9999-11-30T23:59:59Z,License,240.00,Charity"
    )
    lines = CURRENT.decode().strip().split("\n")
    rejection = _rejection("\n".join([*lines[:9], gb_row, lines[9]]).encode())
    assert [(error.row, error.column) for error in rejection.errors] == [(10, "Market"), (10, "Currency")]


def test_it_names_missing_columns():
    rejection = _rejection(b"ProductTitle,ProductId\nX,CFQ7TTC0LH18\n")
    assert rejection.message == "The header is missing required columns."
    assert "ERP Price" in [error.column for error in rejection.errors]


def test_wrong_type_and_too_big_files_get_a_clear_error(settings):
    assert (
        _rejection(b"%PDF-1.7 not a price list", "prices.csv").message
        == "The file is PDF; expected CSV, XLSX."
    )
    settings.PORTAL_PRICE_LIST_MAX_BYTES = 1024
    assert "the limit is" in _rejection(CURRENT).message
    _assert_nothing_written()


def test_the_admin_uploads_a_price_list_and_lists_bad_rows(
    vendor_staff, verified_client, django_capture_on_commit_callbacks
):
    client = verified_client(vendor_staff)
    add = reverse("admin:commerce_pricelist_add")
    response = client.post(add, {"file": _upload(_file(_row(UnitPrice="abc"), _row(Segment="Retail")))})
    assert response.status_code == 200
    assert b"row 2, column &#x27;UnitPrice&#x27;: &#x27;abc&#x27; is not a decimal number" in response.content
    assert b"row 3, column &#x27;Segment&#x27;" in response.content
    _assert_nothing_written()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, {"file": _upload(PREVIEW), "is_preview": "on"})
    price_list = PriceList.objects.get()
    assert response.status_code == 302
    assert price_list.is_preview and price_list.effective_month == date(2025, 5, 1)
    price_list.refresh_from_db()
    assert (price_list.status, price_list.row_count) == (PriceListStatus.READY, 9)
    listing = client.get(
        reverse("admin:commerce_pricelist_changelist"), {"is_preview__exact": "1", "q": "US"}
    )
    assert price_list.name.encode() in listing.content
    rows = client.get(reverse("admin:commerce_pricelistrow_changelist"), {"q": "CFQ7TTC0LFK5"})
    assert b"Microsoft 365 A3 for faculty" in rows.content
    assert client.get(reverse("admin:commerce_sku_changelist")).status_code == 200


def test_a_replayed_import_chunk_changes_nothing(
    vendor_staff, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(staging, "CHUNK_SIZE", 4)
    with django_capture_on_commit_callbacks(execute=False):
        price_list = price_list_import_start(actor=vendor_staff, upload=_upload(CURRENT), is_preview=False)
    job = JobRun.objects.get()
    assert len(job.parameters["chunks"]) == 3
    chunks = list(price_lists._import_chunks(job))
    # A worker committed the first chunk and died; the redelivered task runs the whole import.
    assert job_run_chunks(job, chunks[:1]) == 1
    price_list_import_run(job_id=job.pk)
    job.refresh_from_db()
    price_list.refresh_from_db()
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 9, 9)
    assert (price_list.status, price_list.row_count) == (PriceListStatus.READY, 9)
    # Every chunk replayed once more: nothing runs, nothing changes.
    assert job_run_chunks(job, chunks) == 0
    assert PriceListRow.objects.count() == 9
    assert JobChunk.objects.filter(job=job).count() == 3


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
        billing_plan="Annual", segment="Commercial", on=date(2025, 5, 15),
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
    april, may = "2025-04-01T00:00:00Z", "2025-05-01T00:00:00Z"
    assert lines[1:] == [
        ["Changed", premium, "CFQ7TTC0LCHC", "0002", premium, "P1Y", "Annual", "Commercial", "", "USD"]
        + ["237.60", "250.80", april, may],
        ["New", a3, "CFQ7TTC0LFK5", "0001", a3, "P1Y", "Annual", "Education", "", "USD"]
        + ["", "93.60", "", may],
        ["Removed", premium, "CFQ7TTC0LCHC", "0002", premium, "P3Y", "Triennial", "Commercial", "", "USD"]
        + ["712.80", "", april, ""],
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
           "billing_plan": "Annual", "segment": "Government"}  # fmt: skip
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
