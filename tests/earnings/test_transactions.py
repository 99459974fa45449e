"""Transactions in: billed new-commerce subscriptions and uploaded usage/billing files (spec §3, §8)."""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from commerce.choices import BillingCycle, SubscriptionStatus, TermDuration
from earnings.choices import (
    PartnerAssociation,
    PartnerRole,
    QuantityType,
    SolutionArea,
    TransactionSource,
    TransactionType,
)
from earnings.imports import TRANSACTIONS
from earnings.models import Transaction, TransactionUpload
from earnings.services.transactions import (
    solution_area_of,
    transactions_from_commerce,
    transactions_import_start,
)
from portal.choices import JobStatus
from portal.models import AuditEvent, JobRun
from portal.uploads import UploadRejected
from tests.factories import (
    AvailabilityFactory,
    CustomerFactory,
    ExchangeRateFactory,
    NceSubscriptionFactory,
    PartnerLocationFactory,
    ProductFactory,
    SkuFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
FEBRUARY = date(2025, 2, 1)
TENANT = uuid.UUID("6f1c1d9e-4b0a-4c55-9a51-2b7f0c3e8a01")


@pytest.fixture
def locations(org_a):
    hq = PartnerLocationFactory(organization=org_a, partner_id="7000001", country="DE", is_headquarters=True)
    london = PartnerLocationFactory(organization=org_a, partner_id="7000002", country="GB")
    return hq, london


@pytest.fixture
def rates(db):
    ExchangeRateFactory(currency="EUR", rate_date=date(2020, 1, 1), rate_to_usd=Decimal("1.0500"))
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 2, 1), rate_to_usd=Decimal("1.0850"))
    ExchangeRateFactory(currency="EUR", rate_date=date(2025, 3, 1), rate_to_usd=Decimal("1.1000"))
    ExchangeRateFactory(currency="GBP", rate_date=date(2025, 1, 1), rate_to_usd=Decimal("1.2500"))


@pytest.fixture
def e3(db):
    product = ProductFactory(product_id="CFQ7TTC0LFLZ", title="Microsoft 365 E3")
    return AvailabilityFactory(sku=SkuFactory(product=product, sku_id="0001", title="Microsoft 365 E3"))


def subscription(org, customer, availability, **fields):
    defaults = {
        "organization": org,
        "customer": customer,
        "availability": availability,
        "quantity": 100,
        "term_duration": TermDuration.P1Y,
        "billing_cycle": BillingCycle.MONTHLY,
        "term_start": date(2024, 11, 10),
        "term_end": date(2025, 11, 9),
        # 100 seats of E3 at 388.80 EUR a year, billed monthly: 3,240.00 EUR a month (X1).
        "unit_price": Decimal("388.80"),
        "currency": "EUR",
    }
    return NceSubscriptionFactory(**{**defaults, **fields})


# --- From commerce --------------------------------------------------------------------------------


def test_a_monthly_subscription_bills_its_share_of_the_term_in_usd_at_the_rate_in_force(
    org_a, locations, rates, e3
):
    hq, london = locations
    customer = CustomerFactory(organization=org_a, name="Fabrikam DE", location=london, segment="commercial")
    sub = subscription(org_a, customer, e3)

    assert transactions_from_commerce(month=date(2025, 2, 17)) == 1

    row = Transaction.objects.get()
    assert row.transaction_id == f"NCE-{sub.subscription_id}-202502"
    assert row.transaction_date == date(2025, 2, 10)
    assert row.source == TransactionSource.COMMERCE
    assert row.transaction_type == TransactionType.PURCHASE
    assert (row.transaction_amount, row.transaction_currency) == (Decimal("3240.00"), "EUR")
    # The 2025-02-01 rate is in force on the 10th, not the March one (X1).
    assert row.transaction_exchange_rate == Decimal("1.0850")
    assert row.transaction_amount_usd == Decimal("3515.40")
    assert row.quantity == 100 and row.quantity_type == QuantityType.BILLED
    assert (row.customer, row.customer_name, row.customer_tenant_id) == (
        customer,
        "Fabrikam DE",
        str(customer.tenant_id),
    )
    assert (row.customer_country, row.customer_segment) == ("DE", "commercial")
    assert (row.product_id, row.sku_id, row.product_name) == ("CFQ7TTC0LFLZ", "0001", "Microsoft 365 E3")
    assert row.subscription_id == str(sub.subscription_id)
    assert row.invoice_number == f"INV-{org_a.partner_global_id}-202502"
    assert row.solution_area == SolutionArea.MODERN_WORK
    assert (row.partner_role, row.partner_association) == (PartnerRole.TRANSACT, PartnerAssociation.RESELLER)
    assert row.location == london
    assert row.organization == org_a
    assert not row.is_trial


