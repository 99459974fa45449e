"""Report downloads (CSV streamed from COPY, XLSX) and background exports (spec/earnings.md §2, §6)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import RoleAssignment
from earnings.choices import AdjustmentReason, EarningKind, ExportStatus, IneligibleReason, SolutionArea
from earnings.exports import EARNING_COLUMNS, REPORTS, export_path
from earnings.models import Earning, ExportJob
from earnings.services.exports import export_create
from portal.choices import JobStatus
from portal.roles import Role
from tests.factories import (
    EarningFactory,
    EnrollmentFactory,
    IneligibleTransactionFactory,
    PartnerLocationFactory,
    PaymentFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EARNINGS_HEADER = [
    "earningId",
    "participantId",
    "participantIdType",
    "participantName",
    "partnerCountryCode",
    "programName",
    "engagementId",
    "engagementName",
    "lever",
    "transactionId",
    "transactionDate",
    "transactionCurrency",
    "transactionAmount",
    "transactionAmountUSD",
    "transactionExchangeRate",
    "transactionType",
    "earningRate",
    "quantity",
    "quantityType",
    "earningType",
    "earningAmount",
    "earningAmountUSD",
    "earningExchangeRate",
    "exchangeRateDate",
    "earningDate",
    "calculationDate",
    "estimatedPaymentMonth",
    "paymentId",
    "paymentStatus",
    "paymentStatusDescription",
    "customerId",
    "customerName",
    "customerTenantId",
    "customerCountry",
    "productId",
    "productName",
    "SkuId",
    "subscriptionId",
    "invoiceNumber",
    "claimId",
    "solutionArea",
    "partnerRole",
    "partnerAssociation",
    "reasonCode",
]


@pytest.fixture(autouse=True)
def _export_dir(tmp_path):
    with override_settings(EARNINGS_EXPORT_DIR=tmp_path / "exports"):
        yield


@pytest.fixture
def ledger(org_a, org_b):
    """Two locations of Alpha with earnings in two solution areas; one Beta earning."""
    berlin = PartnerLocationFactory(organization=org_a, country="DE")
    paris = PartnerLocationFactory(organization=org_a, country="FR")
    rows = {"berlin": [], "paris": []}
    for name, location in (("berlin", berlin), ("paris", paris)):
        enrollment = EnrollmentFactory(organization=org_a, location=location)
        payment = PaymentFactory(organization=org_a, enrollment=enrollment)
        for number, area in enumerate(
            [SolutionArea.MODERN_WORK, SolutionArea.SECURITY, SolutionArea.SECURITY]
        ):
            transaction = TransactionFactory(organization=org_a, location=location)
            rows[name].append(
                EarningFactory(
                    organization=org_a,
                    enrollment=enrollment,
                    transaction=transaction,
                    solution_area=area,
                    payment=payment if number == 0 else None,
                    earning_amount_usd=Decimal("100.25") * (number + 1),
                )
            )
    rows["berlin"].append(
        EarningFactory(
            organization=org_a,
            enrollment=rows["berlin"][0].enrollment,
            kind=EarningKind.ADJUSTMENT,
            reason_code=AdjustmentReason.OPERATIONAL,
            earning_type="Co-op",
            estimated_payment_month=None,
            solution_area=SolutionArea.SECURITY,
            earning_amount=Decimal("-10.00"),
            earning_amount_usd=Decimal("-10.85"),
            customer_name="",
            product_id="",
            product_name="",
        )
    )
    rows["beta"] = [EarningFactory(organization=org_b, earning_id="E-BETA-ONLY")]
    return berlin, paris, rows


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    content = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(content)))


def header_of(response) -> list[str]:
    content = b"".join(response.streaming_content).decode("utf-8")
    return next(csv.reader(io.StringIO(content)))


def download_url(report="earnings", fmt="csv"):
    return reverse("earnings:download", kwargs={"report": report, "fmt": fmt})


def test_it_downloads_the_default_report_with_partner_centers_columns_in_order(
    alice, ledger, verified_client
):
    response = verified_client(alice).get(download_url())

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="earnings-')
    assert header_of(response) == EARNINGS_HEADER
    assert [column.header for column in EARNING_COLUMNS] == EARNINGS_HEADER


def test_the_download_holds_exactly_the_filtered_ledger(alice, ledger, verified_client):
    response = verified_client(alice).get(download_url(), {"solutionArea": SolutionArea.SECURITY})
    rows = read_csv(response)

    expected = Earning.objects.visible_to(alice).filter(solution_area=SolutionArea.SECURITY)
    assert len(rows) == expected.count() == 5
    assert (
        sum(Decimal(row["earningAmountUSD"]) for row in rows)
        == expected.aggregate(total=Sum("earning_amount_usd"))["total"]
    )
    assert {row["earningId"] for row in rows} == set(expected.values_list("earning_id", flat=True))


def test_it_writes_iso_dates_point_decimals_and_bare_empty_cells(alice, ledger, verified_client):
    berlin, _paris, rows = ledger
    earning = rows["berlin"][0]
    adjustment = rows["berlin"][-1]
    by_id = {row["earningId"]: row for row in read_csv(verified_client(alice).get(download_url()))}

    row = by_id[earning.earning_id]
    assert row["earningDate"] == "2025-02-28"
    assert row["estimatedPaymentMonth"] == "2025-05"
    assert row["earningAmount"] == "129.60"
    assert row["earningRate"] == "0.04"
    assert row["transactionExchangeRate"] == "1.085"
    assert row["partnerCountryCode"] == "DE"
    assert row["transactionId"] == earning.transaction.transaction_id
    assert row["paymentId"] == earning.payment.payment_id
    assert row["paymentStatusDescription"] == "Eligible for payment; in the program's cool-down period."
    assert by_id[adjustment.earning_id]["estimatedPaymentMonth"] == "Not applicable"
    assert by_id[adjustment.earning_id]["reasonCode"] == AdjustmentReason.OPERATIONAL
    assert by_id[adjustment.earning_id]["earningAmountUSD"] == "-10.85"
    assert by_id[adjustment.earning_id]["customerName"] == ""


def test_another_organizations_rows_never_appear(alice, charlie, ledger, verified_client):
    mine = {row["earningId"] for row in read_csv(verified_client(alice).get(download_url()))}
    theirs = {row["earningId"] for row in read_csv(verified_client(charlie).get(download_url()))}

    assert "E-BETA-ONLY" not in mine
    assert theirs == {"E-BETA-ONLY"}


def test_a_location_scoped_user_downloads_only_their_location(org_a, ledger, verified_client):
    berlin, _paris, rows = ledger
    user = UserFactory(organization=org_a)
    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.INCENTIVES_USER, location=berlin)

    ids = {row["earningId"] for row in read_csv(verified_client(user).get(download_url()))}

    assert ids == {earning.earning_id for earning in rows["berlin"]}


def test_a_bad_filter_value_is_refused_with_a_clear_message(alice, ledger, verified_client):
    response = verified_client(alice).get(download_url(), {"estimatedPaymentMonth": "2025-13"})

    assert response.status_code == 400
    assert b"is not a month; use YYYY-MM" in response.content


def test_a_person_without_earnings_access_is_refused(org_a, ledger, verified_client):
    user = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])

    assert verified_client(user).get(download_url()).status_code == 403


def test_an_unknown_report_is_a_404(alice, verified_client):
    assert verified_client(alice).get(download_url(report="growth")).status_code == 404


@pytest.mark.parametrize("report", list(REPORTS))
def test_every_report_downloads_its_header(report, alice, ledger, verified_client):
    IneligibleTransactionFactory(organization=alice.organization)
    response = verified_client(alice).get(download_url(report=report))

    assert response.status_code == 200
    assert header_of(response) == REPORTS[report].headers


def test_the_summarized_report_merges_recalculations_per_payment(alice, org_a, verified_client):
    enrollment = EnrollmentFactory(organization=org_a)
    transaction = TransactionFactory(organization=org_a, location=enrollment.location)
    common = {"organization": org_a, "enrollment": enrollment, "transaction": transaction}
    EarningFactory(**common, earning_amount=Decimal("129.60"), earning_amount_usd=Decimal("140.62"))
    EarningFactory(
        **common,
        revision=2,
        kind=EarningKind.ADJUSTMENT,
        reason_code=AdjustmentReason.INCORRECT_CALCULATION,
        earning_amount=Decimal("-29.60"),
        earning_amount_usd=Decimal("-32.12"),
        calculation_date=date(2025, 4, 18),
    )

    rows = read_csv(verified_client(alice).get(download_url(report="summarized")))

    assert len(rows) == 1
    assert "earningId" not in rows[0]
    assert rows[0]["earningAmount"] == "100.00"
    assert rows[0]["earningAmountUSD"] == "108.50"
    assert rows[0]["calculationDate"] == "2025-04-18"


def test_the_ineligible_report_gives_the_reason_code_and_its_text(alice, org_a, verified_client):
    item = IneligibleTransactionFactory(organization=org_a, reason_code=IneligibleReason.BELOW_MIN_SEATS)

    rows = read_csv(verified_client(alice).get(download_url(report="ineligible")))

    assert [(row["transactionId"], row["reasonCode"], row["reason"]) for row in rows] == [
        (item.transaction.transaction_id, "BELOW_MIN_SEATS", "Seat count below engagement minimum.")
    ]


def test_the_payments_report_filters_like_the_payments_page(alice, org_a, verified_client):
    sent = PaymentFactory(organization=org_a, status="Sent", total_payment=Decimal("3367.22"))
    PaymentFactory(organization=org_a)

    rows = read_csv(verified_client(alice).get(download_url(report="payments"), {"paymentStatus": "Sent"}))

    assert [(row["paymentID"], row["totalPayment"], row["paymentMonth"]) for row in rows] == [
        (sent.payment_id, "3367.22", "2025-05")
    ]


def test_the_xlsx_download_opens_with_openpyxl_and_holds_numbers(alice, ledger, verified_client):
    response = verified_client(alice).get(download_url(fmt="xlsx"), {"solutionArea": SolutionArea.SECURITY})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.values)

    assert list(rows[0]) == EARNINGS_HEADER
    assert len(rows) == 1 + 5
    column = EARNINGS_HEADER.index("earningAmountUSD")
    expected = Earning.objects.visible_to(alice).filter(solution_area=SolutionArea.SECURITY)
    total = expected.aggregate(total=Sum("earning_amount_usd"))["total"]
    assert sum(Decimal(str(row[column])) for row in rows[1:]) == total


@override_settings(EARNINGS_XLSX_MAX_ROWS=3)
def test_xlsx_of_too_many_rows_points_to_csv_and_the_background_export(alice, ledger, verified_client):
    response = verified_client(alice).get(download_url(fmt="xlsx"))

    assert response.status_code == 422
    assert b"XLSX is offered up to 3 rows" in response.content
    assert reverse("earnings:export-create").encode() in response.content


@override_settings(EARNINGS_DOWNLOAD_STREAM_MAX_ROWS=3)
def test_a_download_too_large_to_stream_offers_a_background_export(alice, ledger, verified_client):
    response = verified_client(alice).get(download_url(), {"solutionArea": SolutionArea.SECURITY})

    assert response.status_code == 422
    assert b"background export" in response.content
    assert b'name="solutionArea" value="Security"' in response.content


# --- Background exports -----------------------------------------------------------------------------


def test_an_export_runs_and_its_file_matches_the_direct_download(
    alice, ledger, verified_client, django_capture_on_commit_callbacks
):
    client = verified_client(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("earnings:export-create"),
            {"report": "earnings", "format": "csv", "solutionArea": SolutionArea.SECURITY, "page": "2"},
        )
    export = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("earnings:export-detail", args=[export.pk])

    assert export.status == ExportStatus.COMPLETED
    assert export.filters == {"solutionArea": SolutionArea.SECURITY}
    assert export.row_count == 5
    assert export.job.status == JobStatus.SUCCEEDED and export.job.done == export.job.total == 5
    assert export.expires_at - export.completed_at == timedelta(hours=24)
    direct = b"".join(client.get(download_url(), {"solutionArea": SolutionArea.SECURITY}).streaming_content)
    file = client.get(reverse("earnings:export-file", args=[export.pk]))
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == direct

    detail = client.get(reverse("earnings:export-detail", args=[export.pk]))
    assert reverse("earnings:export-file", args=[export.pk]).encode() in detail.content
    progress = client.get(reverse("earnings:export-progress", args=[export.pk]))
    assert b"hx-trigger" not in progress.content  # finished: polling stops


def test_an_xlsx_export_writes_a_workbook(alice, ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_create(report="payments", file_format="xlsx", filters={}, actor=alice)
    export.refresh_from_db()

    assert export.status == ExportStatus.COMPLETED
    rows = list(load_workbook(export_path(export), read_only=True).active.values)
    assert list(rows[0]) == REPORTS["payments"].headers
    assert len(rows) == 1 + 2


def test_a_queued_export_polls_its_progress(alice, ledger, verified_client):
    export = export_create(report="earnings", file_format="csv", filters={}, actor=alice)  # on_commit not run

    response = verified_client(alice).get(reverse("earnings:export-progress", args=[export.pk]))

    assert b"Queued" in response.content
    assert reverse("earnings:export-progress", args=[export.pk]).encode() in response.content
    assert verified_client(alice).get(reverse("earnings:export-file", args=[export.pk])).status_code == 404


def test_an_expired_link_answers_410_with_a_clear_message(
    alice, ledger, verified_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_create(report="earnings", file_format="csv", filters={}, actor=alice)
    ExportJob.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = verified_client(alice).get(reverse("earnings:export-file", args=[export.pk]))

    assert response.status_code == 410
    assert b"expired" in response.content


def test_a_bad_export_request_writes_nothing(alice, ledger, verified_client):
    response = verified_client(alice).post(
        reverse("earnings:export-create"),
        {"report": "earnings", "format": "csv", "estimatedPaymentMonth": "May"},
    )

    assert response.status_code == 400
    assert b"is not a month; use YYYY-MM" in response.content
    assert not ExportJob.objects.exists()


def test_a_location_scoped_user_sees_only_their_own_exports(org_a, alice, ledger, verified_client):
    berlin, _paris, _rows = ledger
    user = UserFactory(organization=org_a)
    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.INCENTIVES_USER, location=berlin)
    alices = export_create(report="earnings", file_format="csv", filters={}, actor=alice)
    own = export_create(report="earnings", file_format="csv", filters={}, actor=user)

    listed = verified_client(user).get(reverse("earnings:export-list"))

    assert listed.context["page"].rows == [own]
    assert verified_client(user).get(reverse("earnings:export-detail", args=[alices.pk])).status_code == 404
    assert verified_client(alice).get(reverse("earnings:export-detail", args=[own.pk])).status_code == 200


def test_an_export_runs_with_the_requesters_visibility(org_a, ledger, django_capture_on_commit_callbacks):
    berlin, _paris, rows = ledger
    user = UserFactory(organization=org_a)
    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.INCENTIVES_USER, location=berlin)

    with django_capture_on_commit_callbacks(execute=True):
        export = export_create(report="earnings", file_format="csv", filters={}, actor=user)
    export.refresh_from_db()

    with export_path(export).open(newline="") as handle:
        ids = {row["earningId"] for row in csv.DictReader(handle)}
    assert ids == {earning.earning_id for earning in rows["berlin"]}
