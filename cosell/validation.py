"""Partner Center's referral JSON (spec/cosell.md §2, §12) to model fields and back.

The one translation between the API shape and `Referral`: the services validate what a page, the
API or an import sends with `referral_from_json`, and the API serializer renders with
`referral_to_json`, so both read and write the same names. Errors are keyed by the JSON path of
the offending property ("customerProfile.address.country"), which the API returns as is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cosell.choices import (
    CustomerSize,
    DealKind,
    LeadTemperature,
    MarketplaceIntent,
    ReferralQualification,
    ReferralStatus,
    ReferralSubstatus,
    ReferralType,
)
from cosell.models import VENDOR_ID, Referral
from portal.iso import is_country, is_currency
from portal.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS

__all__ = (
    "REFERRALS_PATH",
    "TARGET_TYPES",
    "VENDOR_ID",
    "json_value",
    "organization_ref",
    "referral_from_json",
    "referral_to_json",
)

#: Where the API serves referrals; `links` in the JSON point here (relative to the site).
REFERRALS_PATH = "/api/v1/cosell/engagements/referrals"
TARGET_TYPES = ("BusinessProfileLocation", "SolutionProfile")
_SOLUTION_TAG_TYPES = ("Category", "Name")
_TAG_KINDS = ("industries", "products", "services", "solutions")


def organization_ref(organization) -> str:
    """The organization's id in the API shape: its partner global account id (PGA)."""
    return organization.partner_global_id


class _Errors:
    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.messages.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def _object(value: Any, path: str, errors: _Errors) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(path, "Must be an object.")
        return None
    return value


