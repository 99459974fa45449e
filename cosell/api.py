"""Co-sell referrals in Partner Center's Referrals API shape, their history, and routing rules.

An integrator's client for `https://api.partner.microsoft.com/v1.0/engagements/referrals` works
here with the base URL changed to `/api/v1/cosell` (spec/cosell.md §2): POST creates (201, the
full document and its `ETag`), GET lists with the OData options of portal.odata over the properties
of cosell.odata, in the envelope `{"value": [...], "@odata.count": n, "@odata.nextLink": "..."}`,
GET one answers with an `ETag`, PUT (full) and PATCH (partial) need `If-Match` (428 without it,
412 when it is stale).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from cosell.choices import (
    HistorySource,
    ReferralQualification,
    ReferralStatus,
    ReferralSubstatus,
    ReferralType,
)
from cosell.models import Referral, RoutingRule
from cosell.odata import REFERRALS
from cosell.selectors.activity import referral_history
from cosell.selectors.referrals import referral_odata_page
from cosell.selectors.routing import routing_test
from cosell.services.referrals import (
    IllegalTransition,
    StaleReferral,
    referral_create,
    referral_update,
)
from cosell.services.routing import RULE_FIELDS, routing_rule_create, routing_rule_delete, routing_rule_update
from cosell.validation import referral_to_json
from portal.api import PROBLEM_CONTENT_TYPE, ModelSerializer, PortalAutoSchema, TenantViewSet, created
from portal.capabilities import Capability
from portal.odata import ODataError, envelope

C = Capability


# --- Errors ---------------------------------------------------------------------------------------


class InvalidStatusTransition(exceptions.ValidationError):
    default_code = "invalid_status_transition"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The referral changed since you read it: GET it again and resend with its new eTag."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send the referral's eTag in an If-Match header."
    default_code = "precondition_required"


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


# --- The documented shapes (raw JSON schema: the document is Partner Center's, not a model's) -------

_TEXT = {"type": "string", "nullable": True}
_DATETIME = {"type": "string", "format": "date-time", "nullable": True}
_MEMBER = {
    "type": "object",
    "properties": {
        "firstName": _TEXT,
        "lastName": _TEXT,
        "phoneNumber": _TEXT,
        "email": _TEXT,
        "contactPreference": {
            "type": "object",
            "nullable": True,
            "properties": {"locale": _TEXT, "disableNotifications": {"type": "boolean", "nullable": True}},
        },
    },
}
_TAGS = {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}}
_ADDRESS = {
    "type": "object",
    "properties": {
        "addressLine1": _TEXT,
        "addressLine2": _TEXT,
        "city": _TEXT,
        "state": _TEXT,
        "postalCode": _TEXT,
        "country": {"type": "string", "description": "ISO 3166 two-letter code."},
        "region": _TEXT,
    },
}
_READ_ONLY = ("id", "organizationId", "organizationName", "createdDateTime", "updatedDateTime", "eTag")


def _referral_schema(*, request: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "engagementId": {"type": "string", "format": "uuid", "nullable": True},
        "organizationId": _TEXT,
        "organizationName": _TEXT,
        "name": _TEXT,
        "externalReferenceId": _TEXT,
        "createdDateTime": _DATETIME,
        "updatedDateTime": _DATETIME,
        "expirationDateTime": _DATETIME,
        "acceptedDateTime": _DATETIME,
        "status": {"type": "string", "enum": list(ReferralStatus.values)},
        "substatus": {"type": "string", "enum": list(ReferralSubstatus.values)},
        "statusReason": _TEXT,
        "type": {"type": "string", "enum": list(ReferralType.values)},
        "qualification": {"type": "string", "enum": list(ReferralQualification.values)},
        "referralSource": _TEXT,
        "callToAction": _TEXT,
        "customerMarketplaceIntent": _TEXT,
        "target": {
            "type": "array",
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "id": {"type": "string"}}},
        },
        "customerProfile": {
            "type": "object",
            "properties": {
                "id": _TEXT,
                "name": {"type": "string"},
                "address": _ADDRESS,
                "size": _TEXT,
                "team": {"type": "array", "items": _MEMBER},
                "ids": {"type": "object", "nullable": True, "additionalProperties": {"type": "string"}},
            },
        },
        "consent": {
            "type": "object",
            "properties": {
                "consentToToShareInfoWithOthers": {"type": "boolean"},
                "consentToContact": {"type": "boolean"},
            },
        },
        "details": {
            "type": "object",
            "properties": {
                "notes": _TEXT,
                "dealValue": {"type": "number", "nullable": True, "minimum": 0},
                "currency": {"type": "string", "nullable": True, "description": "ISO 4217 code."},
                "closingDateTime": _DATETIME,
                "requirements": {
                    "type": "object",
                    "nullable": True,
                    "properties": {
                        "industries": _TAGS,
                        "products": _TAGS,
                        "services": _TAGS,
                        "solutions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"id": {"type": "string"}, "name": _TEXT, "type": _TEXT},
                            },
                        },
                    },
                },
            },
        },
        "team": {"type": "array", "items": _MEMBER},
        "inviteContext": {
            "type": "object",
            "nullable": True,
            "properties": {
                "notes": _TEXT,
                "invitedBy": {
                    "type": "object",
                    "nullable": True,
                    "properties": {"organizationId": _TEXT, "organizationName": _TEXT},
                },
            },
        },
        "partnerRole": _TEXT,
        "solutionArea": _TEXT,
        "solutionPlay": _TEXT,
        "eTag": {"type": "string"},
        "links": {"type": "object", "additionalProperties": True},
    }
    if request:
        for name in _READ_ONLY:
            properties[name] = {**properties[name], "readOnly": True}
    return {
        "type": "object",
        "description": "A referral in Partner Center's Referrals API shape (camelCase).",
        "properties": properties,
        "required": ["customerProfile", "consent", "details", "type"] if request else ["id", "eTag"],
    }


REFERRAL_SCHEMA = _referral_schema(request=False)
REFERRAL_REQUEST_SCHEMA = _referral_schema(request=True)
# A PATCH names only the fields it changes: no field is required (OpenAPI forbids an empty list).
REFERRAL_PATCH_SCHEMA = {key: value for key, value in REFERRAL_REQUEST_SCHEMA.items() if key != "required"}
REFERRAL_PAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "array", "items": REFERRAL_SCHEMA},
        "@odata.count": {"type": "integer", "description": "Only with `$count=true`."},
        "@odata.nextLink": {"type": "string", "description": "The next page, when there is one."},
    },
    "required": ["value"],
}
HISTORY_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "oldValue": {"nullable": True},
                    "newValue": {"nullable": True},
                    "who": {"type": "string"},
                    "actorType": {"type": "string", "enum": ["user", "microsoft", "system", "api"]},
                    "occurredDateTime": {"type": "string", "format": "date-time"},
                    "source": {"type": "string"},
                    "correlationId": {"type": "string"},
                },
            },
        }
    },
    "required": ["value"],
}
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The referral's eTag as last read (GET answers it in the ETag header).",
)
_ETAG_HEADER = OpenApiParameter(
    "ETag", str, OpenApiParameter.HEADER, response=True, description="The referral's current eTag."
)
_LIST_PARAMETERS = REFERRALS.openapi_parameters()


class _ReferralSchema(PortalAutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        # The list answers one OData envelope object; it is not a paginated array of its own.
        return False


def _jsonable(document: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values (Decimal → number, datetime → ISO 8601), as the response and the
    Idempotency-Key record store them."""
    return json.loads(json.dumps(document, cls=JSONEncoder))


