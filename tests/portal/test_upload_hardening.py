"""Every upload reader turns an unreadable file into one clear rejection, never a 500, and refuses
ZIP-based files (XLSX, DOCX, PPTX) and images that unpack to more than the limits allow before any
reader opens them (portal.uploads)."""

from __future__ import annotations

import html
import io
import random
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import Customer
from commerce.models import MigrationBatch, PriceList
from earnings.models import Reconciliation, Transaction, TransactionUpload
from incentives.choices import ClaimStatus, ProofKind
from incentives.models import Opportunity, ProofDocument
from membership.models import PersonCertification
from portal.imports.reader import open_table
from portal.models import AuditEvent, JobRun
from portal.roles import Role
from portal.uploads import (
    DOCX,
    PNG,
    XLSX,
    UploadRejected,
    UploadTooLarge,
    open_image,
    sniff,
    validate_upload,
)
from security.choices import CheckKind, CheckStatus, DocumentType
from security.models import CustomerAzureSubscription, CustomerMfaStat, VerificationDocument
from tests.factories import (
    ClaimFactory,
    UserFactory,
    VerificationCheckFactory,
    compliance_admin,
)

pytestmark = pytest.mark.django_db

DAMAGED_XLSX = "The file could not be read as XLSX: it is damaged or not a real workbook."
DAMAGED_DOCX = "The file could not be read as DOCX: it is damaged or not a real Word document."
NOT_TEXT = (
    "The file could not be read as CSV: it is neither UTF-8 nor UTF-16 text; save it as “CSV UTF-8” and "
    "upload it again."
)
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Stored and staged files land in a scratch folder, so a test can see that none was written."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


# --- Files ------------------------------------------------------------------------------------------


