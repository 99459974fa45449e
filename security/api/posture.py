"""Security API: score and requirements, MFA of people and customers, alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Customer
from portal.api import TenantViewSet, created
from security.api.common import (
    C,
    CustomerTenantSerializer,
    SelectorRows,
    _customer_of,
    _envelope,
    _moment,
    _text,
    service_errors,
)
from security.choices import (
    AlertStatus,
    MfaMechanism,
)
from security.filters import AlertFilterSet, CustomerMfaFilterSet, MfaUserFilterSet
from security.models import (
    CustomerMfaStat,
    SecurityAlert,
    SecurityScoreSnapshot,
    UserMfaPolicy,
)
from security.selectors.mfa import customer_mfa_stats, mfa_coverage, mfa_people, mfa_rows
from security.selectors.posture import alerts, score_snapshots, settings_or_default
from security.services import alerts as alert_services
from security.services import mfa as mfa_services
from security.services import requirements as requirement_services

# --- Score and requirements ------------------------------------------------------------------------

_REQUIREMENT_SCHEMA = {
    "type": "object",
    "description": "Graph partnerSecurityRequirement, with the requirement's extra fields (camelCase).",
    "properties": {
        "id": {"type": "string"},
        "requirementType": {"type": "string"},
        "complianceStatus": {"type": "string", "enum": ["compliant", "noncomplaint", "notApplicable"]},
        "score": {"type": "integer"},
        "maxScore": {"type": "integer"},
        "state": {"type": "string", "enum": ["active", "preview"]},
        "actionUrl": {"type": "string"},
        "helpUrl": {"type": "string"},
        "updatedDateTime": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "enum": ["scored", "advisory"]},
        "mandatory": {"type": "boolean"},
        "evidence": {"type": "string"},
        "action": {"type": "string"},
    },
    "additionalProperties": True,
}
_HISTORY_ROW_SCHEMA = {
    "type": "object",
    "properties": {
        "date": {"type": "string", "format": "date"},
        "createdDateTime": {"type": "string", "format": "date-time"},
        "score": {"type": "integer"},
        "earned": {"type": "integer"},
        "possible": {"type": "integer"},
        "authorizationOk": {"type": "boolean"},
    },
}
SCORE_SCHEMA = {
    "type": "object",
    "description": "Graph partnerSecurityScore (spec/security.md §1.2–1.3).",
    "properties": {
        "securityScore": {"type": "integer", "minimum": 0, "maximum": 100},
        "earned": {"type": "integer"},
        "possible": {"type": "integer"},
        "authorizationOk": {"type": "boolean"},
        "mandatoryRequirementsCount": {"type": "integer"},
        "mandatoryRequirementsCompletedCount": {"type": "integer"},
        "recommendedRequirementsCount": {"type": "integer"},
        "recommendedRequirementsCompletedCount": {"type": "integer"},
        "lastRefreshDateTime": {"type": "string", "format": "date-time"},
        "requirements": {"type": "array", "items": _REQUIREMENT_SCHEMA},
        "history": {"type": "array", "items": _HISTORY_ROW_SCHEMA},
    },
    "required": ["securityScore", "authorizationOk", "requirements", "history"],
}

#: How many daily snapshots `score/` returns as its history.
HISTORY_DAYS = 90


def requirement_json(result) -> dict[str, Any]:
    """`RequirementResult.as_graph()` plus our own keys it may leave out (kind, mandatory, …)."""
    row = dict(result.as_graph())
    row.setdefault("kind", str(result.kind))
    row.setdefault("mandatory", bool(result.mandatory))
    row.setdefault("evidence", result.evidence)
    row.setdefault("action", result.action)
    return row


class ScoreViewSet(TenantViewSet):
    """`score/` and `requirements/`: computed from live data on each call."""

    model = SecurityScoreSnapshot
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.SECURITY_VIEW}

    @extend_schema(operation_id="security_score", responses={200: SCORE_SCHEMA})
    def score(self, request):
        """The security score, whether CSP authorization holds, every requirement row, and the
        daily history (oldest first)."""
        result = requirement_services.security_score(request.user.organization)
        since = timezone.localdate() - timedelta(days=HISTORY_DAYS)
        history = [
            {
                "date": snapshot.taken_on,
                "createdDateTime": snapshot.taken_at,
                "score": snapshot.score,
                "earned": snapshot.earned,
                "possible": snapshot.possible,
                "authorizationOk": snapshot.authorization_ok,
            }
            for snapshot in score_snapshots(request.user, since=since)
        ]
        return Response(
            {
                "securityScore": result.score,
                "earned": result.earned,
                "possible": result.possible,
                "authorizationOk": result.authorization_ok,
                "mandatoryRequirementsCount": result.mandatory_total,
                "mandatoryRequirementsCompletedCount": result.mandatory_completed,
                "recommendedRequirementsCount": result.recommended_total,
                "recommendedRequirementsCompletedCount": result.recommended_completed,
                "lastRefreshDateTime": timezone.now(),
                "requirements": [requirement_json(row) for row in result.requirements],
                "history": history,
            }
        )

    @extend_schema(operation_id="security_requirements", responses={200: _envelope(_REQUIREMENT_SCHEMA)})
    def requirements(self, request):
        """The requirement rows alone (scored and advisory), as Graph's partnerSecurityRequirement."""
        result = requirement_services.security_score(request.user.organization)
        return Response({"value": [requirement_json(row) for row in result.requirements]})


