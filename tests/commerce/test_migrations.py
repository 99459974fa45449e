"""Legacy → new commerce migrations: eligibility, one migration, batches and the vendor-led waves.

The catalog is the demo catalog (spec/commerce.md §4.3: Business Basic, Business Premium with
its pooled 300 seats and availability CFQ7TTC0KFFN, the GCC, Charity and Education SKUs, Teams
Phone as an add-on) with a current price list per market.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from accounts.choices import ActionItemStatus, CustomerSegment
from accounts.models import ActionItem
from commerce import services
from commerce.choices import (
    MigrationInitiator,
    MigrationStatus,
    SubscriptionStatus,
)
from commerce.demo import LEGACY_OFFERS, commerce_demo_seed
from commerce.eligibility import NO_EQUIVALENT_OFFER, eligibility_for, migration_validate
from commerce.models import LegacySubscription, Migration, MigrationBatch, NceSubscription
from commerce.services import (
    engine,
    migration_batch_create,
    migration_batch_import_start,
    migration_batch_run,
    migration_create,
    migration_retry,
    migration_wave_run,
    migration_waves_daily,
)
from portal.choices import JobStatus
from portal.models import AuditEvent, HistoryEvent, JobChunk, JobRun
from tests.commerce.conftest import legacy_subscription as legacy
from tests.factories import CustomerFactory, NceSubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


PREMIUM_CATALOG_ITEM = "CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN"


def history_of(migration) -> list[tuple[str, str]]:
    events = HistoryEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Migration), object_id=str(migration.pk)
    ).order_by("at", "id")
    return [(event.from_status, event.to_status) for event in events]


def codes(eligibility) -> set[str]:
    return {error.code for error in eligibility.errors}


# --- The worked examples (§6) ------------------------------------------------------------------------


@freeze_time("2025-05-20 10:00:00")
def test_c1_it_migrates_co_terminously_at_792_a_month(catalog, us_customer, alice):
    subscription = legacy(us_customer, "premium", quantity=40, term_end=date(2025, 9, 14))

    eligibility = migration_validate(subscription=subscription)
    assert eligibility.is_eligible and eligibility.errors == ()
    assert eligibility.catalog_item_id == PREMIUM_CATALOG_ITEM
    proposal = eligibility.proposal
    assert (proposal.term_duration, proposal.billing_cycle, proposal.quantity) == ("P1Y", "Monthly", 40)
    assert (proposal.term_start, proposal.term_end) == (date(2025, 5, 20), date(2025, 9, 14))
    assert (proposal.unit_price, proposal.currency) == (Decimal("237.60"), "USD")
    assert (proposal.charge_per_period, proposal.period) == (Decimal("792.00"), "month")
    assert proposal.legacy_charge_per_period is None

    migration = migration_create(
        actor=alice, subscription=subscription, purchase_full_term=False, quantity=40
    )

    migration.refresh_from_db()
    assert migration.status == MigrationStatus.COMPLETED
    assert migration.completed_time == datetime(2025, 5, 20, 10, tzinfo=UTC)
    assert migration.catalog_item_id == PREMIUM_CATALOG_ITEM
    assert migration.subscription_end_date == date(2025, 9, 14)
    assert migration.initiated_by == MigrationInitiator.PARTNER
    assert migration.created_by == alice
    nce = migration.new_commerce_subscription
    assert migration.new_commerce_order_id == nce.order_id
    assert (nce.term_start, nce.term_end, nce.quantity) == (date(2025, 5, 20), date(2025, 9, 14), 40)
    assert (nce.unit_price, nce.currency, nce.status) == (Decimal("237.60"), "USD", SubscriptionStatus.ACTIVE)
    assert nce.cancellation_window_ends_at == datetime(2025, 5, 27, 10, tzinfo=UTC)
    assert nce.migrated_from_id == subscription.pk
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert history_of(migration) == [("Validating", "Processing"), ("Processing", "Completed")]
    event = HistoryEvent.objects.filter(object_id=str(migration.pk)).last()
    assert (event.actor, event.actor_label) == (alice, alice.email)
    assert str(nce.subscription_id) in event.note
    audit = AuditEvent.objects.get(action="commerce.migration.created")
    assert (audit.actor, audit.target_id, audit.changes["status"]) == (
        alice,
        str(migration.pk),
        [None, "Completed"],
    )


@freeze_time("2025-03-03 09:00:00")
def test_c2_it_starts_a_new_full_monthly_term_at_77_76(catalog, us_customer, alice):
    subscription = legacy(us_customer, "basic", quantity=12, term_end=date(2025, 11, 30))

    eligibility = migration_validate(
        subscription=subscription, term_duration="P1M", billing_cycle="Monthly", purchase_full_term=True
    )
    assert (eligibility.proposal.charge_per_period, eligibility.proposal.period) == (
        Decimal("77.76"),
        "month",
    )

    migration = migration_create(
        actor=alice,
        subscription=subscription,
        term_duration="P1M",
        billing_cycle="Monthly",
        purchase_full_term=True,
    )
    nce = migration.new_commerce_subscription
    assert (nce.term_start, nce.term_end) == (date(2025, 3, 3), date(2025, 4, 2))
    assert (nce.term_duration, nce.billing_cycle, nce.unit_price) == ("P1M", "Monthly", Decimal("6.48"))
    assert migration.purchase_full_term is True
    assert migration.subscription_end_date == date(2025, 4, 2)


def test_c3_an_offer_without_equivalent_is_blocked_with_code_5(catalog, us_customer, alice):
    subscription = legacy(us_customer, "business_voice", term_end=date.today() + timedelta(days=90))

    eligibility = migration_validate(subscription=subscription)

    assert eligibility.is_eligible is False
    assert eligibility.catalog_item_id is None and eligibility.proposal is None
    assert [(e.number, e.code, e.description) for e in eligibility.errors] == [
        (5, "NewCommerceProductUnavailable", NO_EQUIVALENT_OFFER)
    ]
    assert NO_EQUIVALENT_OFFER == (
        "Subscription cannot be migrated to New Commerce because the equivalent offer is not yet "
        "available in New Commerce"
    )
    with pytest.raises(ValidationError) as refused:
        migration_create(actor=alice, subscription=subscription)
    assert refused.value.message_dict == {
        "currentSubscriptionId": [f"NewCommerceProductUnavailable: {NO_EQUIVALENT_OFFER}"]
    }
    assert not Migration.objects.exists()
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_c5_the_pooled_seat_cap_leaves_50_seats(catalog, us_customer, alice):
    # The customer tenant already holds 250 Business Premium seats (max 300 pooled).
    premium = catalog[("CFQ7TTC0LCHC", "0002")].availabilities.get(term_duration="P1Y")
    NceSubscriptionFactory(
        organization=us_customer.organization, customer=us_customer, availability=premium, quantity=250
    )
    subscription = legacy(us_customer, "premium", quantity=51, term_end=date.today() + timedelta(days=90))

    refused = migration_validate(subscription=subscription)

    assert [(e.code, e.description) for e in refused.errors] == [
        (
            "SeatLimitExceeded",
            "The requested number of 51 seats exceeds the remaining limit of 50 seats allowed per "
            "subscription for the CatalogItemId - CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN",
        )
    ]
    assert migration_validate(subscription=subscription, quantity=50).is_eligible
    migration = migration_create(actor=alice, subscription=subscription, quantity=50)
    assert migration.status == MigrationStatus.COMPLETED
    assert migration.new_commerce_subscription.quantity == 50


# --- Every reason ------------------------------------------------------------------------------------


def test_it_lists_every_reason_not_just_the_first(catalog, org_a, alice):
    # A government customer in Japan: Business Premium has no Government availability at all.
    customer = CustomerFactory(organization=org_a, country="JP", segment=CustomerSegment.GOVERNMENT)
    subscription = legacy(
        customer,
        "premium",
        quantity=400,
        is_trial=True,
        status=SubscriptionStatus.SUSPENDED,
        term_end=date.today() + timedelta(days=60),
    )
    Migration.objects.create(
        organization=org_a,
        customer=customer,
        current_subscription=subscription,
        status=MigrationStatus.PROCESSING,
        term_duration="P1Y",
        billing_cycle="Monthly",
        quantity=400,
    )

    eligibility = migration_validate(subscription=subscription)

    assert codes(eligibility) == {
        "SubscriptionStatusNotActive",
        "SubscriptionBeingProcessingInOms",
        "SubscriptionIsTrial",
        "QuantityOutOfRange",
        "NewCommerceProductUnavailable",
        "SeatLimitExceeded",
    }
    with pytest.raises(ValidationError) as refused:
        migration_create(actor=alice, subscription=subscription)
    reasons = refused.value.message_dict["currentSubscriptionId"]
    assert len(reasons) == 6
    assert all(reason.split(":")[0] in codes(eligibility) for reason in reasons)


def test_it_refuses_a_term_or_billing_plan_the_offer_lacks_and_a_missing_price(catalog, org_a, us_customer):
    subscription = legacy(us_customer, "basic", term_end=date.today() + timedelta(days=60))
    assert codes(migration_validate(subscription=subscription, term_duration="P3Y")) == {
        "TermDurationBillingCycleCombinationNotSupported"
    }
    assert codes(
        migration_validate(
            subscription=subscription, term_duration="P1M", billing_cycle="Annual", purchase_full_term=True
        )
    ) == {"TermDurationBillingCycleCombinationNotSupported"}
    # A month-long term cannot end with the legacy term two months away.
    assert codes(migration_validate(subscription=subscription, term_duration="P1M")) == {
        "LegacyTermEndsAfterNewTerm"
    }

    # A market the availability lists but no price list covers.
    basic = catalog[("CFQ7TTC0LH18", "0001")].availabilities.get(term_duration="P1Y")
    basic.markets = [*basic.markets, "MX"]
    basic.save()
    mexican = CustomerFactory(organization=org_a, country="MX")
    assert codes(
        migration_validate(subscription=legacy(mexican, "basic", term_end=date.today() + timedelta(days=30)))
    ) == {"PriceNotInPriceList"}
    # And a market it does not list at all.
    chilean = CustomerFactory(organization=org_a, country="CL")
    assert codes(
        migration_validate(subscription=legacy(chilean, "basic", term_end=date.today() + timedelta(days=30)))
    ) == {"NewCommerceProductUnavailable"}


def test_the_list_page_answer_takes_a_fixed_number_of_queries(catalog, org_a, us_customer):
    def count_for(n: int) -> int:
        LegacySubscription.objects.all().delete()
        for number in range(n):
            customer = CustomerFactory(organization=org_a, country=["US", "GB", "DE"][number % 3])
            legacy(
                customer,
                ["basic", "premium", "e3", "business_voice"][number % 4],
                term_end=date.today() + timedelta(days=30),
            )
        with CaptureQueriesContext(connection) as queries:
            answers = eligibility_for(LegacySubscription.objects.filter(organization=org_a))
        assert len(answers) == n
        return len(queries)

    assert count_for(3) == count_for(40)


def test_the_list_page_and_the_validate_call_agree(catalog, org_a):
    customers = [
        CustomerFactory(organization=org_a, country=country, segment=segment)
        for country in ("US", "GB", "JP")
        for segment in CustomerSegment.values
    ]
    for number, customer in enumerate(customers):
        for offer in LEGACY_OFFERS:
            legacy(
                customer,
                offer,
                quantity=[5, 120, 290][number % 3],
                term_end=date.today() + timedelta(days=30),
            )
    listed = eligibility_for(LegacySubscription.objects.filter(organization=org_a))
    for subscription in LegacySubscription.objects.filter(organization=org_a):
        assert listed[subscription.pk] == migration_validate(subscription=subscription)
    assert any(answer.is_eligible for answer in listed.values())


# --- Add-ons -----------------------------------------------------------------------------------------


def test_an_add_on_migrates_with_its_base(catalog, us_customer, alice):
    base = legacy(us_customer, "premium", quantity=40, term_end=date.today() + timedelta(days=100))
    addon = legacy(us_customer, "teams_phone", quantity=10, parent=base, term_end=base.term_end)

    alone = migration_validate(subscription=addon)
    assert codes(alone) == {"AddOnBaseNotMigrating"}
    assert str(base.subscription_id) in alone.errors[0].description

    migration = migration_create(actor=alice, subscription=base)

    [child] = migration.add_on_migrations.all()
    assert child.current_subscription == addon
    assert child.status == MigrationStatus.COMPLETED
    assert child.catalog_item_id == "CFQ7TTC0HL73:0001:CFQ7TTC0KTY1"
    assert child.new_commerce_subscription.order_id == migration.new_commerce_subscription.order_id
    assert child.new_commerce_subscription.term_end == migration.new_commerce_subscription.term_end
    assert LegacySubscription.objects.get(pk=addon.pk).status == SubscriptionStatus.CANCELLED
    assert history_of(child) == [("Validating", "Processing"), ("Processing", "Completed")]


def test_a_base_whose_add_on_cannot_move_is_blocked_with_the_add_ons_reason(catalog, us_customer):
    base = legacy(us_customer, "premium", term_end=date.today() + timedelta(days=100))
    legacy(us_customer, "business_voice", parent=base, term_end=base.term_end)

    eligibility = migration_validate(subscription=base)

    assert codes(eligibility) == {"SubscriptionAddOnsPresent"}
    assert NO_EQUIVALENT_OFFER in eligibility.errors[0].description


# --- Failure and retry -------------------------------------------------------------------------------


@pytest.fixture
def vendor_down(monkeypatch):
    def fail(plans, *, now):
        raise RuntimeError("the vendor's order API timed out")

    monkeypatch.setattr(engine, "provision", fail)
    return monkeypatch


def test_a_failed_order_leaves_the_legacy_subscription_active(catalog, us_customer, alice, vendor_down):
    base = legacy(us_customer, "premium", term_end=date.today() + timedelta(days=100))
    addon = legacy(us_customer, "teams_phone", parent=base, term_end=base.term_end)

    migration = migration_create(actor=alice, subscription=base)

    migration.refresh_from_db()
    assert migration.status == MigrationStatus.FAILED
    assert migration.error_code == "PROVISIONING_FAILED"
    assert "the vendor's order API timed out" in migration.error_description
    assert migration.new_commerce_subscription is None and migration.completed_time is None
    assert migration.add_on_migrations.get().status == MigrationStatus.FAILED
    assert not NceSubscription.objects.exists()
    assert set(LegacySubscription.objects.values_list("status", flat=True)) == {SubscriptionStatus.ACTIVE}
    assert history_of(migration) == [("Validating", "Processing"), ("Processing", "Failed")]
    assert "active again" in HistoryEvent.objects.filter(object_id=str(migration.pk)).last().note
    assert addon.pk  # The add-on stays with its base for the retry.


def test_a_failed_migration_can_be_retried(catalog, us_customer, alice, vendor_down):
    base = legacy(us_customer, "premium", quantity=40, term_end=date.today() + timedelta(days=100))
    legacy(us_customer, "teams_phone", parent=base, term_end=base.term_end)
    migration = migration_create(actor=alice, subscription=base, quantity=40)
    vendor_down.undo()

    with pytest.raises(ValidationError):
        migration_retry(actor=alice, migration=migration.add_on_migrations.get())
    retried = migration_retry(actor=alice, migration=migration)

    retried.refresh_from_db()
    assert retried.pk == migration.pk
    assert retried.status == MigrationStatus.COMPLETED
    assert (retried.error_code, retried.error_description) == ("", "")
    assert retried.new_commerce_subscription.quantity == 40
    assert retried.add_on_migrations.get().status == MigrationStatus.COMPLETED
    assert Migration.objects.count() == 2 and NceSubscription.objects.count() == 2
    assert history_of(retried) == [
        ("Validating", "Processing"),
        ("Processing", "Failed"),
        ("Failed", "Processing"),
        ("Processing", "Completed"),
    ]
    assert AuditEvent.objects.filter(
        action="commerce.migration.retried", target_id=str(migration.pk)
    ).exists()
    with pytest.raises(ValidationError, match="Only failed migrations"):
        migration_retry(actor=alice, migration=retried)


def test_a_subscription_migrates_only_once(catalog, us_customer, alice):
    subscription = legacy(us_customer, "basic", term_end=date.today() + timedelta(days=100))
    first = migration_create(actor=alice, subscription=subscription)

    with pytest.raises(ValidationError) as refused:
        migration_create(actor=alice, subscription=subscription)
    assert refused.value.message_dict["currentSubscriptionId"][0].startswith("SubscriptionStatusNotActive:")
    # The database refuses a second completed (or open) migration even past the services.
    for status in (MigrationStatus.COMPLETED, MigrationStatus.PROCESSING):
        with pytest.raises(IntegrityError), transaction.atomic():
            Migration.objects.create(
                organization=first.organization,
                customer=first.customer,
                current_subscription=subscription,
                status=status,
                term_duration="P1Y",
                billing_cycle="Monthly",
                quantity=1,
            )
            if status == MigrationStatus.PROCESSING:
                Migration.objects.create(
                    organization=first.organization,
                    customer=first.customer,
                    current_subscription=subscription,
                    status=status,
                    term_duration="P1Y",
                    billing_cycle="Monthly",
                    quantity=1,
                )
    assert Migration.objects.count() == 1


# --- Batches -----------------------------------------------------------------------------------------


BATCH_COLUMNS = [
    "customerTenantId",
    "currentSubscriptionId",
    "termDuration",
    "billingCycle",
    "purchaseFullTerm",
    "quantity",
    "customTermEndDate",
]


def batch_file(rows: list[list[str]]) -> SimpleUploadedFile:
    lines = [",".join(BATCH_COLUMNS), *(",".join(row) for row in rows)]
    return SimpleUploadedFile("batch.csv", "\n".join(lines).encode(), content_type="text/csv")


def row(subscription, **values) -> list[str]:
    return [
        str(subscription.customer.tenant_id),
        str(subscription.subscription_id),
        values.get("term", ""),
        values.get("billing", ""),
        values.get("full", ""),
        values.get("quantity", ""),
        values.get("end", ""),
    ]


def _batch_import(alice, upload, capture, **options) -> JobRun:
    with capture(execute=True):
        job = migration_batch_import_start(
            actor=alice, organization=alice.organization, upload=upload, **options
        )
    job.refresh_from_db()
    return job


def test_a_batch_file_with_bad_rows_is_rejected_whole(
    catalog, org_a, org_b, us_customer, alice, django_capture_on_commit_callbacks
):
    good = legacy(us_customer, "basic", term_end=date.today() + timedelta(days=50))
    blocked = legacy(us_customer, "business_voice", term_end=date.today() + timedelta(days=50))
    foreign = legacy(
        CustomerFactory(organization=org_b, country="US"), "basic", term_end=date.today() + timedelta(days=30)
    )
    other_customer = CustomerFactory(organization=org_a, country="US")
    upload = batch_file(
        [
            row(good, term="P1M", billing="Monthly", full="true", quantity="12"),  # row 2: fine
            row(blocked),  # row 3: no equivalent
            row(foreign),  # row 4: another organization's customer and subscription
            row(good),  # row 5: repeats row 2
            row(
                legacy(us_customer, "basic", term_end=date.today() + timedelta(days=30)),
                term="P2Y",
                billing="Weekly",
                full="maybe",
            ),
            row(
                legacy(us_customer, "basic", term_end=date.today() + timedelta(days=30)),
                quantity="-3",
                end="someday",
            ),
            # row 8: a subscription of the organization named with another of its customers
            [str(other_customer.tenant_id), str(blocked.subscription_id), "", "", "", "", ""],
        ]
    )

    job = _batch_import(alice, upload, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    problems = {(error["row"], error["column"]) for error in job.errors[1:]}
    assert problems == {
        (3, "currentSubscriptionId"),
        (4, "customerTenantId"),
        (4, "currentSubscriptionId"),
        (5, "currentSubscriptionId"),
        (6, "termDuration"),
        (6, "billingCycle"),
        (6, "purchaseFullTerm"),
        (7, "quantity"),
        (7, "customTermEndDate"),
        (8, "currentSubscriptionId"),
    }
    by_row = {error["row"]: error for error in job.errors[1:] if error["column"] == "currentSubscriptionId"}
    assert by_row[3]["message"] == f"NewCommerceProductUnavailable: {NO_EQUIVALENT_OFFER}"
    assert by_row[3]["value"] == str(blocked.subscription_id)
    assert "repeats line 2" in by_row[5]["message"]
    assert by_row[8]["message"] == "belongs to another customer than customerTenantId"
    assert "nothing was imported" in job.errors[0]["message"]
    assert not (Migration.objects.exists() or MigrationBatch.objects.exists())
    assert JobRun.objects.get() == job  # no migration job either


def test_a_valid_batch_file_runs_as_a_job(
    catalog, org_a, us_customer, alice, django_capture_on_commit_callbacks
):
    subscriptions = [
        legacy(us_customer, "basic", term_end=date.today() + timedelta(days=50)) for _ in range(3)
    ]
    base = legacy(us_customer, "premium", term_end=date.today() + timedelta(days=50))
    legacy(us_customer, "teams_phone", parent=base, term_end=base.term_end)
    upload = batch_file(
        [row(s, term="P1M", billing="Monthly", full="TRUE") for s in subscriptions] + [row(base)]
    )

    job = _batch_import(alice, upload, django_capture_on_commit_callbacks, external_reference_id="wave-1")

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.result["rows"], job.result["created"], job.result["rejected"]) == (4, 4, 0)
    batch = MigrationBatch.objects.get()
    assert (job.result["batch_id"], batch.external_reference_id, batch.file_name) == (
        batch.pk,
        "wave-1",
        "batch.csv",
    )
    assert job.result["next"]["url"] == f"/commerce/batches/{batch.pk}/"
    batch.job.refresh_from_db()
    assert batch.job.status == JobStatus.SUCCEEDED
    assert batch.job.result == {"completed": 4, "failed": 0, "rejected": 0, "add_ons": 1}
    migrations = Migration.objects.filter(batch=batch)
    assert migrations.count() == 5
    assert set(migrations.values_list("external_reference_id", flat=True)) == {batch.external_reference_id}
    assert set(
        NceSubscription.objects.filter(migrated_from__in=subscriptions).values_list(
            "term_duration", flat=True
        )
    ) == {"P1M"}
    assert AuditEvent.objects.filter(
        action="commerce.migration_batch.started", target_id=str(batch.pk)
    ).exists()


def test_valid_rows_only_submits_the_eligible_rows_and_lists_the_others(
    catalog, org_a, us_customer, alice, django_capture_on_commit_callbacks
):
    good = legacy(us_customer, "basic", term_end=date.today() + timedelta(days=50))
    blocked = legacy(us_customer, "business_voice", term_end=date.today() + timedelta(days=50))
    base = legacy(us_customer, "premium", term_end=date.today() + timedelta(days=50))
    addon = legacy(us_customer, "teams_phone", parent=base, term_end=base.term_end)
    upload = batch_file([row(good), row(blocked), row(base), row(addon)])

    job = _batch_import(alice, upload, django_capture_on_commit_callbacks, valid_rows_only=True)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.result["created"], job.result["rejected"]) == (2, 2)
    assert [(error["row"], error["column"]) for error in job.import_errors] == [
        (3, "currentSubscriptionId"),
        (5, "currentSubscriptionId"),
    ]
    assert "add-on of a subscription in this file" in job.import_errors[1]["message"]
    batch = MigrationBatch.objects.get()
    moved = Migration.objects.filter(batch=batch, parent_migration=None)
    assert sorted(moved.values_list("current_subscription_id", flat=True)) == sorted([good.pk, base.pk])
    # The add-on moved with its base, as the base's child migration.
    assert Migration.objects.get(batch=batch, parent_migration__isnull=False).current_subscription == addon


def test_a_batch_id_already_used_is_refused_before_anything_is_kept(catalog, org_a, us_customer, alice):
    subscription = legacy(us_customer, "basic", term_end=date.today() + timedelta(days=50))
    migration_batch_create(
        actor=alice, organization=org_a, rows=[{"id": subscription.pk}], external_reference_id="x"
    )
    with pytest.raises(ValidationError, match="already used"):
        migration_batch_import_start(
            actor=alice, organization=org_a, upload=batch_file([row(subscription)]), external_reference_id="x"
        )
    assert not JobRun.objects.filter(kind__startswith="import:").exists()


def test_a_rerun_import_finds_its_batch_instead_of_making_another(
    catalog, org_a, us_customer, alice, django_capture_on_commit_callbacks
):
    from portal.imports import import_run

    subscription = legacy(us_customer, "basic", term_end=date.today() + timedelta(days=50))
    with django_capture_on_commit_callbacks(execute=False):
        job = migration_batch_import_start(
            actor=alice, organization=org_a, upload=batch_file([row(subscription)])
        )
    job.parameters["keep_file"] = True
    job.save(update_fields=["parameters"])
    import_run(job.pk)
    # The worker was lost after the batch was written but before the job was marked done.
    JobRun.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, finished_at=None)
    import_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert MigrationBatch.objects.count() == 1
    assert job.result["batch_id"] == MigrationBatch.objects.get().pk


def _state(organization) -> dict:
    """Everything a batch run decides, without ids and clock times."""
    return {
        "legacy": sorted(
            LegacySubscription.objects.filter(organization=organization).values_list(
                "subscription_id", "status"
            )
        ),
        "migrations": sorted(
            Migration.objects.filter(organization=organization).values_list(
                "current_subscription__subscription_id", "status", "error_code", "catalog_item_id", "quantity"
            )
        ),
        "nce": sorted(
            NceSubscription.objects.filter(organization=organization).values_list(
                "migrated_from__subscription_id", "quantity", "term_start", "term_end", "unit_price"
            )
        ),
        "history": HistoryEvent.objects.filter(organization=organization).count(),
    }


def test_a_batch_job_migrates_a_chosen_set_exactly_once(
    catalog, org_a, us_customer, alice, monkeypatch, settings
):
    settings.COMMERCE_MIGRATION_CHUNK_SIZE = 2
    chosen = [legacy(us_customer, "basic", term_end=date.today() + timedelta(days=30 + n)) for n in range(5)]
    chosen.append(legacy(us_customer, "business_voice", term_end=date.today() + timedelta(days=30)))
    rows = [{"subscription_id": str(s.subscription_id)} for s in chosen]
    batch = migration_batch_create(
        actor=alice, organization=org_a, rows=rows, external_reference_id="Q3-wave"
    )

    # The worker dies while the second chunk is being written...
    real_execute, calls = engine.execute_plans, []

    def dies_on_the_second_chunk(plans, run):
        calls.append(len(plans))
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_execute(plans, run)

    monkeypatch.setattr(engine, "execute_plans", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        migration_batch_run(job_id=batch.job_id)
    assert Migration.objects.filter(batch=batch).count() == 2
    # ...and the redelivered task runs the whole job again.
    monkeypatch.setattr(engine, "execute_plans", real_execute)
    migration_batch_run(job_id=batch.job_id)
    after_resume = _state(org_a)
    migration_batch_run(job_id=batch.job_id)

    assert _state(org_a) == after_resume
    job = JobRun.objects.get(pk=batch.job_id)
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 6, 6)
    assert job.result == {"completed": 5, "failed": 0, "rejected": 1, "add_ons": 0}
    assert JobChunk.objects.filter(job=job).count() == 3
    assert Migration.objects.filter(batch=batch, status=MigrationStatus.COMPLETED).count() == 5
    rejected = Migration.objects.get(batch=batch, status=MigrationStatus.REJECTED)
    assert (rejected.current_subscription, rejected.error_code) == (
        chosen[-1],
        "NewCommerceProductUnavailable",
    )
    assert history_of(rejected) == [("Validating", "Rejected")]
    assert NceSubscription.objects.filter(organization=org_a).count() == 5
    with pytest.raises(ValidationError):
        migration_batch_create(actor=alice, organization=org_a, rows=rows, external_reference_id="Q3-wave")


def test_a_batch_takes_only_the_organizations_own_subscriptions(catalog, org_a, org_b, alice):
    foreign = legacy(
        CustomerFactory(organization=org_b, country="US"), "basic", term_end=date.today() + timedelta(days=30)
    )
    with pytest.raises(ValidationError) as refused:
        migration_batch_create(
            actor=alice, organization=org_a, rows=[{"subscription_id": str(foreign.subscription_id)}]
        )
    assert "not a legacy subscription of your organization" in refused.value.message_dict["rows"][0]
    with pytest.raises(ValidationError, match="at least one"):
        migration_batch_create(actor=alice, organization=org_a, rows=[])
    assert not JobRun.objects.exists()


# --- Vendor-led waves (§3.3) -------------------------------------------------------------------------


@pytest.fixture
def wave_estate(catalog, org_a, org_b):
    """Legacy subscriptions of every segment renewing around both wave starts."""

    def customer(organization, segment, country="US"):
        return CustomerFactory(organization=organization, country=country, segment=segment)

    commercial, commercial_b = customer(org_a, "commercial"), customer(org_b, "commercial", "GB")
    education, government, charity = (
        customer(org_a, "education"),
        customer(org_a, "government"),
        customer(org_b, "charity", "GB"),
    )
    return {
        "before_wave": legacy(commercial, "premium", term_end=date(2024, 1, 10)),
        "first_day": legacy(
            commercial, "premium", quantity=250, billing_cycle="Annual", term_end=date(2024, 1, 11)
        ),
        "week_two": legacy(commercial_b, "basic", quantity=7, term_end=date(2024, 1, 15)),
        "later": legacy(commercial, "e3", term_end=date(2024, 3, 31)),
        "no_equivalent": legacy(commercial, "business_voice", term_end=date(2024, 1, 12)),
        "education": legacy(education, "a1_faculty", quantity=300, term_end=date(2024, 1, 15)),
        "education_july": legacy(education, "a1_faculty", quantity=300, term_end=date(2024, 7, 2)),
        "government_july": legacy(government, "e3_gcc", term_end=date(2024, 7, 1)),
        "charity_july": legacy(charity, "e3_charity", term_end=date(2024, 7, 3)),
    }


def _moved(estate) -> set[str]:
    migrated = set(
        Migration.objects.filter(status=MigrationStatus.COMPLETED).values_list(
            "current_subscription_id", flat=True
        )
    )
    return {name for name, subscription in estate.items() if subscription.pk in migrated}


def test_nothing_moves_before_the_commercial_wave_starts(wave_estate):
    with freeze_time("2024-01-10"):
        summary = migration_waves_daily(on=date(2024, 1, 10))
    assert _moved(wave_estate) == set()
    assert "job_id" not in summary["commercial"] and "job_id" not in summary["public_sector"]
    assert not JobRun.objects.exists()


def test_the_commercial_wave_moves_commercial_subscriptions_at_renewal(wave_estate, org_a):
    with freeze_time("2024-01-16 03:00:00"):
        migration_waves_daily(on=date(2024, 1, 16))

    assert _moved(wave_estate) == {"first_day", "week_two"}
    migration = Migration.objects.get(current_subscription=wave_estate["first_day"])
    assert migration.initiated_by == MigrationInitiator.MICROSOFT
    assert (migration.term_duration, migration.billing_cycle, migration.quantity) == ("P1Y", "Annual", 250)
    assert migration.external_reference_id == "vendor-commercial-2024-01-16"
    nce = migration.new_commerce_subscription
    assert (nce.term_start, nce.term_end) == (date(2024, 1, 12), date(2025, 1, 11))
    assert history_of(migration) == [("Validating", "Processing"), ("Processing", "Completed")]
    assert HistoryEvent.objects.filter(object_id=str(migration.pk)).first().actor_label == (
        "vendor-led migration (commercial wave)"
    )
    job = JobRun.objects.get(kind=services.JOB_KIND_WAVE, parameters__wave="commercial")
    # The subscription without a new-commerce equivalent is due but skipped.
    assert job.result == {"due": 3, "completed": 2, "failed": 0, "skipped": 1}
    assert migration_wave_run(wave="commercial", on=date(2024, 1, 16)).pk == job.pk
    assert Migration.objects.count() == 2

    with freeze_time("2024-04-01"):
        migration_waves_daily(on=date(2024, 4, 1))
    assert _moved(wave_estate) == {"first_day", "week_two", "later"}


def test_the_public_sector_wave_starts_on_1_july(wave_estate):
    with freeze_time("2024-06-30"):
        migration_waves_daily(on=date(2024, 6, 30))
    assert not _moved(wave_estate) & {"education", "education_july", "government_july", "charity_july"}

    with freeze_time("2024-07-04"):
        migration_waves_daily(on=date(2024, 7, 4))
    assert _moved(wave_estate) >= {"education_july", "government_july", "charity_july"}
    # Renewed before the wave start: the vendor does not take it.
    assert "education" not in _moved(wave_estate)
    assert set(
        Migration.objects.filter(external_reference_id__startswith="vendor-public_sector").values_list(
            "initiated_by", "term_duration"
        )
    ) == {(MigrationInitiator.MICROSOFT, "P1Y")}


def test_partners_are_warned_in_the_action_center_before_each_wave(wave_estate, org_a, org_b):
    migration_waves_daily(on=date(2023, 12, 20))
    assert not ActionItem.objects.filter(dedupe_key__startswith="nce-wave-").exists()

    migration_waves_daily(on=date(2024, 1, 1))
    warned = ActionItem.objects.filter(dedupe_key="nce-wave-commercial")
    assert set(warned.values_list("organization_id", flat=True)) == {org_a.pk, org_b.pk}
    item = warned.get(organization=org_a)
    # Renewals on or after the wave start with a new-commerce equivalent: first_day and later.
    assert item.title.startswith("2 legacy subscriptions move to new commerce")
    assert item.due_at.date() == date(2024, 1, 12)
    assert not ActionItem.objects.filter(dedupe_key="nce-wave-public_sector").exists()

    migration_waves_daily(on=date(2024, 6, 20))
    public = ActionItem.objects.filter(dedupe_key="nce-wave-public_sector")
    assert set(public.values_list("organization_id", flat=True)) == {org_a.pk, org_b.pk}
    # By then every commercial subscription has moved: the commercial item is resolved.
    assert set(warned.values_list("status", flat=True)) == {ActionItemStatus.RESOLVED}


# --- Demo data ---------------------------------------------------------------------------------------


def test_the_demo_seed_is_deterministic_idempotent_and_mixed(db):
    from accounts.demo import seed_demo_data  # noqa: PLC0415 - only this test needs the demo

    seed_demo_data(seed=7, customers_per_org=12)
    first = commerce_demo_seed(seed=7, scale=1)
    again = commerce_demo_seed(seed=7, scale=1)

    assert first.created > 48 and again.created == 0
    assert again.legacy_subscriptions == first.legacy_subscriptions
    answers = eligibility_for(LegacySubscription.objects.all())
    reasons = {error.code for answer in answers.values() for error in answer.errors}
    assert {
        "NewCommerceProductUnavailable",
        "SubscriptionIsTrial",
        "SubscriptionStatusNotActive",
        "SeatLimitExceeded",
        "AddOnBaseNotMigrating",
    } <= reasons
    assert sum(answer.is_eligible for answer in answers.values()) > len(answers) / 3
    ids = sorted(LegacySubscription.objects.values_list("subscription_id", flat=True))
    LegacySubscription.objects.all().delete()
    commerce_demo_seed(seed=7, scale=1)
    assert sorted(LegacySubscription.objects.values_list("subscription_id", flat=True)) == ids


# --- The vendor's admin ------------------------------------------------------------------------------


def test_the_admin_re_runs_failed_migrations(catalog, us_customer, alice, vendor_down, verified_client):
    failed = migration_create(
        actor=alice, subscription=legacy(us_customer, "basic", term_end=date.today() + timedelta(days=30))
    )
    vendor_down.undo()
    # A completed migration is skipped by the action.
    done = migration_create(
        actor=alice, subscription=legacy(us_customer, "e3", term_end=date.today() + timedelta(days=30))
    )
    staff = UserFactory(organization=None, is_staff=True, is_superuser=True)
    client = verified_client(staff)
    for page in ("migration", "legacysubscription", "ncesubscription", "migrationbatch", "legacyoffer"):
        assert client.get(f"/admin/commerce/{page}/").status_code == 200
    assert client.get(f"/admin/commerce/migration/{failed.pk}/change/").status_code == 200
    found = client.get("/admin/commerce/migration/", {"q": str(failed.migration_id)})
    assert str(failed.migration_id) in found.content.decode()

    response = client.post(
        "/admin/commerce/migration/",
        {"action": "rerun_failed", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )

    assert "1 completed, 0 failed again, 0 refused, 1 skipped" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == MigrationStatus.COMPLETED
    assert history_of(failed)[-2:] == [("Failed", "Processing"), ("Processing", "Completed")]
    assert HistoryEvent.objects.filter(object_id=str(failed.pk)).last().actor == staff
