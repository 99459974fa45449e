"""Reconciliation: the partner's records read by the one import pipeline (every cell checked in one
pass, the whole file rejected or the valid rows only), matched against their earnings in the job,
and stored once per job; bad files change nothing."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import RoleAssignment
from earnings import reconciliation as matching
from earnings.choices import AdjustmentReason, EarningKind
from earnings.imports_reconcile import RECONCILIATION_IMPORTER
from earnings.models import Reconciliation, ReconciliationLine
from earnings.services.reconciliation import reconciliation_start
from portal.choices import JobStatus
from portal.imports import import_run, pipeline
from portal.models import AuditEvent, JobRun
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


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """Start a reconciliation and run its import job inline, as the worker would; the job back."""

    def run(user, content: bytes = RECORDS, *, mapping=None, name="my-billing.csv", **options) -> JobRun:
        with django_capture_on_commit_callbacks(execute=True):
            job = reconciliation_start(
                actor=user,
                upload=_upload(content, name),
                file_name=name,
                mapping=mapping or PC_MAPPING,
                **options,
            )
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def reconcile(start):
    """A reconciliation made by a job that succeeded."""

    def run(user, content: bytes = RECORDS, **kwargs) -> Reconciliation:
        job = start(user, content, **kwargs)
        assert job.status == JobStatus.SUCCEEDED, job.errors
        reconciliation = Reconciliation.objects.get(job=job)
        assert job.result["reconciliation"] == reconciliation.pk
        return reconciliation

    return run


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


def _result_rows(job) -> list[dict[str, str]]:
    with default_storage.open(job.result["result_file"], "rb") as result:
        return list(csv.DictReader(io.StringIO(result.read().decode("utf-8-sig"))))


def _problems(job) -> list[tuple]:
    """The job's problems: line, column, value as written, reason (the first error is the message)."""
    return [(e["row"], e["column"], e.get("value"), e["message"]) for e in job.errors if "row" in e]


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


def test_it_matches_differs_and_lists_what_is_only_on_one_side(alice, ledger, start):
    job = start(alice, payment_month=None)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.created_by == alice and job.kind == RECONCILIATION_IMPORTER.kind
    reconciliation = Reconciliation.objects.get()
    assert reconciliation.job == job
    assert _summary(reconciliation) == EXPECTED
    assert (
        reconciliation.matched_count,
        reconciliation.difference_count,
        reconciliation.partner_only_count,
        reconciliation.portal_only_count,
    ) == (5, 1, 3, 2)
    assert {
        key: job.result[key] for key in ("reconciliation", "rows", "rejected", "matched", "portal_only")
    } == {
        "reconciliation": reconciliation.pk,
        "rows": 9,
        "rejected": 0,
        "matched": 5,
        "portal_only": 2,
    }
    assert reconciliation.organization_id == alice.organization_id
    assert reconciliation.created_by == alice
    assert reconciliation.column_mapping == PC_MAPPING
    earnings_of = {line.transaction_id: line.earning for line in reconciliation.lines.all()}
    # The netted transaction points at its original earning row.
    assert earnings_of["TX-1002"] == ledger["TX-1002"]
    assert earnings_of["TX-1008"] == ledger["TX-1008"]
    # Rows matched by invoice or customer show the portal's transaction ID and keep the file's row,
    # the columns the mapping left out included.
    line = reconciliation.lines.get(row_number=7)
    assert line.partner_row["invoiceNumber"] == "INV-5"
    assert line.partner_row["earningDate"] == "2025-02-28"
    assert set(reconciliation.lines.values_list("currency", flat=True)) == {"EUR"}
    assert job.result["unknown_columns"] == ["earningDate"]
    # The result file gives every row back with what became of it.
    outcomes = {row["Line"]: row["Outcome"] for row in _result_rows(job)}
    assert outcomes["2"] == "Matched"
    assert outcomes["4"] == "Amount differs"
    assert outcomes["6"] == "Only in your records"
    audit = AuditEvent.objects.get(action="earnings.reconciliation.created")
    assert audit.organization_id == alice.organization_id
    assert audit.changes["job"] == job.pk and audit.changes["rows"] == 9


