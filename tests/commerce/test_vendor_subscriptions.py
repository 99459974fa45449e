"""The vendor's legacy subscriptions feed: Partner Center Subscription records for partners'
customers, upserted on their id, with a result per record; the Commerce pages read them at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from commerce.models import LegacySubscription
from portal.roles import Role
from tests.accounts.test_vendor_api import _vendor_api
from tests.factories import CustomerFactory, LegacyOfferFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/vendor/subscriptions/"


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
    assert "add-ons" in results[3]["errors"][0]["reason"]
    assert {e["property"] for e in results[4]["errors"]} == {"quantity", "commitmentEndDate"}
    assert LegacySubscription.objects.filter(organization=partner).count() == 1
