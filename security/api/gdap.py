"""Security API: GDAP relationships and access assignments in Graph's shapes; legacy DAP, read and
remove only (nothing here creates one)."""

from __future__ import annotations

import functools
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api import TenantViewSet
from security.api.common import (
    AccessDetailsInputSerializer,
    AccessDetailsSerializer,
    C,
    CustomerTenantSerializer,
    GdapCustomerInputSerializer,
    IsoDurationField,
    SelectorRows,
    _auto_extend_duration,
    _customer_of,
    _moment,
    _relationship_duration,
    _role_ids,
    format_iso_duration,
    service_errors,
)
from security.choices import (
    DAP_INACTIVE_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_DISPLAY_NAME_MAX,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.filters import (
    DapFilterSet,
    GdapRelationshipFilterSet,
)
from security.models import (
    DapRelationship,
    GdapAccessAssignment,
    GdapRelationship,
)
from security.selectors.gdap import dap_relationships, gdap_approval_path, gdap_relationships
from security.selectors.history import gdap_events
from security.services import gdap as gdap_services
from security.services.dap import dap_remove
from security.services.gdap_assignments import (
    gdap_assignment_create,
    gdap_assignment_delete,
    gdap_assignment_update,
)

# --- GDAP ---------------------------------------------------------------------------------------


class GdapRelationshipSerializer(serializers.Serializer):
    """Graph delegatedAdminRelationship (spec §3.1)."""

    id = serializers.CharField(source="relationship_id", read_only=True)
    displayName = serializers.CharField(source="display_name", read_only=True)  # noqa: N815
    customer = CustomerTenantSerializer(read_only=True)
    duration = IsoDurationField(read_only=True)
    autoExtendDuration = IsoDurationField(source="auto_extend_duration", read_only=True)  # noqa: N815
    accessDetails = AccessDetailsSerializer(source="*", read_only=True)  # noqa: N815
    status = serializers.ChoiceField(choices=GdapStatus.choices, read_only=True)
    createdDateTime = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    activatedDateTime = _moment("activated_at")  # noqa: N815
    lastModifiedDateTime = serializers.DateTimeField(source="last_modified_at", read_only=True)  # noqa: N815
    endDateTime = _moment("end_at")  # noqa: N815
    isDefaultTemplate = serializers.BooleanField(source="is_default_template", read_only=True)  # noqa: N815
    invitationLink = serializers.SerializerMethodField()  # noqa: N815

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_invitationLink(self, relationship: GdapRelationship) -> str | None:  # noqa: N802
        """While approval is pending: the link the customer's admin opens to approve."""
        if relationship.status != GdapStatus.APPROVAL_PENDING:
            return None
        link = gdap_approval_path(relationship)
        request = self.context.get("request")
        return request.build_absolute_uri(link) if request is not None else link


class GdapCreateSerializer(serializers.Serializer):
    displayName = serializers.CharField(max_length=GDAP_DISPLAY_NAME_MAX)  # noqa: N815
    customer = GdapCustomerInputSerializer()
    duration = _relationship_duration()
    autoExtendDuration = _auto_extend_duration(required=False, default=GDAP_AUTO_EXTEND_NONE)  # noqa: N815
    accessDetails = AccessDetailsInputSerializer()  # noqa: N815


class GdapUpdateSerializer(serializers.Serializer):
    displayName = serializers.CharField(max_length=GDAP_DISPLAY_NAME_MAX, required=False)  # noqa: N815
    duration = _relationship_duration(required=False)
    autoExtendDuration = _auto_extend_duration(required=False)  # noqa: N815
    accessDetails = AccessDetailsInputSerializer(required=False)  # noqa: N815


class AutoExtendSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="true: extend by P180D on the last day; false: let it end.")


class GdapHistoryRowSerializer(serializers.Serializer):
    occurredDateTime = serializers.DateTimeField()  # noqa: N815
    event = serializers.CharField()
    status = serializers.CharField()
    endDateTime = serializers.DateTimeField(allow_null=True)  # noqa: N815
    autoExtendDuration = serializers.CharField()  # noqa: N815
    who = serializers.CharField()


class GdapHistorySerializer(serializers.Serializer):
    value = GdapHistoryRowSerializer(many=True)


