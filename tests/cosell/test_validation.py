"""Partner Center JSON ↔ Referral fields (cosell/validation.py): errors keyed by JSON path, both examples
of spec §12 accepted, and the rendered document in the documented shape."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cosell.validation import referral_from_json, referral_to_json
from portal.iso import COUNTRIES, CURRENCIES, is_country, is_currency
from tests.cosell.test_referrals import INBOUND
from tests.factories import ReferralFactory

#: spec §12, the partner-created deal (read-only properties included, as a client echoes them back).
PARTNER_DEAL = {
    "id": "4111fffc-f9ee-4d53-bba6-569135228642",
    "engagementId": "37ef26aa-1d15-4533-9f93-a69bd33ab1e5",
    "name": "Contoso Retail - Dynamics 365 field service rollout",
    "externalReferenceId": "CRM-OPP-004512",
    "createdDateTime": "2025-02-10T14:05:23Z",
    "status": "Active",
    "substatus": "Accepted",
    "type": "Shared",
    "qualification": "SalesQualified",
    "customerMarketplaceIntent": "Yes",
    "target": [{"type": "SolutionProfile", "id": "SOL-ABC-001"}],
    "customerProfile": {
        "name": "Contoso Retail Ltd",
        "address": {
            "addressLine1": "1 King Street",
            "city": "London",
            "postalCode": "EC2V 8AU",
            "country": "GB",
        },
        "size": "251to1000employees",
        "team": [{"firstName": "Sue", "lastName": "Smith", "email": "sue.smith@contoso.example"}],
        "ids": {"external": "CUST-88121"},
    },
    "consent": {"consentToToShareInfoWithOthers": True, "consentToContact": True},
    "details": {
        "notes": "Field service for 400 engineers.",
        "dealValue": 65000.5,
        "currency": "GBP",
        "closingDateTime": "2025-06-30T00:00:00Z",
        "requirements": {"products": [{"id": "Dynamics365Enterprise"}]},
    },
    "team": [{"firstName": "Dana", "lastName": "Ruiz", "email": "dana.ruiz@fabrikam.example"}],
    "inviteContext": {"invitedBy": {"organizationId": "7d23e5ca-19dc-4eaa-aac8-5e6b559f0d1d"}},
    "eTag": '"00006d10-0000-0000-0000-5c70aa630000"',
}


def _errors(data, partial=False) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        referral_from_json(data, partial)
    return caught.value.message_dict


def test_the_iso_lists_are_the_real_ones():
    assert len(COUNTRIES) == 249
    assert {"DE", "GB", "US", "AX", "SS", "XK"} - COUNTRIES == {"XK"}  # Kosovo has no ISO code
    assert {"EUR", "GBP", "USD", "JPY", "CHF"} <= CURRENCIES
    assert not is_country("UK") and not is_country("de") and is_country("DE")
    assert not is_currency("EUX") and not is_currency("eur") and is_currency("EUR")


def test_it_maps_the_partner_deal_to_fields():
    fields = referral_from_json(PARTNER_DEAL, partial=False)
    assert fields["name"] == PARTNER_DEAL["name"]
    assert fields["external_reference_id"] == "CRM-OPP-004512"
    assert (fields["customer_name"], fields["customer_country"], fields["customer_size"]) == (
        "Contoso Retail Ltd",
        "GB",
        "251to1000employees",
    )
    assert fields["deal_value"] == Decimal("65000.5")
    assert fields["closing_at"] == datetime(2025, 6, 30, tzinfo=UTC)
    assert fields["customer_marketplace_intent"] == "Yes"
    assert fields["requirements"] == {"products": [{"id": "Dynamics365Enterprise"}]}
    assert "id" not in fields and "created_at" not in fields and "referral_id" not in fields


def test_it_accepts_the_inbound_example():
    fields = referral_from_json(INBOUND, partial=False)
    assert fields["invite_context"]["invitedBy"]["organizationId"] == "msft"
    assert fields["external_reference_id"] == ""


def test_it_reports_every_problem_at_once_by_path():
    data = copy.deepcopy(PARTNER_DEAL)
    data["type"] = "Exclusive"
    data["customerProfile"]["size"] = "huge"
    data["customerProfile"]["team"][0]["email"] = "not-an-email"
    data["details"]["closingDateTime"] = "next week"
    data["target"] = [{"type": "Elsewhere", "id": ""}]
    data["consent"]["consentToContact"] = "yes"
    assert set(_errors(data)) == {
        "type",
        "customerProfile.size",
        "customerProfile.team[0].email",
        "details.closingDateTime",
        "target[0].type",
        "target[0].id",
        "consent.consentToContact",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "zero or more"),
        ("abc", "not a number"),
        (True, "Must be a number"),
        ("1.1234567", "decimal places"),
        (10**13, "digits"),
    ],
)
def test_it_checks_the_deal_value(value, message):
    data = copy.deepcopy(PARTNER_DEAL)
    data["details"]["dealValue"] = value
    assert message in " ".join(_errors(data)["details.dealValue"])


def test_a_partial_document_checks_only_what_is_there():
    assert referral_from_json({"details": {"dealValue": "12.50"}}, partial=True) == {
        "deal_value": Decimal("12.50")
    }
    assert set(_errors({"customerProfile": {"address": {"country": "ZZ"}}}, partial=True)) == {
        "customerProfile.address.country"
    }
    assert referral_from_json({}, partial=True) == {}


def test_it_refuses_what_is_not_an_object():
    assert _errors([1, 2]) == {"": ["The referral must be a JSON object."]}
    assert "customerProfile" in _errors({**PARTNER_DEAL, "customerProfile": "Contoso"})


def test_a_missing_name_takes_the_customers():
    data = copy.deepcopy(PARTNER_DEAL)
    del data["name"]
    assert referral_from_json(data, partial=False)["name"] == "Contoso Retail Ltd"


@pytest.mark.django_db
def test_it_renders_the_documented_shape(org_a):
    referral = ReferralFactory(
        organization=org_a, closing_at=datetime(2025, 9, 30, tzinfo=UTC), deal_value=Decimal("180000.000000")
    )
    document = referral_to_json(referral)
    assert list(document) == [
        "id",
        "engagementId",
        "organizationId",
        "organizationName",
        "name",
        "externalReferenceId",
        "createdDateTime",
        "updatedDateTime",
        "expirationDateTime",
        "acceptedDateTime",
        "status",
        "substatus",
        "statusReason",
        "type",
        "qualification",
        "referralSource",
        "callToAction",
        "customerMarketplaceIntent",
        "target",
        "customerProfile",
        "consent",
        "details",
        "team",
        "inviteContext",
        "partnerRole",
        "solutionArea",
        "solutionPlay",
        "eTag",
        "links",
    ]
    assert document["id"] == str(referral.referral_id)
    assert document["organizationId"] == org_a.partner_global_id
    assert document["details"]["dealValue"] == Decimal("180000")
    assert document["details"]["closingDateTime"] == "2025-09-30T00:00:00Z"
    assert document["eTag"] == referral.etag
    assert document["links"]["relatedReferrals"] == {
        "uri": f"/api/v1/cosell/engagements/referrals?$filter=engagementId eq '{referral.engagement_id}'",
        "method": "GET",
    }
    # What it renders, it reads back unchanged.
    fields = referral_from_json(document, partial=False)
    assert fields["deal_value"] == referral.deal_value
    assert fields["customer_profile"] == referral.customer_profile