def test_billing_follows_the_plan_and_the_term(org_a, locations, rates, e3):
    hq, _ = locations
    customer = CustomerFactory(organization=org_a)  # no location: the headquarters transacts
    annual = subscription(org_a, customer, e3, billing_cycle=BillingCycle.ANNUAL, currency="USD")
    subscription(org_a, customer, e3, status=SubscriptionStatus.SUSPENDED)
    # Ends on 2025-02-05, before its billing day (the 10th): its term is over in February.
    ended = subscription(org_a, customer, e3, term_start=date(2024, 2, 10), term_end=date(2025, 2, 5))

    assert transactions_from_commerce(month=date(2025, 2, 1)) == 0
    assert transactions_from_commerce(month=date(2024, 12, 1)) == 1  # monthly only
    assert transactions_from_commerce(month=date(2024, 11, 1)) == 2

    assert Transaction.objects.filter(subscription_id=str(ended.subscription_id)).count() == 2
    row = Transaction.objects.get(subscription_id=str(annual.subscription_id))
    assert row.transaction_amount == Decimal("38880.00")  # the whole year on the anniversary
    assert (row.transaction_exchange_rate, row.transaction_amount_usd) == (Decimal("1"), Decimal("38880.00"))
    assert row.location == hq


def test_a_re_run_of_a_month_inserts_nothing(org_a, locations, rates, e3):
    customer = CustomerFactory(organization=org_a)
    subscription(org_a, customer, e3)
    subscription(org_a, customer, e3, currency="GBP", unit_price=Decimal("300.00"), quantity=12)

    assert transactions_from_commerce(month=FEBRUARY) == 2
    first = sorted(Transaction.objects.values_list("transaction_id", "transaction_amount_usd"))
    assert transactions_from_commerce(month=FEBRUARY) == 0
    assert sorted(Transaction.objects.values_list("transaction_id", "transaction_amount_usd")) == first
    # 12 seats × 300.00 GBP a year / 12 months × 1.25.
    assert Decimal("375.00") in {amount for _, amount in first}

    assert transactions_from_commerce(month=date(2025, 3, 1)) == 2
    assert Transaction.objects.count() == 4


def test_a_currency_without_a_rate_names_the_currency_and_date_and_writes_nothing(
    org_a, locations, rates, e3
):
    customer = CustomerFactory(organization=org_a)
    subscription(org_a, customer, e3)  # EUR has a rate
    subscription(
        org_a, customer, e3, currency="JPY", unit_price=Decimal("60000"), term_start=date(2024, 12, 3)
    )

    with pytest.raises(ValidationError) as raised:
        transactions_from_commerce(month=FEBRUARY)

    assert "No exchange rate for JPY on or before 2025-02-03" in str(raised.value)
    assert not Transaction.objects.exists()


def test_products_map_to_solution_areas():
    assert solution_area_of("Microsoft 365 Business Premium") == SolutionArea.MODERN_WORK
    assert solution_area_of("Microsoft Defender for Endpoint P2") == SolutionArea.SECURITY
    assert solution_area_of("Dynamics 365 Sales Enterprise") == SolutionArea.BUSINESS_APPS
    assert solution_area_of("Azure plan") == SolutionArea.AZURE_INFRA
    assert solution_area_of("Something new") == SolutionArea.MODERN_WORK


