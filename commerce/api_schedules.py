"""New-commerce migration schedules in Partner Center's API shapes (spec/commerce.md §3.4).

`{baseURL}/v1/customers/{customer-tenant-id}/migrations/newcommerce/schedules[/{scheduleId}[/cancel]]`
and `{baseURL}/v1/migrations/newcommerce/schedules?…` work here with the base URL changed to
`/api/v1/commerce`, for Microsoft's NCE Batch Migration tool too: its .NET client writes property
names in PascalCase and dates as `2025-09-14T00:00:00`, reads the list as a plain JSON array, and
reads a refusal's `code` (a number) and `description`. So property and query names are matched
whatever their case, the list is an array (the next page's link in the `Link` header), and a
refusal for eligibility carries Microsoft's code number in `code` beside the problem's `errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import path
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.pagination import _positive_int
from rest_framework.response import Response

from accounts.models import Customer
from commerce import selectors
from commerce.choices import BillingCycle, SubscriptionStatus, TermDuration
from commerce.codes import EligibilityCode
from commerce.eligibility import SEGMENT_FOR_CUSTOMER, TERM_MONTHS, add_months
from commerce.filters import MigrationScheduleFilter
from commerce.models import Availability, LegacySubscription, Migration, MigrationSchedule
from commerce.services.schedules import (
    ScheduleRefused,
    ScheduleRequest,
    schedule_cancel,
    schedule_create,
    schedule_update,
)
from portal.api import TenantViewSet, api_errors, created
from portal.api_policy import CursorPagination
from portal.capabilities import Capability

C = Capability

# --- Input -----------------------------------------------------------------------------------------


class FlexibleDateField(serializers.DateField):
    """A date as `2025-09-14`, or as the .NET client writes one: `2025-09-14T00:00:00`, with or
    without fractions, `Z` or an offset. The calendar date as written is the day meant."""

    def to_internal_value(self, value):
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
            try:
                moment = parse_datetime(text)
            except ValueError:
                moment = None
            if moment is not None:
                return moment.date()
        raise serializers.ValidationError(
            f"{value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDThh:mm:ss (Z or an offset may follow)."
        )


_BILLING = [BillingCycle.MONTHLY, BillingCycle.ANNUAL, BillingCycle.TRIENNIAL]


class AddOnMigrationScheduleInputSerializer(serializers.Serializer):
    """An add-on that moves with its base: Partner Center's `addOnMigrationSchedules[]`."""

    currentSubscriptionId = serializers.UUIDField()  # noqa: N815 - Partner Center's field names
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, allow_null=True)