def test_another_organizations_earnings_never_match(alice, ledger, reconcile):
    reconciliation = reconcile(alice)

    line = reconciliation.lines.get(transaction_id="TX-2001")
    assert line.kind == "partner_only"
    assert not reconciliation.lines.filter(earning=ledger["beta"]).exists()


def test_a_location_scoped_user_reconciles_only_their_locations_earnings(org_a, alice, ledger, reconcile):
    other = PartnerLocationFactory(organization=org_a)
    user = UserFactory(organization=org_a)
    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.INCENTIVES_USER, location=other)

    reconciliation = reconcile(user)

    assert reconciliation.matched_count == reconciliation.difference_count == 0
    assert reconciliation.portal_only_count == 0
    assert reconciliation.partner_only_count == 9


def test_the_tolerance_decides_between_matched_and_differs(alice, ledger, reconcile):
    exact = reconcile(alice, tolerance=Decimal("0"))
    assert exact.lines.get(row_number=5).kind == "amount_difference"
    # Customer + product needs the amounts to agree: 33.00 still matches at zero tolerance.
    assert exact.lines.get(row_number=8).kind == "matched"

    loose = reconcile(alice, tolerance=Decimal("5.00"))
    assert loose.lines.get(row_number=4).kind == "matched"
    # Within 5.00, the 90.00 row now finds Fabrikam's 95.00 earning by customer and product.
    row_9 = loose.lines.get(row_number=9)
    assert (row_9.kind, row_9.transaction_id, row_9.difference) == ("matched", "TX-1007", Decimal("-5"))
    assert loose.portal_only_count == 1


def test_the_payment_month_restricts_the_earnings_side(alice, ledger, reconcile):
    ledger["TX-1008"].estimated_payment_month = ledger["TX-1008"].estimated_payment_month.replace(month=6)
    ledger["TX-1008"].save(update_fields=["estimated_payment_month"])

    june = reconcile(alice, payment_month=ledger["TX-1008"].estimated_payment_month)

    assert june.portal_only_count == 1
    assert june.lines.get(kind="portal_only").transaction_id == "TX-1008"
    assert june.matched_count == 0


def test_a_customer_billed_every_month_pairs_each_row_once(org_a, alice, reconcile):
    enrollment = EnrollmentFactory(organization=org_a)
    for month in range(12):
        transaction = _transaction(org_a, enrollment.location, f"TX-M{month}", customer="Fabrikam")
        _earning(enrollment, transaction, "10.004" if month % 2 else "10.00")
    rows = "".join(f"Fabrikam,CFQ7TTC0LF8R,{amount}\n" for amount in ["10.00"] * 12 + ["10.02"])
    content = ("customerName,productId,earningAmount\n" + rows).encode()

    reconciliation = reconcile(
        alice,
        content,
        mapping={"customerName": "customerName", "productId": "productId", "earningAmount": "earningAmount"},
    )

    assert reconciliation.matched_count == 12
    assert reconciliation.partner_only_count == 1
    assert reconciliation.portal_only_count == 0
    assert reconciliation.lines.filter(kind="matched").values("earning").distinct().count() == 12
    assert reconciliation.lines.get(kind="partner_only").partner_amount == Decimal("10.02")


