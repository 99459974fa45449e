"""Referral and deal services: creation in Partner Center's shape, drafts, updates with eTags, webhooks."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cosell.choices import DealKind, HistorySource, MicrosoftStatus
from cosell.models import Referral
from cosell.services.referrals import (
    StaleReferral,
    deal_draft_save,
    deal_submit,
    referral_create,
    referral_update,
)
from cosell.validation import referral_to_json
from portal.models import WebhookDelivery
from portal.roles import Role
from tests.factories import RoutingRuleFactory, UserFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

#: spec §12, the incoming Microsoft co-sell invitation, as a client posts it (no read-only fields).
INBOUND = {
    "name": "Northwind Traders - data platform modernisation",
    "externalReferenceId": None,
    "type": "Shared",
    "qualification": "SalesQualified",
    "target": [{"type": "SolutionProfile", "id": "SOL-34104-EBB"}],
    "customerProfile": {
        "name": "Northwind Traders AG",
        "address": {
            "addressLine1": "Hauptstrasse 5",
            "city": "Munich",
            "state": "BY",
            "postalCode": "80331",
            "country": "DE",
        },
        "size": "1001to5000employees",
        "team": [
            {
                "firstName": "Lena",
                "lastName": "Vogt",
                "email": "lena.vogt@northwind.example",
                "phoneNumber": "+49891234567",
                "contactPreference": {"locale": "de-de", "disableNotifications": False},
            }
        ],
        "ids": {"duns": "123456789"},
    },
    "consent": {"consentToToShareInfoWithOthers": True, "consentToContact": True},
    "details": {
        "notes": "Customer wants to move on-premises SQL warehouse to Azure.",
        "dealValue": 180000,
        "currency": "EUR",
        "closingDateTime": "2025-09-30T00:00:00Z",
        "requirements": {
            "industries": [{"id": "Manufacturing"}],
            "products": [{"id": "Azure"}, {"id": "PowerBI"}],
            "services": [{"id": "DeploymentOrMigration"}],
            "solutions": [{"id": "DataWarehouse", "name": "Data Warehouse", "type": "Category"}],
        },
    },
    "team": [],
    "inviteContext": {
        "notes": "Please contact the customer this week.",
        "invitedBy": {"organizationId": "msft", "organizationName": "Microsoft"},
    },
}


def inbound(**changes) -> dict:
    document = copy.deepcopy(INBOUND)
    document.update(changes)
    return document


def deal(org, **changes) -> dict:
    """A partner-created deal: invited by the organization itself."""
    document = inbound(
        name="Contoso Retail - field service rollout",
        inviteContext={"invitedBy": {"organizationId": org.partner_global_id}},
        target=[{"type": "SolutionProfile", "id": "SOL-ABC-001"}],
    )
    document.update(changes)
    return document


@pytest.fixture
def admin(org_a):
    return UserFactory(organization=org_a, email="dana@alpha.example", roles=[Role.REFERRALS_ADMIN])


class TestReferralCreate:
    def test_it_accepts_the_documented_inbound_referral_as_is(self, org_a, admin):
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        referral.refresh_from_db()
        assert (referral.status, referral.substatus) == ("New", "Received")
        assert referral.is_inbound
        assert referral.customer_country == "DE"
        assert referral.deal_value == Decimal("180000")
        assert referral.currency == "EUR"
        assert referral.expiration_at - referral.created_at == timedelta(days=14)
        assert referral.version > 1  # routed on arrival, a second write

    def test_it_routes_an_inbound_referral_on_arrival(self, org_a, admin):
        rule = RoutingRuleFactory(organization=org_a, priority=10, match_countries=["DE", "AT"])
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        referral.refresh_from_db()
        assert referral.routing_rule == rule
        assert referral.assigned_team == "DACH Data team"

    @pytest.mark.parametrize(
        ("remove", "path"),
        [
            (("customerProfile",), "customerProfile"),
            (("customerProfile", "name"), "customerProfile.name"),
            (("customerProfile", "address", "country"), "customerProfile.address.country"),
            (("consent",), "consent"),
            (("details",), "details"),
            (("details", "dealValue"), "details.dealValue"),
            (("details", "currency"), "details.currency"),
            (("type",), "type"),
        ],
    )
    def test_it_names_each_missing_required_field_and_creates_nothing(self, org_a, admin, remove, path):
        document = inbound()
        parent = document
        for key in remove[:-1]:
            parent = parent[key]
        del parent[remove[-1]]
        with pytest.raises(ValidationError) as caught:
            referral_create(organization=org_a, actor=admin, data=document, source=HistorySource.API)
        assert path in caught.value.message_dict
        assert not Referral.objects.exists()

    @pytest.mark.parametrize(
        ("change", "path", "words"),
        [
            (
                {"customerProfile": {"name": "N", "address": {"country": "XX"}}},
                "customerProfile.address.country",
                "ISO 3166",
            ),
            ({"details": {"dealValue": 1, "currency": "EUX"}}, "details.currency", "ISO 4217"),
            ({"details": {"dealValue": -5, "currency": "EUR"}}, "details.dealValue", "zero or more"),
        ],
    )
    def test_it_refuses_unknown_codes_and_negative_values(self, org_a, admin, change, path, words):
        with pytest.raises(ValidationError) as caught:
            referral_create(organization=org_a, actor=admin, data=inbound(**change), source=HistorySource.API)
        assert words in " ".join(caught.value.message_dict[path])
        assert not Referral.objects.exists()

    def test_a_shared_co_sell_deal_creates_the_vendor_side_referral(self, org_a, admin):
        referral = referral_create(
            organization=org_a, actor=admin, data=deal(org_a, dealKind="CoSell"), source=HistorySource.UI
        )
        referral.refresh_from_db()
        assert (referral.status, referral.substatus) == ("Active", "Accepted")
        assert referral.accepted_at == referral.created_at
        assert referral.deal_kind == DealKind.CO_SELL
        assert referral.microsoft_status == MicrosoftStatus.PENDING
        assert referral.expiration_at is None
        vendor = Referral.objects.exclude(pk=referral.pk).get()
        assert vendor.engagement_id == referral.engagement_id
        assert vendor.target == [{"type": "BusinessProfileLocation", "id": "msft"}]
        assert vendor.microsoft_status == MicrosoftStatus.PENDING
        assert (vendor.status, vendor.substatus) == ("New", "Pending")

    def test_a_private_deal_has_no_vendor_side_referral(self, org_a, admin):
        referral = referral_create(
            organization=org_a,
            actor=admin,
            data=deal(org_a, type="Independent", dealKind="Private"),
            source=HistorySource.UI,
        )
        assert Referral.objects.get() == referral
        assert referral.microsoft_status == ""

    def test_a_posted_vendor_side_referral_is_not_duplicated(self, org_a, admin):
        """spec §3's two-call way: the client posts the vendor-side referral itself."""
        referral_create(
            organization=org_a,
            actor=admin,
            data=deal(org_a, target=[{"type": "BusinessProfileLocation", "id": "msft"}]),
            source=HistorySource.API,
        )
        vendor = Referral.objects.get()
        assert vendor.microsoft_status == MicrosoftStatus.PENDING


