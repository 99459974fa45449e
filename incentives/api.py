"""REST resources of the Incentives workspace: /api/v1/incentives/…

- `activities/`: the vendor's catalogue, read-only, with each activity's rates per market tier.
- `opportunities/`: the seller opportunities shared with the organization; POST shares (or updates)
  one in the documented shape of the opportunity file (incentives.opportunity_import); and
  `opportunities/{id}/payout/?activityType=…&location=…`, the potential payout explained line by line.
- `claims/`: list, retrieve, create (every failed eligibility rule named with its code), and the
  claim's actions: `submit/`, `proof/` (GET lists, POST attaches a file), `respond/`, `cancel/`,
  `history/` and `payout/`.

Field and filter names are camelCase like the Earnings API; the filters are the pages' FilterSets.
Each action names its capability (`capabilities`); reads go through incentives.selectors, every
write calls incentives.services, whose ValidationErrors are problem+json 400 answers.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.models import Customer, PartnerLocation
from incentives import selectors
from incentives.choices import CustomerIdType, ProofKind
from incentives.filters import ActivityTypeFilterSet, ClaimFilterSet, OpportunityFilterSet
from incentives.models import ActivityRate, ActivityType, Claim, Opportunity, ProofDocument
from incentives.services.claims.closing import claim_cancel
from incentives.services.claims.creation import claim_create
from incentives.services.claims.proof import proof_attach
from incentives.services.claims.rules import ClaimRefused
from incentives.services.claims.submission import claim_respond, claim_submit
from incentives.services.opportunities import opportunity_upsert
from incentives.services.payouts import PayoutExplanation, potential_payout
from portal.api import ModelSerializer, TenantViewSet, created
from portal.capabilities import Capability
from portal.history import history_for

C = Capability


def _amount(source: str, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(source=source, max_digits=18, decimal_places=2, read_only=True, **kwargs)


def _text(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=source, read_only=True, **kwargs)


def _date(source: str) -> serializers.DateField:
    return serializers.DateField(source=source, read_only=True, allow_null=True)


def _moment(source: str) -> serializers.DateTimeField:
    return serializers.DateTimeField(source=source, read_only=True, allow_null=True)


# --- The catalogue --------------------------------------------------------------------------------


class ActivityRateSerializer(ModelSerializer):
    marketTier = _text("market_tier")  # noqa: N815 - the API's camelCase names
    fixedFeeUSD = _amount("fixed_fee_usd", allow_null=True)  # noqa: N815
    rate = serializers.DecimalField(max_digits=12, decimal_places=8, read_only=True, allow_null=True)
    capPerClaimUSD = _amount("cap_per_claim_usd", allow_null=True)  # noqa: N815
    validFrom = serializers.DateField(source="valid_from", read_only=True)  # noqa: N815
    validTo = _date("valid_to")  # noqa: N815

    class Meta:
        model = ActivityRate
        fields = ["marketTier", "fixedFeeUSD", "rate", "capPerClaimUSD", "validFrom", "validTo"]


class ActivityTypeSerializer(ModelSerializer):
    engagementId = _text("engagement.engagement_id")  # noqa: N815
    solutionArea = _text("engagement.solution_area")  # noqa: N815
    payPattern = _text("pay_pattern")  # noqa: N815
    startsOn = serializers.DateField(source="starts_on", read_only=True)  # noqa: N815
    endsOn = serializers.DateField(source="ends_on", read_only=True)  # noqa: N815
    availability = serializers.SerializerMethodField()
    claimWindowDays = serializers.IntegerField(source="claim_window_days", read_only=True)  # noqa: N815
    submissionDeadlineDays = serializers.IntegerField(source="submission_deadline_days", read_only=True)  # noqa: N815
    maxClaimsPerCustomer = serializers.IntegerField(source="max_claims_per_customer", read_only=True)  # noqa: N815
    annualCapUSD = _amount("annual_cap_usd")  # noqa: N815
    customerSegments = serializers.ListField(
        source="customer_segments", child=serializers.CharField(), read_only=True
    )  # noqa: N815
    customerCountries = serializers.ListField(
        source="customer_countries", child=serializers.CharField(), read_only=True
    )  # noqa: N815
    minCustomerEmployees = serializers.IntegerField(
        source="min_customer_employees", read_only=True, allow_null=True
    )  # noqa: N815
    maxCustomerEmployees = serializers.IntegerField(
        source="max_customer_employees", read_only=True, allow_null=True
    )  # noqa: N815
    prerequisite = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    requiredProof = serializers.ListField(
        source="required_proof", child=serializers.CharField(), read_only=True
    )  # noqa: N815
    rates = ActivityRateSerializer(many=True, read_only=True)

    class Meta:
        model = ActivityType
        fields = [
            "id",
            "code",
            "name",
            "description",
            "engagementId",
            "solutionArea",
            "payPattern",
            "startsOn",
            "endsOn",
            "availability",
            "claimWindowDays",
            "submissionDeadlineDays",
            "maxClaimsPerCustomer",
            "annualCapUSD",
            "customerSegments",
            "customerCountries",
            "minCustomerEmployees",
            "maxCustomerEmployees",
            "prerequisite",
            "requiredProof",
            "rates",
        ]

    def get_availability(self, activity: ActivityType) -> str:
        return str(activity.availability())


class ActivityTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The catalogue of paid partner activities (vendor data: the same for every partner)."""

    model = ActivityType
    serializer_class = ActivityTypeSerializer
    filterset_class = ActivityTypeFilterSet
    select_related = ("engagement", "prerequisite")
    capabilities = {"*": C.INCENTIVES_VIEW}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActivityType.objects.none()
        return selectors.catalogue_with_rate_history(user=self.request.user)