def _zip(members: list[tuple[str, bytes | str]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _xlsx_parts(*extra: tuple[str, bytes | str]) -> bytes:
    """A ZIP that sniffs as XLSX (content types first, then xl/ parts) with `extra` members."""
    return _zip([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>"), *extra])


def _workbook(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_XLSX = _workbook(
    [["name", "domain", "country", "segment"], ["Litware", "litware.example", "US", "government"]]
)
#: A real Office ZIP whose workbook part is missing: it sniffs as XLSX, pandas cannot open it.
NO_WORKBOOK_XLSX = _zip([("[Content_Types].xml", "<Types/>"), ("xl/styles.xml", "<styleSheet/>")])
TRUNCATED_XLSX = GOOD_XLSX[: len(GOOD_XLSX) // 2]
RANDOM_BYTES = random.Random(7).randbytes(6000)
#: A workbook's first 2 KB (so it sniffs as XLSX) followed by noise.
NOISY_XLSX = GOOD_XLSX[:2048] + RANDOM_BYTES


def _zeros_member(name: str, size: int) -> bytes:
    """A member of `size` zero bytes: about 1,000:1 compressed, the shape of a zip bomb."""
    return _xlsx_parts((name, b"\x00" * size))


def _many_members(count: int) -> bytes:
    return _xlsx_parts(*((f"xl/media/part{number}.xml", "x") for number in range(count)))


def _patched_entry(data: bytes, name: str, *, size: int | None = None, flags: int | None = None) -> bytes:
    """`data` with the member `name` declaring another uncompressed size or flag bits, in both its
    local header and its central-directory entry (what a hand-crafted archive can do)."""
    raw = bytearray(data)
    encoded = name.encode()
    for signature, size_at, flags_at, name_at in ((b"PK\x03\x04", 22, 6, 30), (b"PK\x01\x02", 24, 8, 46)):
        at = raw.find(signature)
        while at >= 0 and raw[at + name_at : at + name_at + len(encoded)] != encoded:
            at = raw.find(signature, at + 1)
        assert at >= 0, name
        if size is not None:
            struct.pack_into("<I", raw, at + size_at, size)
        if flags is not None:
            struct.pack_into("<H", raw, at + flags_at, flags)
    return bytes(raw)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares a `width` × `height` canvas in a few dozen bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


BOMB_PNG = _png_header(100_000, 100_000)


def _small_png() -> bytes:
    from PIL import Image  # noqa: PLC0415

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _truncated_docx() -> bytes:
    """A Word document cut in the middle of its body part (so it still sniffs as DOCX)."""
    noise = random.Random(3)
    body = "".join(f"<w:p>{noise.random()}</w:p>" for _ in range(4000))
    document = _zip([("[Content_Types].xml", "<Types/>"), ("word/document.xml", body)])
    return document[: len(document) // 2]


def _upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _read(data: bytes, name: str):
    """The file as the one import pipeline reads it: its header and first chunk of rows."""
    with open_table(_upload(data, name)) as table:
        return table.header, next(table.chunks).frame


def _rejection(data: bytes, name: str = "customers.xlsx") -> UploadRejected:
    with pytest.raises(UploadRejected) as rejected:
        _read(data, name)
    return rejected.value


def _page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- The pipeline's reader: XLSX and ZIP ---------------------------------------------------------


def test_the_broken_workbooks_really_sniff_as_xlsx():
    """Guard: the files below reach the XLSX reader, not the type check."""
    for data in (NO_WORKBOOK_XLSX, TRUNCATED_XLSX, NOISY_XLSX):
        assert sniff(data[:8192]) == XLSX


@pytest.mark.parametrize(
    "data",
    [NO_WORKBOOK_XLSX, TRUNCATED_XLSX, NOISY_XLSX],
    ids=["zip-without-workbook-part", "truncated", "workbook-head-then-noise"],
)
def test_an_xlsx_that_cannot_be_read_is_one_clear_rejection(data):
    rejection = _rejection(data)

    assert rejection.message == DAMAGED_XLSX
    assert not isinstance(rejection, UploadTooLarge)


def test_random_bytes_named_xlsx_are_refused_as_an_unknown_type():
    assert _rejection(RANDOM_BYTES).message == (
        "The file is an unrecognised binary file; expected CSV, TSV, XLSX or a ZIP holding one of them."
    )


def test_a_good_workbook_still_reads():
    header, frame = _read(GOOD_XLSX, "customers.xlsx")

    assert header == ["name", "domain", "country", "segment"]
    assert frame.to_dict("records") == [
        {"name": "Litware", "domain": "litware.example", "country": "US", "segment": "government"}
    ]


def test_a_zip_bomb_of_300_mb_is_refused_before_it_is_inflated():
    # 300 MB declared by a member of a few hundred KB: refused from the central directory alone.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            zeros = b"\x00" * (4 * MB)
            for _ in range(75):
                member.write(zeros)
    assert len(buffer.getvalue()) < 2 * MB

    rejection = _rejection(buffer.getvalue())

    assert isinstance(rejection, UploadTooLarge)
    assert rejection.message == (
        "The file could not be read as XLSX: it unpacks to 300 MB; at most 200 MB are accepted."
    )


@override_settings(PORTAL_UPLOAD_MAX_UNPACKED_BYTES=2 * MB, PORTAL_UPLOAD_MAX_COMPRESSION_RATIO=10_000)
def test_the_unpacked_size_limit_is_a_setting():
    rejection = _rejection(_zeros_member("xl/worksheets/sheet1.xml", 3 * MB))

    assert isinstance(rejection, UploadTooLarge)
    assert "it unpacks to 3 MB; at most 2 MB are accepted" in rejection.message


def test_a_member_compressed_beyond_the_ratio_of_real_documents_is_refused():
    rejection = _rejection(_zeros_member("xl/worksheets/sheet1.xml", 4 * MB))

    assert isinstance(rejection, UploadTooLarge)
    assert rejection.message.startswith("The file could not be read as XLSX: a part of it is compressed ")
    assert "beyond the 100:1 of real documents" in rejection.message


def test_small_members_are_not_held_to_the_ratio():
    # 512 KB of zeros compresses ~1,000:1; a small part cannot hurt and styles often look like this.
    rejection = _rejection(_zeros_member("xl/styles.xml", 512 * 1024))

    # Opened by the reader and found not to be a workbook (its parts are stubs): not refused unread.
    assert rejection.message == DAMAGED_XLSX


def test_an_archive_of_20000_parts_is_refused():
    rejection = _rejection(_many_members(20_000))

    assert isinstance(rejection, UploadTooLarge)
    assert rejection.message == (
        "The file could not be read as XLSX: it has 20,002 parts; at most 10,000 are accepted."
    )


@override_settings(PORTAL_UPLOAD_MAX_ZIP_MEMBERS=10)
def test_a_central_directory_too_large_for_the_member_limit_is_refused_before_it_is_parsed():
    rejection = _rejection(_many_members(200))

    assert isinstance(rejection, UploadTooLarge)
    assert rejection.message == "The file could not be read as XLSX: it has more parts than the 10 accepted."


@pytest.mark.parametrize("name", ["../../etc/cron.d/job", "xl/../../evil.xml", "/etc/passwd", "C:\\evil.xml"])
def test_a_member_with_an_absolute_or_climbing_path_is_refused(name):
    rejection = _rejection(_xlsx_parts((name, "<x/>")))

    assert rejection.message == (
        "The file could not be read as XLSX: it contains a part whose name is an absolute path or "
        "leads out with '..'."
    )


def test_a_member_that_inflates_past_its_declared_size_is_refused_with_bounded_memory():
    # The directory says 1,000 bytes; the data inflates to 64 MB. Reading stops at 1,000 bytes and
    # the checksum no longer matches.
    data = _patched_entry(
        _zeros_member("xl/worksheets/sheet1.xml", 64 * MB), "xl/worksheets/sheet1.xml", size=1000
    )

    tracemalloc.start()
    try:
        rejection = _rejection(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert rejection.message == DAMAGED_XLSX
    assert peak < 8 * MB


def test_an_encrypted_member_is_refused():
    data = _patched_entry(
        _xlsx_parts(("xl/worksheets/sheet1.xml", "<x/>")), "xl/worksheets/sheet1.xml", flags=1
    )

    assert _rejection(data).message == DAMAGED_XLSX


def test_a_password_protected_or_old_excel_file_says_what_to_do():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000 + "EncryptedPackage".encode("utf-16-le")

    assert _rejection(ole).message == (
        "The file could not be read as XLSX: it is password-protected or saved in the old Office 97–2003 "
        "format; save it without a password in the current format and upload it again."
    )


# --- The pipeline's reader: CSV ---------------------------------------------------------------


def test_a_utf16_csv_with_its_bom_reads_as_excel_s_unicode_text():
    header, frame = _read("name,domain\nContoso,contoso.example\n".encode("utf-16"), "customers.csv")
    assert header == ["name", "domain"] and frame.to_dict("records") == [
        {"name": "Contoso", "domain": "contoso.example"}
    ]


@pytest.mark.parametrize(
    "data",
    [
        "name,domain\nContoso,contoso.example\n".encode("utf-16-le"),
        b"name,domain\n" + b"Contoso,contoso.example\n" * 1000 + b"M\xfcller,m.example\n",
    ],
    ids=["utf-16-without-bom", "invalid-utf-8-after-the-sniffed-head"],
)
def test_a_csv_that_is_not_text_says_how_to_save_it(data):
    assert _rejection(data, "customers.csv").message == NOT_TEXT


def test_an_empty_file_is_refused():
    assert _rejection(b"", "customers.csv").message == "The file is empty."


def test_a_blank_csv_has_no_header_row():
    assert _rejection(b"\n\n\n", "customers.csv").message == "The file has no header row."


def test_a_truncated_csv_names_the_open_quote():
    data = b'name,domain\nContoso,contoso.example\nFabrikam,"fabrikam.exa'

    assert _rejection(data, "customers.csv").message == (
        "The file could not be read as CSV: the quoted cell that starts on line 3 never ends "
        "(is the file cut off?)."
    )


def test_a_ragged_csv_names_the_line():
    data = b"name,domain\nContoso,contoso.example\nFabrikam,fabrikam.example,extra\n"

    assert _rejection(data, "customers.csv").message == (
        "The file could not be read as CSV: line 3 has 3 cells where the header has 2."
    )


# --- Other ZIP-based types and images -----------------------------------------------------------------


def test_a_truncated_docx_is_refused_where_office_files_are_accepted():
    data = _truncated_docx()
    assert sniff(data[:8192]) == DOCX

    with pytest.raises(UploadRejected) as rejected:
        validate_upload(_upload(data, "proof.docx"), allowed={DOCX, XLSX})

    assert rejected.value.message == DAMAGED_DOCX


def test_a_docx_zip_bomb_is_refused_where_office_files_are_accepted():
    data = _zip([("[Content_Types].xml", "<Types/>"), ("word/document.xml", b"\x00" * 4 * MB)])

    with pytest.raises(UploadTooLarge):
        validate_upload(_upload(data, "proof.docx"), allowed={DOCX})


def test_an_image_that_declares_too_many_pixels_is_refused_before_it_is_decoded():
    with pytest.raises(UploadTooLarge) as rejected:
        open_image(BOMB_PNG, PNG)

    assert rejected.value.message == (
        "The file could not be read as PNG: it has far more pixels than a document needs."
    )


@override_settings(PORTAL_UPLOAD_MAX_IMAGE_PIXELS=10_000)
def test_the_pixel_limit_is_a_setting():
    with pytest.raises(UploadTooLarge) as rejected:
        open_image(_small_png(), PNG)

    assert rejected.value.message == (
        "The file could not be read as PNG: it is 200 × 200 pixels, more than the 0.01 megapixels accepted; "
        "scan or export it at a lower resolution."
    )


def test_a_damaged_image_is_refused_as_damaged():
    with pytest.raises(UploadRejected) as rejected:
        open_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, PNG)

    assert (
        rejected.value.message == "The file could not be read as PNG: it is damaged or not a real PNG image."
    )
    assert not isinstance(rejected.value, UploadTooLarge)


# --- Every upload route: a broken file is a clear rejection, no 500, nothing written ------------------


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="ops@vendor.example")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (NO_WORKBOOK_XLSX, DAMAGED_XLSX),
        (TRUNCATED_XLSX, DAMAGED_XLSX),
        (_zeros_member("xl/worksheets/sheet1.xml", 4 * MB), "compressed"),
        (_xlsx_parts(("../evil.xml", "<x/>")), "leads out with '..'"),
        # UTF-16 is read (Partner Center exports it); its header is checked like any other.
        ("name,country\n".encode("utf-16"), "required column is missing"),
    ],
    ids=["no-workbook-part", "truncated", "zip-bomb", "climbing-path", "utf-16-header-checked"],
)
def test_the_customer_import_page_shows_the_rejection(alice, verified_client, data, message):
    response = verified_client(alice).post(
        reverse("accounts:customer-import"), {"file": _upload(data, "customers.xlsx")}
    )

    assert response.status_code == 200
    assert message in _page_text(response)
    assert not JobRun.objects.exists()
    assert not Customer.objects.exists()


def test_the_batch_migration_upload_shows_the_rejection(alice, verified_client):
    response = verified_client(alice).post(
        reverse("commerce:batch-upload"), {"file": _upload(NO_WORKBOOK_XLSX, "batch.xlsx")}
    )

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not MigrationBatch.objects.exists()
    assert not JobRun.objects.exists()


def test_the_price_list_import_shows_the_rejection(staff, verified_client, media):
    response = verified_client(staff).post(
        reverse("admin:commerce_pricelist_add"), {"file": _upload(TRUNCATED_XLSX, "price_list_us.xlsx")}
    )

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not PriceList.objects.exists()
    assert not JobRun.objects.exists()
    assert _files_in(media) == []


def test_the_reconciliation_upload_shows_the_rejection_and_stages_nothing(alice, verified_client, media):
    response = verified_client(alice).post(
        reverse("earnings:reconcile-new"), {"file": _upload(NO_WORKBOOK_XLSX, "my-billing.xlsx")}
    )

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not Reconciliation.objects.exists()
    assert _files_in(media) == []


def test_the_transaction_upload_shows_the_rejection(staff, org_a, verified_client):
    response = verified_client(staff).post(
        reverse("admin:earnings_transactionupload_add"),
        {"organization": org_a.pk, "file": _upload(TRUNCATED_XLSX, "usage.xlsx")},
    )

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not TransactionUpload.objects.exists()
    assert not Transaction.objects.exists()


def test_the_opportunity_import_shows_the_rejection(staff, org_a, verified_client):
    response = verified_client(staff).post(
        reverse("admin:incentives_opportunity_import"),
        {"organization": org_a.pk, "file": _upload(NO_WORKBOOK_XLSX, "opportunities.xlsx")},
    )

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not Opportunity.objects.exists()


def test_the_membership_import_shows_the_rejection(staff, org_a, verified_client):
    response = verified_client(staff).post(
        reverse("admin:membership_personcertification_import"),
        {"organization": org_a.pk, "file": _upload(TRUNCATED_XLSX, "certifications.xlsx")},
    )

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not PersonCertification.objects.exists()


@pytest.mark.parametrize(
    ("route", "model"),
    [
        ("security:customers-mfa-import", CustomerMfaStat),
        ("security:azure-budgets-import", CustomerAzureSubscription),
    ],
)
def test_the_security_imports_show_the_rejection(alice, verified_client, route, model):
    response = verified_client(alice).post(reverse(route), {"file": _upload(NO_WORKBOOK_XLSX, "mfa.xlsx")})

    assert response.status_code == 200
    assert DAMAGED_XLSX in _page_text(response)
    assert not model.objects.exists()


@pytest.fixture
def check(org_a):
    return VerificationCheckFactory(
        organization=org_a, kind=CheckKind.BUSINESS, status=CheckStatus.ACTION_REQUIRED
    )


def test_a_verification_document_with_too_many_pixels_is_a_400_and_stores_nothing(
    org_a, check, verified_client, media
):
    client = verified_client(compliance_admin(org_a, email="cora@alpha.example"))
    response = client.post(
        reverse("security:check-upload", args=[check.pk]),
        {"doc_type": DocumentType.REGISTRATION_EXTRACT, "file": _upload(BOMB_PNG, "extract.png")},
    )

    assert response.status_code == 400
    assert "it has far more pixels than a document needs" in _page_text(response)
    assert not VerificationDocument.objects.exists()
    assert _files_in(media) == []
    check.refresh_from_db()
    assert check.status == CheckStatus.ACTION_REQUIRED


def test_the_verification_api_refuses_the_same_image_with_a_problem_400(org_a, check, api_for):
    api = api_for(org_a, scopes=("security:read", "security:write"), roles=(Role.GLOBAL_ADMIN,))
    response = api.post(
        "/api/v1/security/verification/documents/",
        {"checkId": check.pk, "docType": "registration_extract", "file": _upload(BOMB_PNG, "extract.png")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "far more pixels" in response.json()["detail"]
    assert not VerificationDocument.objects.exists()


@pytest.fixture
def claim(org_a):
    return ClaimFactory(organization=org_a, status=ClaimStatus.IN_PROGRESS)


def test_a_broken_docx_as_claim_proof_is_refused_with_the_reason(bob, claim, verified_client, media):
    response = verified_client(bob).post(
        reverse("incentives:claim-proof", args=[claim.pk]),
        {"kind": ProofKind.INVOICE, "file": _upload(_truncated_docx(), "invoice.docx")},
        follow=True,
    )

    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == [DAMAGED_DOCX]
    assert not ProofDocument.objects.exists()
    assert _files_in(media) == []
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_PROGRESS


def test_the_proof_api_refuses_an_xlsx_zip_bomb_with_a_problem_400(org_a, claim, api_for, media):
    api = api_for(org_a, scopes=("incentives:read", "incentives:write"), roles=(Role.INCENTIVES_ADMIN,))
    audit_before = AuditEvent.objects.count()
    response = api.post(
        f"/api/v1/incentives/claims/{claim.pk}/proof/",
        {
            "kind": ProofKind.INVOICE,
            "file": _upload(_zeros_member("xl/worksheets/sheet1.xml", 4 * MB), "a.xlsx"),
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "compressed" in response.json()["errors"]["file"][0]
    assert not ProofDocument.objects.exists()
    assert AuditEvent.objects.count() == audit_before
    assert _files_in(media) == []
