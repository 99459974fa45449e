"""New-commerce life after migration: for 168 hours after purchase, migration or renewal seats can be
reduced and the subscription cancelled with a prorated credit; afterwards both are refused with the
date the window closed; seats can always be added (spec/commerce.md §1, §3.3, example C4)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from freezegun import freeze_time

from accounts.choices import CustomerSegment
from commerce.choices import SubscriptionStatus
from commerce.demo import commerce_demo_catalog, offer_id_for
from commerce.models import LegacySubscription, NceSubscription, NceSubscriptionChange
from commerce.services import migration_create
from commerce.services.nce import (
    NceChangeRefused,
    nce_renewals_run,
    nce_subscription_cancel,
    nce_subscription_seats_change,
)
from portal.models import HistoryEvent
from portal.roles import Role
from tests.factories import (
    AvailabilityFactory,
    CustomerFactory,
    NceSubscriptionFactory,
    SkuFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

#: Example C4: the vendor-led migration completed on 2024-04-01 at 14:00 UTC; P1Y until 2025-03-31.
COMPLETED = datetime(2024, 4, 1, 14, 0, tzinfo=UTC)
WINDOW_ENDS = COMPLETED + timedelta(hours=168)
AT_167_H = COMPLETED + timedelta(hours=167)
AT_169_H = COMPLETED + timedelta(hours=169)
CLOSED = (
    "The 7-day window to reduce seats closed on 2024-04-08 14:00 UTC; seats can be reduced at renewal "
    "on 2025-03-31."
)
SCOPES = ("commerce:read", "commerce:write")


@pytest.fixture
def alice(org_a):
    return UserFactory(organization=org_a, roles=[Role.OWNER, Role.GLOBAL_ADMIN])


def c4(organization, **fields) -> NceSubscription:
    """Example C4's new-commerce subscription: E3, 250 seats, P1Y billed monthly, at 237.60 a seat."""
    values = {
        "organization": organization,
        "quantity": 250,
        "term_duration": "P1Y",
        "billing_cycle": "Monthly",
        "term_start": date(2024, 4, 1),
        "term_end": date(2025, 3, 31),
        "unit_price": Decimal("237.60"),
        "currency": "USD",
        "cancellation_window_ends_at": WINDOW_ENDS,
        "created_at": COMPLETED,
    }
    values.update(fields)
    return NceSubscriptionFactory(**values)


def changes(subscription) -> list[tuple[str, int, int, Decimal]]:
    return list(
        NceSubscriptionChange.objects.filter(subscription=subscription)
        .order_by("changed_at", "id")
        .values_list("kind", "quantity_before", "quantity_after", "credit")
    )


def history(subscription) -> list[HistoryEvent]:
    content_type = ContentType.objects.get_for_model(NceSubscription)
    return list(HistoryEvent.objects.filter(content_type=content_type, object_id=str(subscription.pk)))


# --- The window's edges ---------------------------------------------------------------------------


def test_seats_can_be_reduced_at_167_hours_with_the_prorated_credit(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        change = nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=230)
    subscription.refresh_from_db()
    assert subscription.quantity == 230
    # 20 seats × 237.60 for the 358 days from 2024-04-08 to 2025-03-31 of the 365-day term.
    assert (change.kind, change.credit, change.currency) == ("seats_reduced", Decimal("4660.87"), "USD")
    [event] = history(subscription)
    assert (event.actor, event.to_status) == (alice, "active")
    assert "20 seats removed (250 → 230)" in event.note


def test_a_reduction_at_169_hours_is_refused_with_the_date_the_window_closed(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_169_H), pytest.raises(NceChangeRefused) as refused:
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=230)
    assert refused.value.messages == [CLOSED]
    assert refused.value.window_closed_at == WINDOW_ENDS
    subscription.refresh_from_db()
    assert subscription.quantity == 250
    assert changes(subscription) == [] and history(subscription) == []


def test_the_window_is_closed_at_exactly_168_hours(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(WINDOW_ENDS), pytest.raises(NceChangeRefused):
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=249)


