"""REST resources of the accounts app: /api/v1/accounts/… (customers: accounts.api_customers)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.api_customers import CustomerSerializer, CustomerViewSet
from accounts.filters import ActionItemFilter, AuditEventFilter, UserFilter
from accounts.models import ActionItem, Invitation, Organization, PartnerLocation, User
from accounts.services import action_center, people
from portal.api import ModelSerializer, TenantViewSet, created
from portal.capabilities import ROLE_CAPABILITIES, Capability
from portal.models import AuditEvent
from portal.roles import Role

C = Capability


# --- Serializers ---------------------------------------------------------------------------------


class PartnerLocationSerializer(ModelSerializer):
    class Meta:
        model = PartnerLocation
        fields = ["id", "partner_id", "country", "name", "is_headquarters"]


class OrganizationSerializer(ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "legal_name",
            "doing_business_as",
            "partner_global_id",
            "country",
            "partner_types",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "website",
            "company_registration_number",
            "company_size",
            "created_at",
        ]


class UserSerializer(ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "is_active", "is_service_account", "roles", "last_login"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(assignment.role for assignment in user.role_assignments.all())


class RolesInputSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=True)


class InvitationSerializer(ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "email", "display_name", "roles", "created_at", "expires_at", "accepted_at"]


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)


class ActionItemSerializer(ModelSerializer):
    class Meta:
        model = ActionItem
        fields = [
            "id",
            "code",
            "severity",
            "title",
            "body",
            "due_at",
            "target_url",
            "audience_roles",
            "status",
            "snoozed_until",
            "created_at",
            "resolved_at",
        ]


class AuditEventSerializer(ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "changes",
            "ip_address",
            "user_agent",
            "request_id",
        ]


class RoleSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())


# --- Viewsets ------------------------------------------------------------------------------------


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The caller's own organization (a list of one)."""

    model = Organization
    serializer_class = OrganizationSerializer


class PartnerLocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = PartnerLocation
    serializer_class = PartnerLocationSerializer


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = User
    serializer_class = UserSerializer
    filterset_class = UserFilter
    capabilities = {"*": C.USERS_VIEW, "roles": C.USERS_MANAGE}

    def get_queryset(self):
        return super().get_queryset().prefetch_related("role_assignments")

    @extend_schema(request=RolesInputSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def roles(self, request, pk=None):
        """Replace the user's roles (audited)."""
        user = self.get_object()
        data = RolesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        people.user_roles_change(actor=request.user, user=user, roles=data.validated_data["roles"])
        return Response(UserSerializer(self.get_queryset().get(pk=user.pk)).data)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Invitation
    serializer_class = InvitationSerializer
    capabilities = {"*": C.USERS_MANAGE}

    @extend_schema(request=InvitationInputSerializer, responses={201: InvitationSerializer})
    def create(self, request):
        data = InvitationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = people.user_invite(
            actor=request.user, organization=request.user.organization, **data.validated_data
        )
        return created(InvitationSerializer(invitation).data)


class ActionItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = ActionItem
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    capabilities = {"*": C.ACTION_CENTER_VIEW}

    def _transition(self, function):
        item = function(actor=self.request.user, item=self.get_object())
        return Response(ActionItemSerializer(item).data)

    @extend_schema(request=None, responses=ActionItemSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark the item done."""
        return self._transition(action_center.action_item_mark_done)

    @extend_schema(request=None, responses=ActionItemSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Dismiss a low or medium item."""
        return self._transition(action_center.action_item_dismiss)

    @extend_schema(request=None, responses=ActionItemSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Hide a low or medium item for seven days."""
        return self._transition(action_center.action_item_snooze)


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    capabilities = {"*": C.AUDIT_VIEW}


class RoleViewSet(mixins.ListModelMixin, TenantViewSet):
    """The Partner Center roles and what each may do (the same table the pages use)."""

    serializer_class = RoleSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return None

    def list(self, request):
        rows = [
            {"code": role.value, "name": role.label, "capabilities": sorted(ROLE_CAPABILITIES[role])}
            for role in Role
        ]
        return Response(RoleSerializer(rows, many=True).data)


router = SimpleRouter()
router.register("organization", OrganizationViewSet, basename="organization")
router.register("locations", PartnerLocationViewSet, basename="location")
router.register("users", UserViewSet, basename="user")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("customers", CustomerViewSet, basename="customer")
router.register("action-items", ActionItemViewSet, basename="action-item")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("roles", RoleViewSet, basename="role")

urlpatterns = router.urls

__all__ = ("CustomerSerializer", "router", "urlpatterns")
