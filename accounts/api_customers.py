"""The customers resource of the accounts API, `/api/v1/accounts/customers/`: Partner Center's
Customer resource.

Partner Center's shape, with the names the vendor's customers feed already reads
(accounts.imports.VENDOR_CUSTOMERS): the customer's `id` is its tenant ID; the company's tenant,
domain and name are under `companyProfile`, its name and country under `billingProfile`
(`defaultAddress.country`). What the portal holds beyond Partner Center's Customer — the segment,
the employee count, its own number for the customer, when it was added — is under
`portalProfile`. Partner Center's `relationshipToPartner` and `allowDelegatedAccess` are left out:
the portal holds neither for a customer (delegated access is the security workspace's, a layer
above this one).

Reads: the list (its rows fetched as dicts and rendered through the foundation's fast path,
CustomerColumnsSerializer) and one customer by tenant ID, or by the portal's own number for links
made before. Writes: POST takes Partner Center's create-customer body or the portal's original
flat one; PUT and PATCH take Partner Center's. Writes go through accounts.services.customers; their
answer lists the properties of the body the portal does not know (`unknownProperties`), and bad
input is a 400 naming each property (dotted path) with the value sent.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.choices import CustomerSegment
from accounts.filters import CustomerFilter
from accounts.models import Customer
from accounts.services import customers
from portal.api import ModelSerializer, TenantViewSet, api_errors, column_reader, created, plain_columns
from portal.capabilities import Capability
from portal.iso import is_country

C = Capability

#: The domain a customer may have (the customer pages' pattern).
DOMAIN_PATTERN = r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
#: Where a service field of `customers.customer_create/update` is in Partner Center's body.
CUSTOMER_PROPERTIES = {
    "tenant_id": "companyProfile.tenantId",
    "domain": "companyProfile.domain",
    "name": "billingProfile.companyName",
    "country": "billingProfile.defaultAddress.country",
    "segment": "portalProfile.segment",
    "employee_count": "portalProfile.employeeCount",
}
#: The portal's original flat body names the service fields themselves.
FLAT_PROPERTIES = {field: field for field in CUSTOMER_PROPERTIES}
#: A body with any of these is Partner Center's shape; without, and with a flat field, the old one.
_DOCUMENT_PROPERTIES = frozenset({"companyProfile", "billingProfile", "portalProfile"})


class _ObjectType(serializers.Field):
    """Partner Center's `attributes` of a resource: `{"objectType": …}`, a constant per resource."""

    object_type = ""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        return {"objectType": self.object_type}


def _attributes(object_type: str) -> serializers.Field:
    schema = {
        "type": "object",
        "properties": {"objectType": {"type": "string", "enum": [object_type]}},
        "required": ["objectType"],
    }
    field_class = extend_schema_field(schema)(
        type(f"{object_type}Attributes", (_ObjectType,), {"object_type": object_type})
    )
    return field_class(help_text=f'Partner Center\'s resource attributes: `objectType` is "{object_type}".')


_TENANT_ID_HELP = (
    "The customer's Microsoft Entra directory (tenant) ID, a GUID: Partner Center's customer ID."
)
_NAME_HELP = "The company's name."
_DOMAIN_HELP = "The customer's primary domain, e.g. contoso.onmicrosoft.com; one customer per domain."
_COUNTRY_HELP = "ISO 3166-1 alpha-2 country (or region) code of the customer's address, e.g. DE."
_SEGMENT_HELP = (
    "The customer's segment (the portal's; Partner Center's nearest is the customer's qualification)."
)
_EMPLOYEES_HELP = "How many people the customer employs, when known (the portal's); null when not."


class CustomerAddressSerializer(serializers.Serializer):
    country = serializers.CharField(read_only=True, help_text=_COUNTRY_HELP)


