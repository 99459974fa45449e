"""The vendor's earnings admin: pages load behind the second factor, and its writes call the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from earnings.choices import AdjustmentReason, EarningKind, PaymentStatus
from earnings.models import Earning, EarningRate, Enrollment, Payment, Transaction, TransactionUpload
from earnings.services.engine import JOB_KIND_PAYOUT_RUN
from portal.models import AuditEvent, HistoryEvent, JobRun
from tests.factories import (
    CustomerFactory,
    EarningFactory,
    EarningRateFactory,
    EnrollmentFactory,
    ExchangeRateFactory,
    IneligibleTransactionFactory,
    LeverFactory,
    PartnerLocationFactory,
    PaymentFactory,
    ProgramFactory,
    TransactionFactory,
    TransactionUploadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="ops@vendor.example")


@pytest.fixture
def client(staff, verified_client):
    return verified_client(staff)


@pytest.fixture
def ledger(org_a):
    enrollment = EnrollmentFactory(organization=org_a)
    payment = PaymentFactory(organization=org_a, enrollment=enrollment, program=enrollment.program)
    transaction = TransactionFactory(organization=org_a, location=enrollment.location)
    earning = EarningFactory(
        organization=org_a,
        enrollment=enrollment,
        transaction=transaction,
        payment=payment,
        payment_status="Upcoming",
    )
    ineligible = IneligibleTransactionFactory(organization=org_a, transaction=transaction)
    rate = EarningRateFactory(valid_from=date(2024, 1, 1), valid_to=date(2025, 1, 1))
    return {
        "enrollment": enrollment,
        "payment": payment,
        "transaction": transaction,
        "earning": earning,
        "ineligible": ineligible,
        "rate": rate,
        "upload": TransactionUploadFactory(organization=org_a),
        "fx": ExchangeRateFactory(),
    }


def test_the_admin_needs_a_second_factor(staff):
    plain = Client()
    plain.force_login(staff)
    assert plain.get(reverse("admin:earnings_payout_runs")).status_code == 302


def test_every_earnings_page_loads(client, ledger):
    rate = ledger["rate"]
    pages = {
        "program": rate.lever.engagement.program,
        "engagement": rate.lever.engagement,
        "lever": rate.lever,
        "earningrate": rate,
        "exchangerate": ledger["fx"],
        "enrollment": ledger["enrollment"],
        "transaction": ledger["transaction"],
        "transactionupload": ledger["upload"],
        "payment": ledger["payment"],
        "earning": ledger["earning"],
        "ineligibletransaction": ledger["ineligible"],
    }
    for name, obj in pages.items():
        listed = client.get(reverse(f"admin:earnings_{name}_changelist"))
        assert listed.status_code == 200, name
        assert client.get(reverse(f"admin:earnings_{name}_change", args=[obj.pk])).status_code == 200, name
    for name in ("program", "engagement", "lever", "earningrate", "exchangerate", "enrollment"):
        assert client.get(reverse(f"admin:earnings_{name}_add")).status_code == 200, name
    assert client.get(reverse("admin:earnings_transactionupload_add")).status_code == 200
    assert client.get(reverse("admin:earnings_earning_add")).status_code == 200
    assert client.get(reverse("admin:earnings_payout_runs")).status_code == 200
    assert "Payout runs" in client.get(reverse("admin:app_list", args=["earnings"])).content.decode()

    found = client.get(
        reverse("admin:earnings_transaction_changelist"), {"q": ledger["transaction"].transaction_id}
    )
    assert ledger["transaction"].transaction_id in found.content.decode()
    by_reason = client.get(
        reverse("admin:earnings_ineligibletransaction_changelist"),
        {"reason_code__exact": "PRODUCT_NOT_ELIGIBLE"},
    )
    assert ledger["transaction"].transaction_id in by_reason.content.decode()
    payment_page = client.get(reverse("admin:earnings_payment_change", args=[ledger["payment"].pk]))
    assert ledger["earning"].earning_id in payment_page.content.decode()  # the inline


def rate_form(rate: EarningRate, **changes) -> dict:
    data = {
        "lever": rate.lever_id,
        "product_id": rate.product_id,
        "segment": "",
        "rate": "0.05",
        "min_quantity": "0",
        "valid_from": "2024-06-01",
        "valid_to": "",
    }
    return {**data, **changes}


def test_an_overlapping_rate_period_is_refused_with_the_clashing_rate(client, ledger):
    rate = ledger["rate"]  # 2024-01-01 → 2025-01-01 (exclusive)
    add = reverse("admin:earnings_earningrate_add")

    refused = client.post(add, rate_form(rate, valid_from="2024-06-01"))

    assert refused.status_code == 200
    assert "Overlaps the rate 4.0000% of CFQ7TTC0LF8R (2024-01-01 to 2025-01-01)" in refused.content.decode()
    assert EarningRate.objects.count() == 1
    # Another segment, or the period after the first ends, is fine.
    assert client.post(add, rate_form(rate, segment="education")).status_code == 302
    assert client.post(add, rate_form(rate, valid_from="2025-01-01")).status_code == 302
    # An open-ended rate now runs from 2025: an older start without an end overlaps it.
    refused = client.post(add, rate_form(rate, valid_from="2023-01-01"))
    assert "Overlaps the rate" in refused.content.decode()
    assert EarningRate.objects.count() == 3


def test_rates_entered_together_on_a_lever_must_not_overlap(client):
    lever = LeverFactory()
    prefix = "rates"
    data = {
        "name": lever.name,
        "engagement": lever.engagement_id,
        "partner_role": lever.partner_role,
        "partner_association": "",
        "earning_type": lever.earning_type,
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, start in enumerate(["2024-01-01", "2024-06-01"]):
        data.update(
            {
                f"{prefix}-{index}-product_id": "CFQ7TTC0LFLZ",
                f"{prefix}-{index}-segment": "",
                f"{prefix}-{index}-rate": "0.04",
                f"{prefix}-{index}-min_quantity": "0",
                f"{prefix}-{index}-valid_from": start,
                f"{prefix}-{index}-valid_to": "",
            }
        )

    response = client.post(reverse("admin:earnings_lever_change", args=[lever.pk]), data)

    assert response.status_code == 200
    assert "Two rates of CFQ7TTC0LFLZ overlap" in response.content.decode()
    assert not EarningRate.objects.filter(lever=lever).exists()


def test_the_upload_page_imports_a_file_and_lists_a_bad_files_rows(
    client, org_a, staff, django_capture_on_commit_callbacks
):
    PartnerLocationFactory(organization=org_a, partner_id="7000001", is_headquarters=True)
    PartnerLocationFactory(organization=org_a, partner_id="7000002", country="GB")
    CustomerFactory(organization=org_a, tenant_id="6f1c1d9e-4b0a-4c55-9a51-2b7f0c3e8a01")
    ExchangeRateFactory(currency="EUR", rate_date=date(2020, 1, 1), rate_to_usd=Decimal("1.0850"))
    ExchangeRateFactory(currency="GBP", rate_date=date(2020, 1, 1), rate_to_usd=Decimal("1.25"))
    add = reverse("admin:earnings_transactionupload_add")
    assert "valid_rows_only" in client.get(add).content.decode()

    def upload(name: str, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(
                add,
                {
                    "organization": org_a.pk,
                    "file": SimpleUploadedFile(name, (DATA / name).read_bytes()),
                    **extra,
                },
            )
        job = JobRun.objects.latest("pk")
        assert started.status_code == 302
        assert started["Location"] == reverse("admin:earnings_transactionupload_import_job", args=[job.pk])
        return job, client.get(started["Location"]).content.decode()

    job, page = upload("usage_bad.csv")

    assert (job.kind, job.organization, job.created_by) == ("import:earnings.transactions", org_a, staff)
    assert "nothing was imported" in page and 'id="row-errors"' in page
    assert "<code>Gardening</code>" in page and "is not one of" in page and "repeats line 4" in page
    assert not Transaction.objects.exists()
    result = client.get(reverse("admin:earnings_transactionupload_import_result", args=[job.pk]))
    assert result.status_code == 200 and b"Gardening" in b"".join(result.streaming_content)

    job, page = upload("usage_valid.csv")

    upload_row = TransactionUpload.objects.get()
    assert (upload_row.organization, upload_row.row_count, upload_row.uploaded_by) == (org_a, 3, staff)
    assert f"Import job #{job.pk}: usage_valid.csv is being imported." in page
    assert "<th>Created</th><td>3</td>" in page
    assert Transaction.objects.filter(upload=upload_row).count() == 3

    job, page = upload("usage_valid.csv")

    assert "<th>Created</th><td>0</td>" in page and "<th>Unchanged</th><td>3</td>" in page
    assert TransactionUpload.objects.count() == 1

    job, page = upload("usage_bad.csv", valid_rows_only="on")

    # U-BAD-0003 is new; U-2025-02-0001 is the transaction the valid file brought, with another amount.
    assert "<th>Created</th><td>1</td>" in page and "<th>Updated</th><td>1</td>" in page
    assert "<th>Rejected</th><td>8</td>" in page
    assert Transaction.objects.get(transaction_id="U-2025-02-0001").transaction_amount == Decimal("324")


def test_the_upload_page_shows_a_file_it_cannot_import_at_once(client, org_a):
    response = client.post(
        reverse("admin:earnings_transactionupload_add"),
        {"organization": org_a.pk, "file": SimpleUploadedFile("usage.csv", b"transactionId\nT-1\n")},
    )

    page = response.content.decode()
    assert response.status_code == 200 and 'id="upload-rejected"' in page
    assert "required column is missing" in page and "partnerId" in page
    assert not JobRun.objects.exists()


def test_the_payout_run_page_starts_watches_and_re_runs_a_period(client, staff):
    runs = reverse("admin:earnings_payout_runs")

    response = client.post(runs, {"period": "2025-02"}, follow=True)

    job = JobRun.objects.get(kind=JOB_KIND_PAYOUT_RUN)
    assert (job.parameters["period"], job.created_by) == ("2025-02", staff)
    page = response.content.decode()
    assert f"Payout run of 2025-02 queued as job #{job.pk}" in page
    assert reverse("admin:portal_jobrun_change", args=[job.pk]) in page
    assert 'http-equiv="refresh"' in page  # queued: the page refreshes until it finishes

    again = client.post(runs, {"period": "2025-02", "rerun": "1"}, follow=True)

    assert "Re-run of 2025-02 queued" in again.content.decode()
    assert JobRun.objects.filter(kind=JOB_KIND_PAYOUT_RUN, parameters__period="2025-02").count() == 2
    assert "is not a month" in client.post(runs, {"period": "February"}).content.decode()


def test_the_payout_run_started_from_the_admin_runs_on_commit(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:earnings_payout_runs"), {"period": "2025-02"})

    job = JobRun.objects.get(kind=JOB_KIND_PAYOUT_RUN)
    assert job.is_finished and job.result["period"] == "2025-02"


def test_the_payment_action_moves_the_status_and_shows_an_illegal_move(client, ledger, staff):
    payment = ledger["payment"]  # Upcoming
    changelist = reverse("admin:earnings_payment_changelist")
    form = {"action": "change_status", "_selected_action": [payment.pk], "apply": "1", "note": "released"}

    refused = client.post(changelist, {**form, "to_status": PaymentStatus.SENT}, follow=True)

    assert "A payment in Upcoming cannot move to Sent" in refused.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.UPCOMING

    client.post(changelist, {**form, "to_status": PaymentStatus.IN_PROGRESS}, follow=True)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.IN_PROGRESS
    assert Earning.objects.get(pk=ledger["earning"].pk).payment_status == PaymentStatus.IN_PROGRESS
    event = HistoryEvent.objects.get(object_id=str(payment.pk))
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        "Upcoming",
        "In progress",
        staff,
        "released",
    )
    # The intermediate page is shown first.
    asked = client.post(changelist, {"action": "change_status", "_selected_action": [payment.pk]})
    assert "Move payment status" in asked.content.decode()


def test_the_add_earning_page_books_a_manual_adjustment(client, ledger, staff):
    enrollment = ledger["enrollment"]
    add = reverse("admin:earnings_earning_add")

    response = client.post(
        add,
        {
            "enrollment": enrollment.pk,
            "amount": "-120.00",
            "currency": "usd",
            "reason_code": AdjustmentReason.AR_COMPLIANCE,
            "note": "Invoices 60 days overdue",
            "corrects": ledger["earning"].earning_id,
        },
        follow=True,
    )

    row = Earning.objects.get(kind=EarningKind.ADJUSTMENT)
    assert (row.earning_amount, row.currency, row.reason_code) == (
        Decimal("-120.00"),
        "USD",
        AdjustmentReason.AR_COMPLIANCE,
    )
    assert (row.enrollment, row.product_id, row.customer_id) == (enrollment, "", None)
    assert "booked" in response.content.decode()
    refused = client.post(
        add,
        {
            "enrollment": enrollment.pk,
            "amount": "10",
            "currency": "USD",
            "reason_code": "Because",
            "note": "x",
        },
    )
    assert "Select a valid choice" in refused.content.decode()
    assert Earning.objects.filter(kind=EarningKind.ADJUSTMENT).count() == 1


def test_the_hold_actions_call_the_service(client, ledger, staff):
    enrollment = ledger["enrollment"]
    changelist = reverse("admin:earnings_enrollment_changelist")

    client.post(changelist, {"action": "hold", "_selected_action": [enrollment.pk]})

    assert Enrollment.objects.get(pk=enrollment.pk).hold_payment
    assert AuditEvent.objects.filter(action="earnings.enrollment.hold_set", actor=staff).exists()

    client.post(changelist, {"action": "release_hold", "_selected_action": [enrollment.pk]})

    assert not Enrollment.objects.get(pk=enrollment.pk).hold_payment


def test_an_enrollment_location_must_be_the_organizations(client, org_a, org_b):
    foreign = PartnerLocationFactory(organization=org_b)
    response = client.post(
        reverse("admin:earnings_enrollment_add"),
        {
            "organization": org_a.pk,
            "location": foreign.pk,
            "program": ProgramFactory().pk,
            "participant_id": foreign.partner_id,
            "participant_id_type": "PartnerID",
            "participant_name": "Alpha",
            "enrolled_from": "2024-01-01",
            "payment_currency": "USD",
            "payment_method": "Electronic bank transfer",
            "sales_tax_rate": "0",
        },
    )

    assert "is a location of another organization" in response.content.decode()
    assert not Enrollment.objects.exists()
    assert Payment.objects.count() == 0