def test_seats_can_be_added_after_the_window_without_credit(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_169_H):
        change = nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=260)
    subscription.refresh_from_db()
    assert subscription.quantity == 260
    assert (change.kind, change.quantity_before, change.quantity_after, change.credit) == (
        "seats_added",
        250,
        260,
        Decimal("0"),
    )
    assert subscription.term_end == date(2025, 3, 31)  # co-terminous


def test_cancel_at_167_hours_gives_the_prorated_credit(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        change = nce_subscription_cancel(actor=alice, subscription=subscription)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert subscription.cancelled_at == AT_167_H
    # 250 seats × 237.60 × 358 / 365 = 58,260.8219… → 58,260.82.
    assert (change.kind, change.quantity_before, change.quantity_after, change.credit) == (
        "cancelled",
        250,
        0,
        Decimal("58260.82"),
    )
    [event] = history(subscription)
    assert (event.from_status, event.to_status) == ("active", "cancelled")


def test_cancel_at_169_hours_is_refused_with_the_close_date(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_169_H), pytest.raises(NceChangeRefused) as refused:
        nce_subscription_cancel(actor=alice, subscription=subscription)
    assert refused.value.messages == [
        "The 7-day window to cancel closed on 2024-04-08 14:00 UTC; the subscription can end at renewal "
        "on 2025-03-31."
    ]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancelled_at) == ("active", None)


def test_a_subscription_without_a_window_cannot_be_reduced(org_a, alice):
    subscription = c4(org_a, cancellation_window_ends_at=None)
    with freeze_time(AT_167_H), pytest.raises(NceChangeRefused) as refused:
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=1)
    assert "no 7-day window" in refused.value.reason


def test_a_cancelled_subscription_changes_no_more(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        nce_subscription_cancel(actor=alice, subscription=subscription)
        with pytest.raises(NceChangeRefused, match="cancelled"):
            nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=260)
        with pytest.raises(NceChangeRefused, match="cancelled"):
            nce_subscription_cancel(actor=alice, subscription=subscription)


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        (0, "The requested quantity of 0 seats is outside the 1 to 10000 seats the offer allows."),
        (250, "The subscription already has 250 seats; nothing to change."),
        (10001, "The requested quantity of 10001 seats is outside the 1 to 10000 seats the offer allows."),
    ],
)
def test_a_bad_quantity_is_refused_naming_it(org_a, alice, quantity, reason):
    subscription = c4(org_a)
    with freeze_time(AT_167_H), pytest.raises(ValidationError) as refused:
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=quantity)
    assert not isinstance(refused.value, NceChangeRefused)
    assert refused.value.message_dict == {"quantity": [reason]}


# --- Idempotency ----------------------------------------------------------------------------------