class TestDrafts:
    def test_a_draft_takes_partial_data_and_submit_validates_in_full(self, org_a, admin):
        draft = deal_draft_save(organization=org_a, actor=admin, data={"name": "Contoso rollout"})
        assert draft.is_draft
        with pytest.raises(ValidationError) as caught:
            deal_submit(referral=draft, actor=admin)
        assert {
            "customerProfile.name",
            "customerProfile.address.country",
            "consent.consentToContact",
            "details.dealValue",
            "details.currency",
        } <= set(caught.value.message_dict)
        draft.refresh_from_db()
        assert draft.is_draft

        document = deal(org_a, dealKind="PartnerLed")
        del document["name"]
        draft = deal_draft_save(organization=org_a, actor=admin, data=document, referral=draft)
        submitted = deal_submit(referral=draft, actor=admin)
        submitted.refresh_from_db()
        assert not submitted.is_draft
        assert submitted.name == "Contoso rollout"
        assert submitted.deal_kind == DealKind.PARTNER_LED
        assert (submitted.status, submitted.substatus) == ("Active", "Accepted")

    def test_a_draft_still_checks_what_it_is_given(self, org_a, admin):
        with pytest.raises(ValidationError) as caught:
            deal_draft_save(organization=org_a, actor=admin, data={"details": {"currency": "ZZZ"}})
        assert "details.currency" in caught.value.message_dict