# --- Payout explanations --------------------------------------------------------------------------


class PayoutLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    text = serializers.CharField()


class PayoutSerializer(serializers.Serializer):
    amountUSD = serializers.DecimalField(max_digits=18, decimal_places=2)  # noqa: N815
    marketTier = serializers.CharField()  # noqa: N815
    lines = PayoutLineSerializer(many=True)
    limitedBy = serializers.CharField(  # noqa: N815
        allow_blank=True, help_text='"" (not limited), "per_claim_cap", "annual_cap" or "no_rate".'
    )
    annualCapRemainingUSD = serializers.DecimalField(max_digits=18, decimal_places=2)  # noqa: N815
    whatWouldChange = serializers.CharField(allow_blank=True)  # noqa: N815


def _payout_data(explanation: PayoutExplanation) -> dict[str, Any]:
    return {
        "amountUSD": explanation.amount_usd,
        "marketTier": explanation.market_tier,
        "lines": [{"label": label, "text": text} for label, text in explanation.lines],
        "limitedBy": explanation.limited_by,
        "annualCapRemainingUSD": explanation.annual_cap_remaining_usd,
        "whatWouldChange": explanation.what_would_change,
    }


# --- Opportunities --------------------------------------------------------------------------------


class OpportunitySerializer(ModelSerializer):
    msxOpportunityId = _text("msx_opportunity_id")  # noqa: N815
    customerId = serializers.IntegerField(source="customer.pk", read_only=True)  # noqa: N815
    customerName = _text("customer.name")  # noqa: N815
    customerTenantId = serializers.UUIDField(source="customer.tenant_id", read_only=True)  # noqa: N815
    solutionArea = _text("solution_area")  # noqa: N815
    estimatedValueUSD = _amount("estimated_value_usd")  # noqa: N815
    stage = serializers.CharField(read_only=True)
    sellerName = _text("seller_name")  # noqa: N815
    sellerEmail = _text("seller_email")  # noqa: N815
    closeDate = _date("close_date")  # noqa: N815
    importedAt = serializers.DateTimeField(source="imported_at", read_only=True)  # noqa: N815

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "msxOpportunityId",
            "name",
            "customerId",
            "customerName",
            "customerTenantId",
            "solutionArea",
            "estimatedValueUSD",
            "stage",
            "sellerName",
            "sellerEmail",
            "closeDate",
            "importedAt",
        ]