class MigrationScheduleCreateSerializer(serializers.Serializer):
    """Partner Center's schedule body. Exactly one of `targetDate` and `migrateOnRenewal`.

    Read-only properties of the resource sent back (id, status, createdTime…) are ignored. On
    update, properties left out keep their values.
    """

    currentSubscriptionId = serializers.UUIDField(  # noqa: N815
        help_text="The legacy subscription; required to create, and may not change on update."
    )
    targetDate = FlexibleDateField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="The day to migrate: after today, at the latest the legacy term end.",
    )
    migrateOnRenewal = serializers.BooleanField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="Migrate when the legacy term ends (instead of targetDate).",
    )
    termDuration = serializers.ChoiceField(  # noqa: N815
        choices=TermDuration.choices, required=False, allow_blank=True, allow_null=True
    )
    billingCycle = serializers.ChoiceField(
        choices=_BILLING, required=False, allow_blank=True, allow_null=True
    )  # noqa: N815
    purchaseFullTerm = serializers.BooleanField(required=False, allow_null=True)  # noqa: N815
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, allow_null=True)
    customTermEndDate = FlexibleDateField(required=False, allow_null=True)  # noqa: N815
    externalReferenceId = serializers.CharField(  # noqa: N815
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    addOnMigrationSchedules = AddOnMigrationScheduleInputSerializer(  # noqa: N815
        many=True,
        required=False,
        allow_null=True,
        help_text="Active add-ons move with their base on its term and billing, at their own seats.",
    )


class MigrationScheduleUpdateSerializer(MigrationScheduleCreateSerializer):
    currentSubscriptionId = serializers.UUIDField(required=False)  # noqa: N815


#: The body's names → ScheduleRequest's.
_REQUEST_FIELDS = {
    "targetDate": "target_date",
    "migrateOnRenewal": "migrate_on_renewal",
    "termDuration": "term_duration",
    "billingCycle": "billing_cycle",
    "quantity": "quantity",
    "purchaseFullTerm": "purchase_full_term",
    "customTermEndDate": "custom_term_end_date",
    "externalReferenceId": "external_reference_id",
}
_FLAGS = {"migrate_on_renewal", "purchase_full_term"}
_TEXTS = {"term_duration", "billing_cycle", "external_reference_id"}


def _canonical(data: Any, serializer_class: type[serializers.Serializer]) -> Any:
    """`data` with its property names spelled as the serializer spells them, matched whatever their
    case (the .NET client writes `TargetDate`); an exact spelling wins over another case of it."""
    if not isinstance(data, Mapping):
        return data
    names = {name.lower(): name for name in serializer_class().fields}
    result: dict[str, Any] = {}
    for key, value in data.items():
        name = names.get(str(key).lower(), key)
        if name in result and key != name:
            continue
        result[name] = value
    add_ons = result.get("addOnMigrationSchedules")
    if isinstance(add_ons, list):
        result["addOnMigrationSchedules"] = [
            _canonical(item, AddOnMigrationScheduleInputSerializer) for item in add_ons
        ]
    return result


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=_canonical(data, serializer_class))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _changes(data: dict[str, Any]) -> dict[str, Any]:
    """The ScheduleRequest fields the body names (null flags are false, null texts blank)."""
    changes = {}
    for api_name, name in _REQUEST_FIELDS.items():
        if api_name in data:
            value = data[api_name]
            if name in _FLAGS:
                value = bool(value)
            elif name in _TEXTS:
                value = value or ""
            changes[name] = value
    return changes


def _add_ons(data: dict[str, Any]) -> list[tuple[UUID, int | None]] | None:
    entries = data.get("addOnMigrationSchedules")
    if entries is None:
        return None
    return [(entry["currentSubscriptionId"], entry.get("quantity")) for entry in entries]


# --- Output ----------------------------------------------------------------------------------------


class AddOnMigrationScheduleSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The base's schedule.")
    currentSubscriptionId = serializers.UUIDField()  # noqa: N815
    status = serializers.CharField()
    quantity = serializers.IntegerField()
    termDuration = serializers.CharField()  # noqa: N815
    billingCycle = serializers.CharField()  # noqa: N815


class MigrationScheduleSerializer(serializers.Serializer):
    """Partner Center's NewCommerceMigrationSchedule. Term, billing and quantity are what the
    migration will use (the legacy subscription's where the schedule leaves them blank)."""

    id = serializers.UUIDField()
    currentSubscriptionId = serializers.UUIDField()  # noqa: N815
    status = serializers.CharField(help_text="Created, Processing, Completed, Failed or Cancelled.")
    customerTenantId = serializers.UUIDField()  # noqa: N815
    catalogItemId = serializers.CharField(allow_null=True)  # noqa: N815
    subscriptionEndDate = serializers.DateField(allow_null=True)  # noqa: N815
    quantity = serializers.IntegerField()
    termDuration = serializers.CharField()  # noqa: N815
    billingCycle = serializers.CharField()  # noqa: N815
    purchaseFullTerm = serializers.BooleanField()  # noqa: N815
    customTermEndDate = serializers.DateField(allow_null=True)  # noqa: N815
    targetDate = serializers.DateField(allow_null=True)  # noqa: N815
    migrateOnRenewal = serializers.BooleanField()  # noqa: N815
    createdTime = serializers.DateTimeField()  # noqa: N815
    lastModifiedTime = serializers.DateTimeField()  # noqa: N815
    externalReferenceId = serializers.CharField(allow_blank=True)  # noqa: N815
    newCommerceMigrationId = serializers.UUIDField(allow_null=True)  # noqa: N815
    errorCode = serializers.IntegerField(  # noqa: N815
        allow_null=True,
        help_text="Microsoft's NewCommerceEligibilityErrorCode number (the portal's from 1001).",
    )
    errorCodeName = serializers.CharField(allow_blank=True)  # noqa: N815
    errorDescription = serializers.CharField(allow_blank=True)  # noqa: N815
    addOnMigrationSchedules = AddOnMigrationScheduleSerializer(many=True)  # noqa: N815