_RELATIONSHIP_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The relationship's id.")


class GdapRelationshipViewSet(SelectorRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = GdapRelationship
    rows = staticmethod(functools.partial(gdap_relationships, with_roles=True))
    serializer_class = GdapRelationshipSerializer
    filterset_class = GdapRelationshipFilterSet
    lookup_field = "relationship_id"
    lookup_url_kwarg = "id"
    capabilities = {
        "*": C.GDAP_MANAGE,
        "list": C.SECURITY_VIEW,
        "retrieve": C.SECURITY_VIEW,
        "history": C.SECURITY_VIEW,
    }

    @classmethod
    def tenant_url_kwargs(cls, relationship: GdapRelationship) -> dict:
        return {"id": relationship.relationship_id}

    @staticmethod
    def tenant_row_id(relationship: GdapRelationship) -> str:
        return relationship.relationship_id

    def _answer(self, relationship: GdapRelationship, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=relationship.pk)
        body = GdapRelationshipSerializer(fresh, context=self.get_serializer_context()).data
        return Response(body, status=code)

    @extend_schema(request=GdapCreateSerializer, responses={201: GdapRelationshipSerializer})
    def create(self, request):
        """Request a relationship (status `created`); edit it, then `lockForApproval`."""
        data = GdapCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        customer = _customer_of(request, values["customer"]["tenantId"])
        with service_errors():
            relationship = gdap_services.gdap_relationship_create(
                actor=request.user,
                organization=request.user.organization,
                customer=customer,
                display_name=values["displayName"],
                duration=values["duration"],
                role_ids=_role_ids(values["accessDetails"]),
                auto_extend_duration=values["autoExtendDuration"],
            )
        return self._answer(relationship, status.HTTP_201_CREATED)

    @extend_schema(request=GdapUpdateSerializer, responses=GdapRelationshipSerializer)
    def partial_update(self, request, id=None):  # noqa: A002 - Graph's path parameter
        """Change the name, duration and roles (while `created`) or the auto-extension (while
        `created` or `active`)."""
        relationship = self.get_object()
        data = GdapUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not values:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        "Send at least one of displayName, duration, autoExtendDuration, accessDetails."
                    ]
                }
            )
        with service_errors():
            relationship = gdap_services.gdap_relationship_update(
                actor=request.user,
                relationship=relationship,
                display_name=values.get("displayName"),
                duration=values.get("duration"),
                role_ids=_role_ids(values["accessDetails"]) if "accessDetails" in values else None,
                auto_extend_duration=values.get("autoExtendDuration"),
            )
        return self._answer(relationship)

    def _act(self, service, relationship: GdapRelationship | None = None, **kwargs) -> Response:
        relationship = relationship or self.get_object()
        with service_errors():
            relationship = service(actor=self.request.user, relationship=relationship, **kwargs)
        return self._answer(relationship)

    @extend_schema(request=None, responses=GdapRelationshipSerializer)
    @action(detail=True, methods=["post"], url_path="lockForApproval")
    def lock_for_approval(self, request, id=None):  # noqa: A002
        """Send the request to the customer (`created` → `approvalPending`); the answer carries the
        invitation link the customer's admin opens to approve."""
        return self._act(gdap_services.gdap_lock_for_approval)

    @extend_schema(request=None, responses=GdapRelationshipSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request, id=None):  # noqa: A002
        """End the relationship now (`active`/`expiring` → `terminated`); its access assignments go."""
        return self._act(gdap_services.gdap_terminate)

    @extend_schema(request=None, responses={201: GdapRelationshipSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request, id=None):  # noqa: A002
        """A new `created` request for the same customer and roles (answered with the new one)."""
        relationship = self.get_object()
        with service_errors():
            renewed = gdap_services.gdap_renew(actor=request.user, relationship=relationship)
        return self._answer(renewed, status.HTTP_201_CREATED)

    @extend_schema(request=AutoExtendSerializer, responses=GdapRelationshipSerializer)
    @action(detail=True, methods=["post"], url_path="autoExtend")
    def auto_extend(self, request, id=None):  # noqa: A002
        """Turn the automatic P180D extension on or off (refused while Global Administrator is held)."""
        relationship = self.get_object()  # another organization's relationship is a 404 first
        data = AutoExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(
            gdap_services.gdap_auto_extend_set, relationship, enabled=data.validated_data["enabled"]
        )

    @extend_schema(request=None, responses=GdapRelationshipSerializer)
    @action(detail=True, methods=["post"], url_path="removeGlobalAdministrator")
    def remove_global_administrator(self, request, id=None):  # noqa: A002
        """Drop the Global Administrator role (only while `active`)."""
        return self._act(gdap_services.gdap_global_admin_remove)

    @extend_schema(request=None, responses=GdapHistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request, id=None):  # noqa: A002
        """Every recorded change of status, end date and auto-extension, oldest first."""
        rows = [
            {
                "occurredDateTime": event.at,
                "event": "update" if event.from_status else "insert",
                "status": event.to_status,
                "endDateTime": event.end_at,
                "autoExtendDuration": format_iso_duration(event.auto_extend_duration),
                "who": event.who,
            }
            for event in gdap_events(self.get_object())
        ]
        return Response(GdapHistorySerializer({"value": rows}).data)


class AccessContainerSerializer(serializers.Serializer):
    accessContainerId = serializers.UUIDField(source="security_group_id", read_only=True)  # noqa: N815
    accessContainerType = serializers.SerializerMethodField()  # noqa: N815
    displayName = serializers.CharField(source="security_group_name", read_only=True)  # noqa: N815

    @extend_schema_field({"type": "string", "enum": ["securityGroup"]})
    def get_accessContainerType(self, assignment) -> str:  # noqa: N802
        return "securityGroup"


class AccessAssignmentSerializer(serializers.Serializer):
    """Graph delegatedAdminAccessAssignment (spec §3.2)."""

    id = serializers.CharField(source="assignment_id", read_only=True)
    accessContainer = AccessContainerSerializer(source="*", read_only=True)  # noqa: N815
    accessDetails = AccessDetailsSerializer(source="*", read_only=True)  # noqa: N815
    status = serializers.ChoiceField(choices=AccessAssignmentStatus.choices, read_only=True)
    createdDateTime = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    lastModifiedDateTime = serializers.DateTimeField(source="last_modified_at", read_only=True)  # noqa: N815


class AccessContainerInputSerializer(serializers.Serializer):
    accessContainerId = serializers.UUIDField(help_text="The security group's id in your tenant.")  # noqa: N815
    accessContainerType = serializers.ChoiceField(  # noqa: N815
        choices=[("securityGroup", "Security group")], required=False, default="securityGroup"
    )
    displayName = serializers.CharField(  # noqa: N815
        max_length=120, required=False, allow_blank=True, default="", help_text="The group's name."
    )


class AccessAssignmentCreateSerializer(serializers.Serializer):
    accessContainer = AccessContainerInputSerializer()  # noqa: N815
    accessDetails = AccessDetailsInputSerializer()  # noqa: N815


class AccessAssignmentUpdateSerializer(serializers.Serializer):
    accessDetails = AccessDetailsInputSerializer()  # noqa: N815


_ASSIGNMENT_ID = OpenApiParameter(
    "assignmentId", str, OpenApiParameter.PATH, description="The access assignment's id."
)


class AccessAssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """`gdap/relationships/{id}/accessAssignments/[{assignmentId}/]`"""

    model = GdapAccessAssignment
    serializer_class = AccessAssignmentSerializer
    filter_backends: list = []
    lookup_field = "assignment_id"
    lookup_url_kwarg = "assignmentId"
    capabilities = {"*": C.GDAP_MANAGE, "list": C.SECURITY_VIEW, "retrieve": C.SECURITY_VIEW}

    @classmethod
    def tenant_url_kwargs(cls, assignment: GdapAccessAssignment) -> dict:
        return {"id": assignment.relationship.relationship_id, "assignmentId": assignment.assignment_id}

    def _relationship(self) -> GdapRelationship:
        relationship = (
            GdapRelationship.objects.visible_to(self.request.user)
            .filter(relationship_id=self.kwargs.get("id"))
            .prefetch_related("roles")
            .first()
        )
        if relationship is None:
            raise exceptions.NotFound("No such GDAP relationship in your organization.")
        return relationship

    def get_queryset(self):
        queryset = super().get_queryset().prefetch_related("roles")
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(relationship__relationship_id=self.kwargs.get("id"))

    def _answer(self, assignment: GdapAccessAssignment, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=assignment.pk)
        return Response(AccessAssignmentSerializer(fresh).data, status=code)

    @extend_schema(parameters=[_RELATIONSHIP_ID])
    def list(self, request, id=None):  # noqa: A002
        """The relationship's access assignments (deleted ones included, with status `deleted`)."""
        self._relationship()
        return super().list(request)

    @extend_schema(parameters=[_RELATIONSHIP_ID, _ASSIGNMENT_ID])
    def retrieve(self, request, id=None, assignmentId=None):  # noqa: A002, N803
        """One access assignment."""
        return super().retrieve(request)

    @extend_schema(
        parameters=[_RELATIONSHIP_ID],
        request=AccessAssignmentCreateSerializer,
        responses={201: AccessAssignmentSerializer},
    )
    def create(self, request, id=None):  # noqa: A002
        """Give a security group some of the relationship's roles (the relationship must be live)."""
        relationship = self._relationship()
        data = AccessAssignmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        container = data.validated_data["accessContainer"]
        group_id = container["accessContainerId"]
        with service_errors():
            assignment = gdap_assignment_create(
                actor=request.user,
                relationship=relationship,
                security_group_id=group_id,
                security_group_name=container["displayName"].strip() or f"Security group {group_id}",
                role_ids=_role_ids(data.validated_data["accessDetails"]),
            )
        return self._answer(assignment, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_RELATIONSHIP_ID, _ASSIGNMENT_ID],
        request=AccessAssignmentUpdateSerializer,
        responses=AccessAssignmentSerializer,
    )
    def partial_update(self, request, id=None, assignmentId=None):  # noqa: A002, N803
        """Replace the assignment's roles (each must be one of the relationship's)."""
        assignment = self.get_object()
        data = AccessAssignmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            assignment = gdap_assignment_update(
                actor=request.user,
                assignment=assignment,
                role_ids=_role_ids(data.validated_data["accessDetails"]),
            )
        return self._answer(assignment)

    @extend_schema(
        parameters=[_RELATIONSHIP_ID, _ASSIGNMENT_ID], request=None, responses=AccessAssignmentSerializer
    )
    def destroy(self, request, id=None, assignmentId=None):  # noqa: A002, N803
        """Remove the group's access; the assignment is kept with status `deleted`."""
        assignment = self.get_object()
        with service_errors():
            assignment = gdap_assignment_delete(actor=request.user, assignment=assignment)
        return self._answer(assignment)