# --- Referrals --------------------------------------------------------------------------------------


class ReferralViewSet(TenantViewSet):
    """`/engagements/referrals[/{id}[/history]]`"""

    model = Referral
    lookup_field = "referral_id"
    lookup_url_kwarg = "id"
    pagination_class = None
    filter_backends: list = []
    schema = _ReferralSchema()
    # visible_to() already narrows a Referrals user to the referrals assigned to them or theirs.
    capabilities = {"*": C.REFERRALS_MANAGE_OWN}

    @classmethod
    def tenant_url_kwargs(cls, referral: Referral) -> dict:
        return {"id": referral.referral_id}

    @staticmethod
    def tenant_row_id(referral: Referral) -> str:
        return str(referral.referral_id)

    def _answer(self, referral: Referral, code: int = status.HTTP_200_OK) -> Response:
        document = referral_to_json(referral)
        # A POST's answer is also stored for Idempotency-Key replays, as plain JSON values.
        response = created(_jsonable(document)) if code == 201 else Response(document)
        response["ETag"] = referral.etag
        return response

    @extend_schema(
        operation_id="cosell_referrals_list",
        parameters=_LIST_PARAMETERS,
        responses={200: REFERRAL_PAGE_SCHEMA},
    )
    def list(self, request):
        """Referrals of your organization, with Partner Center's OData query options."""
        try:
            query = REFERRALS.parse(request.query_params)
        except ODataError as exc:
            raise exceptions.ValidationError({exc.option: [exc.message]}) from None
        page = referral_odata_page(user=request.user, query=query)
        # The renderer writes the Decimal dealValue as a JSON number.
        values = [referral_to_json(referral) for referral in page.rows]
        url = request.build_absolute_uri(request.path)
        return Response(envelope(values, page, query, url=url, params=request.query_params))

    @extend_schema(
        operation_id="cosell_referrals_create",
        request={"application/json": REFERRAL_REQUEST_SCHEMA},
        responses={201: REFERRAL_SCHEMA},
    )
    def create(self, request):
        """Create a referral from a Partner Center document (a shared co-sell deal also invites the
        vendor in the same engagement)."""
        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send the referral as a JSON object."]})
        try:
            referral = referral_create(
                organization=request.user.organization,
                actor=request.user,
                data=data,
                source=HistorySource.API,
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_field_errors(exc)) from None
        return self._answer(referral, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="cosell_referrals_retrieve",
        responses={200: REFERRAL_SCHEMA},
        parameters=[_ETAG_HEADER],
    )
    def retrieve(self, request, id=None):  # noqa: A002 - Partner Center's path parameter
        """One referral, with its eTag in the ETag header."""
        return self._answer(self.get_object())

    def _update(self, request, *, partial: bool) -> Response:
        # Another organization's referral is a 404 before any header is looked at.
        referral = self.get_object()
        if_match = request.headers.get("If-Match")
        if not if_match:
            raise PreconditionRequired
        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send the referral as a JSON object."]})
        try:
            referral = referral_update(
                referral=referral,
                actor=request.user,
                data=data,
                if_match=if_match,
                partial=partial,
                source=HistorySource.API,
            )
        except StaleReferral:
            raise PreconditionFailed from None
        except IllegalTransition as exc:
            raise InvalidStatusTransition(_field_errors(exc)) from None
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_field_errors(exc)) from None
        return self._answer(referral)

    _UPDATE_RESPONSES = {
        200: REFERRAL_SCHEMA,
        (412, PROBLEM_CONTENT_TYPE): _PROBLEM,
        (428, PROBLEM_CONTENT_TYPE): _PROBLEM,
    }

    @extend_schema(
        operation_id="cosell_referrals_update",
        request={"application/json": REFERRAL_REQUEST_SCHEMA},
        parameters=[_IF_MATCH],
        responses=_UPDATE_RESPONSES,
    )
    def update(self, request, id=None):  # noqa: A002
        """Replace a referral (If-Match required). Status moves only along spec §2.1."""
        return self._update(request, partial=False)

    @extend_schema(
        operation_id="cosell_referrals_partial_update",
        request={"application/json": REFERRAL_PATCH_SCHEMA},
        parameters=[_IF_MATCH],
        responses=_UPDATE_RESPONSES,
    )
    def partial_update(self, request, id=None):  # noqa: A002
        """Change some fields of a referral (If-Match required)."""
        return self._update(request, partial=True)

    @extend_schema(operation_id="cosell_referrals_history", responses={200: HISTORY_SCHEMA})
    def history(self, request, id=None):  # noqa: A002
        """The activity feed: one row per changed field, with who, when and how."""
        referral = self.get_object()
        rows = [
            {
                "field": change.field,
                "oldValue": change.old,
                "newValue": change.new,
                "who": change.who,
                "actorType": change.actor_type,
                "occurredDateTime": change.when,
                "source": change.source,
                "correlationId": change.request_id,
            }
            for change in referral_history(referral, viewer=request.user)
        ]
        return Response({"value": rows})