def test_an_xlsx_file_works(alice, ledger, reconcile):
    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(csv.reader(io.StringIO(RECORDS.decode()))):
        sheet.append([float(value) if number and index == 4 else value for index, value in enumerate(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)

    reconciliation = reconcile(alice, buffer.getvalue(), name="my-billing.xlsx")

    assert _summary(reconciliation) == EXPECTED


def test_a_tsv_file_in_utf16_works(alice, ledger, reconcile):
    content = RECORDS.decode().replace(",", "\t").encode("utf-16")

    reconciliation = reconcile(alice, content, name="my-billing.txt")

    assert _summary(reconciliation) == EXPECTED


def test_own_column_names_are_mapped_by_hand(alice, ledger, reconcile):
    content = b'Ref,Amount EUR,Notes\nTX-1001,129.60,ok\nTX-1003,"1,050.00",typo\nTX-1004,(75.00),credit\n'

    reconciliation = reconcile(
        alice, content, mapping={"transactionId": "Ref", "earningAmount": "Amount EUR"}
    )

    kinds = {line.transaction_id: (line.kind, line.partner_amount) for line in reconciliation.lines.all()}
    assert kinds["TX-1001"] == ("matched", Decimal("129.60"))
    assert kinds["TX-1003"] == ("amount_difference", Decimal("1050.00"))
    assert kinds["TX-1004"] == ("amount_difference", Decimal("-75.00"))
    # The file's own names, and the column nobody mapped, as written.
    row = reconciliation.lines.get(transaction_id="TX-1004").partner_row
    assert row == {"Ref": "TX-1004", "Amount EUR": "-75.00", "Notes": "credit"}
    # No currency in the file: each line is in the currency of the earning it matched.
    assert reconciliation.lines.get(transaction_id="TX-1001").currency == "EUR"


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
def test_an_unusable_mapping_is_refused_and_queues_nothing(alice, mapping, message):
    assert any(message in error for error in matching.mapping_errors(mapping))
    with pytest.raises(ValidationError) as refused:
        reconciliation_start(actor=alice, upload=_upload(), file_name="my-billing.csv", mapping=mapping)
    assert any(message in error for error in refused.value.messages)
    assert not JobRun.objects.exists()


# --- Totals never add up currencies ---------------------------------------------------------------------


def test_totals_are_per_currency(org_a, alice, reconcile, verified_client):
    enrollment = EnrollmentFactory(organization=org_a)
    _earning(enrollment, _transaction(org_a, enrollment.location, "TX-E1"), "100.00", currency="EUR")
    _earning(enrollment, _transaction(org_a, enrollment.location, "TX-U1"), "70.00", currency="USD")
    _earning(enrollment, _transaction(org_a, enrollment.location, "TX-U2"), "30.00", currency="USD")
    content = (
        b"transactionId,earningAmount,transactionCurrency\n"
        b"TX-E1,100.00,eur\nTX-U1,75.00,USD\nTX-X9,5.00,JPY\n"
    )

    reconciliation = reconcile(
        alice,
        content,
        mapping={
            "transactionId": "transactionId",
            "earningAmount": "earningAmount",
            "transactionCurrency": "transactionCurrency",
        },
    )

    page = verified_client(alice).get(reverse("earnings:reconcile-detail", args=[reconciliation.pk]))
    assert page.context["totals"] == [
        {"currency": "EUR", "partner": Decimal("100"), "portal": Decimal("100"), "difference": Decimal("0")},
        {"currency": "JPY", "partner": Decimal("5"), "portal": Decimal("0"), "difference": Decimal("5")},
        {"currency": "USD", "partner": Decimal("75"), "portal": Decimal("100"), "difference": Decimal("-25")},
    ]
    assert page.content.count(b'data-testid="total-') == 3 + 3 * 3


# --- Every problem of a file in one pass; a bad file changes nothing ----------------------------------

HEADER = "transactionId,invoiceNumber,customerName,productId,earningAmount,transactionCurrency\n"


def _counts() -> tuple[int, int, int]:
    return Reconciliation.objects.count(), ReconciliationLine.objects.count(), AuditEvent.objects.count()


def test_every_bad_cell_is_reported_in_one_pass_with_its_line_column_and_value(alice, ledger, start):
    content = (
        "Ref,Amount,Currency,Booked\n"
        "TX-1001,129.60,eur,09/14/2025\n"  # a US date and a lower-case code: both fine
        "TX-1003,55.00,EUR,14.09.2025\n"
        "TX-1004,75.00,XYZ,2025-09-14\n"
        "TX-1008,sixty,EUR,2025-09-14T10:00:00Z\n"
        f"{'T' * 65},12.00,EURO,14/09/2025\n"
    ).encode()
    before = _counts()

    job = start(
        alice,
        content,
        mapping={
            "transactionId": "Ref",
            "earningAmount": "Amount",
            "transactionCurrency": "Currency",
            "earningDate": "Booked",
        },
    )

    assert job.status == JobStatus.FAILED
    assert job.result["rejected_file"] and job.result["problems"] == 6
    assert "6 problem(s) found in 5 rows; nothing was imported" in job.errors[0]["message"]
    problems = _problems(job)
    assert [(line, column, value) for line, column, value, _ in problems] == [
        (3, "Booked", "14.09.2025"),
        (4, "Currency", "XYZ"),
        (5, "Amount", "sixty"),
        (6, "Ref", "T" * 65),
        (6, "Currency", "EURO"),
        (6, "Booked", "14/09/2025"),
    ]
    reasons = [reason for *_, reason in problems]
    assert reasons[0].startswith("is not a date (YYYY-MM-DD")
    assert reasons[1] == "is not an ISO 4217 currency code"
    assert reasons[2] == "is not a number"
    assert reasons[3] == "is longer than 64 characters"
    assert reasons[4] == "is not a currency code such as EUR"
    assert _counts() == before
    # The result file gives every row back with its problems.
    rows = _result_rows(job)
    assert [row["Outcome"] for row in rows] == [
        "not imported",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert "Booked: is not a date" in rows[1]["Errors"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            (HEADER + 'TX-1001,,,,12.5x,EUR\nTX-1003,,,,,EUR\nTX-1004,,,,"12,50",EUR\n').encode(),
            [
                (2, "earningAmount", "is not a number"),
                (3, "earningAmount", "is required"),
                (4, "earningAmount", "is not a number"),
            ],
            id="non-numeric-amounts",
        ),
        pytest.param(
            (HEADER + "TX-1001,,,,1,EUR\nTX-1002,,,,2,EUR\ntx-1001,,,,3,EUR\n").encode(),
            [(4, "transactionId", "repeats the transaction ID of line 2")],
            id="duplicate-transaction-ids",
        ),
        pytest.param(
            (HEADER + ",INV-1,,P1,1,EUR\n,INV-1,,P1,2,EUR\n,,,,3,EUR\n,,Contoso,,4,EUR\n").encode(),
            [
                (3, "invoiceNumber", "repeats the invoice number and product ID of line 2"),
                (4, "transactionId", "no key"),
                (5, "transactionId", "no key"),
            ],
            id="empty-and-duplicate-keys",
        ),
        pytest.param(
            (HEADER + "TX-1,,,,1,euro\nTX-2,,,,2,\n").encode(),
            [(2, "transactionCurrency", "not a currency code"), (3, "transactionCurrency", "is required")],
            id="bad-currency",
        ),
    ],
)
def test_a_bad_file_is_rejected_row_by_row_and_writes_nothing(alice, ledger, start, content, expected):
    before = _counts()

    job = start(alice, content)

    assert job.status == JobStatus.FAILED
    assert _counts() == before
    errors = [(line, column, reason) for line, column, _, reason in _problems(job)]
    assert len(errors) == len(expected), errors
    for (line, column, reason), (want_line, want_column, want_reason) in zip(errors, expected, strict=True):
        assert (line, column) == (want_line, want_column)
        assert want_reason in reason


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            (HEADER + "TX-1001,,,,12.5x,EUR\nTX-1004,,,,12,50,EUR\n").encode(),
            "could not be read",
            id="unreadable-row",
        ),
        pytest.param(HEADER.encode(), "a header but no rows", id="header-only"),
    ],
)
def test_a_file_the_job_cannot_read_writes_nothing(alice, ledger, start, content, message):
    before = _counts()

    job = start(alice, content)

    assert job.status == JobStatus.FAILED
    assert message in job.result["message"]
    assert _counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "empty", id="empty-file"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF", id="pdf-renamed"),
    ],
)
def test_a_file_that_is_no_table_is_refused_at_once(alice, content, message):
    with pytest.raises(UploadRejected, match=message):
        reconciliation_start(
            actor=alice, upload=_upload(content), file_name="records.csv", mapping=PC_MAPPING
        )
    assert not JobRun.objects.exists()