class OpportunityInputSerializer(serializers.Serializer):
    """The documented shape: the columns of the opportunity file, as JSON fields."""

    msxOpportunityId = serializers.CharField(max_length=20, help_text="e.g. 7-3KXYZ12AB")  # noqa: N815
    name = serializers.CharField(max_length=200)
    customerTenantId = serializers.CharField(  # noqa: N815
        max_length=36, help_text="The tenant ID of one of the organization's customers."
    )
    solutionArea = serializers.CharField(max_length=40)  # noqa: N815
    estimatedValueUSD = serializers.CharField(max_length=20, help_text="USD, e.g. 1200000.00")  # noqa: N815
    sellerName = serializers.CharField(max_length=150)  # noqa: N815
    stage = serializers.CharField(
        max_length=10, required=False, allow_blank=True, help_text="Default Qualify."
    )
    sellerEmail = serializers.CharField(max_length=254, required=False, allow_blank=True)  # noqa: N815
    closeDate = serializers.CharField(max_length=10, required=False, allow_blank=True, help_text="YYYY-MM-DD")  # noqa: N815


class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Opportunity
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    select_related = ("customer",)
    capabilities = {"*": C.INCENTIVES_VIEW, "create": C.INCENTIVES_CLAIMS}

    @extend_schema(
        request=OpportunityInputSerializer, responses={200: OpportunitySerializer, 201: OpportunitySerializer}
    )
    def create(self, request):
        """Share one seller opportunity with the organization, or update the one with its MSX ID."""
        data = OpportunityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        existed = selectors.msx_opportunity_shared(
            user=request.user, msx_opportunity_id=data.validated_data["msxOpportunityId"]
        )
        opportunity = opportunity_upsert(
            organization=request.user.organization, data=dict(data.validated_data), actor=request.user
        )
        body = OpportunitySerializer(opportunity).data
        return Response(body) if existed else created(body)

    @extend_schema(
        parameters=[
            OpenApiParameter("activityType", str, required=True, description="The activity's code."),
            OpenApiParameter(
                "location",
                int,
                required=False,
                description="The claiming location's id (default: headquarters).",
            ),
        ],
        responses=PayoutSerializer,
    )
    @action(detail=True, methods=["get"])
    def payout(self, request, pk=None):
        """The potential payout of an activity on this opportunity, explained line by line."""
        opportunity = self.get_object()
        activity = selectors.activity_by_code(
            user=request.user, code=request.query_params.get("activityType", "")
        )
        if activity is None:
            raise exceptions.ValidationError(
                {"activityType": ["Name an activity of the catalogue by its code."]}
            )
        locations = selectors.partner_locations(user=request.user)
        raw_location = request.query_params.get("location")
        if raw_location:
            if not raw_location.isdigit():
                raise exceptions.ValidationError({"location": ["Give the location's id."]})
            locations = locations.filter(pk=int(raw_location))
        location = locations.first()
        if location is None:
            raise exceptions.ValidationError({"location": ["No such location in your organization."]})
        explanation = potential_payout(activity_type=activity, location=location, opportunity=opportunity)
        return Response(PayoutSerializer(_payout_data(explanation)).data)


# --- Claims -------------------------------------------------------------------------------------


