"""Reconciliation: the partner's records matched against their earnings; bad files change nothing."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import RoleAssignment
from earnings import reconciliation as matching
from earnings.choices import AdjustmentReason, EarningKind
from earnings.models import Reconciliation, ReconciliationLine
from earnings.services.reconciliation import reconciliation_create
from portal.models import AuditEvent
from portal.roles import Role
from portal.uploads import UploadRejected
from tests.factories import (
    EarningFactory,
    EnrollmentFactory,
    PartnerLocationFactory,
    ReconciliationFactory,
    ReconciliationLineFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
RECORDS = (DATA / "partner_records.csv").read_bytes()
PC_MAPPING = {
    "transactionId": "transactionId",
    "invoiceNumber": "invoiceNumber",
    "customerName": "customerName",
    "productId": "productId",
    "earningAmount": "earningAmount",
    "transactionCurrency": "transactionCurrency",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Staged files go to a scratch directory."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _earning(enrollment, transaction, amount: str, **kwargs):
    return EarningFactory(
        organization=enrollment.organization,
        enrollment=enrollment,
        transaction=transaction,
        earning_amount=Decimal(amount),
        **kwargs,
    )


def _transaction(org, location, transaction_id, *, invoice="", customer="Contoso"):
    return TransactionFactory(
        organization=org,
        location=location,
        transaction_id=transaction_id,
        invoice_number=invoice,
        customer_name=customer,
    )


@pytest.fixture
def ledger(org_a, org_b):
    """Alpha's earnings behind partner_records.csv, and a Beta earning its file also names."""
    enrollment = EnrollmentFactory(organization=org_a)
    location = enrollment.location
    rows = {}
    for number, amount in [("1001", "129.60"), ("1003", "50.00"), ("1004", "75.00"), ("1008", "60.00")]:
        transaction = _transaction(org_a, location, f"TX-{number}", invoice=f"INV-{number[-1]}")
        rows[transaction.transaction_id] = _earning(enrollment, transaction, amount)
    # Netted per transaction: 200.00 earned, then an adjustment of −20.00.
    netted = _transaction(org_a, location, "TX-1002", invoice="INV-2")
    rows["TX-1002"] = _earning(enrollment, netted, "200.00")
    _earning(
        enrollment,
        netted,
        "-20.00",
        kind=EarningKind.ADJUSTMENT,
        reason_code=AdjustmentReason.OPERATIONAL,
        revision=2,
    )
    by_invoice = _transaction(org_a, location, "TX-1005", invoice="INV-5")
    rows["TX-1005"] = _earning(enrollment, by_invoice, "40.00")
    by_customer = _transaction(org_a, location, "TX-1006", invoice="INV-6", customer="Fabrikam")
    rows["TX-1006"] = _earning(enrollment, by_customer, "33.00")
    too_far = _transaction(org_a, location, "TX-1007", customer="Fabrikam")
    rows["TX-1007"] = _earning(enrollment, too_far, "95.00")
    # Fully reversed: nets to zero, so there is nothing to reconcile.
    reversed_ = _transaction(org_a, location, "TX-1009", invoice="INV-99")
    _earning(enrollment, reversed_, "10.00")
    _earning(
        enrollment,
        reversed_,
        "-10.00",
        kind=EarningKind.REVERSAL,
        reason_code=AdjustmentReason.OPERATIONAL,
        revision=2,
    )
    beta = EnrollmentFactory(organization=org_b)
    beta_transaction = _transaction(org_b, beta.location, "TX-2001", invoice="INV-20", customer="Northwind")
    rows["beta"] = _earning(beta, beta_transaction, "10.00")
    return rows


