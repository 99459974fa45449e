"""Migration schedules: Partner Center's schedules API (and Microsoft's Batch Migration tool's way of
calling it), the daily run under a frozen clock, and the pages.

The catalog is the demo catalog (tests/commerce/test_migrations.py). "Today" is 20 May 2025 unless
a test moves the clock; the legacy Business Premium subscription's term ends on 14 September 2025.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from commerce import tasks
from commerce.choices import (
    MigrationInitiator,
    MigrationStatus,
    ScheduleStatus,
    SubscriptionStatus,
)
from commerce.models import LegacySubscription, Migration, MigrationSchedule, NceSubscription
from commerce.services import migration_create, migration_wave_run
from commerce.services.schedules import (
    ScheduleRefused,
    ScheduleRequest,
    schedule_cancel,
    schedule_create,
    schedules_run_due,
)
from portal.models import HistoryEvent, JobRun
from portal.roles import Role
from tests.commerce.conftest import legacy_subscription as legacy
from tests.factories import MigrationFactory, UserFactory

pytestmark = pytest.mark.django_db

SCOPES = ("commerce:read", "commerce:write")
TODAY = "2025-05-20 09:00:00"
TERM_END = date(2025, 9, 14)
PREMIUM_CATALOG_ITEM = "CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN"
QUERY = "/api/v1/commerce/migrations/newcommerce/schedules"


@pytest.fixture
def premium(customer):
    return legacy(customer, "premium", quantity=40, term_end=TERM_END)


def _base(customer) -> str:
    return f"/api/v1/commerce/customers/{customer.tenant_id}/migrations/newcommerce/schedules"


def _schedule(api, customer, subscription, **body):
    return api.post(
        _base(customer), {"currentSubscriptionId": str(subscription.subscription_id), **body}, format="json"
    )


def history_of(schedule) -> list[tuple[str, str]]:
    events = HistoryEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(MigrationSchedule), object_id=str(schedule.pk)
    ).order_by("seq")
    return [(event.from_status, event.to_status) for event in events]


def run_on(day: str) -> dict[str, int]:
    with freeze_time(f"{day} 02:30:00"):
        return schedules_run_due(today=date.fromisoformat(day))


# --- The API ----------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_it_schedules_by_date_and_reads_it_back_one_and_by_each_query(api, customer, premium):
    response = _schedule(api, customer, premium, targetDate="2025-06-02", externalReferenceId="wave-7")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "Created"
    assert (created["targetDate"], created["migrateOnRenewal"]) == ("2025-06-02", False)
    assert created["currentSubscriptionId"] == str(premium.subscription_id)
    assert created["customerTenantId"] == str(customer.tenant_id)
    assert created["catalogItemId"] == PREMIUM_CATALOG_ITEM
    # Co-terminous by default: the new subscription ends with the legacy term.
    assert created["subscriptionEndDate"] == "2025-09-14"
    assert (created["quantity"], created["termDuration"], created["billingCycle"]) == (40, "P1Y", "Monthly")
    assert created["newCommerceMigrationId"] is None and created["errorCode"] is None
    assert api.get(f"{_base(customer)}/{created['id']}").json() == created

    for query in (
        {"customerTenantId": str(customer.tenant_id)},
        {"currentSubscriptionId": str(premium.subscription_id)},
        {"externalReferenceId": "wave-7"},
        # The Batch Migration tool's spelling, and its trailing slash.
        {"CustomerTenantId": str(customer.tenant_id), "CurrentSubscriptionId": str(premium.subscription_id)},
    ):
        for path in (QUERY, f"{QUERY}/"):
            listed = api.get(path, query)
            assert listed.status_code == 200, listed.json()
            assert [row["id"] for row in listed.json()] == [created["id"]]
    assert api.get(QUERY, {"customerTenantId": str(customer.tenant_id), "status": "Cancelled"}).json() == []


def test_the_query_needs_one_filter_and_names_a_bad_value(api):
    response = api.get(QUERY, {"status": "Created"})
    assert response.status_code == 400
    assert "customerTenantId" in str(response.json()["errors"])
    response = api.get(QUERY, {"currentSubscriptionId": "not-a-guid"})
    assert response.status_code == 400
    assert response.json()["errors"]["currentSubscriptionId"] == [
        "currentSubscriptionId 'not-a-guid' is not a GUID."
    ]


def test_the_list_pages_through_the_link_header(api, customer):
    subscriptions = [legacy(customer, "basic", term_end=date(2030, 1, 31)) for _ in range(3)]
    for subscription in subscriptions:
        schedule_create(
            actor=None, subscription=subscription, request=ScheduleRequest(migrate_on_renewal=True)
        )

    first = api.get(QUERY, {"CustomerTenantId": str(customer.tenant_id), "PageSize": "2"})
    assert len(first.json()) == 2
    next_page = first["Link"].split(";")[0].strip("<>")
    second = api.get(next_page)
    seen = {row["id"] for row in first.json()} | {row["id"] for row in second.json()}
    assert len(seen) == 3 and "Link" in second


@freeze_time(TODAY)
def test_it_takes_the_batch_tools_pascal_case_body_and_dotnet_dates(api, customer, premium):
    """What NewCommerceMigrationScheduleProvider posts: System.Text.Json's default (PascalCase) names,
    DateTime as `yyyy-MM-ddTHH:mm:ss`, and the read-only properties of the resource, empty."""
    basic = legacy(customer, "basic", term_end=TERM_END)
    e3 = legacy(customer, "e3", term_end=TERM_END)
    body = {
        "Id": "",
        "CurrentSubscriptionId": str(premium.subscription_id),
        "Status": "",
        "CustomerTenantId": "",
        "CatalogItemId": "",
        "SubscriptionEndDate": None,
        "Quantity": 40,
        "TermDuration": "P1Y",
        "BillingCycle": "Monthly",
        "PurchaseFullTerm": False,
        "CustomTermEndDate": "2025-06-30T00:00:00",
        "TargetDate": "2025-06-02T00:00:00",
        "MigrateOnRenewal": None,
        "CreatedTime": "0001-01-01T00:00:00+00:00",
        "LastModifiedTime": "0001-01-01T00:00:00+00:00",
        "ExternalReferenceId": "6c1b3a51-6f0d-4d8e-9a55-2f1f3e1f4b10",
        "NewCommerceMigrationId": "",
        "ErrorDescription": "",
        "ErrorCode": None,
        "AddOnMigrationSchedules": [],
    }
    response = api.post(_base(customer), body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["targetDate"], response.json()["customTermEndDate"]) == (
        "2025-06-02",
        "2025-06-30",
    )
    assert response.json()["subscriptionEndDate"] == "2025-06-30"

    # With Z or an offset the date as written is the day meant.
    for subscription, target in ((basic, "2025-06-03T00:00:00Z"), (e3, "2025-06-04T23:30:00-05:00")):
        answer = _schedule(api, customer, subscription, targetDate=target)
        assert answer.status_code == 201, answer.json()
        assert answer.json()["targetDate"] == target[:10]

    bad = _schedule(api, customer, legacy(customer, "basic", term_end=TERM_END), targetDate="06/02/2025")
    assert bad.status_code == 400
    assert "'06/02/2025' is not a date" in bad.json()["errors"]["targetDate"][0]


@freeze_time(TODAY)
def test_it_schedules_on_renewal_for_a_new_full_term(api, customer, premium):
    response = _schedule(api, customer, premium, migrateOnRenewal=True, targetDate=None)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["targetDate"], body["migrateOnRenewal"]) == (None, True)
    # From the day after the legacy term, a full annual term.
    assert body["subscriptionEndDate"] == "2026-09-14"
    assert body["termDuration"] == "P1Y"


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"targetDate": "2025-06-02", "migrateOnRenewal": True}, "targetDate", "not both"),
        ({}, "targetDate", "neither was given"),
        ({"migrateOnRenewal": False, "targetDate": None}, "targetDate", "neither was given"),
        ({"targetDate": "2025-05-20"}, "targetDate", "targetDate 2025-05-20 is not in the future"),
        ({"targetDate": "2025-09-15"}, "targetDate", "after the legacy term ends on 2025-09-14"),
        ({"targetDate": "2025-06-02", "billingCycle": "None"}, "billingCycle", "not a valid choice"),
        ({"targetDate": "2025-06-02", "quantity": 0}, "quantity", "greater than or equal to 1"),
    ],
)
def test_it_refuses_bad_timing_naming_the_field_and_value(api, customer, premium, body, field, words):
    response = _schedule(api, customer, premium, **body)

    assert response.status_code == 400
    assert words in " ".join(response.json()["errors"][field])
    assert not MigrationSchedule.objects.exists()


@freeze_time(TODAY)
def test_it_refuses_a_subscription_that_could_never_migrate_with_every_reason_and_microsofts_code(
    api, customer
):
    voice = legacy(customer, "business_voice", term_end=TERM_END, status=SubscriptionStatus.SUSPENDED)

    response = _schedule(api, customer, voice, targetDate="2025-06-02")

    assert response.status_code == 400
    problem = response.json()
    reasons = problem["errors"]["currentSubscriptionId"]
    assert any(reason.startswith("SubscriptionStatusNotActive:") for reason in reasons)
    assert any(reason.startswith("NewCommerceProductUnavailable:") for reason in reasons)
    # What Partner Center's error body and the Batch Migration tool read: the code number first.
    assert problem["code"] == "0"
    assert "NewCommerceProductUnavailable" in problem["description"]
    assert not MigrationSchedule.objects.exists()


@freeze_time(TODAY)
def test_it_refuses_a_second_schedule_and_an_open_migration(api, customer, premium):
    assert _schedule(api, customer, premium, targetDate="2025-06-02").status_code == 201

    again = _schedule(api, customer, premium, migrateOnRenewal=True)
    assert again.status_code == 400
    assert again.json()["errors"]["currentSubscriptionId"][0].startswith("MigrationAlreadyScheduled:")
    assert again.json()["code"] == "1006"

    moving = legacy(customer, "basic", term_end=TERM_END)
    MigrationFactory(
        organization=customer.organization, current_subscription=moving, status=MigrationStatus.PROCESSING
    )
    busy = _schedule(api, customer, moving, targetDate="2025-06-02")
    assert busy.status_code == 400
    assert busy.json()["code"] == "1"
    assert busy.json()["errors"]["currentSubscriptionId"][0].startswith("SubscriptionBeingProcessingInOms:")
    assert MigrationSchedule.objects.count() == 1


@freeze_time(TODAY)
def test_a_retried_post_with_the_same_request_id_returns_the_same_schedule(api, customer, premium):
    body = {"currentSubscriptionId": str(premium.subscription_id), "targetDate": "2025-06-02"}
    first = api.post(_base(customer), body, format="json", HTTP_MS_REQUESTID="3f2d-retry")
    again = api.post(_base(customer), body, format="json", HTTP_MS_REQUESTID="3f2d-retry")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert MigrationSchedule.objects.count() == 1


@freeze_time(TODAY)
def test_add_ons_move_with_their_base(api, customer, premium):
    addon = legacy(customer, "teams_phone", quantity=10, parent=premium, term_end=TERM_END)
    stranger = legacy(customer, "basic", term_end=TERM_END)

    refused = _schedule(
        api,
        customer,
        premium,
        targetDate="2025-06-02",
        addOnMigrationSchedules=[{"currentSubscriptionId": str(stranger.subscription_id)}],
    )
    assert refused.status_code == 400
    assert str(stranger.subscription_id) in refused.json()["errors"]["addOnMigrationSchedules"][0]

    response = _schedule(
        api,
        customer,
        premium,
        targetDate="2025-06-02",
        AddOnMigrationSchedules=[{"CurrentSubscriptionId": str(addon.subscription_id), "Quantity": 10}],
    )
    assert response.status_code == 201, response.json()
    [moving] = response.json()["addOnMigrationSchedules"]
    assert (moving["currentSubscriptionId"], moving["quantity"]) == (str(addon.subscription_id), 10)

    run_on("2025-06-02")
    migration = Migration.objects.get(current_subscription=premium)
    assert migration.add_on_migrations.get().current_subscription == addon
    assert LegacySubscription.objects.get(pk=addon.pk).status == SubscriptionStatus.CANCELLED


def test_it_updates_a_created_schedule_before_its_day_only(api, customer, premium):
    with freeze_time(TODAY):
        created = _schedule(api, customer, premium, targetDate="2025-06-02").json()
        url = f"{_base(customer)}/{created['id']}"

        response = api.put(url, {"TargetDate": "2025-06-09T00:00:00", "Quantity": 30}, format="json")
        assert response.status_code == 200, response.json()
        assert (response.json()["targetDate"], response.json()["quantity"]) == ("2025-06-09", 30)
        # Left out: kept. Another subscription: refused.
        assert response.json()["externalReferenceId"] == ""
        other = legacy(customer, "basic", term_end=TERM_END)
        moved = api.put(url, {"currentSubscriptionId": str(other.subscription_id)}, format="json")
        assert moved.status_code == 400
        assert "cannot change on update" in moved.json()["errors"]["currentSubscriptionId"][0]
        too_late = api.put(url, {"targetDate": "2025-10-01"}, format="json")
        assert "after the legacy term ends" in too_late.json()["errors"]["targetDate"][0]

    schedule = MigrationSchedule.objects.get()
    assert (schedule.target_date, schedule.quantity) == (date(2025, 6, 9), 30)
    assert history_of(schedule) == [("", "Created"), ("Created", "Created")]
    with freeze_time("2025-06-09 08:00:00"):
        on_the_day = api.put(url, {"quantity": 20}, format="json")
    assert on_the_day.status_code == 400
    assert "only before that day" in on_the_day.json()["errors"]["targetDate"][0]


@freeze_time(TODAY)
def test_it_cancels_a_created_schedule_once_and_a_finished_one_never(api, customer, premium):
    created = _schedule(api, customer, premium, targetDate="2025-06-02").json()
    cancel = f"{_base(customer)}/{created['id']}/cancel"

    response = api.post(cancel)
    assert response.status_code == 200 and response.json()["status"] == "Cancelled"
    assert api.post(cancel).json()["status"] == "Cancelled"
    assert history_of(MigrationSchedule.objects.get()) == [("", "Created"), ("Created", "Cancelled")]
    update = api.put(f"{_base(customer)}/{created['id']}", {"quantity": 2}, format="json")
    assert "only a Created schedule can be updated" in update.json()["errors"]["status"][0]

    # Cancelled, the subscription can be scheduled again.
    assert _schedule(api, customer, premium, migrateOnRenewal=True).status_code == 201


def test_reading_needs_customers_view_and_writing_placing_orders(api_for, org_a, customer, premium):
    reader = api_for(org_a, scopes=SCOPES, roles=(Role.HELPDESK_AGENT,))
    with freeze_time(TODAY):
        refused = _schedule(reader, customer, premium, targetDate="2025-06-02")
    assert refused.status_code == 403
    assert reader.get(QUERY, {"customerTenantId": str(customer.tenant_id)}).status_code == 200


def test_another_organizations_customer_and_schedule_are_404(api_for, org_b, customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
        outsider = api_for(org_b, scopes=SCOPES)
        assert _schedule(outsider, customer, premium, targetDate="2025-06-02").status_code == 404
        assert outsider.post(f"{_base(customer)}/{schedule.schedule_id}/cancel").status_code == 404
        assert outsider.get(QUERY, {"customerTenantId": str(customer.tenant_id)}).json() == []
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.CREATED


# --- The daily run, under a frozen clock -------------------------------------------------------------


def test_a_schedule_by_date_runs_on_that_day_exactly_once(customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None,
            subscription=premium,
            request=ScheduleRequest(target_date=date(2025, 6, 2), external_reference_id="wave-7"),
        )

    assert run_on("2025-06-01") == {"claimed": 0, "completed": 0, "failed": 0, "skipped": 0, "errors": 0}
    assert not Migration.objects.exists()
    assert run_on("2025-06-02") == {"claimed": 1, "completed": 1, "failed": 0, "skipped": 0, "errors": 0}
    assert run_on("2025-06-02") == {"claimed": 0, "completed": 0, "failed": 0, "skipped": 0, "errors": 0}
    assert run_on("2025-06-03")["completed"] == 0

    schedule.refresh_from_db()
    migration = Migration.objects.get()
    assert (schedule.status, schedule.migration) == (ScheduleStatus.COMPLETED, migration)
    assert migration.status == MigrationStatus.COMPLETED
    assert migration.initiated_by == MigrationInitiator.SCHEDULE
    assert migration.external_reference_id == "wave-7"
    nce = migration.new_commerce_subscription
    assert (nce.term_start, nce.term_end, nce.quantity) == (date(2025, 6, 2), TERM_END, 40)
    assert LegacySubscription.objects.get(pk=premium.pk).status == SubscriptionStatus.CANCELLED
    assert history_of(schedule) == [("", "Created"), ("Created", "Processing"), ("Processing", "Completed")]


def test_a_schedule_on_renewal_runs_at_the_term_end_with_its_own_term_and_seats(customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None,
            subscription=premium,
            request=ScheduleRequest(migrate_on_renewal=True, quantity=35, billing_cycle="Annual"),
        )

    assert run_on("2025-09-13")["claimed"] == 0
    assert run_on("2025-09-14") == {"claimed": 1, "completed": 1, "failed": 0, "skipped": 0, "errors": 0}
    assert run_on("2025-09-15")["claimed"] == 0

    schedule.refresh_from_db()
    nce = schedule.migration.new_commerce_subscription
    assert (nce.term_start, nce.term_end) == (date(2025, 9, 15), date(2026, 9, 14))
    assert (nce.term_duration, nce.billing_cycle, nce.quantity) == ("P1Y", "Annual", 35)
    assert schedule.migration.purchase_full_term is True
    assert NceSubscription.objects.count() == 1


def test_a_cancelled_schedule_never_runs(customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
        schedule_cancel(actor=None, schedule=schedule)

    assert run_on("2025-06-02")["claimed"] == 0
    assert run_on("2025-09-14")["claimed"] == 0
    assert not Migration.objects.exists()
    assert LegacySubscription.objects.get(pk=premium.pk).status == SubscriptionStatus.ACTIVE


def test_a_schedule_the_subscription_no_longer_qualifies_for_fails_with_microsofts_code(
    api, customer, premium
):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
    # A promotion applied since: Microsoft refuses the migration while it lasts.
    LegacySubscription.objects.filter(pk=premium.pk).update(promotion_id="PROMO-2025")

    assert run_on("2025-06-02") == {"claimed": 1, "completed": 0, "failed": 1, "skipped": 0, "errors": 0}
    assert run_on("2025-06-03")["failed"] == 0

    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.FAILED
    assert schedule.error_code == "SubscriptionPromotionsPresent"
    assert "PROMO-2025" in schedule.error_description
    assert not Migration.objects.exists()
    body = api.get(f"{_base(customer)}/{schedule.schedule_id}").json()
    assert (body["status"], body["errorCode"], body["errorCodeName"]) == (
        "Failed",
        3,
        "SubscriptionPromotionsPresent",
    )
    assert history_of(schedule)[-1] == ("Processing", "Failed")


def test_a_schedule_left_processing_by_a_dead_worker_migrates_once(customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
    # The worker claimed it (that transaction committed) and died before migrating.
    MigrationSchedule.objects.filter(pk=schedule.pk).update(status=ScheduleStatus.PROCESSING)

    assert run_on("2025-06-02") == {"claimed": 0, "completed": 1, "failed": 0, "skipped": 0, "errors": 0}
    assert run_on("2025-06-02")["completed"] == 0
    assert Migration.objects.get().schedule == schedule


@pytest.mark.django_db(transaction=True)
def test_a_schedule_another_runner_is_carrying_out_is_left_to_it(customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
    MigrationSchedule.objects.filter(pk=schedule.pk).update(status=ScheduleStatus.PROCESSING)
    # Another worker's transaction holds the schedule's row, as a runner carrying it out does.
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM commerce_migrationschedule WHERE id = %s FOR UPDATE", [schedule.pk]
            )
        assert run_on("2025-06-02") == {"claimed": 0, "completed": 0, "failed": 0, "skipped": 1, "errors": 0}
        assert not Migration.objects.exists()
    finally:
        other.rollback()
        other.close()
    assert run_on("2025-06-02")["completed"] == 1
    assert Migration.objects.count() == 1


def test_a_rerun_finds_the_migration_a_dead_worker_completed_and_orders_nothing(customer, premium):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
    MigrationSchedule.objects.filter(pk=schedule.pk).update(status=ScheduleStatus.PROCESSING)
    done = MigrationFactory(
        organization=customer.organization,
        current_subscription=premium,
        status=MigrationStatus.COMPLETED,
        initiated_by=MigrationInitiator.SCHEDULE,
        error_code="",
    )

    assert run_on("2025-06-02")["completed"] == 1
    schedule.refresh_from_db()
    assert (schedule.status, schedule.migration) == (ScheduleStatus.COMPLETED, done)
    assert Migration.objects.count() == 1 and not NceSubscription.objects.exists()


def test_the_beat_task_runs_the_due_schedules(customer, premium):
    assert settings.CELERY_BEAT_SCHEDULE["commerce-migration-schedules-daily"]["task"] == (
        "commerce.tasks.migration_schedules_run"
    )
    with freeze_time(TODAY):
        schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
    with freeze_time("2025-06-02 02:30:00"):
        assert tasks.migration_schedules_run.delay().get()["completed"] == 1


def test_a_migration_waits_for_the_schedule_and_the_vendor_led_wave_skips_it(customer, alice):
    subscription = legacy(customer, "premium", term_end=date(2024, 1, 11))
    with freeze_time("2024-01-05"):
        schedule_create(
            actor=alice, subscription=subscription, request=ScheduleRequest(target_date=date(2024, 1, 10))
        )
        with pytest.raises(ValidationError) as refused:
            migration_create(actor=alice, subscription=subscription)
    assert "MigrationAlreadyScheduled" in str(refused.value)

    with freeze_time("2024-01-16 03:00:00"):
        job = migration_wave_run(wave="commercial", on=date(2024, 1, 16))

    assert not Migration.objects.filter(current_subscription=subscription).exists()
    assert JobRun.objects.get(pk=job.pk).result["skipped"] >= 1


def test_schedule_create_refuses_with_the_reasons_the_api_shows(customer, premium):
    with freeze_time(TODAY), pytest.raises(ScheduleRefused) as refused:
        schedule_create(
            actor=None,
            subscription=premium,
            request=ScheduleRequest(target_date=date(2025, 6, 2), migrate_on_renewal=True),
        )
    assert set(refused.value.message_dict) == {"target_date"}


# --- The pages ----------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_a_person_schedules_two_selected_subscriptions_sees_them_and_cancels_one(
    verified_client, alice, customer, premium
):
    basic = legacy(customer, "basic", term_end=TERM_END)
    client = verified_client(alice)

    listing = client.get(reverse("commerce:subscription-list")).content.decode()
    assert "Schedule selected" in listing
    picked = {"subscription": [str(premium.pk), str(basic.pk)]}
    form = client.post(reverse("commerce:schedule-new"), picked)
    assert form.status_code == 200
    assert premium.offer.name in form.content.decode() and basic.offer.name in form.content.decode()

    done = client.post(
        reverse("commerce:schedule-new"),
        {**picked, "timing": "date", "target_date": "2025-06-02", "quantity": ""},
    )
    assert done.status_code == 302 and done["Location"] == reverse("commerce:schedule-list")
    assert set(MigrationSchedule.objects.values_list("current_subscription_id", "status")) == {
        (premium.pk, ScheduleStatus.CREATED),
        (basic.pk, ScheduleStatus.CREATED),
    }
    page = client.get(reverse("commerce:subscription-detail", args=[premium.pk])).content.decode()
    assert "Migrates on 2025-06-02" in page and "MigrationAlreadyScheduled" in page
    assert (
        client.get(reverse("commerce:schedule-list")).content.decode().count('data-testid="schedule-row"')
        == 2
    )

    schedule = MigrationSchedule.objects.get(current_subscription=premium)
    detail = client.get(reverse("commerce:schedule-detail", args=[schedule.pk])).content.decode()
    assert 'data-testid="schedule-cancel"' in detail and 'data-testid="schedule-edit"' in detail
    client.post(reverse("commerce:schedule-cancel", args=[schedule.pk]))
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.CANCELLED
    page = client.get(reverse("commerce:subscription-detail", args=[premium.pk])).content.decode()
    assert "No migration is scheduled." in page


@freeze_time(TODAY)
def test_the_page_schedules_none_when_one_is_refused_and_lists_why(verified_client, alice, customer, premium):
    voice = legacy(customer, "business_voice", term_end=TERM_END)
    client = verified_client(alice)

    response = client.post(
        reverse("commerce:schedule-new"),
        {"subscription": [str(premium.pk), str(voice.pk)], "timing": "renewal"},
    )

    assert response.status_code == 200
    assert "NewCommerceProductUnavailable" in response.content.decode()
    assert not MigrationSchedule.objects.exists()


@freeze_time(TODAY)
def test_a_schedule_is_changed_on_its_page(verified_client, alice, customer, premium):
    schedule = schedule_create(
        actor=alice, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
    )
    client = verified_client(alice)

    response = client.post(
        reverse("commerce:schedule-detail", args=[schedule.pk]),
        {"timing": "renewal", "target_date": "", "quantity": "12", "term_duration": "", "billing_cycle": ""},
    )

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.migrate_on_renewal, schedule.target_date, schedule.quantity) == (True, None, 12)


def test_a_person_who_may_not_order_reads_schedules_but_cannot_schedule_or_cancel(
    verified_client, org_a, customer, premium
):
    with freeze_time(TODAY):
        schedule = schedule_create(
            actor=None, subscription=premium, request=ScheduleRequest(target_date=date(2025, 6, 2))
        )
    helpdesk = verified_client(UserFactory(organization=org_a, roles=[Role.HELPDESK_AGENT]))

    assert helpdesk.get(reverse("commerce:schedule-list")).status_code == 200
    detail = helpdesk.get(reverse("commerce:schedule-detail", args=[schedule.pk])).content.decode()
    assert 'data-testid="schedule-cancel"' not in detail
    assert helpdesk.post(reverse("commerce:schedule-cancel", args=[schedule.pk])).status_code == 403
    assert helpdesk.post(reverse("commerce:schedule-new"), {"subscription": [premium.pk]}).status_code == 403
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.CREATED


def test_the_schedule_list_and_query_cost_the_same_queries_for_one_row_or_many(
    verified_client, alice, api, customer
):
    def add_schedule():
        subscription = legacy(customer, "premium", quantity=5, term_end=date(2030, 1, 31))
        legacy(customer, "teams_phone", quantity=2, parent=subscription, term_end=subscription.term_end)
        schedule_create(
            actor=alice, subscription=subscription, request=ScheduleRequest(migrate_on_renewal=True)
        )

    client = verified_client(alice)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert client.get(reverse("commerce:schedule-list")).status_code == 200
        with CaptureQueriesContext(connection) as listed:
            assert api.get(QUERY, {"customerTenantId": str(customer.tenant_id)}).status_code == 200
        return len(page), len(listed)

    add_schedule()
    queries()  # The first request of a session and a token reads what later ones find cached.
    one = queries()
    add_schedule()
    add_schedule()
    assert queries() == one
