"""Shared pieces of the Security API: ISO 8601 durations, error mapping, shared shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status

from accounts.models import Customer
from portal.api import service_errors as portal_service_errors
from portal.capabilities import Capability
from security.choices import (
    GDAP_AUTO_EXTEND_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_MAX_DURATION,
    GDAP_MIN_DURATION,
)

C = Capability

# --- ISO 8601 durations ------------------------------------------------------------------------

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d{1,4})Y)?(?:(?P<months>\d{1,4})M)?(?:(?P<weeks>\d{1,5})W)?(?:(?P<days>\d{1,6})D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d{1,7})H)?(?:(?P<minutes>\d{1,9})M)?(?:(?P<seconds>\d{1,11})S)?)?$"
)


def parse_iso_duration(text: str) -> timedelta:
    """ "P730D", "P2Y", "P26W", "PT0S", "P1DT12H" → timedelta. A year is 365 days (Graph's P2Y is
    P730D); months have no fixed length and are refused. ValueError says what is wrong."""
    match = _ISO_DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration: use days, e.g. P730D (two years), P180D or PT0S."
        )
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    if parts.get("months"):
        raise ValueError("Months have no fixed length: give the duration in days, e.g. P180D.")
    return timedelta(
        days=parts.get("years", 0) * 365 + parts.get("weeks", 0) * 7 + parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def format_iso_duration(value: timedelta) -> str:
    """timedelta → ISO 8601 as Graph writes it: "P730D", "P180D", "PT0S", "P1DT12H"."""
    if not value:
        return "PT0S"
    days, seconds = value.days, value.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"P{days}D" if days else "P"
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return text + (f"T{clock}" if clock else "")


@extend_schema_field({"type": "string", "format": "duration", "example": "P730D"})
class IsoDurationField(serializers.Field):
    """An ISO 8601 duration; `allowed` (exact values) or `minimum`/`maximum` bound it."""

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, minimum=None, maximum=None, allowed=None, bounds_message="", **kwargs):
        self.minimum, self.maximum, self.allowed = minimum, maximum, allowed
        self.bounds_message = bounds_message
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> timedelta:
        if not isinstance(data, str):
            self.fail("invalid", message="Send the duration as an ISO 8601 string, e.g. P730D.")
        try:
            value = parse_iso_duration(data)
        except (ValueError, OverflowError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else "The duration is far too long."
            self.fail("invalid", message=message)
        if self.allowed is not None and value not in self.allowed:
            self.fail("invalid", message=self.bounds_message)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            self.fail("invalid", message=self.bounds_message)
        return value

    def to_representation(self, value: timedelta) -> str:
        return format_iso_duration(value)


def _relationship_duration(**kwargs) -> IsoDurationField:
    return IsoDurationField(
        minimum=GDAP_MIN_DURATION,
        maximum=GDAP_MAX_DURATION,
        bounds_message="The duration must be between P1D and P730D (two years), e.g. P730D.",
        help_text="ISO 8601, P1D to P730D (P2Y).",
        **kwargs,
    )


def _auto_extend_duration(**kwargs) -> IsoDurationField:
    return IsoDurationField(
        allowed={GDAP_AUTO_EXTEND_NONE, GDAP_AUTO_EXTEND_DAYS},
        bounds_message="Use PT0S (no automatic extension) or P180D (extend by six months).",
        help_text="PT0S (default, no extension) or P180D.",
        **kwargs,
    )


# --- Shared helpers ----------------------------------------------------------------------------


class SelectorRows:
    """A resource whose rows are read through `rows(user)`, a selector of security.selectors: the
    same query the workspace's page for the list reads. Put before TenantViewSet."""

    rows: Callable[[Any], QuerySet]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.rows(self.request.user)


#: Service field names whose API name is not simply their camelCase.
_ERROR_FIELDS = {
    "role_ids": "accessDetails",
    "roles": "accessDetails",
    "security_group_id": "accessContainer",
    "upload": "file",
    "check": "checkId",
    "course": "courseCode",
    "users": "userId",
    "user": "userId",
    "due_on": "dueDate",
}


def service_errors():
    return portal_service_errors(_ERROR_FIELDS)


class UploadRefused(exceptions.APIException):
    """A refused file: the problem's `detail` is the reason, in words the uploader can act on."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "upload_rejected"
    default_detail = "The file was refused."


def _customer_of(request, tenant_id, *, field: str = "customer") -> Customer:
    customer = Customer.objects.visible_to(request.user).filter(tenant_id=tenant_id).first()
    if customer is None:
        raise exceptions.ValidationError(
            {field: [f"No customer of your organization has the tenant ID {tenant_id}."]}
        )
    return customer


def _moment(source: str) -> serializers.DateTimeField:
    return serializers.DateTimeField(source=source, read_only=True, allow_null=True)


def _text(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=source, read_only=True, **kwargs)


def _envelope(item_schema: dict) -> dict:
    """Graph's collection envelope `{"value": [...]}`, for lists that are not pages of a table."""
    return {
        "type": "object",
        "properties": {"value": {"type": "array", "items": item_schema}},
        "required": ["value"],
    }


# --- Shared shapes -----------------------------------------------------------------------------


class CustomerTenantSerializer(serializers.Serializer):
    tenantId = serializers.UUIDField(source="tenant_id", read_only=True)  # noqa: N815 - Graph's names
    displayName = serializers.CharField(source="name", read_only=True)  # noqa: N815


class GdapCustomerInputSerializer(serializers.Serializer):
    tenantId = serializers.UUIDField(help_text="The customer's Entra tenant ID.")  # noqa: N815


class RoleRefSerializer(serializers.Serializer):
    roleDefinitionId = serializers.UUIDField(  # noqa: N815
        source="role_definition_id", help_text="An Entra built-in role template ID."
    )


class AccessDetailsSerializer(serializers.Serializer):
    unifiedRoles = RoleRefSerializer(source="roles.all", many=True, read_only=True)  # noqa: N815


class AccessDetailsInputSerializer(serializers.Serializer):
    unifiedRoles = RoleRefSerializer(many=True, allow_empty=False, max_length=100)  # noqa: N815


def _role_ids(access_details: dict) -> list[str]:
    seen: dict[str, None] = {}
    for role in access_details["unifiedRoles"]:
        seen[str(role["role_definition_id"])] = None
    return list(seen)