def test_a_retried_request_makes_one_change(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        first = nce_subscription_seats_change(
            actor=alice, subscription=subscription, quantity=230, request_id="req-1"
        )
        again = nce_subscription_seats_change(
            actor=alice, subscription=subscription, quantity=230, request_id="req-1"
        )
    assert again.pk == first.pk and again.replayed and not first.replayed
    subscription.refresh_from_db()
    assert subscription.quantity == 230
    assert len(changes(subscription)) == 1 and len(history(subscription)) == 1


def test_a_retry_after_the_window_closed_still_answers_the_first_change(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        first = nce_subscription_cancel(actor=alice, subscription=subscription, request_id="cancel-1")
    with freeze_time(AT_169_H):
        again = nce_subscription_cancel(actor=alice, subscription=subscription, request_id="cancel-1")
    assert again.pk == first.pk and again.credit == Decimal("58260.82")


def test_a_request_id_used_for_another_change_is_refused(org_a, alice):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=230, request_id="r")
        with pytest.raises(NceChangeRefused) as refused:
            nce_subscription_seats_change(
                actor=alice, subscription=subscription, quantity=200, request_id="r"
            )
    assert refused.value.field == "requestId"
    assert "already used for another change" in refused.value.reason
    subscription.refresh_from_db()
    assert subscription.quantity == 230


# --- The pooled seat maximum ------------------------------------------------------------------------


def test_additions_respect_the_seat_maximum_pooled_across_partners(org_a, org_b, alice):
    """C5: the customer holds 250 Business Premium seats from partner B; partner A holds 10 and may
    add 40 more of the 300, not 41."""
    sku = SkuFactory(max_seat_pooled=300)
    availability = AvailabilityFactory(sku=sku)
    ours = c4(org_a, availability=availability, catalog_item_id=availability.catalog_item_id, quantity=10)
    NceSubscriptionFactory(
        organization=org_b,
        customer=CustomerFactory(organization=org_b, tenant_id=ours.customer.tenant_id),
        availability=availability,
        quantity=250,
    )
    with freeze_time(AT_169_H):
        with pytest.raises(ValidationError) as refused:
            nce_subscription_seats_change(actor=alice, subscription=ours, quantity=51)
        assert refused.value.message_dict == {
            "quantity": [
                "The requested number of 41 seats exceeds the remaining limit of 40 seats allowed per "
                f"subscription for the CatalogItemId - {availability.catalog_item_id}"
            ]
        }
        nce_subscription_seats_change(actor=alice, subscription=ours, quantity=50)
    ours.refresh_from_db()
    assert ours.quantity == 50


# --- Renewal ------------------------------------------------------------------------------------------


def test_renewal_starts_a_new_term_and_reopens_the_window(org_a, alice):
    subscription = c4(org_a)
    renewal = datetime(2025, 4, 1, 0, 30, tzinfo=UTC)
    with freeze_time(renewal):
        assert nce_renewals_run() == {"due": 1, "renewed": 1, "failed": 0}
        assert nce_renewals_run() == {"due": 0, "renewed": 0, "failed": 0}  # a rerun does nothing
    subscription.refresh_from_db()
    assert (subscription.term_start, subscription.term_end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert subscription.cancellation_window_ends_at == renewal + timedelta(hours=168)
    assert changes(subscription) == [("renewed", 250, 250, Decimal("0"))]
    with freeze_time(renewal + timedelta(hours=167)):
        change = nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=200)
    # 50 seats × 237.60 for the 359 days from 2025-04-07 to 2026-03-31 of the 365-day term.
    assert change.credit == Decimal("11684.71")
    with freeze_time(renewal + timedelta(hours=169)), pytest.raises(NceChangeRefused, match="2026-03-31"):
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=150)


def test_renewal_takes_the_price_in_force_on_the_first_day_of_the_new_term(org_a):
    catalog = commerce_demo_catalog()
    sku = catalog[("CFQ7TTC0LCHC", "0002")]
    availability = sku.availabilities.get(segment="Commercial", term_duration="P1Y")
    customer = CustomerFactory(organization=org_a, country="US", segment=CustomerSegment.COMMERCIAL)
    subscription = c4(
        org_a,
        customer=customer,
        availability=availability,
        catalog_item_id=availability.catalog_item_id,
        term_start=date(2025, 4, 1),
        term_end=date(2026, 3, 31),
        unit_price=Decimal("200.00"),
    )
    with freeze_time(datetime(2026, 4, 1, 1, 0, tzinfo=UTC)):
        nce_renewals_run()
    subscription.refresh_from_db()
    assert subscription.unit_price == Decimal("237.60")  # the demo US list's P1Y Monthly price


def test_a_subscription_without_auto_renew_or_not_active_is_not_renewed(org_a):
    off = c4(org_a, auto_renew=False)
    suspended = c4(org_a, status=SubscriptionStatus.SUSPENDED)
    with freeze_time(datetime(2025, 4, 2, tzinfo=UTC)):
        assert nce_renewals_run()["due"] == 0
    for subscription in (off, suspended):
        subscription.refresh_from_db()
        assert subscription.term_end == date(2025, 3, 31)


def test_the_daily_task_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "commerce.tasks.nce_renewals_run" in tasks
    from commerce.tasks import nce_renewals_run as task  # noqa: PLC0415

    assert task.name == "commerce.tasks.nce_renewals_run"


# --- From a migration to its window -------------------------------------------------------------------


