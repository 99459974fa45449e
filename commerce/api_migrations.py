"""Subscriptions and new-commerce migrations in Partner Center's API shapes (spec/commerce.md §3.4).

An integrator's client for `{baseURL}/v1/customers/{customer-tenant-id}/migrations/newcommerce/…`
works here with the base URL changed to `/api/v1/commerce`.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response

from accounts.models import Customer
from commerce import selectors, services
from commerce.api_pricing import PriceImpactSerializer, price_impact_body
from commerce.choices import BillingCycle, TermDuration
from commerce.eligibility import migration_validate
from commerce.filters import LegacySubscriptionFilter
from commerce.models import LegacySubscription, Migration, MigrationBatch
from portal.api import TenantViewSet
from portal.capabilities import Capability

C = Capability


# --- Serializers (Partner Center's camelCase names) ----------------------------------------------


class MigrationRequestSerializer(serializers.Serializer):
    customerTenantId = serializers.UUIDField(required=False, help_text="Batch requests only.")  # noqa: N815
    currentSubscriptionId = serializers.UUIDField()  # noqa: N815 - Partner Center's field names
    termDuration = serializers.ChoiceField(choices=TermDuration.choices, required=False)  # noqa: N815
    billingCycle = serializers.ChoiceField(  # noqa: N815
        choices=[BillingCycle.MONTHLY, BillingCycle.ANNUAL, BillingCycle.TRIENNIAL], required=False
    )
    purchaseFullTerm = serializers.BooleanField(required=False, default=False)  # noqa: N815
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    customTermEndDate = serializers.DateField(required=False)  # noqa: N815
    externalReferenceId = serializers.CharField(max_length=100, required=False, allow_blank=True)  # noqa: N815


class ValidationErrorSerializer(serializers.Serializer):
    """Partner Center's `{code, description}`: `code` is Microsoft's NewCommerceEligibilityErrorCode
    number (the portal's own reasons from 1001), `codeName` its name."""

    code = serializers.IntegerField()
    codeName = serializers.CharField()  # noqa: N815
    description = serializers.CharField()


class ValidateResponseSerializer(serializers.Serializer):
    currentSubscriptionId = serializers.UUIDField()  # noqa: N815
    isEligible = serializers.BooleanField()  # noqa: N815
    catalogItemId = serializers.CharField(allow_null=True)  # noqa: N815
    errors = ValidationErrorSerializer(many=True)
    priceImpact = PriceImpactSerializer(allow_null=True, help_text="Null when not eligible.")  # noqa: N815


class AddOnMigrationSerializer(serializers.Serializer):
    currentSubscriptionId = serializers.UUIDField(source="current_subscription.subscription_id")  # noqa: N815
    newCommerceSubscriptionId = serializers.UUIDField(  # noqa: N815
        source="new_commerce_subscription.subscription_id", allow_null=True, default=None
    )
    status = serializers.CharField()


class MigrationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="migration_id")
    startedTime = serializers.DateTimeField(source="started_time")  # noqa: N815
    completedTime = serializers.DateTimeField(source="completed_time", allow_null=True)  # noqa: N815
    currentSubscriptionId = serializers.UUIDField(source="current_subscription.subscription_id")  # noqa: N815
    customerTenantId = serializers.UUIDField(source="customer.tenant_id")  # noqa: N815
    catalogItemId = serializers.CharField(source="catalog_item_id")  # noqa: N815
    newCommerceSubscriptionId = serializers.UUIDField(  # noqa: N815
        source="new_commerce_subscription.subscription_id", allow_null=True, default=None
    )
    newCommerceOrderId = serializers.UUIDField(source="new_commerce_order_id", allow_null=True)  # noqa: N815
    subscriptionEndDate = serializers.DateField(source="subscription_end_date", allow_null=True)  # noqa: N815
    termDuration = serializers.CharField(source="term_duration")  # noqa: N815
    billingCycle = serializers.CharField(source="billing_cycle")  # noqa: N815
    purchaseFullTerm = serializers.BooleanField(source="purchase_full_term")  # noqa: N815
    externalReferenceId = serializers.CharField(source="external_reference_id")  # noqa: N815
    addOnMigrations = AddOnMigrationSerializer(source="add_on_migrations", many=True)  # noqa: N815
    errorCode = serializers.CharField(source="error_code")  # noqa: N815
    errorDescription = serializers.CharField(source="error_description")  # noqa: N815
    initiatedBy = serializers.CharField(source="initiated_by")  # noqa: N815

    class Meta:
        model = Migration
        fields = [
            "id",
            "startedTime",
            "completedTime",
            "currentSubscriptionId",
            "status",
            "customerTenantId",
            "catalogItemId",
            "newCommerceSubscriptionId",
            "newCommerceOrderId",
            "subscriptionEndDate",
            "quantity",
            "termDuration",
            "billingCycle",
            "purchaseFullTerm",
            "externalReferenceId",
            "addOnMigrations",
            "errorCode",
            "errorDescription",
            "initiatedBy",
        ]