def test_a_mapped_column_missing_from_the_file_is_refused_at_once(alice):
    content = b"transactionId,invoiceNumber,customerName,productId,transactionCurrency\nTX-1,,,,EUR\n"

    with pytest.raises(UploadRejected) as refused:
        reconciliation_start(
            actor=alice, upload=_upload(content), file_name="records.csv", mapping=PC_MAPPING
        )

    assert [(error.row, error.column, error.message) for error in refused.value.errors] == [
        (1, "earningAmount", "the chosen column 'earningAmount' is not in the file")
    ]
    assert not JobRun.objects.exists()
    assert not Reconciliation.objects.exists()


def test_a_file_with_two_columns_of_one_name_is_refused_at_once(alice):
    content = b"transactionId,earningAmount,Notes,Notes\nTX-1,1,a,b\n"

    with pytest.raises(UploadRejected, match="more than one column named 'Notes'"):
        reconciliation_start(
            actor=alice, upload=_upload(content), file_name="records.csv", mapping=PC_MAPPING
        )

    assert not JobRun.objects.exists()


def test_valid_rows_only_reconciles_the_rows_without_problems(alice, ledger, start):
    content = (
        HEADER
        + "TX-1001,INV-1,Contoso,CFQ7TTC0LF8R,129.60,EUR\n"
        + "TX-1003,INV-3,Contoso,CFQ7TTC0LF8R,fifty,EUR\n"
        + "TX-1004,INV-4,Contoso,CFQ7TTC0LF8R,75.00,EUR\n"
        + "tx-1001,INV-1,Contoso,CFQ7TTC0LF8R,129.60,EUR\n"
    ).encode()

    job = start(alice, content, valid_rows_only=True)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    reconciliation = Reconciliation.objects.get(job=job)
    assert sorted(reconciliation.lines.exclude(row_number=None).values_list("row_number", flat=True)) == [
        2,
        4,
    ]
    assert reconciliation.matched_count == 2
    # TX-1003's earning is not in the file any more: only in earnings.
    assert reconciliation.lines.filter(kind="portal_only", transaction_id="TX-1003").exists()
    assert (job.result["rows"], job.result["rejected"], job.result["problems"]) == (4, 2, 2)
    assert [(line, column) for line, column, *_ in _problems(job)] == [
        (3, "earningAmount"),
        (5, "transactionId"),
    ]
    outcomes = [(row["Line"], row["Outcome"]) for row in _result_rows(job)]
    assert outcomes == [("2", "Matched"), ("3", "rejected"), ("4", "Matched"), ("5", "rejected")]