def test_a_migrated_subscription_can_be_reduced_for_168_hours_after_completion(org_a, alice):
    commerce_demo_catalog()
    customer = CustomerFactory(organization=org_a, country="US", segment=CustomerSegment.COMMERCIAL)
    completed = datetime(2025, 5, 20, 9, 0, tzinfo=UTC)
    with freeze_time(completed):
        source = LegacySubscription.objects.create(
            organization=org_a,
            customer=customer,
            offer_id=offer_id_for("premium"),
            quantity=40,
            term_duration="P1Y",
            billing_cycle="Monthly",
            term_start=date(2024, 9, 15),
            term_end=date(2025, 9, 14),
        )
        migration = migration_create(actor=alice, subscription=source)
    subscription = migration.new_commerce_subscription
    assert subscription.cancellation_window_ends_at == completed + timedelta(hours=168)
    with freeze_time(completed + timedelta(hours=167)):
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=35)
    with freeze_time(completed + timedelta(hours=169)), pytest.raises(NceChangeRefused) as refused:
        nce_subscription_seats_change(actor=alice, subscription=subscription, quantity=30)
    assert refused.value.reason == (
        "The 7-day window to reduce seats closed on 2025-05-27 09:00 UTC; seats can be reduced at "
        "renewal on 2025-09-14."
    )


# --- The API ----------------------------------------------------------------------------------------


def _url(subscription) -> str:
    return f"/api/v1/commerce/new-commerce-subscriptions/{subscription.pk}/"


def test_the_api_reduces_seats_inside_the_window_and_shows_the_credit(org_a, api_for):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        api = api_for(org_a, scopes=SCOPES)
        response = api.patch(_url(subscription), {"quantity": 230}, format="json", HTTP_MS_REQUESTID="ms-1")
        again = api.patch(_url(subscription), {"quantity": 230}, format="json", HTTP_MS_REQUESTID="ms-1")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["quantity"], body["status"]) == (230, "active")
    assert body["cancellationWindowEndsAt"] == body["cancellationAllowedUntilDate"] == "2024-04-08T14:00:00Z"
    assert body["lastChange"]["kind"] == "seats_reduced"
    assert body["lastChange"]["credit"] == "4660.870000"
    assert body["lastChange"]["requestId"] == "ms-1"
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["lastChange"] == body["lastChange"]
    assert len(changes(subscription)) == 1


def test_the_api_refuses_a_reduction_after_the_window_with_409(org_a, api_for):
    subscription = c4(org_a)
    with freeze_time(AT_169_H):
        api = api_for(org_a, scopes=SCOPES)
        response = api.patch(_url(subscription), {"quantity": 230}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["field"], body["reason"], body["windowClosedAt"]) == (
        "quantity",
        CLOSED,
        "2024-04-08T14:00:00Z",
    )
    assert body["errors"] == {"quantity": [CLOSED]}