class SubscriptionSerializer(serializers.ModelSerializer):
    """A legacy subscription in the shape of Partner Center's Subscription resource."""

    id = serializers.UUIDField(source="subscription_id")
    offerId = serializers.UUIDField(source="offer_id")  # noqa: N815
    offerName = serializers.CharField(source="offer.name")  # noqa: N815
    friendlyName = serializers.CharField(source="friendly_name")  # noqa: N815
    customerTenantId = serializers.UUIDField(source="customer.tenant_id")  # noqa: N815
    customerName = serializers.CharField(source="customer.name")  # noqa: N815
    segment = serializers.CharField(source="offer.segment")
    country = serializers.CharField(source="customer.country")
    parentSubscriptionId = serializers.UUIDField(  # noqa: N815
        source="parent.subscription_id", allow_null=True, default=None
    )
    effectiveStartDate = serializers.DateField(source="term_start")  # noqa: N815
    commitmentEndDate = serializers.DateField(source="term_end")  # noqa: N815
    autoRenewEnabled = serializers.BooleanField(source="auto_renew")  # noqa: N815
    billingCycle = serializers.CharField(source="billing_cycle")  # noqa: N815
    termDuration = serializers.CharField(source="term_duration")  # noqa: N815
    isTrial = serializers.BooleanField(source="is_trial")  # noqa: N815

    class Meta:
        model = LegacySubscription
        fields = [
            "id",
            "offerId",
            "offerName",
            "friendlyName",
            "customerTenantId",
            "customerName",
            "segment",
            "country",
            "quantity",
            "status",
            "parentSubscriptionId",
            "effectiveStartDate",
            "commitmentEndDate",
            "autoRenewEnabled",
            "billingCycle",
            "termDuration",
            "isTrial",
        ]


class BatchRequestSerializer(serializers.Serializer):
    externalReferenceId = serializers.CharField(max_length=100, required=False, allow_blank=True)  # noqa: N815
    migrations = serializers.ListField(child=MigrationRequestSerializer(), min_length=1, max_length=10_000)


class BatchStatusSerializer(serializers.ModelSerializer):
    externalReferenceId = serializers.CharField(source="external_reference_id")  # noqa: N815
    status = serializers.CharField(source="job.status", default="queued")
    total = serializers.IntegerField(source="row_count")
    done = serializers.IntegerField(source="job.done", default=0)
    completed = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    createdTime = serializers.DateTimeField(source="created_at")  # noqa: N815

    class Meta:
        model = MigrationBatch
        fields = ["externalReferenceId", "status", "total", "done", "completed", "failed", "createdTime"]


# --- Viewsets ------------------------------------------------------------------------------------


def _request_to_kwargs(data: dict) -> dict:
    return {
        "term_duration": data.get("termDuration"),
        "billing_cycle": data.get("billingCycle"),
        "quantity": data.get("quantity"),
        "purchase_full_term": data.get("purchaseFullTerm", False),
        "custom_term_end_date": data.get("customTermEndDate"),
    }