def test_a_job_run_again_after_a_lost_worker_makes_one_reconciliation(
    alice, ledger, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # queued, not run
        job = reconciliation_start(
            actor=alice, upload=_upload(), file_name="my-billing.csv", mapping=PC_MAPPING
        )

    def lost(*args, **kwargs):
        raise SystemExit("the worker was lost after the rows were in")

    # The first run stores the reconciliation, then its worker dies before the job is finished.
    monkeypatch.setattr(pipeline, "job_finish", lost)
    with pytest.raises(SystemExit):
        import_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    first = Reconciliation.objects.get()
    assert first.job == job

    # The task is delivered again: the run starts over from the file and finds it.
    monkeypatch.undo()
    import_run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert Reconciliation.objects.get() == first
    assert job.result["reconciliation"] == first.pk
    assert first.lines.count() == len(EXPECTED)
    assert AuditEvent.objects.filter(action="earnings.reconciliation.created").count() == 1
    assert {row["Outcome"] for row in _result_rows(job)} == {
        "Matched",
        "Amount differs",
        "Only in your records",
    }


def test_the_earnings_compared_are_those_the_person_may_see_when_the_job_runs(
    alice, ledger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        job = reconciliation_start(
            actor=alice, upload=_upload(), file_name="my-billing.csv", mapping=PC_MAPPING
        )
    RoleAssignment.objects.filter(user=alice).delete()  # reconciling taken away
    RoleAssignment.objects.create(organization=alice.organization, user=alice, role=Role.REFERRALS_USER)

    for callback in queued:
        callback()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "may no longer reconcile" in job.result["message"]
    assert not Reconciliation.objects.exists()


# --- Pages ----------------------------------------------------------------------------------------------


def _staged_files(media) -> list[Path]:
    folder = media / matching.STAGED_DIR
    return list(folder.iterdir()) if folder.exists() else []


def _mapping_data(token: str, mapping=None, **options) -> dict[str, str]:
    data = {"token": token, "amount_tolerance": "0.01", "payment_month": "", "payment_id": "", **options}
    data.update({f"map_{name}": column for name, column in (mapping or PC_MAPPING).items()})
    return data


def test_a_partner_uploads_maps_follows_the_job_and_sees_the_result(
    bob, ledger, verified_client, _media, django_capture_on_commit_callbacks, settings
):
    # The upload is spooled to disk, as a large one is (a file object with a binary mode).
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    # bob reconciles (Incentives user) without seeing the portal's job list: the job has its own page.
    client = verified_client(bob)
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
    assert b"Reconcile the valid rows only" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("earnings:reconcile-new"), _mapping_data(form.initial["token"]))
    assert response.status_code == 302, response.content[:2000]
    job = JobRun.objects.get()
    assert response["Location"] == reverse("earnings:reconcile-job", args=[job.pk])
    assert _staged_files(_media) == []  # the job kept its own copy, and is done with it

    job_page = client.get(response["Location"])
    assert job_page.status_code == 200
    reconciliation = Reconciliation.objects.get()
    assert job_page.context["reconciliation"] == reconciliation
    detail_url = reverse("earnings:reconcile-detail", args=[reconciliation.pk])
    assert f'href="{detail_url}"'.encode() in job_page.content
    assert b'data-testid="import-counts"' in job_page.content
    progress = client.get(reverse("earnings:reconcile-job-progress", args=[job.pk]))
    assert progress.status_code == 200 and b"hx-get" not in progress.content  # done: no more polling
    result = client.get(reverse("earnings:reconcile-job-result", args=[job.pk]))
    assert result.status_code == 200
    assert b"Only in your records" in b"".join(result.streaming_content)
    assert AuditEvent.objects.filter(action="earnings.reconciliation.created", organization=bob.organization)

    detail = client.get(detail_url)
    assert detail.status_code == 200
    assert detail.context["totals"] == [
        {
            "currency": "EUR",
            "partner": Decimal("712.605"),
            "portal": Decimal("662.60"),
            "difference": Decimal("50.005"),
        }
    ]
    assert detail.content.count(b'data-testid="line-') == 11
    assert reverse("earnings:reconcile-job", args=[job.pk]).encode() in detail.content
    tab = client.get(detail_url, {"kind": "portal_only"})
    assert tab.content.count(b'data-testid="line-portal_only"') == 2
    assert tab.content.count(b'data-testid="line-') == 2

    listing = client.get(reverse("earnings:reconcile-list"))
    assert listing.status_code == 200
    assert b"my-billing.csv" in listing.content
    assert listing.context["unfinished"] == []


def test_a_rejected_file_shows_every_problem_on_the_job_page(
    alice, ledger, verified_client, _media, django_capture_on_commit_callbacks
):
    client = verified_client(alice)
    response = client.post(reverse("earnings:reconcile-new"), {"file": _upload()})
    token = client.get(response["Location"]).context["form"].initial["token"]
    before = _counts()

    mapping = {**PC_MAPPING, "earningAmount": "customerName", "customerName": ""}  # the wrong column
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("earnings:reconcile-new"), _mapping_data(token, mapping))

    job = JobRun.objects.get()
    assert response["Location"] == reverse("earnings:reconcile-job", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'data-testid="import-rejected"' in page.content
    assert page.content.count(b"is not a number") == 9
    assert b"<code>Contoso</code>" in page.content
    assert page.context["reconciliation"] is None
    assert _counts() == before
    # It waits on the list, to be fixed and uploaded again.
    listing = client.get(reverse("earnings:reconcile-list"))
    assert listing.context["unfinished"] == [job]
    assert reverse("earnings:reconcile-job", args=[job.pk]).encode() in listing.content


def test_an_unusable_mapping_keeps_the_file(alice, verified_client, _media):
    client = verified_client(alice)
    response = client.post(reverse("earnings:reconcile-new"), {"file": _upload()})
    token = client.get(response["Location"]).context["form"].initial["token"]

    page = client.post(
        reverse("earnings:reconcile-new"),
        _mapping_data(token, {"customerName": "customerName", "earningAmount": "earningAmount"}),
    )

    assert page.status_code == 200
    assert b"Choose a key" in page.content
    assert not JobRun.objects.exists()
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


def test_a_file_with_two_columns_of_one_name_is_refused_at_upload(alice, verified_client, _media):
    content = b"transactionId,earningAmount,earningAmount\nTX-1,1,2\n"

    page = verified_client(alice).post(reverse("earnings:reconcile-new"), {"file": _upload(content)})

    assert page.status_code == 200
    assert b"more than one column named &#x27;earningAmount&#x27;" in page.content
    assert _staged_files(_media) == []


def test_a_token_that_is_not_this_sessions_is_refused(alice, verified_client):
    client = verified_client(alice)
    response = client.post(reverse("earnings:reconcile-new"), {"token": "made-up", "map_earningAmount": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse("earnings:reconcile-new")
    assert not Reconciliation.objects.exists()
    assert not JobRun.objects.exists()


def test_the_result_downloads_as_csv(alice, ledger, verified_client, reconcile):
    reconciliation = reconcile(alice)
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
        "EUR",
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
        "EUR",
        ledger["TX-1008"].earning_id,
    ]
    assert by_row[("partner_only", "TX-9999")][7:] == ["", "", "EUR", ""]

    only = client.get(reverse("earnings:reconcile-csv", args=[reconciliation.pk]), {"kind": "partner_only"})
    assert len(list(csv.reader(io.StringIO(b"".join(only.streaming_content).decode())))) == 4


def test_viewing_needs_earnings_view_and_uploading_needs_reconcile(org_a, verified_client):
    reconciliation = ReconciliationFactory(organization=org_a)
    job = JobRun.objects.create(organization=org_a, kind=RECONCILIATION_IMPORTER.kind)
    billing = UserFactory(organization=org_a, roles=[Role.BILLING_ADMIN])  # earnings.view only
    referrals = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])
    client = verified_client(billing)
    assert client.get(reverse("earnings:reconcile-detail", args=[reconciliation.pk])).status_code == 200
    assert client.get(reverse("earnings:reconcile-list")).status_code == 200
    assert client.get(reverse("earnings:reconcile-job", args=[job.pk])).status_code == 200
    assert client.get(reverse("earnings:reconcile-new")).status_code == 403
    client = verified_client(referrals)
    assert client.get(reverse("earnings:reconcile-list")).status_code == 403
    assert client.get(reverse("earnings:reconcile-csv", args=[reconciliation.pk])).status_code == 403
    for name in (
        "earnings:reconcile-job",
        "earnings:reconcile-job-progress",
        "earnings:reconcile-job-result",
    ):
        assert client.get(reverse(name, args=[job.pk])).status_code == 403