class CustomerCompanyProfileSerializer(serializers.Serializer):
    tenantId = serializers.UUIDField(source="tenant_id", read_only=True, help_text=_TENANT_ID_HELP)  # noqa: N815
    domain = serializers.CharField(read_only=True, help_text=_DOMAIN_HELP)
    companyName = serializers.CharField(source="name", read_only=True, help_text=_NAME_HELP)  # noqa: N815
    attributes = _attributes("CustomerCompanyProfile")


class CustomerBillingProfileSerializer(serializers.Serializer):
    companyName = serializers.CharField(source="name", read_only=True, help_text=_NAME_HELP)  # noqa: N815
    defaultAddress = CustomerAddressSerializer(  # noqa: N815
        source="*", read_only=True, help_text="The customer's default address; the portal keeps its country."
    )
    attributes = _attributes("CustomerBillingProfile")


class CustomerPortalProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        read_only=True,
        help_text="The portal's own number for the customer: its page is /customers/<id>/, and "
        "/api/v1/accounts/customers/<id>/ still answers for links made with it.",
    )
    segment = serializers.ChoiceField(
        choices=CustomerSegment.choices, read_only=True, help_text=_SEGMENT_HELP
    )
    employeeCount = serializers.IntegerField(  # noqa: N815
        source="employee_count", read_only=True, allow_null=True, help_text=_EMPLOYEES_HELP
    )
    createdDateTime = serializers.DateTimeField(  # noqa: N815
        source="created_at", read_only=True, help_text="When the customer was added to the portal."
    )


class CustomerColumnsSerializer(ModelSerializer):
    """The customer's columns as the API renders them (the foundation's fast path for the list's
    dict rows, portal.api.ModelSerializer); CustomerSerializer arranges them in Partner Center's
    shape. Never a response of its own."""

    class Meta:
        model = Customer
        fields = ["id", "tenant_id", "name", "domain", "country", "segment", "employee_count", "created_at"]


_CUSTOMER_COLUMNS = CustomerColumnsSerializer()
_COLUMNS = CustomerColumnsSerializer.Meta.fields
# How the two columns that are not JSON already render, as DRF renders them (prepared once).
_RENDER_TENANT_ID = column_reader(_CUSTOMER_COLUMNS.fields["tenant_id"]) or (lambda value: value)
_RENDER_CREATED = column_reader(_CUSTOMER_COLUMNS.fields["created_at"]) or (lambda value: value)