class ClaimSerializer(ModelSerializer):
    claimId = _text("claim_id")  # noqa: N815
    activityType = _text("activity_type.code")  # noqa: N815
    activityName = _text("activity_type.name")  # noqa: N815
    payPattern = _text("activity_type.pay_pattern")  # noqa: N815
    solutionArea = _text("activity_type.engagement.solution_area")  # noqa: N815
    location = serializers.IntegerField(source="location_id", read_only=True)
    partnerId = _text("location.partner_id")  # noqa: N815
    customerId = serializers.IntegerField(source="customer_id", read_only=True)  # noqa: N815
    customerName = _text("customer.name")  # noqa: N815
    customerTenantId = serializers.UUIDField(source="customer_tenant_id", read_only=True)  # noqa: N815
    customerIdType = _text("customer_id_type")  # noqa: N815
    opportunityId = serializers.IntegerField(source="opportunity_id", read_only=True, allow_null=True)  # noqa: N815
    msxOpportunityId = serializers.CharField(  # noqa: N815
        source="opportunity.msx_opportunity_id", read_only=True, allow_null=True, default=None
    )
    friendlyName = _text("friendly_name")  # noqa: N815
    status = serializers.CharField(read_only=True)
    marketTier = _text("market_tier")  # noqa: N815
    estimatedDealSizeUSD = _amount("estimated_deal_size_usd", allow_null=True)  # noqa: N815
    potentialPayoutUSD = _amount("potential_payout_usd")  # noqa: N815
    approvedPayoutUSD = _amount("approved_payout_usd", allow_null=True)  # noqa: N815
    contactName = _text("contact_name")  # noqa: N815
    contactEmail = _text("contact_email")  # noqa: N815
    deliveredOn = _date("delivered_on")  # noqa: N815
    consentAt = _moment("consent_at")  # noqa: N815
    submittedAt = _moment("submitted_at")  # noqa: N815
    decidedAt = _moment("decided_at")  # noqa: N815
    expiresAt = _moment("expires_at")  # noqa: N815
    actionDueAt = _moment("action_due_at")  # noqa: N815
    resubmitCount = serializers.IntegerField(source="resubmit_count", read_only=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)  # noqa: N815

    class Meta:
        model = Claim
        fields = [
            "id",
            "claimId",
            "activityType",
            "activityName",
            "payPattern",
            "solutionArea",
            "location",
            "partnerId",
            "customerId",
            "customerName",
            "customerTenantId",
            "customerIdType",
            "opportunityId",
            "msxOpportunityId",
            "friendlyName",
            "status",
            "marketTier",
            "estimatedDealSizeUSD",
            "potentialPayoutUSD",
            "approvedPayoutUSD",
            "contactName",
            "contactEmail",
            "deliveredOn",
            "consentAt",
            "submittedAt",
            "decidedAt",
            "expiresAt",
            "actionDueAt",
            "resubmitCount",
            "createdAt",
            "updatedAt",
        ]