class CustomerMigrationViewSet(mixins.RetrieveModelMixin, TenantViewSet):
    """`/customers/{customerTenantId}/migrations/newcommerce[/validate|/{migrationId}]`"""

    model = Migration
    serializer_class = MigrationSerializer
    lookup_field = "migration_id"
    lookup_url_kwarg = "migration_id"
    select_related = ("customer", "current_subscription", "new_commerce_subscription")
    capabilities = {"*": C.CUSTOMERS_VIEW, "validate": C.ORDERS_PLACE, "create": C.ORDERS_PLACE}

    @classmethod
    def tenant_url_kwargs(cls, migration: Migration) -> dict:
        return {"customer_tenant_id": migration.customer.tenant_id, "migration_id": migration.migration_id}

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(customer__tenant_id=self.kwargs["customer_tenant_id"])

    def _customer(self) -> Customer:
        # The customer comes first: another organization's customer is a 404 whatever the body says.
        return selectors.customer_by_tenant_id(self.request.user, self.kwargs["customer_tenant_id"])

    def _subscription(self, customer: Customer, data: dict) -> LegacySubscription:
        try:
            return selectors.legacy_subscription_of(
                self.request.user, customer, data["currentSubscriptionId"]
            )
        except LegacySubscription.DoesNotExist as exc:
            raise exceptions.NotFound("No such subscription for this customer.") from exc

    @extend_schema(request=MigrationRequestSerializer, responses=ValidateResponseSerializer)
    def validate(self, request, customer_tenant_id=None):
        """Can this legacy subscription migrate, and if not, every reason why."""
        customer = self._customer()
        data = MigrationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = self._subscription(customer, data.validated_data)
        result = migration_validate(subscription=subscription, **_request_to_kwargs(data.validated_data))
        body = {
            "currentSubscriptionId": subscription.subscription_id,
            "isEligible": result.is_eligible,
            "catalogItemId": result.catalog_item_id,
            "errors": [
                {"code": e.number, "codeName": e.code, "description": e.description} for e in result.errors
            ],
            "priceImpact": price_impact_body(result.price_impact),
        }
        return Response(ValidateResponseSerializer(body).data)

    @extend_schema(request=MigrationRequestSerializer, responses={201: MigrationSerializer})
    def create(self, request, customer_tenant_id=None):
        """Migrate a legacy subscription to new commerce."""
        customer = self._customer()
        data = MigrationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = self._subscription(customer, data.validated_data)
        migration = services.migration_create(
            actor=request.user,
            subscription=subscription,
            external_reference_id=data.validated_data.get("externalReferenceId", ""),
            **_request_to_kwargs(data.validated_data),
        )
        return Response(MigrationSerializer(migration).data, status=status.HTTP_201_CREATED)


_QUERY_PARAMETERS = [
    OpenApiParameter("customerTenantId", str, description="A customer's tenant ID"),
    OpenApiParameter("currentSubscriptionId", str, description="A legacy subscription ID"),
    OpenApiParameter("externalReferenceId", str, description="A batch ID"),
]