# --- MFA -----------------------------------------------------------------------------------------


class MfaUserSerializer(serializers.Serializer):
    """Graph userRegistrationDetails, with how MFA is enforced (spec §2.1)."""

    id = serializers.IntegerField(source="user_id")
    userPrincipalName = serializers.CharField(source="email")  # noqa: N815
    userDisplayName = serializers.CharField(source="display_name")  # noqa: N815
    roles = serializers.ListField(child=serializers.CharField())
    isAdmin = serializers.BooleanField(source="is_admin_role")  # noqa: N815
    isMfaRegistered = serializers.BooleanField(source="mfa_registered")  # noqa: N815
    isMfaEnforced = serializers.BooleanField(source="mfa_enforced")  # noqa: N815
    enforcementMechanism = serializers.ChoiceField(  # noqa: N815
        source="enforcement_mechanism", choices=MfaMechanism.choices
    )
    applicablePolicies = serializers.ListField(source="applicable_policies", child=serializers.CharField())  # noqa: N815
    methodsRegistered = serializers.ListField(source="methods", child=serializers.CharField())  # noqa: N815
    lastSignInDateTime = serializers.DateTimeField(source="last_sign_in_at", allow_null=True)  # noqa: N815
    lastNonMfaSignInDateTime = serializers.DateTimeField(source="last_non_mfa_sign_in_at", allow_null=True)  # noqa: N815
    lastUpdatedDateTime = serializers.DateTimeField(source="checked_at", allow_null=True)  # noqa: N815


class MfaCoverageSerializer(serializers.Serializer):
    usersTotal = serializers.IntegerField(source="users_total")  # noqa: N815
    usersWithMfa = serializers.IntegerField(source="users_with_mfa")  # noqa: N815
    coveragePercent = serializers.FloatField(source="coverage_pct", allow_null=True)  # noqa: N815
    adminsTotal = serializers.IntegerField(source="admins_total")  # noqa: N815
    adminsWithMfa = serializers.IntegerField(source="admins_with_mfa")  # noqa: N815
    adminCoveragePercent = serializers.FloatField(source="admin_coverage_pct", allow_null=True)  # noqa: N815


class MfaUsersSerializer(serializers.Serializer):
    value = MfaUserSerializer(many=True)
    coverage = MfaCoverageSerializer()