def _upload(content: bytes = RECORDS, name: str = "my-billing.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _reconcile(user, content: bytes = RECORDS, *, mapping=None, name="my-billing.csv", **kwargs):
    return reconciliation_create(
        actor=user,
        upload=_upload(content, name),
        file_name=name,
        mapping=mapping or PC_MAPPING,
        **kwargs,
    )


def _summary(reconciliation) -> set[tuple]:
    return {
        (
            line.kind,
            line.row_number,
            line.transaction_id,
            line.partner_amount,
            line.portal_amount,
            line.difference,
        )
        for line in reconciliation.lines.all()
    }


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


EXPECTED = {
    ("matched", 2, "TX-1001", _d("129.60"), _d("129.60"), _d("0")),
    ("matched", 3, "TX-1002", _d("180.00"), _d("180.00"), _d("0")),
    ("amount_difference", 4, "TX-1003", _d("55.00"), _d("50.00"), _d("5.00")),
    ("matched", 5, "TX-1004", _d("75.005"), _d("75.00"), _d("0.005")),
    ("partner_only", 6, "TX-9999", _d("100.00"), None, None),
    ("matched", 7, "TX-1005", _d("40.00"), _d("40.00"), _d("0")),
    ("matched", 8, "TX-1006", _d("33.00"), _d("33.00"), _d("0")),
    ("partner_only", 9, "", _d("90.00"), None, None),
    ("partner_only", 10, "TX-2001", _d("10.00"), None, None),
    ("portal_only", None, "TX-1007", None, _d("95.00"), None),
    ("portal_only", None, "TX-1008", None, _d("60.00"), None),
}


# --- Matching ---------------------------------------------------------------------------------------


def test_it_matches_differs_and_lists_what_is_only_on_one_side(alice, ledger):
    reconciliation = _reconcile(alice, payment_month=None)

    assert _summary(reconciliation) == EXPECTED
    assert (
        reconciliation.matched_count,
        reconciliation.difference_count,
        reconciliation.partner_only_count,
        reconciliation.portal_only_count,
    ) == (5, 1, 3, 2)
    assert reconciliation.organization_id == alice.organization_id
    assert reconciliation.column_mapping == PC_MAPPING
    earnings_of = {line.transaction_id: line.earning for line in reconciliation.lines.all()}
    # The netted transaction points at its original earning row.
    assert earnings_of["TX-1002"] == ledger["TX-1002"]
    assert earnings_of["TX-1008"] == ledger["TX-1008"]
    # Rows matched by invoice or customer show the portal's transaction ID and keep the file's row.
    line = reconciliation.lines.get(row_number=7)
    assert line.partner_row["invoiceNumber"] == "INV-5"


def test_another_organizations_earnings_never_match(alice, ledger):
    reconciliation = _reconcile(alice)

    line = reconciliation.lines.get(transaction_id="TX-2001")
    assert line.kind == "partner_only"
    assert not reconciliation.lines.filter(earning=ledger["beta"]).exists()


def test_a_location_scoped_user_reconciles_only_their_locations_earnings(org_a, alice, ledger):
    other = PartnerLocationFactory(organization=org_a)
    user = UserFactory(organization=org_a)
    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.INCENTIVES_USER, location=other)

    reconciliation = _reconcile(user)

    assert reconciliation.matched_count == reconciliation.difference_count == 0
    assert reconciliation.portal_only_count == 0
    assert reconciliation.partner_only_count == 9


def test_the_tolerance_decides_between_matched_and_differs(alice, ledger):
    exact = _reconcile(alice, tolerance=Decimal("0"))
    assert exact.lines.get(row_number=5).kind == "amount_difference"
    # Customer + product needs the amounts to agree: 33.00 still matches at zero tolerance.
    assert exact.lines.get(row_number=8).kind == "matched"

    loose = _reconcile(alice, tolerance=Decimal("5.00"))
    assert loose.lines.get(row_number=4).kind == "matched"
    # Within 5.00, the 90.00 row now finds Fabrikam's 95.00 earning by customer and product.
    row_9 = loose.lines.get(row_number=9)
    assert (row_9.kind, row_9.transaction_id, row_9.difference) == ("matched", "TX-1007", Decimal("-5"))
    assert loose.portal_only_count == 1


def test_the_payment_month_restricts_the_earnings_side(alice, ledger):
    ledger["TX-1008"].estimated_payment_month = ledger["TX-1008"].estimated_payment_month.replace(month=6)
    ledger["TX-1008"].save(update_fields=["estimated_payment_month"])

    june = _reconcile(alice, payment_month=ledger["TX-1008"].estimated_payment_month)

    assert june.portal_only_count == 1
    assert june.lines.get(kind="portal_only").transaction_id == "TX-1008"
    assert june.matched_count == 0