def test_another_organizations_reconciliation_and_job_are_a_404(alice, charlie, verified_client):
    line = ReconciliationLineFactory(reconciliation__organization=alice.organization)
    job = JobRun.objects.create(organization=alice.organization, kind=RECONCILIATION_IMPORTER.kind)
    client = verified_client(charlie)
    for name in ("earnings:reconcile-detail", "earnings:reconcile-csv"):
        assert client.get(reverse(name, args=[line.reconciliation.pk])).status_code == 404
    for name in (
        "earnings:reconcile-job",
        "earnings:reconcile-job-progress",
        "earnings:reconcile-job-result",
    ):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert b"my-billing.csv" not in client.get(reverse("earnings:reconcile-list")).content


def test_the_job_page_shows_only_reconciliation_jobs(alice, verified_client):
    other = JobRun.objects.create(organization=alice.organization, kind="import:accounts.customers")
    client = verified_client(alice)
    assert client.get(reverse("earnings:reconcile-job", args=[other.pk])).status_code == 404


def test_a_location_scoped_user_sees_only_their_own_reconciliations(org_a, alice, verified_client):
    theirs = ReconciliationFactory(organization=org_a, created_by=alice)
    their_job = JobRun.objects.create(organization=org_a, kind=RECONCILIATION_IMPORTER.kind, created_by=alice)
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
    assert client.get(reverse("earnings:reconcile-job", args=[their_job.pk])).status_code == 404
    assert client.get(reverse("earnings:reconcile-detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("earnings:reconcile-list")).context["page"].rows == [mine]
