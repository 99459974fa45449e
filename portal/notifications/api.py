"""`/api/v1/notifications/` (the caller's notifications: list, read one, mark read) and
`/api/v1/alert-rules/` (the caller's alert rules, and the kinds they can set). A token's calls are
its API client's service account: its own notifications and rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from portal.api import ModelSerializer, TenantViewSet, created, service_errors
from portal.capabilities import Capability
from portal.notifications.models import AlertRule, Notification
from portal.notifications.rules import alert_rule_create, alert_rule_delete, alert_rule_update, rule_kinds
from portal.notifications.services import notifications_mark_read


class NotificationSerializer(ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "category", "title", "body", "url", "channel", "created_at", "read_at"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="These notifications; omitted: all."
    )


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Notification
    serializer_class = NotificationSerializer
    workspace = "accounts"
    #: A person's own rows: the caller's (tests/contracts walk them as such).
    person_field = "recipient"
    capabilities = {"*": Capability.ACTION_CENTER_VIEW}

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        unread = self.request.query_params.get("unread")
        queryset = queryset.filter(recipient=self.request.user)
        return queryset.filter(read_at__isnull=True) if unread in ("true", "1") else queryset

    @extend_schema(request=MarkReadSerializer, responses={200: MarkReadSerializer})
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark notifications read (`ids`, or all of the caller's)."""
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        notifications_mark_read(user=request.user, ids=ids)
        return Response({"ids": ids or []})


class AlertRuleSerializer(ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "name", "kind", "parameters", "is_active", "created_at", "last_fired_at"]
        read_only_fields = ["created_at", "last_fired_at"]
        extra_kwargs = {"name": {"required": False, "allow_blank": True}}


class RuleParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    required = serializers.BooleanField()


class RuleKindSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    scheduled = serializers.BooleanField()
    parameters = RuleParameterSerializer(many=True)


class AlertRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    model = AlertRule
    serializer_class = AlertRuleSerializer
    workspace = "accounts"
    person_field = "owner"
    capabilities = {"*": Capability.ACTION_CENTER_VIEW}

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(owner=self.request.user)

    def create(self, request):
        data = AlertRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            rule = alert_rule_create(
                actor=request.user,
                kind=data.validated_data["kind"],
                name=data.validated_data.get("name", ""),
                parameters=data.validated_data.get("parameters") or {},
            )
        return created(AlertRuleSerializer(rule).data)

    def perform_update(self, serializer):
        values = serializer.validated_data
        if "kind" in values and values["kind"] != serializer.instance.kind:
            raise serializers.ValidationError({"kind": ["A rule's kind cannot change; create another rule."]})
        with service_errors():
            serializer.instance = alert_rule_update(
                actor=self.request.user,
                rule=serializer.instance,
                name=values.get("name"),
                parameters=values.get("parameters"),
                is_active=values.get("is_active"),
            )

    def perform_destroy(self, instance):
        alert_rule_delete(actor=self.request.user, rule=instance)

    @extend_schema(responses=RuleKindSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def kinds(self, request):
        """The kinds of rule there are, and the parameters each takes."""
        rows = [
            {
                "code": kind.code,
                "label": kind.label,
                "description": kind.description,
                "scheduled": kind.scheduled,
                "parameters": [
                    {"name": p.name, "label": p.label, "kind": p.kind, "required": p.required}
                    for p in kind.parameters
                ],
            }
            for kind in rule_kinds()
        ]
        return Response(RuleKindSerializer(rows, many=True).data)


notifications_router = SimpleRouter()
notifications_router.register("", NotificationViewSet, basename="notification")
urlpatterns = notifications_router.urls