def _with_related(queryset):
    return queryset.select_related(
        "customer", "current_subscription__offer__equivalent_sku", "migration"
    ).prefetch_related(
        Prefetch(
            "current_subscription__addons",
            queryset=LegacySubscription.objects.filter(status=SubscriptionStatus.ACTIVE).order_by("pk"),
            to_attr="active_addons",
        ),
        Prefetch(
            "migration__add_on_migrations",
            queryset=Migration.objects.select_related("current_subscription").order_by("pk"),
            to_attr="child_migrations",
        ),
    )


def _term(schedule: MigrationSchedule) -> str:
    """The term the migration takes (as commerce.eligibility decides it for a blank one)."""
    legacy = schedule.current_subscription
    if schedule.term_duration:
        return schedule.term_duration
    if schedule.migrate_on_renewal:
        return TermDuration.P3Y if legacy.term_duration == TermDuration.P3Y else TermDuration.P1Y
    return legacy.term_duration


def _end_date(schedule: MigrationSchedule, term: str) -> date | None:
    """The new subscription's end date: the migration's, or what the schedule will give."""
    legacy = schedule.current_subscription
    if schedule.migration is not None and schedule.migration.subscription_end_date:
        return schedule.migration.subscription_end_date
    if schedule.custom_term_end_date:
        return schedule.custom_term_end_date
    if schedule.migrate_on_renewal or schedule.purchase_full_term:
        start = legacy.term_end + timedelta(days=1) if schedule.migrate_on_renewal else schedule.target_date
        return add_months(start, TERM_MONTHS[term]) - timedelta(days=1) if term in TERM_MONTHS else None
    return legacy.term_end


def _catalog_items(schedules: list[MigrationSchedule]) -> dict[int, str]:
    """Each schedule's target catalog item (ProductId:SkuId:AvailabilityId) for its customer's
    segment, market and term, in one query; a migration that ran names its own."""
    skus = {s.current_subscription.offer.equivalent_sku_id for s in schedules} - {None}
    offered: dict[int, list[Availability]] = {}
    for availability in Availability.objects.filter(sku_id__in=skus).select_related("sku"):
        offered.setdefault(availability.sku_id, []).append(availability)
    found = {}
    for schedule in schedules:
        if schedule.migration is not None and schedule.migration.catalog_item_id:
            found[schedule.pk] = schedule.migration.catalog_item_id
            continue
        customer, sku_id = schedule.customer, schedule.current_subscription.offer.equivalent_sku_id
        segment = SEGMENT_FOR_CUSTOMER.get(customer.segment)
        term = _term(schedule)
        for availability in offered.get(sku_id, []):
            if (availability.segment, availability.term_duration) == (segment, term) and (
                customer.country in availability.markets
            ):
                found[schedule.pk] = availability.catalog_item_id
    return found