def customer_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """The Customer resource of a customer's columns (a list's dict row, or a model's values), built
    in one step: a list renders thousands of these."""
    tenant_id = _RENDER_TENANT_ID(row["tenant_id"])
    created = row["created_at"]
    name = row["name"]
    return {
        "id": tenant_id,
        "companyProfile": {
            "tenantId": tenant_id,
            "domain": row["domain"],
            "companyName": name,
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "billingProfile": {
            "companyName": name,
            "defaultAddress": {"country": row["country"]},
            "attributes": {"objectType": "CustomerBillingProfile"},
        },
        "portalProfile": {
            "id": row["id"],
            "segment": row["segment"],
            "employeeCount": row["employee_count"],
            "createdDateTime": None if created is None else _RENDER_CREATED(created),
        },
        "attributes": {"objectType": "Customer"},
    }


# The declared fields document the shape (and render it, field by field, for a model instance);
# `to_representation` builds the same document from the columns in one step, for the list's dict
# rows and single customers alike (tests/accounts/test_customers_api.py holds the two equal).
class CustomerSerializer(serializers.Serializer):
    """A customer as Partner Center's Customer resource (`GET /v1/customers/{id}`): its `id` is the
    tenant ID. What the portal holds beyond Partner Center's resource is under `portalProfile`;
    Partner Center's `relationshipToPartner` and `allowDelegatedAccess` are not held, so not sent.
    """

    id = serializers.UUIDField(source="tenant_id", read_only=True, help_text=_TENANT_ID_HELP)
    companyProfile = CustomerCompanyProfileSerializer(  # noqa: N815
        source="*", read_only=True, help_text="Partner Center's company profile: tenant, domain and name."
    )
    billingProfile = CustomerBillingProfileSerializer(  # noqa: N815
        source="*", read_only=True, help_text="Partner Center's billing profile: name and address (country)."
    )
    portalProfile = CustomerPortalProfileSerializer(  # noqa: N815
        source="*",
        read_only=True,
        help_text="What the portal holds beyond Partner Center's Customer resource.",
    )
    attributes = _attributes("Customer")

    def to_representation(self, instance):
        if not isinstance(instance, Mapping):
            instance = {name: getattr(instance, name) for name in _COLUMNS}
        return customer_document(instance)


class CustomerWriteResultSerializer(CustomerSerializer):
    """The customer as written, and the properties of the body the portal does not know."""

    unknownProperties = serializers.ListField(  # noqa: N815
        child=serializers.CharField(),
        read_only=True,
        help_text="Properties of the request body the portal does not know (dotted paths, e.g. "
        "`billingProfile.email`): not stored, listed so nothing is dropped unseen.",
    )

    def to_representation(self, instance):
        document = super().to_representation(instance)
        document["unknownProperties"] = list(self.context.get("unknown_properties", ()))
        return document


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{2}$", "example": "DE"})
class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 country code, in either case; stored upper-case."""

    default_error_messages = {"country": "Is not an ISO 3166-1 alpha-2 country code such as DE."}

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if not is_country(code):
            self.fail("country")
        return code


def _domain_field(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(
        DOMAIN_PATTERN,
        max_length=253,
        error_messages={"invalid": "Is not a domain such as contoso.onmicrosoft.com."},
        help_text=_DOMAIN_HELP,
        **kwargs,
    )


_SEGMENTS = list(CustomerSegment.values)
_SEGMENT_CHOICE = f'"{{input}}" is not a segment: use {", ".join(_SEGMENTS[:-1])} or {_SEGMENTS[-1]}.'


def _segment_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=CustomerSegment.choices,
        error_messages={"invalid_choice": _SEGMENT_CHOICE},
        **kwargs,
    )


def _employee_count_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=10_000_000, allow_null=True, **kwargs)


class CustomerAddressInputSerializer(serializers.Serializer):
    country = CountryField(help_text=_COUNTRY_HELP)


class CustomerCompanyProfileInputSerializer(serializers.Serializer):
    domain = _domain_field()
    tenantId = serializers.UUIDField(  # noqa: N815
        source="tenant_id",
        required=False,
        allow_null=True,
        help_text="The customer's Microsoft Entra tenant ID. Left out (or null) when adding a "
        "customer that has no tenant yet: one is generated. A new value on PUT/PATCH moves "
        "everything the portal holds for the customer to that ID.",
    )
    companyName = serializers.CharField(  # noqa: N815
        source="company_name",
        max_length=200,
        required=False,
        help_text="The company's name, as the vendor's customers feed sends it: taken when "
        "billingProfile.companyName is left out, and must agree with it when both are sent.",
    )


class CustomerBillingProfileInputSerializer(serializers.Serializer):
    companyName = serializers.CharField(source="name", max_length=200, help_text=_NAME_HELP)  # noqa: N815
    defaultAddress = CustomerAddressInputSerializer(  # noqa: N815
        source="*",
        help_text="The customer's address. The portal keeps its country; Partner Center's other "
        "address properties (addressLine1, city, …) are accepted and listed in unknownProperties.",
    )


class CustomerPortalProfileInputSerializer(serializers.Serializer):
    segment = _segment_field(
        required=False, help_text=f"{_SEGMENT_HELP} A new customer without one is commercial."
    )
    employeeCount = _employee_count_field(  # noqa: N815
        source="employee_count", required=False, help_text=_EMPLOYEES_HELP
    )


# Validated, the body is the keyword arguments of accounts.services.customers, only those sent:
# the nested profiles read into one level (`source="*"`).
class CustomerInputSerializer(serializers.Serializer):
    """Partner Center's create-customer body (`POST /v1/customers`): `companyProfile.domain`,
    `billingProfile.companyName` and `billingProfile.defaultAddress.country`, an optional
    `companyProfile.tenantId`, and the portal's own `portalProfile`. Partner Center's properties
    the portal does not hold (`billingProfile.email`, `culture`, `language`, address lines, …) are
    accepted and listed in the answer's `unknownProperties`; read-only properties of the resource
    (`id`, `attributes`, `portalProfile.id`, `portalProfile.createdDateTime`) are ignored."""

    companyProfile = CustomerCompanyProfileInputSerializer(  # noqa: N815
        source="*", help_text="The customer's company: its domain (required) and tenant ID."
    )
    billingProfile = CustomerBillingProfileInputSerializer(  # noqa: N815
        source="*", help_text="The company's name and its address's country (both required)."
    )
    portalProfile = CustomerPortalProfileInputSerializer(  # noqa: N815
        source="*",
        required=False,
        help_text="The portal's own facts. On PUT, those left out keep their value (a Partner "
        "Center client never sends them).",
    )

    def validate(self, attrs):
        alias = attrs.pop("company_name", None)
        if alias is not None:
            if "name" in attrs and attrs["name"] != alias:
                raise serializers.ValidationError(
                    {
                        "companyProfile.companyName": [
                            f'Differs from billingProfile.companyName ("{attrs["name"]}"): a '
                            "customer has one company name."
                        ]
                    }
                )
            attrs["name"] = alias
        return attrs


@extend_schema_serializer(component_name="CustomerInput")
class CustomerChangesSerializer(CustomerInputSerializer):
    """PATCH: any of the create body's properties, nested ones too; those left out keep their
    value."""

    # `partial` on the profiles makes their documented components all-optional as well; DRF
    # already skips their required properties when the whole body is partial.
    companyProfile = CustomerCompanyProfileInputSerializer(  # noqa: N815
        source="*", required=False, partial=True, help_text="The customer's company: domain, tenant ID."
    )
    billingProfile = CustomerBillingProfileInputSerializer(  # noqa: N815
        source="*", required=False, partial=True, help_text="The company's name and address's country."
    )


class CustomerFlatInputSerializer(serializers.Serializer):
    """The portal's original flat body, still accepted by POST: Partner Center's shape is the
    documented one."""

    name = serializers.CharField(max_length=200, help_text=_NAME_HELP)
    domain = _domain_field()
    country = CountryField(help_text=_COUNTRY_HELP)
    segment = _segment_field(help_text=_SEGMENT_HELP)
    employee_count = _employee_count_field(required=False, help_text=_EMPLOYEES_HELP)
    tenant_id = serializers.UUIDField(
        required=False, allow_null=True, help_text=f"{_TENANT_ID_HELP} Generated when left out."
    )


_CREATE_BODY = PolymorphicProxySerializer(
    component_name="CustomerCreate",
    serializers=[CustomerInputSerializer, CustomerFlatInputSerializer],
    resource_type_field_name=None,
)
_CUSTOMER_ID = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The customer's tenant ID (Partner Center's customer ID). The portal's own number "
    "for the customer (`portalProfile.id`), which older links use, is accepted as well.",
)


@functools.cache
def _property_tree(serializer_class) -> dict[str, Any]:
    """Property name → its own tree (an object of known properties) or None (a value)."""

    def tree(serializer) -> dict[str, Any]:
        return {
            name: tree(field) if isinstance(field, serializers.Serializer) else None
            for name, field in serializer.fields.items()
        }

    return tree(serializer_class())


def _merged(*trees: dict[str, Any]) -> dict[str, Any]:
    """One property tree with every property of `trees` (an object wins over a value)."""
    merged: dict[str, Any] = {}
    for tree in trees:
        for name, sub in tree.items():
            if isinstance(merged.get(name), dict) and isinstance(sub, dict):
                merged[name] = _merged(merged[name], sub)
            elif merged.get(name) is None:
                merged[name] = sub
    return merged


def unknown_properties(body: Mapping[str, Any], known: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of `body`'s properties that `known` (a property tree) does not have."""
    found = []
    for name, value in body.items():
        path = f"{prefix}{name}"
        if name not in known:
            found.append(path)
        elif known[name] is not None and isinstance(value, Mapping):
            found.extend(unknown_properties(value, known[name], f"{path}."))
    return found


def _flat_errors(detail: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors keyed by dotted property paths (a nested object's own errors under its
    path)."""
    errors: dict[str, list[str]] = {}
    for name, value in detail.items():
        path = prefix[:-1] if prefix and name == api_settings.NON_FIELD_ERRORS_KEY else f"{prefix}{name}"
        if isinstance(value, Mapping):
            errors.update(_flat_errors(value, f"{path}."))
        else:
            errors.setdefault(path, []).extend(str(message) for message in value)
    return errors


_MISSING = object()


def _sent(body: Any, path: str) -> Any:
    for name in path.split("."):
        if not isinstance(body, Mapping) or name not in body:
            return _MISSING
        body = body[name]
    return body


def _with_values(errors: dict[str, list[str]], body: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each message also says the value sent, where the body has one and the message doesn't."""
    named = {}
    for path, messages in errors.items():
        value = _sent(body, path)
        if value is not _MISSING:
            shown = json.dumps(value, ensure_ascii=False, default=str)
            shown = shown if len(shown) <= 80 else f"{shown[:79]}…"
            messages = [
                message if shown in message else f"{message.rstrip('.')} (sent: {shown})."
                for message in messages
            ]
        named[path] = messages
    return named


@dataclass
class CustomerBody:
    """A write's body, read: the service's keyword arguments sent, the properties it doesn't know,
    and where each service field is in the body (for the service's errors)."""

    values: dict[str, Any]
    unknown: list[str]
    properties: dict[str, str]


def read_customer_body(data: Any, *, partial: bool = False, flat_allowed: bool = False) -> CustomerBody:
    """Check a create or update body: Partner Center's shape, or (`flat_allowed`) the old flat one.
    A ValidationError names every bad property by its dotted path, with the value sent."""
    if isinstance(data, QueryDict):
        data = data.dict()
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["The body must be a JSON object: a Customer."]}
        )
    flat = (
        flat_allowed
        and not (data.keys() & _DOCUMENT_PROPERTIES)
        and bool(data.keys() & FLAT_PROPERTIES.keys())
    )
    if flat:
        serializer_class, properties = CustomerFlatInputSerializer, FLAT_PROPERTIES
        # The old answer's read-only fields, sent back, are ignored as before.
        known = _merged(_property_tree(serializer_class), {"id": None, "created_at": None})
    else:
        serializer_class = CustomerChangesSerializer if partial else CustomerInputSerializer
        properties = dict(CUSTOMER_PROPERTIES)
        known = _merged(_property_tree(serializer_class), _property_tree(CustomerSerializer))
        if _sent(data, "billingProfile.companyName") is _MISSING and (
            _sent(data, "companyProfile.companyName") is not _MISSING
        ):
            properties["name"] = "companyProfile.companyName"
    serializer = serializer_class(data=data, partial=partial)
    if not serializer.is_valid():
        raise exceptions.ValidationError(_with_values(_flat_errors(serializer.errors), data))
    return CustomerBody(
        values=dict(serializer.validated_data), unknown=unknown_properties(data, known), properties=properties
    )


