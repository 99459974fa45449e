"""The Earnings API: Partner Center field names, the pages' filters, cursor pages, exports (spec §2)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from earnings.choices import IneligibleReason, SolutionArea
from earnings.exports import export_path
from earnings.models import Earning, ExportJob
from portal.roles import Role
from tests.factories import (
    EarningFactory,
    EnrollmentFactory,
    IneligibleTransactionFactory,
    PaymentFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

READ = ("earnings:read",)
READ_WRITE = ("earnings:read", "earnings:write")
ROLES = (Role.GLOBAL_ADMIN,)


@pytest.fixture
def ledger(org_a, org_b):
    enrollment = EnrollmentFactory(organization=org_a)
    payment = PaymentFactory(organization=org_a, enrollment=enrollment)
    earnings = []
    for number in range(7):
        transaction = TransactionFactory(organization=org_a, location=enrollment.location)
        earnings.append(
            EarningFactory(
                organization=org_a,
                enrollment=enrollment,
                transaction=transaction,
                payment=payment if number < 2 else None,
                solution_area=SolutionArea.SECURITY if number % 2 else SolutionArea.MODERN_WORK,
                earning_amount_usd=Decimal("10.01") * (number + 1),
            )
        )
    EarningFactory(organization=org_b, earning_id="E-BETA-ONLY")
    return earnings


def all_rows(api, path, params=None) -> list[dict]:
    rows, url, params = [], path, dict(params or {})
    while url:
        response = api.get(url, params)
        assert response.status_code == 200, response.content[:400]
        body = response.json()
        rows += body["results"]
        url, params = body["next"], None
    return rows


def test_earnings_carry_partner_centers_field_names(org_a, ledger, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)
    earning = ledger[0]

    row = next(r for r in all_rows(api, "/api/v1/earnings/earnings/") if r["earningId"] == earning.earning_id)

    assert row["participantId"] == earning.enrollment.participant_id
    assert row["programName"] == earning.program.name
    assert row["transactionId"] == earning.transaction.transaction_id
    assert row["transactionDate"] == "2025-02-14"
    assert row["paymentId"] == earning.payment.payment_id
    assert row["earningAmountUSD"] == "10.010000"
    assert row["earningRate"] == "0.04000000"
    assert row["estimatedPaymentMonth"] == "2025-05"
    assert row["paymentStatus"] == "Unprocessed"
    assert api.get(f"/api/v1/earnings/earnings/{earning.pk}/").json() == row


def test_the_list_filters_like_the_page_and_totals_match_the_download(
    org_a, alice, ledger, api_for, verified_client
):
    api = api_for(org_a, scopes=READ, roles=ROLES)
    filters = {"solutionArea": SolutionArea.SECURITY}

    rows = all_rows(api, "/api/v1/earnings/earnings/", {**filters, "page_size": 2})

    ledger_rows = Earning.objects.visible_to(alice).filter(solution_area=SolutionArea.SECURITY)
    total = ledger_rows.aggregate(total=Sum("earning_amount_usd"))["total"]
    assert len(rows) == ledger_rows.count() == 3
    assert sum(Decimal(row["earningAmountUSD"]) for row in rows) == total
    download = verified_client(alice).get(reverse("earnings:download", args=["earnings", "csv"]), filters)
    content = b"".join(download.streaming_content).decode()
    assert sum(Decimal(row["earningAmountUSD"]) for row in csv.DictReader(io.StringIO(content))) == total


def test_a_bad_filter_value_is_a_problem_400(org_a, ledger, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)

    response = api.get("/api/v1/earnings/earnings/", {"estimatedPaymentMonth": "2025-13"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]["estimatedPaymentMonth"] == [
        "'2025-13' is not a month; use YYYY-MM, e.g. 2025-05."
    ]


def test_another_organizations_earnings_are_not_listed(org_a, ledger, api_for):
    rows = all_rows(api_for(org_a, scopes=READ, roles=ROLES), "/api/v1/earnings/earnings/")

    assert "E-BETA-ONLY" not in {row["earningId"] for row in rows}
    assert len(rows) == 7


def test_a_token_without_the_earnings_scope_is_refused(org_a, ledger, api_for):
    api = api_for(org_a, scopes=("accounts:read",), roles=ROLES)

    assert api.get("/api/v1/earnings/earnings/").status_code == 403


def test_a_role_without_earnings_access_is_refused(org_a, ledger, api_for):
    api = api_for(org_a, scopes=READ, roles=(Role.ADMIN_AGENT,))

    assert api.get("/api/v1/earnings/earnings/").status_code == 403


def test_the_list_is_one_query_whatever_the_page_size(org_a, ledger, api_for, django_assert_max_num_queries):
    api = api_for(org_a, scopes=READ, roles=ROLES)
    api.get("/api/v1/earnings/earnings/")  # warm the token cache
    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/earnings/earnings/", {"page_size": 100})
    assert len(response.json()["results"]) == 7


def test_transactions_payments_and_ineligible_use_partner_center_names(org_a, ledger, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)
    item = IneligibleTransactionFactory(organization=org_a, reason_code=IneligibleReason.NOT_POR)

    transactions = all_rows(api, "/api/v1/earnings/transactions/", {"solutionArea": SolutionArea.MODERN_WORK})
    payments = all_rows(api, "/api/v1/earnings/payments/", {"paymentStatus": "Upcoming"})
    ineligible = all_rows(api, "/api/v1/earnings/ineligible/", {"reasonCode": "NOT_POR"})

    assert len(transactions) == 8
    assert {"transactionId", "transactionAmountUSD", "partnerId", "SkuId"} <= set(transactions[0])
    assert [(p["paymentID"], p["paymentMonth"], p["earnedUSD"]) for p in payments] == [
        (ledger[0].payment.payment_id, "2025-05", "140.620000")
    ]
    assert [(i["transactionId"], i["reasonCode"], i["reason"]) for i in ineligible] == [
        (item.transaction.transaction_id, "NOT_POR", IneligibleReason.NOT_POR.label)
    ]


# --- Exports ------------------------------------------------------------------------------------------


@pytest.fixture
def export_dir(tmp_path, settings):
    settings.EARNINGS_EXPORT_DIR = tmp_path / "exports"
    return settings.EARNINGS_EXPORT_DIR


def test_an_export_is_created_polled_downloaded_and_deleted(
    org_a, alice, ledger, api_for, verified_client, export_dir, django_capture_on_commit_callbacks
):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    filters = {"solutionArea": SolutionArea.SECURITY}

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/earnings/exports/",
            {"report": "earnings", "format": "csv", "filters": filters},
            format="json",
        )
    assert created.status_code == 202, created.content
    assert created.json()["status"] == "Queued"
    export_id = created.json()["id"]

    polled = api.get(f"/api/v1/earnings/exports/{export_id}/").json()
    assert polled["status"] == "Completed"
    assert polled["rowCount"] == 3
    assert polled["downloadUrl"].endswith(f"/api/v1/earnings/exports/{export_id}/file/")

    file = api.get(f"/api/v1/earnings/exports/{export_id}/file/")
    assert file.status_code == 200
    direct = verified_client(alice).get(reverse("earnings:download", args=["earnings", "csv"]), filters)
    assert b"".join(file.streaming_content) == b"".join(direct.streaming_content)

    path = export_path(ExportJob.objects.get(export_id=export_id))
    assert api.delete(f"/api/v1/earnings/exports/{export_id}/").status_code == 204
    assert not ExportJob.objects.exists()
    assert not path.exists()


def test_an_expired_export_file_is_gone(
    org_a, ledger, api_for, export_dir, django_capture_on_commit_callbacks
):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)
    with django_capture_on_commit_callbacks(execute=True):
        export_id = api.post("/api/v1/earnings/exports/", {"report": "payments"}, format="json").json()["id"]
    ExportJob.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api.get(f"/api/v1/earnings/exports/{export_id}/file/")

    assert response.status_code == 410
    assert response.json()["detail"] == "The download link has expired; create the export again."
    assert api.get(f"/api/v1/earnings/exports/{export_id}/").json()["downloadUrl"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"report": "growth"}, "report"),
        ({"report": "earnings", "format": "pdf"}, "format"),
        ({"report": "earnings", "filters": {"estimatedPaymentMonth": "May"}}, "estimatedPaymentMonth"),
    ],
)
def test_a_bad_export_request_is_a_problem_400_and_writes_nothing(org_a, ledger, api_for, body, field):
    api = api_for(org_a, scopes=READ_WRITE, roles=ROLES)

    response = api.post("/api/v1/earnings/exports/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ExportJob.objects.exists()


def test_creating_an_export_needs_the_write_scope(org_a, ledger, api_for):
    api = api_for(org_a, scopes=READ, roles=ROLES)

    assert api.post("/api/v1/earnings/exports/", {"report": "earnings"}, format="json").status_code == 403