def schedule_rows(schedules) -> list[dict[str, Any]]:
    """The resources of `schedules` (a queryset through `_with_related`, or its page)."""
    schedules = list(schedules)
    catalog = _catalog_items(schedules)
    rows = []
    for schedule in schedules:
        legacy = schedule.current_subscription
        term = _term(schedule)
        billing = schedule.billing_cycle or legacy.billing_cycle
        if schedule.migration is not None:
            add_ons = [
                (
                    child.current_subscription.subscription_id,
                    child.quantity,
                    child.term_duration,
                    child.billing_cycle,
                )
                for child in schedule.migration.child_migrations
            ]
        else:
            add_ons = [
                (addon.subscription_id, addon.quantity, term, billing) for addon in legacy.active_addons
            ]
        code = EligibilityCode(schedule.error_code) if schedule.error_code in _CODES else None
        rows.append(
            {
                "id": schedule.schedule_id,
                "currentSubscriptionId": legacy.subscription_id,
                "status": schedule.status,
                "customerTenantId": schedule.customer.tenant_id,
                "catalogItemId": catalog.get(schedule.pk),
                "subscriptionEndDate": _end_date(schedule, term),
                "quantity": schedule.quantity or legacy.quantity,
                "termDuration": term,
                "billingCycle": billing,
                "purchaseFullTerm": schedule.purchase_full_term,
                "customTermEndDate": schedule.custom_term_end_date,
                "targetDate": schedule.target_date,
                "migrateOnRenewal": schedule.migrate_on_renewal,
                "createdTime": schedule.created_time,
                "lastModifiedTime": schedule.last_modified_time,
                "externalReferenceId": schedule.external_reference_id,
                "newCommerceMigrationId": schedule.migration.migration_id if schedule.migration else None,
                "errorCode": code.number if code else None,
                "errorCodeName": schedule.error_code,
                "errorDescription": schedule.error_description,
                "addOnMigrationSchedules": [
                    {
                        "id": schedule.schedule_id,
                        "currentSubscriptionId": subscription_id,
                        "status": schedule.status,
                        "quantity": quantity,
                        "termDuration": add_on_term,
                        "billingCycle": add_on_billing,
                    }
                    for subscription_id, quantity, add_on_term, add_on_billing in add_ons
                ],
            }
        )
    return rows


_CODES = {code.value for code in EligibilityCode}


# --- Errors ----------------------------------------------------------------------------------------


class _Refused(exceptions.ValidationError):
    """A schedule refused for eligibility: the problem also carries Microsoft's `code` number and a
    `description`, which is what Partner Center's error body (and the .NET client) reads."""

    def __init__(self, detail, reasons):
        super().__init__(detail)
        self.reasons = reasons


@contextmanager
def _service_errors():
    try:
        yield
    except ScheduleRefused as exc:
        raise _Refused(api_errors(exc), exc.reasons) from None
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(api_errors(exc)) from None


class _ScheduleViewSet(TenantViewSet):
    model = MigrationSchedule
    serializer_class = MigrationScheduleSerializer

    def initial(self, request, *args, **kwargs):
        # Partner Center's idempotency header is MS-RequestId; the portal's is Idempotency-Key.
        meta = request.META
        if "HTTP_IDEMPOTENCY_KEY" not in meta and meta.get("HTTP_MS_REQUESTID"):
            meta["HTTP_IDEMPOTENCY_KEY"] = meta["HTTP_MS_REQUESTID"]
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        reasons = getattr(exc, "reasons", ())
        if reasons and isinstance(response.data, dict):
            first = next((reason for reason in reasons if reason.code.is_microsoft), reasons[0])
            response.data["code"] = str(first.number)
            response.data["description"] = " ".join(str(reason) for reason in reasons)
        return response


_MS_REQUEST_ID = OpenApiParameter(
    "MS-RequestId",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Partner Center's idempotency header, honoured like Idempotency-Key.",
)