def _string(value: Any, path: str, errors: _Errors, *, max_length: int, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            errors.add(path, "This field is required.")
        return ""
    if not isinstance(value, str):
        errors.add(path, "Must be a string.")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(path, "This field is required.")
    if len(value) > max_length:
        errors.add(path, f"At most {max_length} characters.")
    return value


def _choice(value: Any, path: str, errors: _Errors, choices: list[str], *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            errors.add(path, "This field is required.")
        return ""
    if value not in choices:
        errors.add(path, f"{value!r} is not one of: {', '.join(c for c in choices if c)}.")
        return ""
    return value


def _datetime(value: Any, path: str, errors: _Errors) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        errors.add(path, f"{value!r} is not an ISO 8601 date and time (e.g. 2025-09-30T00:00:00Z).")
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _amount(value: Any, path: str, errors: _Errors) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        errors.add(path, "Must be a number.")
        return None
    try:
        # JSON numbers arrive as float; their shortest repr is the decimal the client wrote.
        amount = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        errors.add(path, f"{value!r} is not a number.")
        return None
    if not amount.is_finite():
        errors.add(path, "Must be a finite number.")
        return None
    if amount < 0:
        errors.add(path, "Must be zero or more.")
        return None
    places = -amount.as_tuple().exponent if amount.as_tuple().exponent < 0 else 0
    whole_digits = len(amount.quantize(Decimal(1)).as_tuple().digits)
    if places > AMOUNT_DECIMAL_PLACES or whole_digits > AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES:
        errors.add(path, f"At most {AMOUNT_DECIMAL_PLACES} decimal places and 12 digits before the point.")
        return None
    return amount


def _members(value: Any, path: str, errors: _Errors) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "Must be a list of members.")
        return []
    members = []
    for index, member in enumerate(value):
        item = f"{path}[{index}]"
        if not isinstance(member, dict):
            errors.add(item, "Must be an object.")
            continue
        for key in ("firstName", "lastName", "phoneNumber"):
            _string(member.get(key), f"{item}.{key}", errors, max_length=100)
        email = member.get("email")
        if email not in (None, ""):
            try:
                validate_email(email)
            except ValidationError:
                errors.add(f"{item}.email", f"{email!r} is not an e-mail address.")
        preference = _object(member.get("contactPreference"), f"{item}.contactPreference", errors)
        if preference is not None and not isinstance(preference.get("disableNotifications", False), bool):
            errors.add(f"{item}.contactPreference.disableNotifications", "Must be true or false.")
        members.append(member)
    return members


def _customer_profile(value: Any, errors: _Errors, *, partial: bool) -> dict[str, Any]:
    path = "customerProfile"
    profile = _object(value, path, errors)
    if profile is None:
        if not partial and value is None:
            errors.add(path, "This field is required.")
        return {}
    fields: dict[str, Any] = {"customer_profile": profile}
    fields["customer_name"] = _string(
        profile.get("name"), f"{path}.name", errors, max_length=200, required=not partial
    )
    address = _object(profile.get("address"), f"{path}.address", errors)
    if address is None:
        if not partial and profile.get("address") is None:
            errors.add(f"{path}.address.country", "This field is required.")
        fields["customer_country"] = ""
    else:
        country = address.get("country")
        if country in (None, ""):
            if not partial:
                errors.add(f"{path}.address.country", "This field is required.")
            fields["customer_country"] = ""
        elif not is_country(country):
            errors.add(f"{path}.address.country", f"{country!r} is not an ISO 3166-1 alpha-2 country code.")
        else:
            fields["customer_country"] = country
    fields["customer_size"] = _choice(profile.get("size"), f"{path}.size", errors, CustomerSize.values)
    _members(profile.get("team"), f"{path}.team", errors)
    _object(profile.get("ids"), f"{path}.ids", errors)
    return fields


def _consent(value: Any, errors: _Errors, *, partial: bool) -> dict[str, Any]:
    consent = _object(value, "consent", errors)
    if consent is None:
        if not partial and value is None:
            errors.add("consent", "This field is required.")
        return {}
    for key in ("consentToToShareInfoWithOthers", "consentToContact"):
        flag = consent.get(key)
        if flag is None and not partial:
            errors.add(f"consent.{key}", "This field is required.")
        elif flag is not None and not isinstance(flag, bool):
            errors.add(f"consent.{key}", "Must be true or false.")
    return {"consent": consent}


def _requirements(value: Any, errors: _Errors) -> dict:
    path = "details.requirements"
    requirements = _object(value, path, errors)
    if requirements is None:
        return {}
    for kind in _TAG_KINDS:
        tags = requirements.get(kind)
        if tags is None:
            continue
        if not isinstance(tags, list):
            errors.add(f"{path}.{kind}", "Must be a list.")
            continue
        for index, tag in enumerate(tags):
            item = f"{path}.{kind}[{index}]"
            if not isinstance(tag, dict) or not isinstance(tag.get("id"), str) or not tag["id"].strip():
                errors.add(f"{item}.id", "Each tag needs an id.")
            elif kind == "solutions" and tag.get("type") not in (None, *_SOLUTION_TAG_TYPES):
                errors.add(f"{item}.type", f"{tag.get('type')!r} is not one of: Category, Name.")
    return requirements


def _details(value: Any, errors: _Errors, *, partial: bool) -> dict[str, Any]:
    details = _object(value, "details", errors)
    if details is None:
        if not partial and value is None:
            errors.add("details", "This field is required.")
        return {}
    fields: dict[str, Any] = {}
    if "notes" in details or not partial:
        fields["notes"] = _string(details.get("notes"), "details.notes", errors, max_length=20_000)
    if "dealValue" in details or not partial:
        fields["deal_value"] = _amount(details.get("dealValue"), "details.dealValue", errors)
        if fields["deal_value"] is None and not partial and "details.dealValue" not in errors.messages:
            errors.add("details.dealValue", "This field is required.")
    if "currency" in details or not partial:
        currency = details.get("currency")
        if currency in (None, ""):
            if not partial:
                errors.add("details.currency", "This field is required.")
            fields["currency"] = ""
        elif not is_currency(currency):
            errors.add("details.currency", f"{currency!r} is not an ISO 4217 currency code.")
        else:
            fields["currency"] = currency
    if "closingDateTime" in details or not partial:
        fields["closing_at"] = _datetime(details.get("closingDateTime"), "details.closingDateTime", errors)
    if "requirements" in details or not partial:
        fields["requirements"] = _requirements(details.get("requirements"), errors)
    return fields


def _targets(value: Any, errors: _Errors) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add("target", "Must be a list of targets.")
        return []
    for index, target in enumerate(value):
        item = f"target[{index}]"
        if not isinstance(target, dict):
            errors.add(item, "Must be an object.")
            continue
        _choice(target.get("type"), f"{item}.type", errors, list(TARGET_TYPES), required=True)
        _string(target.get("id"), f"{item}.id", errors, max_length=40, required=True)
    return value


def _invite_context(value: Any, errors: _Errors) -> dict:
    context = _object(value, "inviteContext", errors)
    if context is None:
        return {}
    _string(context.get("notes"), "inviteContext.notes", errors, max_length=5000)
    invited_by = _object(context.get("invitedBy"), "inviteContext.invitedBy", errors)
    if invited_by is not None:
        _string(
            invited_by.get("organizationId"), "inviteContext.invitedBy.organizationId", errors, max_length=100
        )
    return context


def referral_from_json(data: Any, partial: bool) -> dict[str, Any]:
    """Validate a referral document and return the `Referral` fields it sets.

    With `partial`, only the properties present are checked and returned (drafts, PATCH bodies);
    otherwise the required ones (customerProfile with name and address.country, consent, details
    with dealValue and currency, type) must be there. Read-only properties (id, eTag, the
    timestamps, organizationId, links) are ignored. Besides the API's properties, the deal workflow
    may send `dealKind` (Private, PartnerLed, CoSell) and `leadTemperature` (cold, warm, hot).
    Raises ValidationError keyed by JSON path; returns nothing partial on error.
    """
    errors = _Errors()
    if not isinstance(data, dict):
        raise ValidationError({"": ["The referral must be a JSON object."]})
    fields: dict[str, Any] = {}

    def present(key: str) -> bool:
        return key in data or not partial

    if present("name"):
        fields["name"] = _string(data.get("name"), "name", errors, max_length=200)
    if present("externalReferenceId"):
        fields["external_reference_id"] = _string(
            data.get("externalReferenceId"), "externalReferenceId", errors, max_length=100
        )
    if present("type"):
        fields["type"] = _choice(data.get("type"), "type", errors, ReferralType.values, required=True)
    if "qualification" in data:
        fields["qualification"] = _choice(
            data["qualification"], "qualification", errors, ReferralQualification.values
        ) or str(ReferralQualification.NONE)
    if "status" in data:
        fields["status"] = _choice(data["status"], "status", errors, ReferralStatus.values, required=True)
    if "substatus" in data:
        fields["substatus"] = _choice(
            data["substatus"], "substatus", errors, ReferralSubstatus.values, required=True
        )
    if "statusReason" in data:
        fields["status_reason"] = _string(data["statusReason"], "statusReason", errors, max_length=500)
    for key, field in (("referralSource", "referral_source"), ("callToAction", "call_to_action")):
        if key in data:
            fields[field] = _string(data[key], key, errors, max_length=40)
    if "customerMarketplaceIntent" in data:
        fields["customer_marketplace_intent"] = _choice(
            data["customerMarketplaceIntent"], "customerMarketplaceIntent", errors, MarketplaceIntent.values
        )
    for key, field, length in (
        ("partnerRole", "partner_role", 40),
        ("solutionArea", "solution_area", 40),
        ("solutionPlay", "solution_play", 80),
    ):
        if key in data:
            fields[field] = _string(data[key], key, errors, max_length=length)
    if present("customerProfile"):
        fields.update(_customer_profile(data.get("customerProfile"), errors, partial=partial))
    if present("consent"):
        fields.update(_consent(data.get("consent"), errors, partial=partial))
    if present("details"):
        fields.update(_details(data.get("details"), errors, partial=partial))
    if present("team"):
        fields["team"] = _members(data.get("team"), "team", errors)
    if present("target"):
        fields["target"] = _targets(data.get("target"), errors)
    if present("inviteContext"):
        fields["invite_context"] = _invite_context(data.get("inviteContext"), errors)
    if "dealKind" in data:
        fields["deal_kind"] = _choice(data["dealKind"], "dealKind", errors, DealKind.values)
    if "leadTemperature" in data:
        fields["lead_temperature"] = _choice(
            data["leadTemperature"], "leadTemperature", errors, LeadTemperature.values
        )
    errors.raise_if_any()
    if not fields.get("name") and "name" in fields:
        # Partner Center lets a referral go without a title; the customer's name stands in for it.
        fields["name"] = fields.get("customer_name", "")
        if not fields["name"]:
            del fields["name"]
    return fields


def json_value(value: Any) -> Any:
    """A column value as the referral JSON writes it: amounts as plain decimals, times in UTC ISO."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _or_none(value: str) -> str | None:
    return value or None


def referral_to_json(referral: Referral) -> dict[str, Any]:
    """The referral in Partner Center's shape (spec §12), with eTag and links."""
    organization = referral.organization
    self_uri = f"{REFERRALS_PATH}/{referral.referral_id}"
    related_uri = f"{REFERRALS_PATH}?$filter=engagementId eq '{referral.engagement_id}'"
    document: dict[str, Any] = {
        "id": str(referral.referral_id),
        "engagementId": str(referral.engagement_id),
        "organizationId": organization_ref(organization),
        "organizationName": organization.legal_name,
        "name": referral.name,
        "externalReferenceId": _or_none(referral.external_reference_id),
        "createdDateTime": json_value(referral.created_at),
        "updatedDateTime": json_value(referral.updated_at),
        "expirationDateTime": json_value(referral.expiration_at),
        "acceptedDateTime": json_value(referral.accepted_at),
        "status": referral.status,
        "substatus": referral.substatus,
        "statusReason": _or_none(referral.status_reason),
        "type": referral.type,
        "qualification": referral.qualification,
        "referralSource": _or_none(referral.referral_source),
        "callToAction": _or_none(referral.call_to_action),
        "customerMarketplaceIntent": _or_none(referral.customer_marketplace_intent),
        "target": referral.target,
        "customerProfile": referral.customer_profile,
        "consent": referral.consent,
        "details": {
            "notes": referral.notes,
            "dealValue": json_value(referral.deal_value),
            "currency": referral.currency,
            "closingDateTime": json_value(referral.closing_at),
            "requirements": referral.requirements,
        },
        "team": referral.team,
        "inviteContext": referral.invite_context,
        "partnerRole": _or_none(referral.partner_role),
        "solutionArea": _or_none(referral.solution_area),
        "solutionPlay": _or_none(referral.solution_play),
        "eTag": referral.etag,
        "links": {
            "self": {"uri": self_uri, "method": "GET"},
            "relatedReferrals": {"uri": related_uri, "method": "GET"},
        },
    }
    return document