@contextmanager
def _customer_service_errors(body: CustomerBody, data: Any):
    """The service's ValidationError as a 400 naming the body's properties and their values."""
    try:
        yield
    except DjangoValidationError as exc:
        errors = api_errors(exc, body.properties)
        raise exceptions.ValidationError(_with_values(errors, data)) from None


def customer_lookup(value: str) -> dict[str, Any] | None:
    """The customer a URL names: by tenant ID (Partner Center's customer ID), or by the portal's
    own number (older links); None for neither."""
    try:
        return {"tenant_id": uuid.UUID(value)}
    except ValueError:
        pass
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return {"pk": int(value)}
    return None


@extend_schema_view(
    list=extend_schema(
        description="Your customers, in Partner Center's Customer shape, newest first (cursor pages)."
    ),
    retrieve=extend_schema(
        parameters=[_CUSTOMER_ID],
        description="One customer by its tenant ID, as Partner Center's `GET /v1/customers/{id}`.",
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Partner Center's Customer resource: `/customers/` and `/customers/{tenantId}/`."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    capabilities = {
        "*": C.CUSTOMERS_VIEW,
        "create": C.CUSTOMERS_MANAGE,
        "update": C.CUSTOMERS_MANAGE,
        "partial_update": C.CUSTOMERS_MANAGE,
    }

    @classmethod
    def tenant_url_kwargs(cls, customer: Customer) -> dict:
        return {"pk": customer.tenant_id}

    @staticmethod
    def tenant_row_id(customer: Customer) -> str:
        return str(customer.tenant_id)

    def paginate_queryset(self, queryset):
        if isinstance(queryset, QuerySet):
            # The rows as dicts of the columns CustomerColumnsSerializer renders (the fast path).
            queryset = queryset.values(*plain_columns(CustomerColumnsSerializer))
        return super().paginate_queryset(queryset)

    def get_object(self):
        lookup = customer_lookup(str(self.kwargs[self.lookup_url_kwarg or self.lookup_field]))
        if lookup is None:
            raise Http404
        customer = get_object_or_404(self.filter_queryset(self.get_queryset()), **lookup)
        self.check_object_permissions(self.request, customer)
        return customer

    def list(self, request, *args, **kwargs):
        # The page's dict rows straight into documents (what CustomerSerializer does per row,
        # without a list serializer around it).
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([customer_document(row) for row in page])

    def _written(self, customer: Customer, body: CustomerBody) -> dict[str, Any]:
        context = {"unknown_properties": body.unknown}
        return CustomerWriteResultSerializer(customer, context=context).data

    @extend_schema(request=_CREATE_BODY, responses={201: CustomerWriteResultSerializer})
    def create(self, request):
        """Add a customer: Partner Center's create-customer body (or the portal's original flat
        one: `name`, `domain`, `country`, `segment`, optional `employee_count` and `tenant_id`)."""
        body = read_customer_body(request.data, flat_allowed=True)
        values = {"segment": CustomerSegment.COMMERCIAL, **body.values}
        with _customer_service_errors(body, request.data):
            customer = customers.customer_create(
                actor=request.user, organization=request.user.organization, **values
            )
        return created(self._written(customer, body))

    @extend_schema(
        request=CustomerInputSerializer,
        responses={200: CustomerWriteResultSerializer},
        parameters=[_CUSTOMER_ID],
    )
    def update(self, request, pk=None):
        """Replace the customer's Partner Center properties (the create body); the portal's own
        (`portalProfile`) keep their value unless sent."""
        return self._save(request, partial=False)

    @extend_schema(
        request=CustomerChangesSerializer,
        responses={200: CustomerWriteResultSerializer},
        parameters=[_CUSTOMER_ID],
    )
    def partial_update(self, request, pk=None):
        """Change the properties sent; the others keep their value."""
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool) -> Response:
        customer = self.get_object()
        body = read_customer_body(request.data, partial=partial)
        values = {field: getattr(customer, field) for field in ("name", "domain", "country", "segment")}
        values["employee_count"] = customer.employee_count
        with _customer_service_errors(body, request.data):
            customer = customers.customer_update(
                actor=request.user, customer=customer, **{**values, **body.values}
            )
        return Response(self._written(customer, body))