class MfaUserViewSet(TenantViewSet):
    model = UserMfaPolicy
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.SECURITY_VIEW}

    @extend_schema(
        operation_id="security_mfa_users",
        parameters=[
            OpenApiParameter("registered", bool, description="true: registered for MFA; false: not."),
            OpenApiParameter("admin", bool, description="true: admin roles only; false: everyone else."),
            OpenApiParameter("mechanism", str, enum=MfaMechanism.values, description="What enforces MFA."),
            OpenApiParameter("search", str, description="Part of the e-mail address or name."),
        ],
        responses=MfaUsersSerializer,
    )
    def users(self, request):
        """The partner's people and their MFA (people without MFA first, then admins), and the
        coverage of the whole tenant."""
        organization = request.user.organization
        settings_row = settings_or_default(organization)
        filterset = MfaUserFilterSet(
            request.query_params, queryset=mfa_people(organization, settings_row), request=request
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(
                {
                    field: [error["message"] for error in errors]
                    for field, errors in filterset.errors.get_json_data().items()
                }
            )
        rows = mfa_rows(filterset.qs, settings_row)
        coverage = mfa_coverage(organization)
        return Response(MfaUsersSerializer({"value": rows, "coverage": coverage}).data)


class CustomerMfaSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    customer = CustomerTenantSerializer(read_only=True)
    adminsWithMfa = serializers.IntegerField(source="admins_with_mfa")  # noqa: N815
    adminsTotal = serializers.IntegerField(source="admins_total")  # noqa: N815
    nonAdminsWithMfa = serializers.IntegerField(source="non_admins_with_mfa")  # noqa: N815
    usersTotal = serializers.IntegerField(source="users_total")  # noqa: N815
    adminMfaPercent = serializers.FloatField(source="admin_mfa_pct", allow_null=True)  # noqa: N815
    isCompliant = serializers.BooleanField(source="is_compliant")  # noqa: N815
    securityDefaultsOn = serializers.BooleanField(source="security_defaults_on")  # noqa: N815
    conditionalAccessPoliciesCount = serializers.IntegerField(source="ca_policies_count")  # noqa: N815
    checkedDateTime = serializers.DateTimeField(source="checked_at")  # noqa: N815


_COUNT = {"min_value": 0, "max_value": 10_000_000}


class CustomerMfaInputSerializer(serializers.Serializer):
    adminsWithMfa = serializers.IntegerField(**_COUNT)  # noqa: N815
    adminsTotal = serializers.IntegerField(**_COUNT)  # noqa: N815
    nonAdminsWithMfa = serializers.IntegerField(**_COUNT)  # noqa: N815
    usersTotal = serializers.IntegerField(**_COUNT)  # noqa: N815
    securityDefaultsOn = serializers.BooleanField(required=False, default=False)  # noqa: N815
    conditionalAccessPoliciesCount = serializers.IntegerField(required=False, default=0, **_COUNT)  # noqa: N815
    checkedDateTime = serializers.DateTimeField(required=False, allow_null=True, default=None)  # noqa: N815

    def validate(self, attrs):
        errors = {}
        if attrs["adminsWithMfa"] > attrs["adminsTotal"]:
            errors["adminsWithMfa"] = ["Cannot exceed adminsTotal."]
        if attrs["adminsTotal"] > attrs["usersTotal"]:
            errors["adminsTotal"] = ["Cannot exceed usersTotal."]
        if attrs["nonAdminsWithMfa"] > attrs["usersTotal"] - attrs["adminsTotal"]:
            errors["nonAdminsWithMfa"] = ["Cannot exceed the non-admin users (usersTotal − adminsTotal)."]
        checked = attrs.get("checkedDateTime")
        if checked is not None and checked > timezone.now() + timedelta(minutes=5):
            errors["checkedDateTime"] = ["Cannot be in the future."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CustomerMfaUpsertSerializer(CustomerMfaInputSerializer):
    customerTenantId = serializers.UUIDField(help_text="The customer's Entra tenant ID.")  # noqa: N815


class CustomerMfaViewSet(SelectorRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Customer tenants' MFA statistics (spec §2.2)."""

    model = CustomerMfaStat
    rows = staticmethod(customer_mfa_stats)
    serializer_class = CustomerMfaSerializer
    filterset_class = CustomerMfaFilterSet
    lookup_field = "customer__tenant_id"
    lookup_url_kwarg = "customerTenantId"
    capabilities = {"*": C.SECURITY_VIEW, "create": C.SECURITY_MANAGE, "update": C.SECURITY_MANAGE}

    @classmethod
    def tenant_url_kwargs(cls, stat: CustomerMfaStat) -> dict:
        return {"customerTenantId": stat.customer.tenant_id}

    def _upsert(self, request, customer: Customer, values: dict) -> Response:
        existed = CustomerMfaStat.objects.filter(customer=customer).exists()
        with service_errors():
            stat = mfa_services.customer_mfa_upsert(
                actor=request.user,
                organization=request.user.organization,
                customer=customer,
                admins_with_mfa=values["adminsWithMfa"],
                admins_total=values["adminsTotal"],
                non_admins_with_mfa=values["nonAdminsWithMfa"],
                users_total=values["usersTotal"],
                security_defaults_on=values["securityDefaultsOn"],
                ca_policies_count=values["conditionalAccessPoliciesCount"],
                checked_at=values["checkedDateTime"],
            )
        body = CustomerMfaSerializer(self.get_queryset().get(pk=stat.pk)).data
        return Response(body) if existed else created(body)

    @extend_schema(
        request=CustomerMfaUpsertSerializer,
        responses={200: CustomerMfaSerializer, 201: CustomerMfaSerializer},
    )
    def create(self, request):
        """Record a customer's MFA statistics (201), or replace them if they exist (200)."""
        data = CustomerMfaUpsertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = _customer_of(request, data.validated_data["customerTenantId"], field="customerTenantId")
        return self._upsert(request, customer, data.validated_data)

    @extend_schema(
        request=CustomerMfaInputSerializer,
        responses={200: CustomerMfaSerializer, 201: CustomerMfaSerializer},
    )
    def update(self, request, customerTenantId=None):  # noqa: N803 - the path parameter's name
        """Record or replace the MFA statistics of the customer with this tenant ID."""
        customer = Customer.objects.visible_to(request.user).filter(tenant_id=customerTenantId).first()
        if customer is None:
            raise exceptions.NotFound("No customer of your organization has this tenant ID.")
        data = CustomerMfaInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._upsert(request, customer, data.validated_data)


# --- Alerts ---------------------------------------------------------------------------------------


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    alertId = serializers.UUIDField(source="alert_id", read_only=True)  # noqa: N815
    alertType = _text("alert_type")  # noqa: N815
    title = serializers.CharField(read_only=True)
    customer = CustomerTenantSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)
    createdDateTime = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    respondedDateTime = _moment("responded_at")  # noqa: N815
    respondedBy = serializers.EmailField(
        source="responded_by.email", read_only=True, allow_null=True, default=None
    )  # noqa: N815
    responseNote = _text("response_note")  # noqa: N815
    responseTimeInHours = serializers.SerializerMethodField()  # noqa: N815

    @extend_schema_field({"type": "number", "nullable": True})
    def get_responseTimeInHours(self, alert: SecurityAlert) -> float | None:  # noqa: N802
        if alert.responded_at is None:
            return None
        return round((alert.responded_at - alert.created_at).total_seconds() / 3600, 1)


class AlertRespondSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(AlertStatus.RESOLVED, "Resolved"), (AlertStatus.DISMISSED, "Dismissed")]
    )
    note = serializers.CharField(max_length=5000, help_text="What was done (required).")


class AlertViewSet(SelectorRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = SecurityAlert
    rows = staticmethod(alerts)
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    capabilities = {"*": C.SECURITY_VIEW, "respond": C.SECURITY_MANAGE}

    @extend_schema(request=AlertRespondSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """Answer the alert: resolved or dismissed, with a note (counts toward the 24-hour average)."""
        alert = self.get_object()
        data = AlertRespondSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            alert = alert_services.alert_respond(
                actor=request.user,
                alert=alert,
                status=data.validated_data["status"],
                note=data.validated_data["note"],
            )
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)