@extend_schema_field(OpenApiTypes.INT)
class _VisibleRelated(serializers.PrimaryKeyRelatedField):
    """A row of the caller's organization (or the catalogue) by id; anything else is "does not exist"."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.model.objects.visible_to(user)


class ClaimInputSerializer(serializers.Serializer):
    activityType = serializers.SlugRelatedField(  # noqa: N815
        slug_field="code",
        queryset=ActivityType.objects.all(),
        help_text="The activity's code, e.g. MW-WS-COPILOT.",
    )
    location = _VisibleRelated(PartnerLocation, help_text="The claiming location's id.")
    customer = _VisibleRelated(Customer, help_text="The customer's id.")
    friendlyName = serializers.CharField(max_length=120)  # noqa: N815
    opportunity = _VisibleRelated(
        Opportunity, required=False, allow_null=True, help_text="Required for VARIABLE."
    )
    customerIdType = serializers.ChoiceField(  # noqa: N815
        choices=CustomerIdType.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: msx_opportunity with an opportunity, else tenant_id.",
    )
    contactName = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")  # noqa: N815
    contactEmail = serializers.EmailField(required=False, allow_blank=True, default="")  # noqa: N815
    estimatedDealSizeUSD = serializers.DecimalField(  # noqa: N815
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class ClaimRefusedError(exceptions.ValidationError):
    default_code = "claim_refused"


class SubmitInputSerializer(serializers.Serializer):
    deliveredOn = serializers.DateField(required=False, allow_null=True, default=None)  # noqa: N815


class RespondInputSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=5000)


class CancelInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProofSerializer(ModelSerializer):
    kind = serializers.CharField(read_only=True)
    fileName = _text("original_name")  # noqa: N815
    contentType = _text("content_type")  # noqa: N815
    size = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    uploadedAt = serializers.DateTimeField(source="uploaded_at", read_only=True)  # noqa: N815

    class Meta:
        model = ProofDocument
        fields = ["id", "kind", "fileName", "contentType", "size", "sha256", "uploadedAt"]


class ProofInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProofKind.choices)
    file = serializers.FileField(help_text="PDF, image or Office file (DOCX, XLSX, PPTX).")


class HistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    fromStatus = serializers.CharField(source="from_status")  # noqa: N815
    toStatus = serializers.CharField(source="to_status")  # noqa: N815
    note = serializers.CharField()


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Claim
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilterSet
    select_related = ("activity_type__engagement", "location", "customer", "opportunity")
    capabilities = {
        "*": C.INCENTIVES_VIEW,
        "create": C.INCENTIVES_CLAIMS,
        "submit": C.INCENTIVES_CLAIMS,
        "respond": C.INCENTIVES_CLAIMS,
        "cancel": C.INCENTIVES_CLAIMS,
        "proof_attach": C.INCENTIVES_CLAIMS,
    }

    def _answer(self, claim: Claim) -> Response:
        return Response(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(request=ClaimInputSerializer, responses={201: ClaimSerializer})
    def create(self, request):
        """Create a claim; an ineligible or duplicate one is refused with each failed rule's code.

        The refusal is a problem+json 400 with code `claim_refused`; `errors.rules` lists every
        failed rule as `{code, message}` (e.g. DUPLICATE_CLAIM, CUSTOMER_SEGMENT, LOCATION_NOT_ENROLLED)
        and `errors.non_field_errors` their messages.
        """
        data = ClaimInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            claim = claim_create(
                actor=request.user,
                activity_type=values["activityType"],
                location=values["location"],
                customer=values["customer"],
                friendly_name=values["friendlyName"],
                opportunity=values.get("opportunity"),
                contact_name=values["contactName"],
                contact_email=values["contactEmail"],
                estimated_deal_size_usd=values["estimatedDealSizeUSD"],
                customer_id_type=values["customerIdType"],
            )
        except ClaimRefused as exc:
            raise ClaimRefusedError(
                {
                    "non_field_errors": [failure.message for failure in exc.failures],
                    "rules": [{"code": failure.code, "message": failure.message} for failure in exc.failures],
                }
            ) from exc
        return created(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(request=SubmitInputSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the claim for review (all required proof attached, within the deadlines)."""
        claim = self.get_object()
        data = SubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            claim_submit(claim=claim, actor=request.user, delivered_on=data.validated_data["deliveredOn"])
        )

    @extend_schema(request=RespondInputSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """Answer the reviewer's request for more information."""
        claim = self.get_object()
        data = RespondInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            claim_respond(claim=claim, actor=request.user, response=data.validated_data["response"])
        )

    @extend_schema(request=CancelInputSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw the claim (any status that is not final)."""
        claim = self.get_object()
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim_cancel(claim=claim, actor=request.user, note=data.validated_data["note"])
        return self._answer(claim)

    @extend_schema(request=None, responses=ProofSerializer(many=True))
    @action(detail=True, methods=["get"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def proof(self, request, pk=None):
        """The claim's proof of execution."""
        claim = self.get_object()
        documents = selectors.claim_proof_documents(user=request.user, claim=claim)
        return Response(ProofSerializer(documents, many=True).data)

    @extend_schema(request={"multipart/form-data": ProofInputSerializer}, responses={201: ProofSerializer})
    @proof.mapping.post
    def proof_attach(self, request, pk=None):
        """Attach one proof document (multipart `kind` + `file`)."""
        claim = self.get_object()
        data = ProofInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A wrong type or size is the service's ValidationError on `file`: a problem+json 400.
        document = proof_attach(
            claim=claim,
            kind=data.validated_data["kind"],
            file=data.validated_data["file"],
            actor=request.user,
        )
        return created(ProofSerializer(document).data)

    @extend_schema(request=None, responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every status change of the claim: who, when, from, to, note (oldest first)."""
        claim = self.get_object()
        return Response(HistorySerializer(history_for(claim), many=True).data)

    @extend_schema(request=None, responses=PayoutSerializer)
    @action(detail=True, methods=["get"])
    def payout(self, request, pk=None):
        """The claim's potential payout today, explained line by line (rate × value, caps)."""
        claim = self.get_object()
        explanation = potential_payout(
            activity_type=claim.activity_type, location=claim.location, opportunity=claim.opportunity
        )
        return Response(PayoutSerializer(_payout_data(explanation)).data)


router = SimpleRouter()
router.register("activities", ActivityTypeViewSet, basename="incentives-activity")
router.register("opportunities", OpportunityViewSet, basename="incentives-opportunity")
router.register("claims", ClaimViewSet, basename="incentives-claim")

urlpatterns = router.urls