def test_a_customer_billed_every_month_pairs_each_row_once(org_a, alice):
    enrollment = EnrollmentFactory(organization=org_a)
    for month in range(12):
        transaction = _transaction(org_a, enrollment.location, f"TX-M{month}", customer="Fabrikam")
        _earning(enrollment, transaction, "10.004" if month % 2 else "10.00")
    rows = "".join(f"Fabrikam,CFQ7TTC0LF8R,{amount}\n" for amount in ["10.00"] * 12 + ["10.02"])
    content = ("customerName,productId,earningAmount\n" + rows).encode()

    reconciliation = _reconcile(
        alice,
        content,
        mapping={"customerName": "customerName", "productId": "productId", "earningAmount": "earningAmount"},
    )

    assert reconciliation.matched_count == 12
    assert reconciliation.partner_only_count == 1
    assert reconciliation.portal_only_count == 0
    assert reconciliation.lines.filter(kind="matched").values("earning").distinct().count() == 12
    assert reconciliation.lines.get(kind="partner_only").partner_amount == Decimal("10.02")


def test_an_xlsx_file_works(alice, ledger):
    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(csv.reader(io.StringIO(RECORDS.decode()))):
        sheet.append([float(value) if number and index == 4 else value for index, value in enumerate(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)

    reconciliation = _reconcile(alice, buffer.getvalue(), name="my-billing.xlsx")

    assert _summary(reconciliation) == EXPECTED


def test_own_column_names_are_mapped_by_hand(alice, ledger):
    content = b'Ref,Amount EUR,Notes\nTX-1001,129.60,ok\nTX-1003,"1,050.00",typo\nTX-1004,(75.00),credit\n'

    reconciliation = _reconcile(
        alice, content, mapping={"transactionId": "Ref", "earningAmount": "Amount EUR"}
    )

    kinds = {line.transaction_id: (line.kind, line.partner_amount) for line in reconciliation.lines.all()}
    assert kinds["TX-1001"] == ("matched", Decimal("129.60"))
    assert kinds["TX-1003"] == ("amount_difference", Decimal("1050.00"))
    assert kinds["TX-1004"] == ("amount_difference", Decimal("-75.00"))


def test_auto_mapping_picks_partner_center_names():
    columns = [
        "TransactionID",
        "invoice_number",
        "Customer Name",
        "PRODUCTID",
        "earningAmount",
        "Notes",
        "paymentID",
    ]

    assert matching.mapping_guess(columns) == {
        "transactionId": "TransactionID",
        "invoiceNumber": "invoice_number",
        "customerName": "Customer Name",
        "productId": "PRODUCTID",
        "earningAmount": "earningAmount",
        "paymentId": "paymentID",
    }
    assert matching.mapping_guess(["Amount", "Customer", "Product"]) == {
        "earningAmount": "Amount",
        "customerName": "Customer",
        "productId": "Product",
    }


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"transactionId": "a"}, "amount"),
        ({"earningAmount": "a", "customerName": "b"}, "key"),
        ({"earningAmount": "a", "transactionId": "a"}, "chosen for both"),
    ],
)
def test_an_unusable_mapping_is_refused(alice, mapping, message):
    assert any(message in error for error in matching.mapping_errors(mapping))


# --- Bad files change nothing -------------------------------------------------------------------------

HEADER = "transactionId,invoiceNumber,customerName,productId,earningAmount,transactionCurrency\n"