class CustomerScheduleViewSet(mixins.RetrieveModelMixin, _ScheduleViewSet):
    """`/customers/{customerTenantId}/migrations/newcommerce/schedules[/{scheduleId}[/cancel]]`"""

    lookup_field = "schedule_id"
    lookup_url_kwarg = "schedule_id"
    capabilities = {
        "*": C.CUSTOMERS_VIEW,
        "create": C.ORDERS_PLACE,
        "update": C.ORDERS_PLACE,
        "cancel": C.ORDERS_PLACE,
    }

    @classmethod
    def tenant_url_kwargs(cls, schedule: MigrationSchedule) -> dict:
        return {"customer_tenant_id": schedule.customer.tenant_id, "schedule_id": schedule.schedule_id}

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return _with_related(queryset.filter(customer__tenant_id=self.kwargs["customer_tenant_id"]))

    def _customer(self) -> Customer:
        # The customer comes first: another organization's customer is a 404 whatever the body says.
        return selectors.customer_by_tenant_id(self.request.user, self.kwargs["customer_tenant_id"])

    def _answer(self, schedule: MigrationSchedule) -> dict[str, Any]:
        [row] = schedule_rows(_with_related(MigrationSchedule.objects.filter(pk=schedule.pk)))
        return MigrationScheduleSerializer(row).data

    @extend_schema(responses=MigrationScheduleSerializer)
    def retrieve(self, request, customer_tenant_id=None, schedule_id=None):
        """One migration schedule."""
        return Response(self._answer(self.get_object()))

    @extend_schema(
        request=MigrationScheduleCreateSerializer,
        responses={201: MigrationScheduleSerializer},
        parameters=[_MS_REQUEST_ID],
    )
    def create(self, request, customer_tenant_id=None):
        """Schedule a legacy subscription's migration: on `targetDate`, or when its term ends."""
        customer = self._customer()
        data = _validated(MigrationScheduleCreateSerializer, request.data)
        try:
            subscription = selectors.legacy_subscription_of(
                request.user, customer, data["currentSubscriptionId"]
            )
        except LegacySubscription.DoesNotExist as exc:
            raise exceptions.NotFound("No such subscription for this customer.") from exc
        with _service_errors():
            schedule = schedule_create(
                actor=request.user,
                subscription=subscription,
                request=ScheduleRequest(**_changes(data)),
                add_ons=_add_ons(data),
            )
        return created(self._answer(schedule))

    @extend_schema(request=MigrationScheduleUpdateSerializer, responses=MigrationScheduleSerializer)
    def update(self, request, customer_tenant_id=None, schedule_id=None):
        """Change a Created schedule before the day it runs; properties left out keep their values."""
        schedule = self.get_object()
        data = _validated(MigrationScheduleUpdateSerializer, request.data)
        named = data.get("currentSubscriptionId")
        current = schedule.current_subscription.subscription_id
        if named is not None and named != current:
            raise exceptions.ValidationError(
                {
                    "currentSubscriptionId": [
                        f"currentSubscriptionId cannot change on update: the schedule is for {current}, "
                        f"the request names {named}."
                    ]
                }
            )
        with _service_errors():
            schedule = schedule_update(
                actor=request.user,
                schedule=schedule,
                request=replace(ScheduleRequest.of(schedule), **_changes(data)),
                add_ons=_add_ons(data),
            )
        return Response(self._answer(schedule))

    @extend_schema(request=None, responses=MigrationScheduleSerializer, parameters=[_MS_REQUEST_ID])
    def cancel(self, request, customer_tenant_id=None, schedule_id=None):
        """Cancel a Created schedule (a Cancelled one is returned as it is)."""
        schedule = self.get_object()
        with _service_errors():
            schedule = schedule_cancel(actor=request.user, schedule=schedule)
        return Response(self._answer(schedule))


# --- The query -------------------------------------------------------------------------------------


class ArrayCursorPagination(CursorPagination):
    """The portal's cursor pages as Partner Center's client reads them: the page is a plain JSON
    array, the next and previous pages are in the `Link` header (RFC 8288)."""

    def get_page_size(self, request):
        for name, value in request.query_params.items():
            if name.lower() in ("page_size", "pagesize"):
                try:
                    return _positive_int(value, strict=True, cutoff=self.max_page_size)
                except (KeyError, ValueError):
                    break
        return self.page_size

    def get_paginated_response(self, data):
        links = [
            f'<{url}>; rel="{rel}"'
            for url, rel in ((self.get_next_link(), "next"), (self.get_previous_link(), "prev"))
            if url
        ]
        return Response(data, headers={"Link": ", ".join(links)} if links else None)

    def get_paginated_response_schema(self, schema):
        return schema