# --- Routing rules ----------------------------------------------------------------------------------


class RoutingRuleSerializer(ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = ["id", *RULE_FIELDS, "created_at"]
        read_only_fields = ["id", "created_at"]


class RoutingDecisionSerializer(serializers.Serializer):
    ruleId = serializers.IntegerField(allow_null=True)  # noqa: N815 - the API's camelCase
    ruleName = serializers.CharField(allow_null=True)  # noqa: N815
    isDefault = serializers.BooleanField()  # noqa: N815
    assignToTeam = serializers.CharField(allow_blank=True)  # noqa: N815
    assignToUserId = serializers.IntegerField(allow_null=True)  # noqa: N815
    summary = serializers.CharField()
    explanation = serializers.ListField(child=serializers.CharField())


class RoutingRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """`/routing-rules/` CRUD and `/routing-rules/test?country=&solutionId=` (spec §5)."""

    model = RoutingRule
    serializer_class = RoutingRuleSerializer
    filter_backends: list = []
    capabilities = {
        "*": C.REFERRALS_MANAGE_ALL,
        "list": C.REFERRALS_MANAGE_OWN,
        "retrieve": C.REFERRALS_MANAGE_OWN,
        "tester": C.REFERRALS_MANAGE_OWN,
    }

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    # The serializer parses; cosell.services.routing checks the rule and writes it, as for the pages.
    def perform_create(self, serializer):
        serializer.instance = routing_rule_create(
            organization=self.request.user.organization,
            actor=self.request.user,
            values=serializer.validated_data,
        )

    def perform_update(self, serializer):
        serializer.instance = routing_rule_update(
            rule=serializer.instance, actor=self.request.user, values=serializer.validated_data
        )

    def perform_destroy(self, instance):
        routing_rule_delete(rule=instance, actor=self.request.user)

    @extend_schema(
        operation_id="cosell_routing_rules_test",
        parameters=[
            OpenApiParameter("country", str, required=True, description="ISO 3166 two-letter code."),
            OpenApiParameter("solutionId", str, description="A SolutionProfile id such as SOL-ABC-001."),
            OpenApiParameter("products", str, description="Comma-separated product tag ids."),
            OpenApiParameter("dealValue", OpenApiTypes.DECIMAL, description="The deal value."),
        ],
        responses=RoutingDecisionSerializer,
    )
    def tester(self, request):
        """Which rule would route a referral with these inputs, and why (every rule's criteria)."""
        params = _TesterParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        decision = routing_test(
            organization=request.user.organization,
            country=values["country"].upper(),
            solution_id=values.get("solutionId", ""),
            products=tuple(p.strip() for p in values.get("products", "").split(",") if p.strip()),
            deal_value=values.get("dealValue"),
        )
        rule = decision.rule
        body = {
            "ruleId": rule.pk if rule is not None else None,
            "ruleName": rule.name if rule is not None else None,
            "isDefault": decision.is_default,
            "assignToTeam": decision.team,
            "assignToUserId": decision.user.pk if decision.user else None,
            "summary": decision.summary,
            "explanation": list(decision.explanation),
        }
        return Response(RoutingDecisionSerializer(body).data)


class _TesterParams(serializers.Serializer):
    country = serializers.RegexField(r"^[A-Za-z]{2}$")
    solutionId = serializers.CharField(max_length=40, required=False, allow_blank=True)  # noqa: N815
    products = serializers.CharField(max_length=500, required=False, allow_blank=True)
    dealValue = serializers.DecimalField(  # noqa: N815
        max_digits=18, decimal_places=6, min_value=0, required=False
    )


# --- Routes -----------------------------------------------------------------------------------------

_referrals = ReferralViewSet.as_view({"get": "list", "post": "create"})
_referral = ReferralViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"})
_rules = RoutingRuleViewSet.as_view({"get": "list", "post": "create"})
_rule = RoutingRuleViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("engagements/referrals", _referrals, name="referral-list"),
    path("engagements/referrals/<uuid:id>", _referral, name="referral-detail"),
    path(
        "engagements/referrals/<uuid:id>/history",
        ReferralViewSet.as_view({"get": "history"}),
        name="referral-history",
    ),
    path("routing-rules/", _rules, name="routing-rule-list"),
    path("routing-rules/test", RoutingRuleViewSet.as_view({"get": "tester"}), name="routing-rule-test"),
    path("routing-rules/<int:pk>/", _rule, name="routing-rule-detail"),
]