def _counts() -> tuple[int, int, int]:
    return Reconciliation.objects.count(), ReconciliationLine.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        pytest.param(
            b"transactionId,invoiceNumber,customerName,productId,transactionCurrency\nTX-1,,,,EUR\n",
            "records.csv",
            [(1, "earningAmount", "required column is missing")],
            id="missing-amount-column",
        ),
        pytest.param(
            (HEADER + "TX-1001,,,,12.5x,EUR\nTX-1003,,,,,EUR\nTX-1004,,,,12,50,EUR\n").encode(),
            "records.csv",
            None,  # a bad CSV row (an extra cell) is refused by the reader itself
            id="unreadable-row",
        ),
        pytest.param(
            (HEADER + 'TX-1001,,,,12.5x,EUR\nTX-1003,,,,,EUR\nTX-1004,,,,"12,50",EUR\n').encode(),
            "records.csv",
            [
                (2, "earningAmount", "'12.5x' is not an amount"),
                (3, "earningAmount", "the amount is empty"),
                (4, "earningAmount", "'12,50' is not an amount"),
            ],
            id="non-numeric-amounts",
        ),
        pytest.param(
            (HEADER + "TX-1001,,,,1,EUR\nTX-1002,,,,2,EUR\ntx-1001,,,,3,EUR\n").encode(),
            "records.csv",
            [(4, "transactionId", "the transaction ID 'tx-1001' repeats row 2")],
            id="duplicate-transaction-ids",
        ),
        pytest.param(
            (HEADER + ",INV-1,,P1,1,EUR\n,INV-1,,P1,2,EUR\n,,,,3,EUR\n,,Contoso,,4,EUR\n").encode(),
            "records.csv",
            [
                (3, "invoiceNumber", "repeats row 2"),
                (4, "transactionId", "no key"),
                (5, "transactionId", "no key"),
            ],
            id="empty-and-duplicate-keys",
        ),
        pytest.param(
            (HEADER + "TX-1,,,,1,euro\nTX-2,,,,2,\n").encode(),
            "records.csv",
            [(2, "transactionCurrency", "not a currency code"), (3, "transactionCurrency", "empty")],
            id="bad-currency",
        ),
        pytest.param(b"", "records.csv", [], id="empty-file"),
        pytest.param(HEADER.encode(), "records.csv", [], id="header-only"),
        pytest.param(
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "records.csv", [], id="pdf-renamed"
        ),
    ],
)
def test_a_bad_file_is_rejected_row_by_row_and_writes_nothing(alice, ledger, content, name, expected):
    before = _counts()

    with pytest.raises(UploadRejected) as rejected:
        _reconcile(alice, content, name=name)

    assert _counts() == before
    if expected is None:
        assert "could not be read" in rejected.value.message
        return
    errors = [(error.row, error.column, error.message) for error in rejected.value.errors]
    assert len(errors) == len(expected), errors
    for (row, column, message), (want_row, want_column, want_message) in zip(errors, expected, strict=True):
        assert (row, column) == (want_row, want_column)
        assert want_message in message