#: The query's names (any case, as Partner Center's client writes them) → the FilterSet's.
_QUERY = {
    "customertenantid": ("customerTenantId", "customer_tenant_id"),
    "currentsubscriptionid": ("currentSubscriptionId", "current_subscription_id"),
    "externalreferenceid": ("externalReferenceId", "external_reference_id"),
}
_GUIDS = {"customer_tenant_id", "current_subscription_id"}

_QUERY_PARAMETERS = [
    OpenApiParameter("customerTenantId", str, description="A customer's tenant ID"),
    OpenApiParameter("currentSubscriptionId", str, description="A legacy subscription ID"),
    OpenApiParameter("externalReferenceId", str, description="A batch ID"),
    OpenApiParameter("status", str, description="Created, Processing, Completed, Failed or Cancelled"),
]


class ScheduleQueryViewSet(_ScheduleViewSet):
    """`GET /migrations/newcommerce/schedules?customerTenantId=…|currentSubscriptionId=…|…`"""

    capabilities = {"*": C.CUSTOMERS_VIEW}
    filter_backends = []
    pagination_class = ArrayCursorPagination

    @extend_schema(parameters=_QUERY_PARAMETERS, responses=MigrationScheduleSerializer(many=True))
    def list(self, request):
        """Schedules by customer, legacy subscription or batch (at least one is required), newest
        first, as a JSON array; `Link: <…>; rel="next"` names the next page."""
        given, errors = {}, {}
        for name, value in request.query_params.items():
            key = name.lower()
            if key in _QUERY and value.strip():
                api_name, filter_name = _QUERY[key]
                given[filter_name] = value.strip()
                if filter_name in _GUIDS:
                    try:
                        UUID(value.strip())
                    except ValueError:
                        errors[api_name] = [f"{api_name} {value!r} is not a GUID."]
            elif key == "status":
                given["status"] = value
        if not set(given) - {"status"}:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Give customerTenantId, currentSubscriptionId or externalReferenceId."]}
            )
        if errors:
            raise exceptions.ValidationError(errors)
        filterset = MigrationScheduleFilter(given, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise exceptions.ValidationError(
                {
                    name: [f"{name} {given.get(name)!r}: {' '.join(problems)}"]
                    for name, problems in filterset.errors.items()
                }
            )
        page = self.paginate_queryset(_with_related(filterset.qs))
        return self.get_paginated_response(MigrationScheduleSerializer(schedule_rows(page), many=True).data)

    @staticmethod
    def tenant_row_id(schedule: MigrationSchedule) -> str:
        return str(schedule.schedule_id)

    @staticmethod
    def tenant_list_params(schedule: MigrationSchedule) -> dict:
        return {"customerTenantId": str(schedule.customer.tenant_id)}


@extend_schema_view(list=extend_schema(operation_id="commerce_migrations_newcommerce_schedules_slash_list"))
class ScheduleQuerySlashViewSet(ScheduleQueryViewSet):
    """The same query at `…/schedules/`, where the NCE Batch Migration tool asks for it."""


_SCHEDULES = "customers/<uuid:customer_tenant_id>/migrations/newcommerce/schedules"

schedule_urlpatterns = [
    path(_SCHEDULES, CustomerScheduleViewSet.as_view({"post": "create"}), name="schedule-create"),
    path(
        f"{_SCHEDULES}/<uuid:schedule_id>",
        CustomerScheduleViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="schedule-detail",
    ),
    path(
        f"{_SCHEDULES}/<uuid:schedule_id>/cancel",
        CustomerScheduleViewSet.as_view({"post": "cancel"}),
        name="schedule-cancel",
    ),
    path(
        "migrations/newcommerce/schedules",
        ScheduleQueryViewSet.as_view({"get": "list"}),
        name="schedule-query",
    ),
    path(
        "migrations/newcommerce/schedules/",
        ScheduleQuerySlashViewSet.as_view({"get": "list"}),
        name="schedule-query-slash",
    ),
]