class MigrationQueryViewSet(TenantViewSet):
    """`GET /migrations/newcommerce?customerTenantId=…|currentSubscriptionId=…|externalReferenceId=…`"""

    model = Migration
    serializer_class = MigrationSerializer
    select_related = ("customer", "current_subscription", "new_commerce_subscription")
    capabilities = {"*": C.CUSTOMERS_VIEW, "batch": C.ORDERS_PLACE}
    filter_backends = []

    @extend_schema(parameters=_QUERY_PARAMETERS, responses=MigrationSerializer(many=True))
    def list(self, request):
        """Migrations by customer, legacy subscription or batch (at least one is required)."""
        lookups = {
            "customerTenantId": "customer__tenant_id",
            "currentSubscriptionId": "current_subscription__subscription_id",
            "externalReferenceId": "external_reference_id",
        }
        given = {lookups[name]: value for name, value in request.query_params.items() if name in lookups}
        if not given:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Give customerTenantId, currentSubscriptionId or externalReferenceId."]}
            )
        for name in ("customerTenantId", "currentSubscriptionId"):
            value = request.query_params.get(name)
            if value is not None:
                serializers.UUIDField().run_validation(value)
        queryset = self.get_queryset().filter(**given).prefetch_related("add_on_migrations")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MigrationSerializer(page, many=True).data)

    @staticmethod
    def tenant_row_id(migration: Migration) -> str:
        return str(migration.migration_id)

    @staticmethod
    def tenant_list_params(migration: Migration) -> dict:
        return {"customerTenantId": str(migration.customer.tenant_id)}

    @extend_schema(request=BatchRequestSerializer, responses={202: BatchStatusSerializer})
    def batch(self, request):
        """Submit many migrations under one externalReferenceId; they run as a job."""
        data = BatchRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [
            {
                "subscription_id": str(row["currentSubscriptionId"]),
                **{name: row.get(field) for field, name in _BATCH_FIELDS.items()},
            }
            for row in data.validated_data["migrations"]
        ]
        batch = services.migration_batch_start(
            actor=request.user,
            organization=request.user.organization,
            rows=rows,
            external_reference_id=data.validated_data.get("externalReferenceId") or None,
        )
        return Response(
            BatchStatusSerializer(selectors.batch_with_counts(batch)).data, status=status.HTTP_202_ACCEPTED
        )


_BATCH_FIELDS = {
    "termDuration": "term_duration",
    "billingCycle": "billing_cycle",
    "quantity": "quantity",
    "purchaseFullTerm": "purchase_full_term",
    "customTermEndDate": "custom_term_end_date",
}


class BatchStatusViewSet(mixins.RetrieveModelMixin, TenantViewSet):
    """`GET /migrations/newcommerce/batch/{externalReferenceId}`: a batch's progress."""

    model = MigrationBatch
    serializer_class = BatchStatusSerializer
    lookup_field = "external_reference_id"
    lookup_url_kwarg = "external_reference_id"
    capabilities = {"*": C.CUSTOMERS_VIEW}

    @classmethod
    def tenant_url_kwargs(cls, batch: MigrationBatch) -> dict:
        return {"external_reference_id": batch.external_reference_id}

    def get_queryset(self):
        return super().get_queryset().with_counts().select_related("job")


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Legacy subscriptions across the organization's customers."""

    model = LegacySubscription
    serializer_class = SubscriptionSerializer
    filterset_class = LegacySubscriptionFilter
    select_related = ("customer", "offer", "parent")
    capabilities = {"*": C.CUSTOMERS_VIEW}

    @staticmethod
    def tenant_row_id(subscription: LegacySubscription) -> str:
        return str(subscription.subscription_id)


migration_urlpatterns = [
    path(
        "customers/<uuid:customer_tenant_id>/migrations/newcommerce/validate",
        CustomerMigrationViewSet.as_view({"post": "validate"}),
        name="migration-validate",
    ),
    path(
        "customers/<uuid:customer_tenant_id>/migrations/newcommerce",
        CustomerMigrationViewSet.as_view({"post": "create"}),
        name="migration-create",
    ),
    path(
        "customers/<uuid:customer_tenant_id>/migrations/newcommerce/<uuid:migration_id>",
        CustomerMigrationViewSet.as_view({"get": "retrieve"}),
        name="migration-detail",
    ),
    path("migrations/newcommerce", MigrationQueryViewSet.as_view({"get": "list"}), name="migration-query"),
    path(
        "migrations/newcommerce/batch",
        MigrationQueryViewSet.as_view({"post": "batch"}),
        name="migration-batch",
    ),
    path(
        "migrations/newcommerce/batch/<str:external_reference_id>",
        BatchStatusViewSet.as_view({"get": "retrieve"}),
        name="migration-batch-status",
    ),
    path("subscriptions/", SubscriptionViewSet.as_view({"get": "list"}), name="subscription-list"),
    path(
        "subscriptions/<int:pk>/",
        SubscriptionViewSet.as_view({"get": "retrieve"}),
        name="subscription-detail",
    ),
]