def test_the_empty_file_and_the_pdf_say_why(alice):
    with pytest.raises(UploadRejected, match="empty"):
        _reconcile(alice, b"")
    with pytest.raises(UploadRejected, match="PDF"):
        _reconcile(alice, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")


# --- Pages ----------------------------------------------------------------------------------------------


def _staged_files(media) -> list[Path]:
    folder = media / matching.STAGED_DIR
    return list(folder.iterdir()) if folder.exists() else []


def test_a_partner_uploads_maps_and_sees_the_result(alice, ledger, verified_client, _media):
    client = verified_client(alice)
    assert client.get(reverse("earnings:reconcile-new")).status_code == 200

    response = client.post(reverse("earnings:reconcile-new"), {"file": _upload()})
    assert response.status_code == 302
    mapping_url = response["Location"]
    assert len(_staged_files(_media)) == 1

    page = client.get(mapping_url)
    assert page.status_code == 200
    form = page.context["form"]
    assert {name: form.initial.get(f"map_{name}") for name in PC_MAPPING} == PC_MAPPING
    assert b"TX-1001" in page.content  # the preview of the file

    token = form.initial["token"]
    data = {"token": token, "amount_tolerance": "0.01", "payment_month": "", "payment_id": ""}
    data.update({f"map_{name}": column for name, column in PC_MAPPING.items()})
    response = client.post(reverse("earnings:reconcile-new"), data)
    assert response.status_code == 302, response.content[:2000]
    reconciliation = Reconciliation.objects.get()
    assert response["Location"] == reverse("earnings:reconcile-detail", args=[reconciliation.pk])
    assert _staged_files(_media) == []
    assert AuditEvent.objects.filter(
        action="earnings.reconciliation.created", organization=alice.organization
    )

    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert detail.context["totals"] == {
        "partner": Decimal("712.605"),
        "portal": Decimal("662.60"),
        "difference": Decimal("50.005"),
    }
    assert detail.content.count(b'data-testid="line-') == 11
    tab = client.get(response["Location"], {"kind": "portal_only"})
    assert tab.content.count(b'data-testid="line-portal_only"') == 2
    assert tab.content.count(b'data-testid="line-') == 2

    listing = client.get(reverse("earnings:reconcile-list"))
    assert listing.status_code == 200
    assert b"my-billing.csv" in listing.content


def test_a_rejected_mapping_keeps_the_file_and_lists_the_bad_rows(alice, ledger, verified_client, _media):
    client = verified_client(alice)
    response = client.post(reverse("earnings:reconcile-new"), {"file": _upload()})
    token = client.get(response["Location"]).context["form"].initial["token"]
    before = _counts()

    data = {"token": token, "amount_tolerance": "0.01", "map_transactionId": "transactionId"}
    data["map_earningAmount"] = "customerName"  # the wrong column
    page = client.post(reverse("earnings:reconcile-new"), data)

    assert page.status_code == 200
    assert page.context["rejection"].errors[0].row == 2
    assert b"&#x27;Contoso&#x27; is not an amount" in page.content
    assert _counts() == before
    assert len(_staged_files(_media)) == 1


def test_a_bad_upload_is_shown_and_nothing_is_staged(alice, verified_client, _media):
    client = verified_client(alice)
    pdf = SimpleUploadedFile(
        "records.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", content_type="text/csv"
    )

    page = client.post(reverse("earnings:reconcile-new"), {"file": pdf})

    assert page.status_code == 200
    assert b"The file is PDF" in page.content
    assert _staged_files(_media) == []


def test_a_token_that_is_not_this_sessions_is_refused(alice, verified_client):
    client = verified_client(alice)
    response = client.post(reverse("earnings:reconcile-new"), {"token": "made-up", "map_earningAmount": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse("earnings:reconcile-new")
    assert not Reconciliation.objects.exists()


def test_the_result_downloads_as_csv(alice, ledger, verified_client):
    reconciliation = _reconcile(alice)
    client = verified_client(alice)

    response = client.get(reverse("earnings:reconcile-csv", args=[reconciliation.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == matching.CSV_COLUMNS
    assert len(rows) == 12
    by_row = {(row[0], row[2]): row for row in rows[1:]}
    assert by_row[("amount_difference", "TX-1003")] == [
        "amount_difference",
        "4",
        "TX-1003",
        "INV-3",
        "Contoso",
        "CFQ7TTC0LF8R",
        "55.00",
        "50.00",
        "5.00",
        ledger["TX-1003"].earning_id,
    ]
    assert by_row[("matched", "TX-1004")][6:9] == ["75.005", "75.00", "0.005"]
    assert by_row[("portal_only", "TX-1008")] == [
        "portal_only",
        "",
        "TX-1008",
        "INV-8",
        "Contoso",
        "CFQ7TTC0LF8R",
        "",
        "60.00",
        "",
        ledger["TX-1008"].earning_id,
    ]
    assert by_row[("partner_only", "TX-9999")][7:] == ["", "", ""]

    only = client.get(reverse("earnings:reconcile-csv", args=[reconciliation.pk]), {"kind": "partner_only"})
    assert len(list(csv.reader(io.StringIO(b"".join(only.streaming_content).decode())))) == 4


def test_viewing_needs_earnings_view_and_uploading_needs_reconcile(org_a, verified_client):
    reconciliation = ReconciliationFactory(organization=org_a)
    billing = UserFactory(organization=org_a, roles=[Role.BILLING_ADMIN])  # earnings.view only
    referrals = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])
    client = verified_client(billing)
    assert client.get(reverse("earnings:reconcile-detail", args=[reconciliation.pk])).status_code == 200
    assert client.get(reverse("earnings:reconcile-list")).status_code == 200
    assert client.get(reverse("earnings:reconcile-new")).status_code == 403
    client = verified_client(referrals)
    assert client.get(reverse("earnings:reconcile-list")).status_code == 403
    assert client.get(reverse("earnings:reconcile-csv", args=[reconciliation.pk])).status_code == 403


def test_another_organizations_reconciliation_is_a_404(alice, charlie, verified_client):
    line = ReconciliationLineFactory(reconciliation__organization=alice.organization)
    client = verified_client(charlie)
    for name in ("earnings:reconcile-detail", "earnings:reconcile-csv"):
        assert client.get(reverse(name, args=[line.reconciliation.pk])).status_code == 404
    assert b"my-billing.csv" not in client.get(reverse("earnings:reconcile-list")).content


def test_a_location_scoped_user_sees_only_their_own_reconciliations(org_a, alice, verified_client):
    theirs = ReconciliationFactory(organization=org_a, created_by=alice)
    user = UserFactory(organization=org_a)
    RoleAssignment.objects.create(
        organization=org_a,
        user=user,
        role=Role.INCENTIVES_USER,
        location=PartnerLocationFactory(organization=org_a),
    )
    mine = ReconciliationFactory(organization=org_a, created_by=user, file_name="mine.csv")
    client = verified_client(user)

    assert client.get(reverse("earnings:reconcile-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("earnings:reconcile-detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("earnings:reconcile-list")).context["page"].rows == [mine]