class TestReferralUpdate:
    def test_it_refuses_a_stale_etag_and_changes_nothing(self, org_a, admin):
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        old_etag = referral.etag
        referral_update(
            referral=referral,
            actor=admin,
            data={"name": "First"},
            if_match=old_etag,
            partial=True,
            source=HistorySource.API,
        )
        with pytest.raises(StaleReferral):
            referral_update(
                referral=referral,
                actor=admin,
                data={"name": "Second"},
                if_match=old_etag,
                partial=True,
                source=HistorySource.API,
            )
        referral.refresh_from_db()
        assert referral.name == "First"

    def test_a_patch_bumps_the_version_and_keeps_the_rest(self, org_a, admin):
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        referral.refresh_from_db()
        before = (referral.version, referral.updated_at, referral.etag)
        updated = referral_update(
            referral=referral,
            actor=admin,
            data={"details": {"dealValue": 65000}},
            if_match=referral.etag,
            partial=True,
            source=HistorySource.API,
        )
        updated.refresh_from_db()
        assert updated.version == before[0] + 1
        assert updated.updated_at > before[1]
        assert updated.etag != before[2]
        assert updated.deal_value == Decimal("65000")
        assert updated.currency == "EUR"
        assert updated.customer_profile["address"]["city"] == "Munich"

    def test_a_put_needs_the_whole_document(self, org_a, admin):
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        document = inbound()
        del document["consent"]
        with pytest.raises(ValidationError) as caught:
            referral_update(
                referral=referral,
                actor=admin,
                data=document,
                if_match=None,
                partial=False,
                source=HistorySource.API,
            )
        assert "consent" in caught.value.message_dict

    def test_the_json_round_trips(self, org_a, admin):
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        referral.refresh_from_db()
        document = referral_to_json(referral)
        assert document["customerProfile"] == INBOUND["customerProfile"]
        assert document["details"]["dealValue"] == 180000
        assert document["eTag"] == referral.etag
        assert document["links"]["relatedReferrals"]["uri"].endswith(
            f"$filter=engagementId eq '{referral.engagement_id}'"
        )
        assert document["expirationDateTime"].endswith("Z")
        unchanged = referral_update(
            referral=referral,
            actor=admin,
            data=document,
            if_match=document["eTag"],
            partial=False,
            source=HistorySource.API,
        )
        assert unchanged.version == referral.version


class TestWebhooks:
    def test_referral_events_are_queued_for_subscribed_endpoints(self, org_a, admin):
        WebhookEndpointFactory(
            organization=org_a,
            events=["cosell.referral.created", "cosell.referral.updated", "cosell.referral.status_changed"],
        )
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        referral_update(
            referral=referral,
            actor=admin,
            data={"name": "Renamed", "status": "Active", "substatus": "Accepted"},
            if_match=None,
            partial=True,
            source=HistorySource.API,
        )
        events = list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))
        assert events[0] == "cosell.referral.updated"  # routing on arrival
        assert "cosell.referral.created" in events
        assert "cosell.referral.status_changed" in events
        assert events.count("cosell.referral.updated") == 2
        status = WebhookDelivery.objects.get(event="cosell.referral.status_changed")
        assert status.payload["data"]["fromStatus"] == "New"
        assert status.payload["data"]["status"] == "Active"

    def test_accept_sets_the_accepted_time(self, org_a, admin):
        referral = referral_create(organization=org_a, actor=admin, data=inbound(), source=HistorySource.API)
        referral_update(
            referral=referral,
            actor=admin,
            data={"status": "Active", "substatus": "Accepted"},
            if_match=None,
            partial=True,
            source=HistorySource.API,
        )
        referral.refresh_from_db()
        assert referral.accepted_at is not None
        assert referral.accepted_at <= timezone.now()