def test_the_api_cancels_with_partner_centers_deleted_status(org_a, api_for):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        api = api_for(org_a, scopes=SCOPES)
        # Partner Center's SDKs send the resource back whole, read-only properties included.
        whole = api.get(_url(subscription)).json()
        response = api.patch(_url(subscription), {**whole, "status": "deleted"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["lastChange"]["kind"], body["lastChange"]["credit"]) == (
        "cancelled",
        "cancelled",
        "58260.820000",
    )
    assert body["cancelledAt"] == "2024-04-08T13:00:00Z"


def test_the_api_cancel_after_the_window_is_409_and_also_takes_cancelled(org_a, api_for):
    subscription = c4(org_a)
    with freeze_time(AT_169_H):
        api = api_for(org_a, scopes=SCOPES)
        response = api.patch(
            _url(subscription), {"status": "cancelled"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
    assert response.status_code == 409
    assert response.json()["field"] == "status"
    assert response.json()["windowClosedAt"] == "2024-04-08T14:00:00Z"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({}, "quantity", 'Send quantity (the new number of seats) or status "deleted" to cancel.'),
        ({"status": "suspended"}, "status", "'suspended' is not a status this update sets"),
        ({"status": "deleted", "quantity": 3}, "quantity", "Cancel or change the seats, not both"),
        ({"quantity": 0}, "quantity", "outside the 1 to 10000 seats"),
    ],
)
def test_the_api_names_the_field_of_a_bad_request(org_a, api_for, body, field, reason):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        api = api_for(org_a, scopes=SCOPES)
        response = api.patch(_url(subscription), body, format="json")
    assert response.status_code == 400
    problem = response.json()
    assert problem["field"] == field and reason in problem["reason"]
    assert problem["windowClosedAt"] is None
    assert changes(subscription) == []


def test_the_api_needs_the_ordering_capability_to_change_and_reads_with_customers_view(org_a, api_for):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        helpdesk = api_for(org_a, scopes=SCOPES, roles=(Role.HELPDESK_AGENT,))
        assert helpdesk.get(_url(subscription)).status_code == 200
        assert helpdesk.patch(_url(subscription), {"quantity": 230}, format="json").status_code == 403
        reader = api_for(org_a, scopes=("commerce:read",))
        assert reader.patch(_url(subscription), {"quantity": 230}, format="json").status_code == 403
    assert changes(subscription) == []


def test_another_organizations_subscription_is_404(org_a, org_b, api_for):
    subscription = c4(org_a)
    with freeze_time(AT_167_H):
        outsider = api_for(org_b, scopes=SCOPES)
        assert outsider.patch(_url(subscription), {"quantity": 230}, format="json").status_code == 404
    assert changes(subscription) == []


# --- The page ----------------------------------------------------------------------------------------


def _token(page: str, form: str) -> str:
    section = page[page.index(f'data-testid="{form}"') :]
    return re.search(r'name="request_id" value="([^"]+)"', section).group(1)


def test_the_page_reduces_seats_once_and_cancels_after_confirmation(org_a, alice, verified_client):
    subscription = c4(org_a)
    detail = reverse("commerce:nce-subscription-detail", args=[subscription.pk])
    with freeze_time(AT_167_H):
        client = verified_client(alice)
        listed = client.get(reverse("commerce:nce-subscription-list")).content.decode()
        assert detail in listed
        page = client.get(detail).content.decode()
        assert "until 2024-04-08 14:00 UTC" in page
        assert 'data-testid="cancel-credit">58260.82 USD' in page
        seats = {"quantity": 230, "request_id": _token(page, "seats-form")}
        url = reverse("commerce:nce-subscription-seats", args=[subscription.pk])
        assert client.post(url, seats).status_code == 302
        followed = client.post(url, seats, follow=True).content.decode()  # the form sent twice
        assert "already carried out" in followed
        cancel_url = reverse("commerce:nce-subscription-cancel", args=[subscription.pk])
        unconfirmed = client.post(cancel_url, {"request_id": "c-1"}, follow=True).content.decode()
        assert "Tick the confirmation to cancel the subscription." in unconfirmed
        subscription.refresh_from_db()
        assert (subscription.quantity, subscription.status) == (230, "active")
        done = client.post(cancel_url, {"request_id": "c-1", "confirm": "on"}, follow=True).content.decode()
    assert "Subscription cancelled; credit 53,599.96 USD." in done
    assert [kind for kind, *_ in changes(subscription)] == ["seats_reduced", "cancelled"]


def test_the_page_shows_the_closed_window_and_refuses_a_reduction(org_a, alice, verified_client):
    subscription = c4(org_a)
    detail = reverse("commerce:nce-subscription-detail", args=[subscription.pk])
    with freeze_time(AT_169_H):
        client = verified_client(alice)
        page = client.get(detail).content.decode()
        assert "The 7-day window closed on 2024-04-08 14:00 UTC" in page
        assert 'data-testid="cancel-form"' not in page
        url = reverse("commerce:nce-subscription-seats", args=[subscription.pk])
        refused = client.post(url, {"quantity": 230, "request_id": "x"}, follow=True).content.decode()
        assert CLOSED in refused
        added = client.post(url, {"quantity": 255, "request_id": "y"}, follow=True).content.decode()
        assert "Seats 250 → 255." in added


def test_a_reader_sees_the_page_without_the_forms(org_a, verified_client):
    subscription = c4(org_a)
    helpdesk = UserFactory(organization=org_a, roles=[Role.HELPDESK_AGENT])
    with freeze_time(AT_167_H):
        client = verified_client(helpdesk)
        page = client.get(reverse("commerce:nce-subscription-detail", args=[subscription.pk]))
        assert page.status_code == 200
        assert 'data-testid="seats-form"' not in page.content.decode()
        url = reverse("commerce:nce-subscription-seats", args=[subscription.pk])
        assert client.post(url, {"quantity": 230}).status_code == 403
    assert changes(subscription) == []
