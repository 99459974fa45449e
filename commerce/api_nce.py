"""New-commerce subscriptions in Partner Center's Subscription shape, and their update (PATCH).

`GET /api/v1/commerce/new-commerce-subscriptions/[{id}/]` lists and reads them;
`PATCH …/{id}/` is Partner Center's subscription update: `{"quantity": n}` sets the seats (added
at any time, reduced only inside the 7-day window) and `{"status": "deleted"}` (or `"cancelled"`)
cancels inside the window with a prorated credit (`commerce.services.nce`). A client that sends
the whole resource back, as Partner Center's SDKs do, is understood: read-only properties are
ignored, and an unchanged `status` is no request to change it.

A request carrying `MS-RequestId` (Partner Center's header) or `Idempotency-Key` is done once:
sent again, it answers the change it made the first time (`Idempotent-Replayed: true`).
Refusals are problem+json naming the `field`, the `reason` and, when the 7-day window decided,
`windowClosedAt`: 400 for a request that is wrong whatever the subscription's state, 409 for one
the state refuses (window closed, subscription not active, request id used for another change).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from commerce.filters import NceSubscriptionFilter
from commerce.models import NceSubscription, NceSubscriptionChange
from commerce.services.nce import NceChangeRefused, nce_subscription_cancel, nce_subscription_seats_change
from portal.api import PROBLEM_CONTENT_TYPE, TenantViewSet, api_errors
from portal.capabilities import Capability

C = Capability

#: Partner Center's `status` for a cancelled subscription, and the portal's own word for it.
CANCEL_STATUSES = ("deleted", "cancelled")


class NceSubscriptionSerializer(serializers.ModelSerializer):
    """A new-commerce subscription in the shape of Partner Center's Subscription resource."""

    id = serializers.UUIDField(source="subscription_id")
    offerId = serializers.CharField(source="catalog_item_id")  # noqa: N815
    offerName = serializers.CharField(source="availability.sku.title")  # noqa: N815
    orderId = serializers.UUIDField(source="order_id")  # noqa: N815
    customerTenantId = serializers.UUIDField(source="customer.tenant_id")  # noqa: N815
    effectiveStartDate = serializers.DateField(source="term_start")  # noqa: N815
    commitmentEndDate = serializers.DateField(source="term_end")  # noqa: N815
    cancellationAllowedUntilDate = serializers.DateTimeField(  # noqa: N815
        source="cancellation_window_ends_at",
        allow_null=True,
        help_text="Partner Center's name: until when seats can be reduced and the subscription cancelled.",
    )
    cancellationWindowEndsAt = serializers.DateTimeField(  # noqa: N815
        source="cancellation_window_ends_at",
        allow_null=True,
        help_text="The same moment as cancellationAllowedUntilDate: 168 hours after purchase, "
        "migration or renewal; null when the subscription cannot be reduced or cancelled.",
    )
    cancelledAt = serializers.DateTimeField(source="cancelled_at", allow_null=True)  # noqa: N815
    autoRenewEnabled = serializers.BooleanField(source="auto_renew")  # noqa: N815
    billingCycle = serializers.CharField(source="billing_cycle")  # noqa: N815
    termDuration = serializers.CharField(source="term_duration")  # noqa: N815
    unitPrice = serializers.DecimalField(source="unit_price", max_digits=18, decimal_places=6)  # noqa: N815
    migratedFromSubscriptionId = serializers.UUIDField(  # noqa: N815
        source="migrated_from.subscription_id", allow_null=True, default=None
    )

    class Meta:
        model = NceSubscription
        fields = [
            "id",
            "offerId",
            "offerName",
            "orderId",
            "customerTenantId",
            "quantity",
            "status",
            "effectiveStartDate",
            "commitmentEndDate",
            "cancellationAllowedUntilDate",
            "cancellationWindowEndsAt",
            "cancelledAt",
            "autoRenewEnabled",
            "billingCycle",
            "termDuration",
            "unitPrice",
            "currency",
            "migratedFromSubscriptionId",
        ]


class NceChangeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=NceSubscriptionChange._meta.get_field("kind").choices)
    quantityBefore = serializers.IntegerField(source="quantity_before")  # noqa: N815
    quantityAfter = serializers.IntegerField(source="quantity_after")  # noqa: N815
    credit = serializers.DecimalField(max_digits=18, decimal_places=6)
    changedAt = serializers.DateTimeField(source="changed_at")  # noqa: N815
    requestId = serializers.CharField(source="request_id")  # noqa: N815

    class Meta:
        model = NceSubscriptionChange
        fields = ["kind", "quantityBefore", "quantityAfter", "credit", "currency", "changedAt", "requestId"]


class NceSubscriptionDetailSerializer(NceSubscriptionSerializer):
    """One subscription with its last change (and the credit that change gave)."""

    lastChange = serializers.SerializerMethodField()  # noqa: N815

    class Meta(NceSubscriptionSerializer.Meta):
        fields = [*NceSubscriptionSerializer.Meta.fields, "lastChange"]

    @extend_schema_field(NceChangeSerializer(allow_null=True))
    def get_lastChange(self, subscription: NceSubscription) -> dict | None:  # noqa: N802
        change = subscription.changes.order_by("-changed_at", "-id").first()
        return NceChangeSerializer(change).data if change is not None else None


