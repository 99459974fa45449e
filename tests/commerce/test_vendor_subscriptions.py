"""The vendor's legacy subscriptions feed: Partner Center Subscription records for partners'
customers, upserted on their id, with a result per record; the Commerce pages read them at once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from commerce.models import LegacySubscription, NceSubscription
from portal.models import HistoryEvent
from portal.roles import Role
from tests.accounts.test_vendor_api import _vendor_api
from tests.factories import (
    CustomerFactory,
    LegacyOfferFactory,
    LegacySubscriptionFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FEED = "/api/v1/vendor/subscriptions/"
NCE_FEED = "/api/v1/vendor/new-commerce-subscriptions/"


def _history(subscription) -> list[HistoryEvent]:
    content_type = ContentType.objects.get_for_model(NceSubscription)
    return list(
        HistoryEvent.objects.filter(content_type=content_type, object_id=str(subscription.pk)).order_by("seq")
    )


@pytest.fixture
def vendor_api(db):
    staff = UserFactory(organization=None, is_staff=True)
    return _vendor_api(staff, scopes=("vendor.subscriptions:write", "vendor.subscriptions:read"))


def _subscription(partner, customer, offer, **overrides) -> dict:
    today = timezone.localdate()
    record = {
        "partnerId": partner.partner_global_id,
        "customerTenantId": str(customer.tenant_id),
        "id": str(uuid.uuid4()),
        "offerId": str(offer.offer_id).upper(),
        "offerName": offer.name,
        "friendlyName": "Office for Contoso",
        "quantity": 25,
        "effectiveStartDate": f"{today - timedelta(days=200)}T00:00:00Z",
        "commitmentEndDate": f"{today + timedelta(days=165)}T00:00:00Z",
        "status": "active",
        "autoRenewEnabled": True,
        "billingCycle": "Monthly",
        "termDuration": "P1Y",
        "isTrial": False,
    }
    record.update(overrides)
    return record


def test_subscriptions_arrive_idempotently_and_show_in_commerce(vendor_api, verified_client):
    partner = OrganizationFactory(partner_global_id="4800002")
    customer = CustomerFactory(organization=partner)
    offer = LegacyOfferFactory()
    body = [_subscription(partner, customer, offer, quantity=10 + n) for n in range(10)]
    first = vendor_api.post(FEED, body, format="json")
    assert first.status_code == 200, first.content
    assert (first.json()["created"], first.json()["rejected"]) == (10, 0)
    stored = LegacySubscription.objects.filter(organization=partner)
    assert stored.count() == 10
    one = stored.get(subscription_id=body[0]["id"])
    assert (one.customer, one.offer, one.quantity, one.term_duration) == (customer, offer, 10, "P1Y")
    again = vendor_api.post(FEED, body, format="json")
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 10)
    owner = UserFactory(organization=partner, roles=[Role.OWNER, Role.GLOBAL_ADMIN])
    page = verified_client(owner).get(reverse("commerce:customer-subscriptions", args=[customer.pk]))
    assert page.status_code == 200
    assert offer.name in page.content.decode()


def test_records_that_cannot_be_stored_say_why(vendor_api):
    partner = OrganizationFactory(partner_global_id="4800003")
    customer = CustomerFactory(organization=partner)
    stranger = CustomerFactory()
    offer = LegacyOfferFactory()
    body = [
        _subscription(partner, customer, offer),
        _subscription(partner, stranger, offer),
        _subscription(partner, customer, offer, offerId=str(uuid.uuid4())),
        _subscription(partner, customer, offer, parentSubscriptionId=str(uuid.uuid4())),
        _subscription(partner, customer, offer, quantity=0, commitmentEndDate="2020-01-01"),
    ]
    results = vendor_api.post(FEED, body, format="json").json()["value"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected"]
    assert "not a customer of this partner" in results[1]["errors"][0]["reason"]
    assert results[2]["errors"][0]["property"] == "offerId"
    assert results[3]["errors"] == [
        {
            "property": "parentSubscriptionId",
            "value": body[3]["parentSubscriptionId"],
            "reason": "is not a base subscription of this customer: send the base before its add-ons "
            "(earlier in the same body or file, or in an earlier call)",
        }
    ]
    assert {e["property"] for e in results[4]["errors"]} == {"quantity", "commitmentEndDate"}
    assert LegacySubscription.objects.filter(organization=partner).count() == 1


# --- The subscription's state: promotion, trade status, legacy price, status changes ----------------


def test_the_state_the_eligibility_engine_reads_arrives_and_is_corrected(vendor_api):
    partner = OrganizationFactory(partner_global_id="4800004")
    customer = CustomerFactory(organization=partner)
    offer = LegacyOfferFactory()
    record = _subscription(
        partner,
        customer,
        offer,
        promotionId="39NFJQT1Q5KQ:0001:39NFJQT1Q5KR",
        tradeStatus="NotAllowed",
        unitPrice="19.80",
        currency="eur",
    )
    assert vendor_api.post(FEED, [record], format="json").json()["created"] == 1
    stored = LegacySubscription.objects.get(subscription_id=record["id"])
    assert (stored.promotion_id, stored.trade_status, stored.unit_price, stored.currency) == (
        "39NFJQT1Q5KQ:0001:39NFJQT1Q5KR",
        "NotAllowed",
        Decimal("19.80"),
        "EUR",
    )
    assert vendor_api.post(FEED, [record], format="json").json()["unchanged"] == 1
    # The promotion ended and trade is allowed again; the price is not resent and stays.
    corrected = {**record, "promotionId": None, "tradeStatus": "Allowed", "status": "suspended"}
    del corrected["unitPrice"], corrected["currency"]
    assert vendor_api.post(FEED, [corrected], format="json").json()["updated"] == 1
    stored.refresh_from_db()
    assert (stored.promotion_id, stored.trade_status, stored.status) == ("", "Allowed", "suspended")
    assert (stored.unit_price, stored.currency) == (Decimal("19.80"), "EUR")
    deleted = vendor_api.post(FEED, [{**corrected, "status": "deleted"}], format="json").json()
    assert deleted["updated"] == 1
    stored.refresh_from_db()
    assert stored.status == "deleted"


@pytest.mark.parametrize(
    ("state", "errors"),
    [
        ({"unitPrice": "19.80", "currency": "EUX"}, {("currency", "is not an ISO 4217 currency code")}),
        ({"unitPrice": "19.80", "currency": "EURO"}, {("currency", "is not an ISO 4217 currency code")}),
        ({"unitPrice": "19.80"}, {("currency", "is required with unitPrice")}),
        ({"unitPrice": "-1", "currency": "EUR"}, {("unitPrice", "is below 0")}),
        ({"unitPrice": "1.1234567", "currency": "EUR"}, {("unitPrice", "has more than 6 decimal places")}),
        ({"tradeStatus": "Maybe"}, {("tradeStatus", "is not one of Allowed, NotAllowed")}),
        ({"promotionId": "P" * 65}, {("promotionId", "is longer than 64 characters")}),
    ],
)
def test_bad_state_is_refused_naming_the_property(vendor_api, state, errors):
    partner = OrganizationFactory(partner_global_id="4800005")
    customer = CustomerFactory(organization=partner)
    record = _subscription(partner, customer, LegacyOfferFactory(), **state)
    [result] = vendor_api.post(FEED, [record], format="json").json()["value"]
    assert result["outcome"] == "rejected"
    assert {(e["property"], e["reason"]) for e in result["errors"]} == errors
    assert not LegacySubscription.objects.filter(subscription_id=record["id"]).exists()


# --- Add-ons ----------------------------------------------------------------------------------------


def test_add_ons_arrive_with_a_base_earlier_in_the_body_or_already_stored(vendor_api):
    partner = OrganizationFactory(partner_global_id="4800006")
    customer = CustomerFactory(organization=partner)
    other_customer = CustomerFactory(organization=partner)
    offer, addon_offer = LegacyOfferFactory(), LegacyOfferFactory()
    base = _subscription(partner, customer, offer)
    addon = _subscription(partner, customer, addon_offer, parentSubscriptionId=base["id"], quantity=5)
    before_its_base = _subscription(partner, customer, addon_offer, parentSubscriptionId=base["id"])
    wrong_customer = _subscription(partner, other_customer, addon_offer, parentSubscriptionId=base["id"])
    body = [before_its_base, base, addon, wrong_customer]
    results = vendor_api.post(FEED, body, format="json").json()["value"]
    assert [r["outcome"] for r in results] == ["rejected", "created", "created", "rejected"]
    assert results[0]["errors"][0]["property"] == "parentSubscriptionId"
    assert results[3]["errors"][0]["property"] == "parentSubscriptionId"
    stored = LegacySubscription.objects.get(subscription_id=addon["id"])
    assert stored.parent.subscription_id == uuid.UUID(base["id"])
    # Sent again, alone: its base is in the portal now, and nothing changes.
    again = vendor_api.post(FEED, [addon], format="json").json()
    assert (again["unchanged"], again["rejected"]) == (1, 0)
    # A stored base subscription turned into an add-on of a base sent earlier in the same body.
    second_base = _subscription(partner, customer, offer)
    moved = {**addon, "parentSubscriptionId": second_base["id"]}
    outcome = vendor_api.post(FEED, [second_base, moved], format="json").json()
    assert [r["outcome"] for r in outcome["value"]] == ["created", "updated"]
    stored.refresh_from_db()
    assert stored.parent.subscription_id == uuid.UUID(second_base["id"])


def test_an_add_on_of_an_add_on_or_of_a_rejected_base_is_refused(vendor_api):
    partner = OrganizationFactory(partner_global_id="4800007")
    customer = CustomerFactory(organization=partner)
    offer = LegacyOfferFactory()
    base = _subscription(partner, customer, offer, quantity=0)  # rejected itself
    addon = _subscription(partner, customer, offer, parentSubscriptionId=base["id"])
    results = vendor_api.post(FEED, [base, addon], format="json").json()["value"]
    assert [r["outcome"] for r in results] == ["rejected", "rejected"]
    good_base = _subscription(partner, customer, offer)
    addon = _subscription(partner, customer, offer, parentSubscriptionId=good_base["id"])
    vendor_api.post(FEED, [good_base, addon], format="json")
    nested = _subscription(partner, customer, offer, parentSubscriptionId=addon["id"])
    [result] = vendor_api.post(FEED, [nested], format="json").json()["value"]
    assert result["outcome"] == "rejected"


# --- The new-commerce subscriptions feed --------------------------------------------------------------


def _nce(partner, customer, **overrides) -> dict:
    record = {
        "partnerId": partner.partner_global_id,
        "customerTenantId": str(customer.tenant_id),
        "id": str(uuid.uuid4()),
        "offerId": PREMIUM_P1Y,
        "friendlyName": "Contoso Premium",
        "quantity": 40,
        "effectiveStartDate": "2025-05-20T00:00:00Z",
        "commitmentEndDate": "2026-05-19T00:00:00Z",
        "status": "active",
        "autoRenewEnabled": True,
        "billingCycle": "Monthly",
        "termDuration": "P1Y",
        "unitPrice": "237.60",
        "currency": "USD",
        "cancellationAllowedUntilDate": "2025-05-27T09:00:00Z",
    }
    record.update(overrides)
    return record


PREMIUM_P1Y = "CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN"


def test_new_commerce_subscriptions_arrive_idempotently_with_their_window(
    vendor_api, catalog, verified_client
):
    partner = OrganizationFactory(partner_global_id="4800010")
    customer = CustomerFactory(organization=partner)
    source = LegacySubscriptionFactory(organization=partner, customer=customer)
    record = _nce(partner, customer, migratedFromSubscriptionId=str(source.subscription_id))
    first = vendor_api.post(NCE_FEED, [record], format="json")
    assert first.status_code == 200, first.content
    assert (first.json()["created"], first.json()["rejected"]) == (1, 0), first.json()
    stored = NceSubscription.objects.get(subscription_id=record["id"])
    assert (stored.organization, stored.customer, stored.migrated_from) == (partner, customer, source)
    assert (stored.catalog_item_id, stored.availability.availability_id) == (PREMIUM_P1Y, "CFQ7TTC0KFFN")
    assert stored.friendly_name == "Contoso Premium"
    assert (stored.quantity, stored.term_start, stored.term_end) == (40, date(2025, 5, 20), date(2026, 5, 19))
    assert (stored.unit_price, stored.currency, stored.billing_cycle) == (Decimal("237.60"), "USD", "Monthly")
    assert stored.cancellation_window_ends_at == datetime(2025, 5, 27, 9, 0, tzinfo=UTC)
    assert [event.note for event in _history(stored)] == [
        "Arrived from the vendor's new-commerce subscriptions feed."
    ]
    again = vendor_api.post(NCE_FEED, [record], format="json").json()
    assert (again["created"], again["unchanged"]) == (0, 1)
    assert len(_history(stored)) == 1
    owner = UserFactory(organization=partner, roles=[Role.OWNER, Role.GLOBAL_ADMIN])
    page = verified_client(owner).get(reverse("commerce:nce-subscription-detail", args=[stored.pk]))
    assert page.status_code == 200 and "Migrated from" in page.content.decode()


def test_a_correction_updates_the_subscription_with_history(vendor_api, catalog):
    partner = OrganizationFactory(partner_global_id="4800011")
    customer = CustomerFactory(organization=partner)
    record = _nce(partner, customer)
    vendor_api.post(NCE_FEED, [record], format="json")
    corrected = {**record, "quantity": 45, "status": "suspended", "autoRenewEnabled": False}
    outcome = vendor_api.post(NCE_FEED, [corrected], format="json").json()
    assert (outcome["updated"], outcome["created"]) == (1, 0)
    stored = NceSubscription.objects.get(subscription_id=record["id"])
    assert (stored.quantity, stored.status, stored.auto_renew) == (45, "suspended", False)
    latest = _history(stored)[-1]
    assert (latest.from_status, latest.to_status) == ("active", "suspended")
    assert latest.note == (
        "Corrected by the vendor's feed: quantity 40 → 45; status active → suspended; "
        "autoRenewEnabled True → False"
    )
    assert latest.data["changes"]["quantity"] == [40, 45]
    cancelled = vendor_api.post(NCE_FEED, [{**corrected, "status": "deleted"}], format="json").json()
    assert cancelled["updated"] == 1
    stored.refresh_from_db()
    assert stored.status == "deleted" and stored.cancelled_at is not None


def test_bad_new_commerce_records_say_why(vendor_api, catalog):
    partner = OrganizationFactory(partner_global_id="4800012")
    customer = CustomerFactory(organization=partner)
    stranger = CustomerFactory()
    someone_elses = LegacySubscriptionFactory()
    body = [
        _nce(partner, customer, offerId="CFQ7TTC0LCHC:0002:NOSUCHAVAIL1"),
        _nce(partner, customer, offerId="premium"),
        _nce(partner, stranger),
        _nce(SimpleNamespace(partner_global_id="9999999"), customer),
        _nce(partner, customer, termDuration="P1M"),
        _nce(partner, customer, billingCycle="Triennial"),
        _nce(partner, customer, currency="XYZ", unitPrice="-3"),
        _nce(partner, customer, migratedFromSubscriptionId=str(someone_elses.subscription_id)),
        _nce(partner, customer, commitmentEndDate="2025-01-01"),
    ]
    results = vendor_api.post(NCE_FEED, body, format="json").json()["value"]
    assert [r["outcome"] for r in results] == ["rejected"] * len(body)
    reasons = [{(e["property"], e["reason"]) for e in r["errors"]} for r in results]
    catalog_item = "is not a catalog item of the catalog (ProductId:SkuId:AvailabilityId of an availability)"
    assert reasons[0] == {("offerId", catalog_item)}
    assert reasons[1] == {("offerId", "is not a catalog item ID (ProductId:SkuId:AvailabilityId)")}
    assert reasons[2] == {
        (
            "customerTenantId",
            "is not a customer of this partner (send the customer to the customers feed first)",
        )
    }
    assert ("partnerId", "is not a partner organization of this portal") in reasons[3]
    assert reasons[4] == {("termDuration", "is not the term of the catalog item in offerId")}
    assert reasons[5] == {("billingCycle", "is not a billing plan of the catalog item in offerId")}
    assert reasons[6] == {
        ("currency", "is not an ISO 4217 currency code"),
        ("unitPrice", "is below 0"),
    }
    assert reasons[7] == {
        ("migratedFromSubscriptionId", "is not a legacy subscription of this partner's customer")
    }
    assert reasons[8] == {("commitmentEndDate", "is before effectiveStartDate")}
    assert not NceSubscription.objects.filter(organization=partner).exists()


def test_another_partners_subscription_id_is_refused(vendor_api, catalog):
    first = OrganizationFactory(partner_global_id="4800013")
    second = OrganizationFactory(partner_global_id="4800014")
    record = _nce(first, CustomerFactory(organization=first))
    vendor_api.post(NCE_FEED, [record], format="json")
    taken = {**_nce(second, CustomerFactory(organization=second)), "id": record["id"]}
    [result] = vendor_api.post(NCE_FEED, [taken], format="json").json()["value"]
    assert result["errors"] == [
        {"property": "id", "value": record["id"], "reason": "is a subscription of another partner"}
    ]
    assert NceSubscription.objects.get(subscription_id=record["id"]).organization == first


def test_one_legacy_subscription_becomes_one_new_commerce_subscription(vendor_api, catalog):
    partner = OrganizationFactory(partner_global_id="4800015")
    customer = CustomerFactory(organization=partner)
    source = str(LegacySubscriptionFactory(organization=partner, customer=customer).subscription_id)
    body = [_nce(partner, customer, migratedFromSubscriptionId=source) for _ in range(2)]
    results = vendor_api.post(NCE_FEED, body, format="json").json()["value"]
    assert [r["outcome"] for r in results] == ["created", "rejected"]
    assert results[1]["errors"][0]["reason"] == "is already the source of another new-commerce subscription"