# --- Uploaded files (earnings.imports, through the import pipeline) ----------------------------------


@pytest.fixture
def fabrikam(org_a):
    return CustomerFactory(organization=org_a, tenant_id=TENANT, name="Fabrikam DE", country="DE")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Start an import and run its job (Celery runs eagerly once the request's transaction commits)."""

    def run(organization, file, *, actor=None, valid_rows_only=False) -> JobRun:
        with django_capture_on_commit_callbacks(execute=True):
            job = transactions_import_start(
                organization=organization, upload=file, actor=actor, valid_rows_only=valid_rows_only
            )
        job.refresh_from_db()
        return job

    return run


def upload_of(name: str, content: str | None = None) -> SimpleUploadedFile:
    data = (DATA / name).read_bytes() if content is None else content.encode()
    return SimpleUploadedFile(name, data, content_type="text/csv")


def counts(job: JobRun) -> tuple[int, int, int, int]:
    assert job.status == JobStatus.SUCCEEDED, job.errors
    return tuple(job.result[name] for name in ("created", "updated", "unchanged", "rejected"))


def test_a_usage_file_is_imported_with_customers_resolved_by_tenant(org_a, locations, rates, fabrikam, run):
    staff = UserFactory(organization=None, is_staff=True)
    hq, london = locations

    job = run(org_a, upload_of("usage_valid.csv"), actor=staff)

    assert counts(job) == (3, 0, 0, 0)
    assert (job.kind, job.organization, job.created_by) == ("import:earnings.transactions", org_a, staff)
    upload = TransactionUpload.objects.get()
    assert job.result["upload"] == upload.pk
    assert (upload.file_name, upload.row_count, upload.uploaded_by) == ("usage_valid.csv", 3, staff)
    rows = {row.transaction_id: row for row in Transaction.objects.filter(upload=upload)}
    assert set(rows) == {"U-2025-02-0001", "U-2025-02-0002", "U-2025-02-0003"}
    x1 = rows["U-2025-02-0001"]
    assert (x1.customer, x1.customer_segment, x1.customer_country) == (fabrikam, "commercial", "DE")
    assert (x1.transaction_amount, x1.transaction_exchange_rate, x1.transaction_amount_usd) == (
        Decimal("3240.00"),
        Decimal("1.0850"),
        Decimal("3515.40"),
    )
    assert (x1.location, x1.source, x1.organization) == (hq, TransactionSource.UPLOAD, org_a)
    assert (x1.invoice_number, x1.subscription_id, x1.sku_id) == ("INV-DE-88123", "SUB-1001", "0001")
    assert x1.customer_tenant_id == str(TENANT) and not x1.is_trial
    azure = rows["U-2025-02-0002"]
    assert azure.customer_name == "Fabrikam DE"  # blank name: the customer's
    assert (azure.solution_area, azure.partner_role, azure.partner_association) == (
        SolutionArea.AZURE_INFRA,
        PartnerRole.USE,
        PartnerAssociation.PAL_OWNER,
    )
    assert (azure.transaction_type, azure.quantity, azure.quantity_type) == (
        TransactionType.USAGE,
        Decimal("1250.50"),
        QuantityType.CONSUMED,
    )
    assert (azure.location, azure.transaction_amount_usd) == (london, Decimal("812.33"))
    stranger = rows["U-2025-02-0003"]
    # Not one of the organization's customers: kept without one (the engine's CUSTOMER_NOT_ASSOCIATED).
    assert (stranger.customer, stranger.customer_name) == (None, "Unknown Corp")
    assert stranger.transaction_date == date(2025, 2, 27)
    assert (stranger.transaction_type, stranger.quantity_type, stranger.partner_association) == (
        TransactionType.PURCHASE,
        QuantityType.BILLED,
        "",
    )
    assert (stranger.transaction_amount, stranger.transaction_amount_usd) == (
        Decimal("1000"),
        Decimal("1250.00"),
    )
    event = AuditEvent.objects.get(action="earnings.transactions_imported")
    assert (event.actor, event.organization_id, event.changes) == (
        staff,
        org_a.pk,
        {"file_name": "usage_valid.csv", "rows": 3, "updated": 0},
    )


def test_the_same_file_twice_changes_nothing_and_a_corrected_row_is_updated(
    org_a, locations, rates, fabrikam, run
):
    assert counts(run(org_a, upload_of("usage_valid.csv"))) == (3, 0, 0, 0)
    stored = sorted(
        Transaction.objects.values_list("pk", "transaction_id", "transaction_amount_usd", "upload")
    )

    again = run(org_a, upload_of("usage_valid.csv"))

    assert counts(again) == (0, 0, 3, 0)
    assert sorted(
        Transaction.objects.values_list("pk", "transaction_id", "transaction_amount_usd", "upload")
    ) == (stored)
    assert TransactionUpload.objects.count() == 1  # nothing came with the second file
    assert again.result["upload"] is None

    corrected = (DATA / "usage_valid.csv").read_text().replace("EUR,3240.00", "EUR,3000.00")
    fixed = run(org_a, upload_of("usage_fixed.csv", corrected))

    assert counts(fixed) == (0, 1, 2, 0)
    row = Transaction.objects.get(transaction_id="U-2025-02-0001")
    assert (row.transaction_amount, row.transaction_amount_usd) == (Decimal("3000.00"), Decimal("3255.00"))
    assert row.upload == TransactionUpload.objects.get()  # the file that brought it in


def test_usd_amounts_are_rounded_half_to_even(org_a, locations, rates, fabrikam, run):
    content = (DATA / "usage_valid.csv").read_text()
    # 0.05 GBP × 1.25 = 0.0625 → 0.06; 0.07 × 1.25 = 0.0875 → 0.09; 0.1 EUR × 1.085 = 0.1085 → 0.11
    content = content.replace('GBP,"1,000.00"', "GBP,0.05").replace("EUR,3240.00", "EUR,0.1")
    content += (
        content.splitlines()[3].replace("U-2025-02-0003", "U-2025-02-0004").replace("0.05", "0.07") + "\n"
    )

    assert counts(run(org_a, upload_of("usage.csv", content))) == (4, 0, 0, 0)

    assert dict(Transaction.objects.values_list("transaction_id", "transaction_amount_usd")) == {
        "U-2025-02-0001": Decimal("0.11"),
        "U-2025-02-0002": Decimal("812.33"),
        "U-2025-02-0003": Decimal("0.06"),
        "U-2025-02-0004": Decimal("0.09"),
    }


def test_an_xlsx_file_is_read_like_its_csv(org_a, locations, rates, fabrikam, run):
    frame = pd.read_csv(DATA / "usage_valid.csv", dtype=str, keep_default_na=False)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    file = SimpleUploadedFile("usage.xlsx", buffer.getvalue())

    assert counts(run(org_a, file)) == (3, 0, 0, 0)

    assert TransactionUpload.objects.get().row_count == 3
    assert Transaction.objects.get(transaction_id="U-2025-02-0001").transaction_amount_usd == Decimal(
        "3515.40"
    )


def test_every_bad_row_is_listed_and_nothing_is_written(org_a, locations, rates, fabrikam, run):
    TransactionFactory(
        organization=org_a, transaction_id="U-2025-02-0001", location=locations[0], source="commerce"
    )

    job = run(org_a, upload_of("usage_bad.csv"))

    assert job.status == JobStatus.FAILED and "nothing was imported" in job.result["message"]
    found = {
        (error["row"], error["column"]): (error.get("value"), error["message"]) for error in job.import_errors
    }
    areas = ", ".join(choice for choice in TRANSACTIONS.column("solutionArea").choices)
    assert found == {
        (2, "transactionDate"): (
            "2025-02-31",
            "is not a date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DDThh:mm:ss or MM/DD/YYYY)",
        ),
        (3, "transactionCurrency"): ("XYZ", "has no exchange rate on or before the transactionDate"),
        (5, "partnerId"): ("9999999", "is not a PartnerID of this organization's locations"),
        (6, "solutionArea"): ("Gardening", f"is not one of {areas}"),
        (7, "partnerRole"): ("Sell", "is not one of Build intent, Transact, Deploy, Use"),
        (8, "transactionAmount"): ("lots", "is not a number"),
        (9, "transactionId"): ("U-BAD-0003", "repeats line 4"),
        (10, "transactionId"): (
            "U-2025-02-0001",
            "is a transaction billed from a new-commerce subscription; a file cannot replace it",
        ),
        (11, "transactionCurrency"): ("EUR", "has no exchange rate on or before the transactionDate"),
    }
    assert "Azure Infrastructure" in areas and "Infra" in areas
    assert Transaction.objects.count() == 1
    assert not TransactionUpload.objects.exists()
    assert not AuditEvent.objects.filter(action="earnings.transactions_imported").exists()


def test_valid_rows_only_imports_the_good_rows(org_a, locations, rates, fabrikam, run):
    job = run(org_a, upload_of("usage_bad.csv"), valid_rows_only=True)

    # U-BAD-0003 (row 4) and U-2025-02-0001 (row 10) are good; the repeat of row 4 (row 9) is not.
    assert counts(job) == (2, 0, 0, 8)
    assert sorted(Transaction.objects.values_list("transaction_id", flat=True)) == [
        "U-2025-02-0001",
        "U-BAD-0003",
    ]
    assert TransactionUpload.objects.get().row_count == 2
    assert [e["row"] for e in job.import_errors] == [2, 3, 5, 6, 7, 8, 9, 11]
    assert job.result["result_file"]


def test_a_partner_id_or_transaction_of_another_organization_is_refused(
    org_a, org_b, locations, rates, fabrikam, run
):
    PartnerLocationFactory(organization=org_b, partner_id="7000009")
    TransactionFactory(organization=org_b, transaction_id="U-2025-02-0003")
    content = (DATA / "usage_valid.csv").read_text().replace("7000002", "7000009")

    job = run(org_a, upload_of("usage.csv", content))

    assert [(e["row"], e["column"], e["message"]) for e in job.import_errors] == [
        (3, "partnerId", "is not a PartnerID of this organization's locations"),
        (4, "transactionId", "is a transaction of another organization"),
    ]
    assert Transaction.objects.filter(organization=org_a).count() == 0


def test_a_row_without_a_customer_name_needs_a_customer(org_a, locations, rates, run):
    content = (DATA / "usage_valid.csv").read_text().replace(",Unknown Corp,", ",,")
    content = content.replace("6f1c1d9e-4b0a-4c55-9a51-2b7f0c3e8a01,,", ",,")  # row 3: neither

    job = run(org_a, upload_of("usage.csv", content))

    assert sorted((e["row"], e["column"], e["message"]) for e in job.import_errors) == [
        (3, "customerName", "is empty and there is no customerTenantId to find the customer by"),
        (4, "customerTenantId", "is not one of the organization's customers and customerName is empty"),
    ]


def test_a_file_without_the_required_columns_is_refused_at_once(org_a, locations, run):
    file = SimpleUploadedFile("usage.csv", b"transactionId,transactionDate\nT-1,2025-02-01\n")

    with pytest.raises(UploadRejected) as raised:
        run(org_a, file)

    assert {e.column for e in raised.value.errors} >= {"partnerId", "transactionAmount", "solutionArea"}
    assert not JobRun.objects.exists()