class NceSubscriptionUpdateSerializer(serializers.Serializer):
    """Partner Center's subscription update: the writable properties of the resource."""

    quantity = serializers.IntegerField(
        required=False, max_value=1_000_000, help_text="The new number of seats."
    )
    status = serializers.CharField(
        required=False, max_length=20, help_text='"deleted" (or "cancelled") cancels the subscription.'
    )


class NceRefusalSerializer(serializers.Serializer):
    """A refused update (RFC 9457 problem) with the field, the reason and when the window closed."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    field = serializers.CharField()
    reason = serializers.CharField()
    windowClosedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


_REQUEST_ID_HEADERS = [
    OpenApiParameter(
        "MS-RequestId",
        str,
        OpenApiParameter.HEADER,
        required=False,
        description="Partner Center's request id: the same id again answers the first change and "
        "changes nothing.",
    ),
    OpenApiParameter(
        "Idempotency-Key",
        str,
        OpenApiParameter.HEADER,
        required=False,
        description="The portal's name for the same: used when MS-RequestId is not sent.",
    ),
]


class NceSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """New-commerce subscriptions across the organization's customers; PATCH changes one."""

    model = NceSubscription
    serializer_class = NceSubscriptionSerializer
    filterset_class = NceSubscriptionFilter
    select_related = ("customer", "availability__sku", "migrated_from")
    # The capability placing orders needs, as a migration's create does.
    capabilities = {"*": C.CUSTOMERS_VIEW, "partial_update": C.ORDERS_PLACE}

    @staticmethod
    def tenant_row_id(subscription: NceSubscription) -> str:
        return str(subscription.subscription_id)

    def get_serializer_class(self):
        if self.action in ("retrieve", "partial_update"):
            return NceSubscriptionDetailSerializer
        return NceSubscriptionSerializer

    @extend_schema(
        request=NceSubscriptionUpdateSerializer,
        parameters=_REQUEST_ID_HEADERS,
        responses={200: NceSubscriptionDetailSerializer, (409, PROBLEM_CONTENT_TYPE): NceRefusalSerializer},
    )
    def partial_update(self, request, pk=None):
        """Set the seats (`quantity`) or cancel (`status: deleted`) inside the 7-day window."""
        subscription = self.get_object()
        body = NceSubscriptionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quantity = body.validated_data.get("quantity")
        wanted = body.validated_data.get("status", "").strip().lower()
        cancel = wanted in CANCEL_STATUSES
        request_id = request.META.get("HTTP_MS_REQUESTID") or request.META.get("HTTP_IDEMPOTENCY_KEY", "")
        # Partner Center's SDKs send the resource back whole, `"status": "active"` included.
        if wanted and not cancel and wanted not in (subscription.status, "active"):
            return self._refused(
                request,
                400,
                "status",
                f'{body.validated_data["status"]!r} is not a status this update sets: send "deleted" '
                "to cancel, or quantity to change the seats.",
            )
        if cancel and quantity is not None and quantity != subscription.quantity:
            return self._refused(
                request, 400, "quantity", "Cancel or change the seats, not both in one request."
            )
        if not cancel and quantity is None:
            return self._refused(
                request,
                400,
                "quantity",
                'Send quantity (the new number of seats) or status "deleted" to cancel.',
            )
        try:
            if cancel:
                change = nce_subscription_cancel(
                    actor=request.user, subscription=subscription, request_id=request_id
                )
            else:
                change = nce_subscription_seats_change(
                    actor=request.user, subscription=subscription, quantity=quantity, request_id=request_id
                )
        except NceChangeRefused as exc:
            return self._refused(request, 409, exc.field, exc.reason, window_closed_at=exc.window_closed_at)
        except DjangoValidationError as exc:
            errors = api_errors(exc)
            field, reasons = next(iter(errors.items()))
            return self._refused(request, 400, field, reasons[0], errors=errors)
        subscription = self.get_queryset().get(pk=subscription.pk)
        headers = {"Idempotent-Replayed": "true"} if change.replayed else {}
        return Response(NceSubscriptionDetailSerializer(subscription).data, headers=headers)

    def _refused(
        self,
        request,
        status_code: int,
        field: str,
        reason: str,
        *,
        window_closed_at=None,
        errors: dict[str, list[str]] | None = None,
    ) -> Response:
        code = "conflict" if status_code == status.HTTP_409_CONFLICT else "invalid"
        body = {
            "type": f"https://partner-portal.example/problems/{code}",
            "title": "Conflict" if code == "conflict" else "Bad Request",
            "status": status_code,
            "code": code,
            "detail": reason,
            "instance": request.get_full_path(),
            "field": field,
            "reason": reason,
            "windowClosedAt": (
                serializers.DateTimeField().to_representation(window_closed_at) if window_closed_at else None
            ),
            "errors": errors or {field: [reason]},
        }
        return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


nce_urlpatterns = [
    path(
        "new-commerce-subscriptions/",
        NceSubscriptionViewSet.as_view({"get": "list"}),
        name="nce-subscription-list",
    ),
    path(
        "new-commerce-subscriptions/<int:pk>/",
        NceSubscriptionViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="nce-subscription-detail",
    ),
]
