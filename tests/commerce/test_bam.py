"""Microsoft's NCE Batch Migration tool (BAM) files: subscriptions.csv in, as the tool and Excel write
it, and the tool's layouts out (result, migration status, new-commerce subscriptions, eligible
subscriptions), exactly as CsvHelper writes them.

The clock is 20 May 2025 (spec §6 C1); the legacy terms end on 14 September 2025 unless told otherwise.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from freezegun import freeze_time

from commerce.choices import SubscriptionStatus
from commerce.codes import NO_EQUIVALENT_OFFER
from commerce.models import Migration, MigrationBatch, NceSubscription
from commerce.services import migration_batch_import_start
from portal.choices import JobStatus
from portal.imports import import_run
from portal.models import JobRun
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


@pytest.fixture(autouse=True)
def _on_20_may_2025():
    with freeze_time("2025-05-20 10:00:00"):
        yield


PREMIUM = "CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN"

# The headers as the tool's versions write them (Models.cs `MigrationRequest`, in declaration order).
V1 = (
    "PartnerTenantId,IndirectResellerMpnId,CustomerName,CustomerTenantId,LegacySubscriptionId,"
    "LegacySubscriptionName,LegacyProductName,ExpirationDate,MigrationEligible,NcePsa,CurrentTerm,"
    "CurrentBillingPlan,CurrentSeatCount,StartNewTermInNce,Term,BillingPlan,SeatCount,AddOn,"
    "BaseSubscriptionId,MigrationIneligibilityReason"
)
V2 = V1.replace("ExpirationDate,", "ExpirationDate,AutoRenewEnabled,")
V3 = V2.replace("SeatCount,AddOn,", "SeatCount,CustomTermEndDate,AddOn,")
SPEC = V2 + ",CustomTermEndDate"
RESULT = (
    "PartnerTenantId,IndirectResellerMpnId,CustomerName,CustomerTenantId,LegacySubscriptionId,"
    "LegacySubscriptionName,LegacyProductName,ExpirationDate,AddOn,BaseSubscriptionId,MigrationStatus,"
    "StartedNewTermInNce,NCETermDuration,NCEBillingPlan,NCESeatCount,CustomTermEndDate,ErrorCode,"
    "ErrorReason,NCESubscriptionId,BatchId,MigrationId"
)
MODERN = (
    "PartnerTenantId,IndirectResellerMpnId,CustomerName,CustomerTenantId,SubscriptionId,"
    "SubscriptionName,ProductName,ExpirationDate,Psa,Term,BillingPlan,SeatCount,MigratedFromSubscriptionId"
)
PRICES = (
    "Currency,NCEChargePerPeriod,NCEBillingPeriod,NCEChargePerTerm,LegacyCurrency,LegacyChargePerPeriod,"
    "LegacyChargePerTerm"
)


def tool_row(subscription, **cells) -> dict[str, str]:
    """A row as the tool exports an eligible subscription (CsvHelper, invariant culture)."""
    customer, parent = subscription.customer, subscription.parent
    row = {
        "PartnerTenantId": "",
        "IndirectResellerMpnId": "",
        "CustomerName": customer.name,
        "CustomerTenantId": str(customer.tenant_id),
        "LegacySubscriptionId": str(subscription.subscription_id),
        "LegacySubscriptionName": subscription.friendly_name,
        "LegacyProductName": subscription.offer.name,
        "ExpirationDate": f"{subscription.term_end:%m/%d/%Y} 00:00:00",
        "AutoRenewEnabled": "True",
        "MigrationEligible": "True",
        "NcePsa": "",
        "CurrentTerm": subscription.term_duration,
        "CurrentBillingPlan": subscription.billing_cycle,
        "CurrentSeatCount": str(subscription.quantity),
        "StartNewTermInNce": "False",
        "Term": subscription.term_duration,
        "BillingPlan": subscription.billing_cycle,
        "SeatCount": str(subscription.quantity),
        "CustomTermEndDate": "",
        "AddOn": "True" if parent else "False",
        "BaseSubscriptionId": str(parent.subscription_id) if parent else "",
        "MigrationIneligibilityReason": "",
    }
    row.update(cells)
    return row


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def bam_file(header: str, rows: list[dict[str, str]], name: str = "subscriptions.csv") -> SimpleUploadedFile:
    names = header.split(",")
    text = csv_text([names, *([row.get(column, "") for column in names] for row in rows)])
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def parse(body: bytes | str) -> list[list[str]]:
    text = body.decode() if isinstance(body, bytes) else body
    return list(csv.reader(io.StringIO(text)))


def records(body: bytes) -> list[dict[str, str]]:
    header, *rows = parse(body)
    return [dict(zip(header, row, strict=True)) for row in rows]


def upload(alice, file, capture, **options) -> JobRun:
    with capture(execute=True):
        job = migration_batch_import_start(
            actor=alice, organization=alice.organization, upload=file, **options
        )
    job.refresh_from_db()
    return job


def result_file(client, batch) -> bytes:
    response = client.get(reverse("commerce:batch-result-csv", args=[batch.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.fixture
def client_a(alice, verified_client):
    return verified_client(alice)


# --- Reading the tool's file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [V1, V2, V3, SPEC, "Note," + ",".join(reversed(V3.split(",")))],
    ids=["v1", "v2-auto-renew", "v3-head", "spec-trailing-custom-end", "any-order-with-an-unknown-column"],
)
def test_it_reads_every_header_variant(
    legacy, header, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    subscription = legacy(us_customer, "premium", quantity=40)

    job = upload(
        alice,
        bam_file(header, [tool_row(subscription, NcePsa=PREMIUM, Note="keep me")]),
        django_capture_on_commit_callbacks,
    )

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.kind == "import:commerce.bam_batch"
    migration = Migration.objects.get(current_subscription=subscription)
    assert (migration.status, migration.quantity, migration.catalog_item_id) == ("Completed", 40, PREMIUM)
    [row] = records(result_file(client_a, migration.batch))
    assert list(row)[: len(header.split(","))] == header.split(",")  # the upload's columns, in order
    if "Note" in header:
        assert row["Note"] == "keep me"


@pytest.mark.parametrize(
    ("written", "eligible", "full_term"),
    [
        ("09/30/2025 00:00:00", "True", "False"),  # CsvHelper, invariant culture
        ("9/30/2025 0:00", "TRUE", "FALSE"),  # Excel (US) re-saved the CSV
        ("2025-09-30", "true", "false"),  # Excel, ISO dates
        ("9/30/2025", "True", ""),  # a date without its time; an empty flag is False
        ("2025-09-30T00:00:00", "yes", "no"),
    ],
)
def test_it_reads_dates_and_booleans_as_the_tool_and_excel_write_them(
    legacy, written, eligible, full_term, us_customer, alice, django_capture_on_commit_callbacks
):
    subscription = legacy(us_customer, "basic")
    row = tool_row(
        subscription, CustomTermEndDate=written, MigrationEligible=eligible, StartNewTermInNce=full_term
    )

    job = upload(alice, bam_file(V3, [row]), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    migration = Migration.objects.get(current_subscription=subscription)
    assert (migration.custom_term_end_date, migration.purchase_full_term) == (date(2025, 9, 30), False)
    assert migration.new_commerce_subscription.term_end == date(2025, 9, 30)


def test_it_reads_the_file_saved_as_an_excel_workbook(
    legacy, us_customer, alice, django_capture_on_commit_callbacks
):
    from datetime import datetime  # noqa: PLC0415

    from portal.files import write_xlsx  # noqa: PLC0415

    subscription = legacy(us_customer, "premium", quantity=40)
    row = tool_row(subscription)
    # Excel keeps its own types: booleans, numbers and date-times.
    typed = {
        "AutoRenewEnabled": True,
        "MigrationEligible": True,
        "StartNewTermInNce": False,
        "AddOn": False,
        "SeatCount": 45,
        "CurrentSeatCount": 40,
        "CustomTermEndDate": datetime(2025, 9, 30),
    }
    names = V3.split(",")
    workbook = write_xlsx("subscriptions", names, [[typed.get(name, row[name]) for name in names]])
    file = SimpleUploadedFile("subscriptions.xlsx", workbook.read())

    job = upload(alice, file, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    migration = Migration.objects.get(current_subscription=subscription)
    assert (migration.quantity, migration.custom_term_end_date) == (45, date(2025, 9, 30))


def test_a_date_or_flag_it_cannot_read_is_refused_with_row_column_and_value(
    legacy, us_customer, alice, django_capture_on_commit_callbacks
):
    one, two = legacy(us_customer, "basic"), legacy(us_customer, "basic")
    rows = [
        tool_row(one, CustomTermEndDate="30/09/2025"),  # day first: never guessed
        tool_row(two, MigrationEligible="maybe", SeatCount="ten", Term="P2Y"),
    ]

    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    problems = {(e["row"], e["column"], e["value"]) for e in job.import_errors}
    assert problems == {
        (2, "CustomTermEndDate", "30/09/2025"),
        (3, "MigrationEligible", "maybe"),
        (3, "SeatCount", "ten"),
        (3, "Term", "P2Y"),
    }
    assert "MM/DD/YYYY hh:mm:ss" in next(e["message"] for e in job.import_errors if e["row"] == 2)
    assert not MigrationBatch.objects.exists()


def test_rows_not_eligible_are_skipped_not_errors(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    good = legacy(us_customer, "basic")
    blocked = legacy(us_customer, "business_voice")
    rows = [
        tool_row(good),
        tool_row(
            blocked,
            MigrationEligible="False",
            MigrationIneligibilityReason="Subscription cannot be migrated to New Commerce because ...",
        ),
    ]

    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.result["created"], job.result["skipped"], job.result["rejected"]) == (1, 1, 0)
    assert job.import_errors == []
    assert [o["outcome"] for o in job.result["row_outcomes"]] == ["Submitted", "Skipped"]
    assert not Migration.objects.filter(current_subscription=blocked).exists()
    batch = MigrationBatch.objects.get()
    assert batch.row_count == 1
    skipped = records(result_file(client_a, batch))[1]
    assert (skipped["MigrationStatus"], skipped["MigrationId"], skipped["BatchId"]) == ("Skipped", "", "")
    page = client_a.get(reverse("commerce:batch-detail", args=[batch.pk])).content.decode()
    assert "1 skipped (MigrationEligible False)" in page


# --- Add-ons --------------------------------------------------------------------------------------------


def test_an_add_on_travels_inside_its_base_migration(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    base = legacy(us_customer, "premium", quantity=20)
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)

    job = upload(alice, bam_file(V3, [tool_row(base), tool_row(addon)]), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    batch = MigrationBatch.objects.get()
    assert batch.row_count == 1  # one migration submitted: the base, carrying its add-on
    base_migration = Migration.objects.get(current_subscription=base)
    addon_migration = Migration.objects.get(current_subscription=addon)
    assert addon_migration.parent_migration == base_migration
    assert (addon_migration.status, addon_migration.quantity) == ("Completed", 5)
    result = {row["LegacySubscriptionId"]: row for row in records(result_file(client_a, batch))}
    added = result[str(addon.subscription_id)]
    # As the tool writes it: the add-on's row carries its base's MigrationId and status.
    assert added["MigrationId"] == str(base_migration.migration_id)
    assert added["MigrationStatus"] == "Completed"
    assert added["NCESubscriptionId"] == str(addon_migration.new_commerce_subscription.subscription_id)
    assert added["BatchId"] == batch.external_reference_id


def test_an_add_on_whose_base_is_not_in_the_batch_is_an_error(
    legacy, us_customer, alice, django_capture_on_commit_callbacks
):
    base = legacy(us_customer, "premium", quantity=20)
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)
    skipped_base = legacy(us_customer, "premium", quantity=20)
    skipped_addon = legacy(us_customer, "teams_phone", parent=skipped_base, quantity=5)

    rows = [tool_row(addon), tool_row(skipped_base, MigrationEligible="False"), tool_row(skipped_addon)]
    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    by_row = {(e["row"], e["column"]): e for e in job.import_errors}
    assert set(by_row) == {(2, "BaseSubscriptionId"), (4, "BaseSubscriptionId")}
    assert by_row[2, "BaseSubscriptionId"]["value"] == str(base.subscription_id)
    assert "is not in this batch" in by_row[2, "BaseSubscriptionId"]["message"]
    assert "(line 3) is skipped" in by_row[4, "BaseSubscriptionId"]["message"]
    assert not Migration.objects.exists()


def test_an_add_on_row_must_ask_what_moving_with_its_base_gives(
    legacy, us_customer, alice, django_capture_on_commit_callbacks
):
    base = legacy(us_customer, "premium", quantity=20)
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)
    rows = [
        tool_row(base, Term="P1Y", BillingPlan="Monthly"),
        tool_row(addon, SeatCount="7", BillingPlan="Annual", StartNewTermInNce="True"),
    ]

    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    messages = {e["column"]: e["message"] for e in job.import_errors if e["row"] == 3}
    assert set(messages) == {"SeatCount", "BillingPlan", "StartNewTermInNce"}
    assert "with its current 5 seats" in messages["SeatCount"]
    assert "on Monthly" in messages["BillingPlan"] and "(line 2)" in messages["BillingPlan"]


# --- Facts the partner may not change ------------------------------------------------------------------


def test_an_edited_fact_column_is_refused_with_row_column_and_value(
    legacy, org_a, org_b, us_customer, alice, django_capture_on_commit_callbacks
):
    edited_psa = legacy(us_customer, "premium")
    other_customer = CustomerFactory(organization=org_a, country="US")
    base = legacy(us_customer, "premium", quantity=20)
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)
    foreign = legacy(CustomerFactory(organization=org_b, country="US"), "basic")
    rows = [
        tool_row(edited_psa, NcePsa="CFQ7TTC0LH18:0001:CFQ7TTC0KRRB"),  # line 2: another product
        tool_row(legacy(us_customer, "basic"), CustomerTenantId=str(other_customer.tenant_id)),
        tool_row(base),  # line 4
        tool_row(addon, AddOn="False", BaseSubscriptionId=""),  # line 5
        tool_row(foreign),  # line 6: another organization's
    ]

    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    problems = {(e["row"], e["column"]): (e["value"], e["message"]) for e in job.import_errors}
    assert set(problems) == {
        (2, "NcePsa"),
        (3, "LegacySubscriptionId"),
        (5, "AddOn"),
        (6, "CustomerTenantId"),
        (6, "LegacySubscriptionId"),
    }
    value, message = problems[2, "NcePsa"]
    assert value == "CFQ7TTC0LH18:0001:CFQ7TTC0KRRB" and PREMIUM in message  # names both
    assert problems[3, "LegacySubscriptionId"][1] == "belongs to another customer than CustomerTenantId"
    assert f"is an add-on of {base.subscription_id}" in problems[5, "AddOn"][1]
    assert problems[6, "CustomerTenantId"][1] == "is not a customer of your organization"
    assert not (Migration.objects.exists() or MigrationBatch.objects.exists())


def test_a_wrong_base_subscription_is_refused(legacy, us_customer, alice, django_capture_on_commit_callbacks):
    base = legacy(us_customer, "premium", quantity=20)
    other = legacy(us_customer, "premium", quantity=20)
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)

    rows = [tool_row(base), tool_row(other), tool_row(addon, BaseSubscriptionId=str(other.subscription_id))]
    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    [error] = job.import_errors
    assert (error["row"], error["column"], error["value"]) == (
        4,
        "BaseSubscriptionId",
        str(other.subscription_id),
    )
    assert f"its base subscription is {base.subscription_id}" in error["message"]


# --- Every other rule, with Microsoft's codes ----------------------------------------------------------


def test_every_rule_applies_per_row_with_microsofts_code(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    good = legacy(us_customer, "basic")
    blocked = legacy(us_customer, "business_voice")
    promoted = legacy(us_customer, "basic", promotion_id="PROMO-1")
    rows = [tool_row(good), tool_row(blocked), tool_row(promoted)]

    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks, valid_rows_only=True)

    assert job.status == JobStatus.SUCCEEDED
    messages = {e["row"]: e["message"] for e in job.import_errors}
    assert messages[3] == f"NewCommerceProductUnavailable: {NO_EQUIVALENT_OFFER}"
    assert messages[4].startswith("SubscriptionPromotionsPresent: The promotion PROMO-1")
    rows = records(result_file(client_a, MigrationBatch.objects.get()))
    assert [(r["MigrationStatus"], r["ErrorCode"]) for r in rows] == [
        ("Completed", ""),
        ("Rejected", "5"),
        ("Rejected", "3"),
    ]
    assert (
        rows[1]["ErrorReason"]
        == f"LegacySubscriptionId: NewCommerceProductUnavailable: {NO_EQUIVALENT_OFFER}"
    )


def test_by_default_a_batch_with_any_problem_is_rejected_whole_with_every_rows_reasons(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    good = legacy(us_customer, "basic")
    blocked = legacy(us_customer, "business_voice")
    skipped = legacy(us_customer, "basic")
    rows = [tool_row(good), tool_row(blocked), tool_row(skipped, MigrationEligible="False")]

    job = upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "nothing was imported" in job.errors[0]["message"]
    assert not (Migration.objects.exists() or MigrationBatch.objects.exists())
    assert JobRun.objects.count() == 1  # no migration job either
    # The job's result file: every row's outcome, Microsoft's code, and what the valid rows would cost.
    response = client_a.get(reverse("portal:job-result-file", args=[job.pk]))
    result = records(b"".join(response.streaming_content))
    assert [(r["MigrationStatus"], r["ErrorCode"]) for r in result] == [
        ("NotSubmitted", ""),
        ("Rejected", "5"),
        ("Skipped", ""),
    ]
    assert result[0]["ErrorReason"].startswith("Not submitted: other rows of the file have problems")
    assert (result[0]["Currency"], result[0]["NCEChargePerPeriod"], result[0]["NCEBillingPeriod"]) == (
        "USD",
        "54.00",  # 10 seats × 64.80 / 12
        "month",
    )
    page = client_a.get(reverse("portal:job-detail", args=[job.pk])).content.decode()
    assert 'data-testid="import-row-outcomes"' in page
    for outcome in ("NotSubmitted", "Rejected", "Skipped"):
        assert outcome in page


def test_valid_rows_only_submits_the_valid_rows(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    good = legacy(us_customer, "basic")
    blocked = legacy(us_customer, "business_voice")

    job = upload(
        alice,
        bam_file(V3, [tool_row(good), tool_row(blocked)]),
        django_capture_on_commit_callbacks,
        valid_rows_only=True,
    )

    assert job.status == JobStatus.SUCCEEDED
    assert (job.result["created"], job.result["rejected"]) == (1, 1)
    assert Migration.objects.get().current_subscription == good
    blocked.refresh_from_db()
    assert blocked.status == SubscriptionStatus.ACTIVE


# --- The result file -----------------------------------------------------------------------------------


def test_the_result_file_is_the_upload_plus_the_tools_columns_and_the_price_impact(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    subscription = legacy(us_customer, "premium", quantity=40, unit_price="19.80", currency="USD")
    job = upload(
        alice,
        bam_file(V2, [tool_row(subscription, NcePsa=PREMIUM)]),
        django_capture_on_commit_callbacks,
        external_reference_id="wave-7",
    )
    batch = MigrationBatch.objects.get()
    migration = Migration.objects.get()

    body = result_file(client_a, batch)

    lines = body.split(b"\r\n")
    assert lines[0].decode() == (
        V2 + ",MigrationStatus,StartedNewTermInNce,NCETermDuration,NCEBillingPlan,NCESeatCount,"
        "CustomTermEndDate,ErrorCode,ErrorReason,NCESubscriptionId,BatchId,MigrationId," + PRICES
    )
    assert lines[-1] == b"" and b"\n" not in lines[1]  # CRLF line ends, as CsvHelper writes
    [row] = records(body)
    assert (row["AutoRenewEnabled"], row["MigrationEligible"], row["ExpirationDate"]) == (
        "True",
        "True",
        "09/14/2025 00:00:00",
    )
    assert row["MigrationStatus"] == "Completed"
    assert (
        row["StartedNewTermInNce"],
        row["NCETermDuration"],
        row["NCEBillingPlan"],
        row["NCESeatCount"],
    ) == (
        "False",
        "P1Y",
        "Monthly",
        "40",
    )
    assert (row["BatchId"], row["MigrationId"]) == ("wave-7", str(migration.migration_id))
    assert row["NCESubscriptionId"] == str(migration.new_commerce_subscription.subscription_id)
    assert (row["Currency"], row["NCEChargePerPeriod"], row["NCEBillingPeriod"]) == ("USD", "792.00", "month")
    # Over the co-terminous term, 20 May to 14 September (commerce.pricing.impact: 9,504.00 × 118 / 365).
    assert (row["NCEChargePerTerm"], row["LegacyCurrency"]) == ("3072.53", "USD")
    assert (row["LegacyChargePerPeriod"], row["LegacyChargePerTerm"]) == ("792.00", "3072.53")  # 40 × 19.80
    assert job.result["price_totals"]["USD"]["per_period"] == {"month": "792.00"}
    # The file's name, as the tool names its output: <file>_<batch ID>.csv.
    response = client_a.get(reverse("commerce:batch-result-csv", args=[batch.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="subscriptions_wave-7.csv"'


def test_the_batch_page_shows_every_rows_outcome_and_the_total_per_currency(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    one = legacy(us_customer, "premium", quantity=40)
    two = legacy(us_customer, "basic", quantity=12)
    blocked = legacy(us_customer, "business_voice")
    rows = [
        tool_row(one),
        tool_row(two),
        tool_row(blocked),
        tool_row(legacy(us_customer, "basic"), MigrationEligible="False"),
    ]
    upload(alice, bam_file(V3, rows), django_capture_on_commit_callbacks, valid_rows_only=True)
    batch = MigrationBatch.objects.get()

    page = client_a.get(reverse("commerce:batch-detail", args=[batch.pk])).content.decode()

    assert page.count('data-testid="batch-row"') == 4
    for text in ("Completed", "Rejected", "Skipped", "NewCommerceProductUnavailable", "USD 792.00 a month"):
        assert text in page
    assert 'data-testid="batch-price-totals"' in page
    assert "856.80 a month" in page  # 792.00 + 12 × 64.80 / 12
    assert batch.job.parameters["bam"]["totals"]["USD"]["per_period"] == {"month": "856.80"}


def test_a_rerun_import_or_batch_never_migrates_a_subscription_twice(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    from commerce.services import migration_batch_run  # noqa: PLC0415

    subscription = legacy(us_customer, "basic")
    with django_capture_on_commit_callbacks(execute=False):
        job = migration_batch_import_start(
            actor=alice, organization=alice.organization, upload=bam_file(V3, [tool_row(subscription)])
        )
    JobRun.objects.filter(pk=job.pk).update(parameters={**job.parameters, "keep_file": True})
    with django_capture_on_commit_callbacks(execute=True):
        import_run(job.pk)
    # The worker was lost after the batch was written but before the job was marked done…
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, finished_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        import_run(job.pk)
    job.refresh_from_db()
    batch = MigrationBatch.objects.get()
    assert (job.status, job.result["batch_id"]) == (JobStatus.SUCCEEDED, batch.pk)
    # …and the batch's own job is delivered again.
    migration_batch_run(job_id=batch.job_id)

    assert Migration.objects.filter(current_subscription=subscription).count() == 1
    assert NceSubscription.objects.filter(migrated_from=subscription).count() == 1
    [row] = records(result_file(client_a, batch))
    assert row["MigrationStatus"] == "Completed"


# --- Files out ---------------------------------------------------------------------------------------


def test_the_status_export_is_the_tools_migration_result_layout(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    base = legacy(us_customer, "premium", quantity=20)
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)
    upload(alice, bam_file(V3, [tool_row(base), tool_row(addon)]), django_capture_on_commit_callbacks)
    batch = MigrationBatch.objects.get()
    base_migration = Migration.objects.get(current_subscription=base)

    response = client_a.get(reverse("commerce:batch-status-csv", args=[batch.pk]))

    body = b"".join(response.streaming_content)
    assert body.split(b"\r\n")[0].decode() == RESULT
    rows = records(body)
    assert [(r["LegacySubscriptionId"], r["AddOn"], r["BaseSubscriptionId"]) for r in rows] == [
        (str(base.subscription_id), "False", ""),
        (str(addon.subscription_id), "True", str(base.subscription_id)),
    ]
    assert {r["MigrationId"] for r in rows} == {str(base_migration.migration_id)}
    assert rows[0]["ExpirationDate"] == "09/14/2025 00:00:00"
    assert (rows[0]["MigrationStatus"], rows[0]["NCESeatCount"], rows[0]["BatchId"]) == (
        "Completed",
        "20",
        batch.external_reference_id,
    )


def test_the_new_commerce_export_is_the_tools_modern_subscription_layout(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    subscription = legacy(us_customer, "premium", quantity=20, friendly_name="Head office")
    upload(alice, bam_file(V3, [tool_row(subscription)]), django_capture_on_commit_callbacks)
    nce = NceSubscription.objects.get()

    response = client_a.get(reverse("commerce:nce-subscription-bam-csv"))

    body = b"".join(response.streaming_content)
    assert body.split(b"\r\n")[0].decode() == MODERN
    [row] = records(body)
    assert row == {
        "PartnerTenantId": "",
        "IndirectResellerMpnId": "",
        "CustomerName": us_customer.name,
        "CustomerTenantId": str(us_customer.tenant_id),
        "SubscriptionId": str(nce.subscription_id),
        "SubscriptionName": "Head office",
        "ProductName": nce.availability.sku.title,
        "ExpirationDate": "09/14/2025 00:00:00",
        "Psa": PREMIUM,
        "Term": "P1Y",
        "BillingPlan": "Monthly",
        "SeatCount": "20",
        "MigratedFromSubscriptionId": str(subscription.subscription_id),
    }


def test_the_eligible_export_is_the_tools_subscriptions_file_with_codes(legacy, org_a, us_customer, client_a):
    base = legacy(us_customer, "premium", quantity=20, friendly_name="HQ")
    addon = legacy(us_customer, "teams_phone", parent=base, quantity=5)
    blocked = legacy(us_customer, "business_voice", auto_renew=False)
    blocked_base = legacy(us_customer, "business_voice")
    stranded = legacy(us_customer, "teams_phone", parent=blocked_base, quantity=2)

    response = client_a.get(reverse("commerce:subscription-bam-csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.split(b"\r\n")[0].decode() == V3
    rows = {row["LegacySubscriptionId"]: row for row in records(body)}
    assert len(rows) == 5
    row = rows[str(base.subscription_id)]
    assert (row["MigrationEligible"], row["NcePsa"], row["LegacySubscriptionName"]) == ("True", PREMIUM, "HQ")
    assert (row["Term"], row["BillingPlan"], row["SeatCount"], row["StartNewTermInNce"]) == (
        "P1Y",
        "Monthly",
        "20",
        "False",
    )
    assert (row["AddOn"], row["BaseSubscriptionId"], row["CustomTermEndDate"]) == ("False", "", "")
    row = rows[str(addon.subscription_id)]
    assert (row["MigrationEligible"], row["AddOn"], row["BaseSubscriptionId"]) == (
        "True",
        "True",
        str(base.subscription_id),
    )
    assert row["NcePsa"].startswith("CFQ7TTC0HL73:0001:")
    row = rows[str(blocked.subscription_id)]
    assert (row["MigrationEligible"], row["NcePsa"], row["AutoRenewEnabled"]) == ("False", "", "False")
    assert row["MigrationIneligibilityReason"] == f"NewCommerceProductUnavailable: {NO_EQUIVALENT_OFFER}"
    row = rows[str(stranded.subscription_id)]
    assert row["MigrationEligible"] == "False"
    assert row["MigrationIneligibilityReason"].startswith(
        f"AddOnBaseNotMigrating: The base subscription {blocked_base.subscription_id} cannot migrate"
    )


def test_the_eligible_export_honours_the_lists_filters_and_takes_fixed_queries_per_chunk(
    legacy, org_a, us_customer, client_a
):
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from commerce import bam_files  # noqa: PLC0415
    from commerce.models import LegacySubscription  # noqa: PLC0415

    other = CustomerFactory(organization=org_a, country="US")
    few = [legacy(us_customer, "basic") for _ in range(2)]
    legacy(other, "premium")
    legacy(other, "teams_phone", parent=legacy(other, "premium"))

    response = client_a.get(reverse("commerce:subscription-bam-csv"), {"customer": us_customer.pk})
    assert len(records(b"".join(response.streaming_content))) == 2

    def queries(subscriptions) -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = list(bam_files.eligible_rows(subscriptions, on=date(2025, 5, 20)))
        assert len(rows) == subscriptions.count() + 1
        return len(captured) - 1  # the count above

    assert queries(LegacySubscription.objects.filter(pk__in=[s.pk for s in few])) == queries(
        LegacySubscription.objects.filter(organization=org_a)
    )


# --- The round trip: export, edit in a spreadsheet, upload -----------------------------------------------


def test_the_round_trip_export_edit_upload_migrates_without_the_tool(
    legacy, us_customer, alice, client_a, django_capture_on_commit_callbacks
):
    premium = legacy(us_customer, "premium", quantity=20)
    basic = legacy(us_customer, "basic", quantity=12)
    blocked = legacy(us_customer, "business_voice")

    exported = b"".join(client_a.get(reverse("commerce:subscription-bam-csv")).streaming_content).decode()
    # In the spreadsheet: more seats for Premium, a new monthly term for Basic.
    header, *rows = parse(exported)
    at = {name: position for position, name in enumerate(header)}
    for row in rows:
        if row[at["LegacySubscriptionId"]] == str(premium.subscription_id):
            row[at["SeatCount"]] = "25"
        if row[at["LegacySubscriptionId"]] == str(basic.subscription_id):
            row[at["Term"]], row[at["StartNewTermInNce"]] = "P1M", "True"
    edited = SimpleUploadedFile(
        "subscriptions.csv", csv_text([header, *rows]).encode(), content_type="text/csv"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(reverse("commerce:batch-upload"), {"file": edited})
    assert response.status_code == 302

    job = JobRun.objects.get(kind="import:commerce.bam_batch")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.result["created"], job.result["skipped"]) == (2, 1)
    moved = {m.current_subscription_id: m for m in Migration.objects.all()}
    assert set(moved) == {premium.pk, basic.pk}
    assert moved[premium.pk].quantity == 25
    nce = moved[basic.pk].new_commerce_subscription
    assert (nce.term_duration, nce.term_start, nce.term_end) == ("P1M", date(2025, 5, 20), date(2025, 6, 19))
    blocked.refresh_from_db()
    assert blocked.status == SubscriptionStatus.ACTIVE


def test_the_downloads_need_the_customers_view_and_the_upload_the_ordering_capability(
    org_a, us_customer, verified_client
):
    helpdesk = verified_client(UserFactory(organization=org_a, roles=["helpdesk_agent"]))
    assert helpdesk.get(reverse("commerce:subscription-bam-csv")).status_code == 200
    assert helpdesk.get(reverse("commerce:batch-upload")).status_code == 403
    nobody = verified_client(UserFactory(organization=org_a, roles=["incentives_user"]))
    assert nobody.get(reverse("commerce:subscription-bam-csv")).status_code == 403
