"""REST resources of the shared foundations: /api/v1/portal/ (jobs, webhooks)."""

from __future__ import annotations

from rest_framework import mixins, serializers
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from portal.api import ModelSerializer, TenantViewSet, created
from portal.capabilities import Capability
from portal.models import JobRun, WebhookDelivery, WebhookEndpoint
from portal.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from portal.webhooks import EVENTS


class JobRunSerializer(ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = JobRun
        fields = [
            "id",
            "kind",
            "parameters",
            "status",
            "total",
            "done",
            "percent",
            "errors",
            "result",
            "created_at",
            "started_at",
            "finished_at",
        ]


class WebhookEndpointSerializer(ModelSerializer):
    events = serializers.ListField(child=serializers.CharField(max_length=80), allow_empty=False)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "description", "created_at"]
        read_only_fields = ["created_at"]

    def validate_url(self, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise serializers.ValidationError("Use an http(s) URL.")
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENTS))
        if unknown:
            raise serializers.ValidationError(f"Unknown event(s): {', '.join(unknown)}.")
        return sorted(set(value))


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: keep it to verify signatures.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "event_id",
            "payload",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "created_at",
            "delivered_at",
        ]


class WebhookEventSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class JobRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = JobRun
    serializer_class = JobRunSerializer
    workspace = "accounts"
    capabilities = {"*": Capability.JOBS_VIEW}


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    workspace = "accounts"
    capabilities = {"*": Capability.WEBHOOKS_MANAGE}

    def create(self, request):
        data = WebhookEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(
            actor=request.user, organization_id=request.user.organization_id, **data.validated_data
        )
        return created(WebhookEndpointCreatedSerializer(endpoint).data)

    def perform_update(self, serializer):
        webhook_endpoint_update(
            actor=self.request.user, endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        webhook_endpoint_delete(actor=self.request.user, endpoint=instance)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    workspace = "accounts"
    capabilities = {"*": Capability.WEBHOOKS_MANAGE}


class WebhookEventViewSet(mixins.ListModelMixin, TenantViewSet):
    """The events workspaces have registered, to subscribe endpoints to."""

    serializer_class = WebhookEventSerializer
    workspace = "accounts"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return None

    def list(self, request):
        rows = [{"name": name, "description": text} for name, text in sorted(EVENTS.items())]
        return Response(WebhookEventSerializer(rows, many=True).data)


router = SimpleRouter()
router.register("jobs", JobRunViewSet, basename="job")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")

urlpatterns = router.urls