# --- DAP ------------------------------------------------------------------------------------------


class DapSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    customer = CustomerTenantSerializer(read_only=True)
    establishedDateTime = serializers.DateTimeField(source="established_at", read_only=True)  # noqa: N815
    detectedDateTime = serializers.DateTimeField(source="detected_at", read_only=True)  # noqa: N815
    lastActivityDateTime = _moment("last_activity_at")  # noqa: N815
    removedDateTime = _moment("removed_at")  # noqa: N815
    isInactive = serializers.SerializerMethodField()  # noqa: N815

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_isInactive(self, dap: DapRelationship) -> bool:  # noqa: N802
        """No admin-on-behalf-of activity for 90 days (and not yet removed): remove it."""
        if dap.removed_at is not None:
            return False
        since = timezone.now() - timedelta(days=DAP_INACTIVE_DAYS)
        return (dap.last_activity_at or dap.established_at) < since


class DapViewSet(SelectorRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Legacy DAP links: read and remove. No route creates or edits one (spec §3)."""

    model = DapRelationship
    rows = staticmethod(dap_relationships)
    serializer_class = DapSerializer
    filterset_class = DapFilterSet
    capabilities = {"*": C.SECURITY_VIEW, "destroy": C.GDAP_MANAGE}

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        """Remove the DAP link (it stays listed with its removedDateTime)."""
        dap = self.get_object()
        with service_errors():
            dap_remove(actor=request.user, dap=dap)
        return Response(status=status.HTTP_204_NO_CONTENT)
