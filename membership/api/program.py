"""Membership API: the membership, benefit packages and their consumption, ISV Success, Marketplace
Rewards."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from membership.api.common import C, EnvelopeSchema, cursor_ordered, decimal, envelope, service_errors
from membership.choices import (
    ActivationStatus,
    BenefitKind,
    BenefitUnit,
    Designation,
    IsvStatus,
    MembershipStatus,
    PackageSource,
)
from membership.models import (
    Benefit,
    BenefitPackage,
    IsvSuccessApplication,
    Membership,
    RewardsYear,
)
from membership.selectors import benefits as benefit_selectors
from membership.selectors import isv as isv_selectors
from membership.selectors import overview as overview_selectors
from membership.selectors import rewards as reward_selectors
from membership.services import benefits as benefit_services
from membership.services import isv as isv_services
from portal.api import TenantViewSet, created

# --- Membership ------------------------------------------------------------------------------------


class BenefitsSummarySerializer(serializers.Serializer):
    packages = serializers.IntegerField()
    benefits = serializers.IntegerField()
    activated = serializers.IntegerField()
    notActivated = serializers.IntegerField(source="not_activated")  # noqa: N815
    expiringSoon = serializers.IntegerField(source="expiring_soon")  # noqa: N815


class MembershipSerializer(serializers.Serializer):
    partnerGlobalId = serializers.CharField(source="organization.partner_global_id")  # noqa: N815
    companyName = serializers.CharField(source="organization.legal_name")  # noqa: N815
    status = serializers.ChoiceField(choices=MembershipStatus.choices)
    memberSince = serializers.DateField(source="member_since")  # noqa: N815
    anniversaryDate = serializers.DateField(source="anniversary_date")  # noqa: N815
    offers = serializers.ListField(child=serializers.CharField())
    benefitsSummary = BenefitsSummarySerializer(source="benefits_summary")  # noqa: N815


class MembershipViewSet(TenantViewSet):
    """`membership/`: the organization's AI Cloud Partner Program membership."""

    model = Membership
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_VIEW}

    @extend_schema(operation_id="membership_retrieve", responses=MembershipSerializer)
    def membership(self, request):
        """Partner global ID, status, member since, anniversary (renewal) date and enrolled offers
        (designations, benefit packages, ISV Success)."""
        organization = request.user.organization
        membership = self.get_queryset().select_related("organization").first()
        if membership is None:
            raise exceptions.NotFound("Your organization has no AI Cloud Partner Program membership.")
        overview = overview_selectors.membership_overview(organization)
        return Response(
            MembershipSerializer(
                {
                    "organization": membership.organization,
                    "status": membership.status,
                    "member_since": membership.member_since,
                    "anniversary_date": membership.anniversary_date,
                    "offers": overview.offers,
                    "benefits_summary": overview.benefits_summary,
                }
            ).data
        )


# --- Benefits --------------------------------------------------------------------------------------


class BenefitLineSerializer(serializers.Serializer):
    """One benefit and its consumption (spec §5): entitled, activated, consumed, remaining."""

    id = serializers.IntegerField(source="benefit.id")
    kind = serializers.ChoiceField(source="benefit.kind", choices=BenefitKind.choices)
    product = serializers.CharField(source="benefit.product")
    unit = serializers.ChoiceField(source="benefit.unit", choices=BenefitUnit.choices)
    activationStatus = serializers.ChoiceField(  # noqa: N815
        source="benefit.activation_status", choices=ActivationStatus.choices
    )
    activated = serializers.BooleanField()
    activatedDateTime = serializers.DateTimeField(source="benefit.activated_at", allow_null=True)  # noqa: N815
    entitled = decimal()
    consumed = decimal()
    remaining = decimal()
    percentUsed = serializers.IntegerField(source="percent_used", help_text="consumed / entitled, whole %.")  # noqa: N815
    expiresAt = serializers.DateField(source="expires_at")  # noqa: N815
    expiringSoon = serializers.BooleanField(source="expiring_soon")  # noqa: N815
    expired = serializers.BooleanField()


class BenefitPackageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="package.id")
    code = serializers.CharField(source="package.code")
    name = serializers.CharField(source="package.name")
    source = serializers.ChoiceField(source="package.source", choices=PackageSource.choices)
    start = serializers.DateField(source="package.start")
    end = serializers.DateField(source="package.end")
    benefits = BenefitLineSerializer(source="lines", many=True)


BenefitPackageListSerializer = envelope(BenefitPackageSerializer)


class BenefitPackageViewSet(TenantViewSet):
    """`benefits/`: the packages the organization holds (current first) with their benefits."""

    model = BenefitPackage
    schema = EnvelopeSchema()
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_VIEW}

    @extend_schema(operation_id="membership_benefits_list", responses=BenefitPackageListSerializer)
    def list(self, request):
        """Every package with, per benefit: entitled, activated, consumed, remaining, percent used
        and expiry."""
        packages = benefit_selectors.benefit_lines(request.user.organization)
        rows = [{"package": package, "lines": lines} for package, lines in packages]
        return Response(BenefitPackageListSerializer({"value": rows}).data)


class ConsumptionSerializer(serializers.Serializer):
    consumedQuantity = serializers.DecimalField(  # noqa: N815
        max_digits=12, decimal_places=2, min_value=0, help_text="The total consumed as of `asOf`."
    )
    asOf = serializers.DateField(help_text="YYYY-MM-DD; one figure per day (a second one replaces it).")  # noqa: N815


class BenefitViewSet(TenantViewSet):
    """`benefits/{id}/activate/` and `benefits/{id}/consumption/`."""

    model = Benefit
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_MANAGE}

    def _line(self, benefit: Benefit) -> dict:
        for _package, lines in benefit_selectors.benefit_lines(self.request.user.organization):
            for line in lines:
                if line.benefit.pk == benefit.pk:
                    return BenefitLineSerializer(line).data
        raise exceptions.NotFound("No such benefit in your organization.")

    @extend_schema(operation_id="membership_benefit_activate", request=None, responses=BenefitLineSerializer)
    def activate(self, request, pk=None):
        """Activate the benefit (e.g. assign the licences or start the Azure credit)."""
        benefit = self.get_object()
        with service_errors():
            benefit = benefit_services.benefit_activate(actor=request.user, benefit=benefit)
        return Response(self._line(benefit))

    @extend_schema(
        operation_id="membership_benefit_consumption",
        request=ConsumptionSerializer,
        responses=BenefitLineSerializer,
    )
    def consumption(self, request, pk=None):
        """Record how much of the benefit was consumed as of a day; answers the updated line."""
        benefit = self.get_object()
        data = ConsumptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            benefit_services.benefit_consumption_record(
                actor=request.user,
                benefit=benefit,
                consumed_quantity=data.validated_data["consumedQuantity"],
                as_of=data.validated_data["asOf"],
            )
        return Response(self._line(benefit))


# --- ISV Success -----------------------------------------------------------------------------------


class IsvApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=IsvStatus.choices, read_only=True)
    appName = serializers.CharField(source="app_name", read_only=True)  # noqa: N815
    appDescription = serializers.CharField(source="app_description", read_only=True)  # noqa: N815
    designation = serializers.ChoiceField(choices=Designation.choices, read_only=True)
    expectedReleaseDate = serializers.DateField(  # noqa: N815
        source="expected_release_date", read_only=True, allow_null=True
    )
    isPublished = serializers.BooleanField(source="is_published", read_only=True)  # noqa: N815
    marketplaceOfferId = serializers.CharField(source="marketplace_offer_id", read_only=True)  # noqa: N815
    agreementAcceptedDateTime = serializers.DateTimeField(  # noqa: N815
        source="agreement_accepted_at", read_only=True, allow_null=True
    )
    createdBy = serializers.EmailField(  # noqa: N815
        source="created_by.email", read_only=True, allow_null=True, default=None
    )
    submittedDateTime = serializers.DateTimeField(source="submitted_at", read_only=True, allow_null=True)  # noqa: N815
    reviewedDateTime = serializers.DateTimeField(source="reviewed_at", read_only=True, allow_null=True)  # noqa: N815
    reviewNote = serializers.CharField(source="review_note", read_only=True)  # noqa: N815
    createdDateTime = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    updatedDateTime = serializers.DateTimeField(source="updated_at", read_only=True)  # noqa: N815


#: API field → the service's data key.
_ISV_FIELDS = {
    "appName": "app_name",
    "appDescription": "app_description",
    "designation": "designation",
    "expectedReleaseDate": "expected_release_date",
    "isPublished": "is_published",
    "marketplaceOfferId": "marketplace_offer_id",
}


class IsvApplicationInputSerializer(serializers.Serializer):
    appName = serializers.CharField(max_length=120)  # noqa: N815
    appDescription = serializers.CharField(max_length=2000)  # noqa: N815
    designation = serializers.ChoiceField(choices=Designation.choices, help_text="Target solution area.")
    expectedReleaseDate = serializers.DateField(  # noqa: N815
        required=False, allow_null=True, help_text="Required (and not in the past) while unpublished."
    )
    isPublished = serializers.BooleanField(required=False, default=False)  # noqa: N815
    marketplaceOfferId = serializers.CharField(  # noqa: N815
        max_length=100, required=False, allow_blank=True, default="", help_text="Required when published."
    )


class IsvSubmitSerializer(serializers.Serializer):
    acceptAgreement = serializers.BooleanField(help_text="You accept the ISV Success agreement.")  # noqa: N815


class IsvApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """`isvSuccess/applications/`: the ISV Success sign-up (draft → submitted → in review →
    approved | rejected)."""

    model = IsvSuccessApplication
    serializer_class = IsvApplicationSerializer
    select_related = ("created_by",)
    filter_backends: list = []
    capabilities = {
        "*": C.MEMBERSHIP_VIEW,
        "create": C.MEMBERSHIP_MANAGE,
        "partial_update": C.MEMBERSHIP_MANAGE,
        "submit": C.MEMBERSHIP_MANAGE,
        "reopen": C.MEMBERSHIP_MANAGE,
    }

    def _answer(self, application: IsvSuccessApplication) -> dict:
        return IsvApplicationSerializer(self.get_queryset().get(pk=application.pk)).data

    @extend_schema(request=IsvApplicationInputSerializer, responses={201: IsvApplicationSerializer})
    def create(self, request):
        """Start a draft application (one live application per organization)."""
        data = IsvApplicationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {_ISV_FIELDS[name]: value for name, value in data.validated_data.items()}
        values.setdefault("expected_release_date", None)
        with service_errors():
            application = isv_services.isv_application_save(
                actor=request.user, organization=request.user.organization, data=values
            )
        return created(self._answer(application))

    @extend_schema(request=IsvApplicationInputSerializer(partial=True), responses=IsvApplicationSerializer)
    def partial_update(self, request, pk=None):
        """Change a draft; only the fields sent change."""
        application = self.get_object()
        data = IsvApplicationInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {_ISV_FIELDS[name]: value for name, value in data.validated_data.items()}
        with service_errors():
            application = isv_services.isv_application_save(
                actor=request.user,
                organization=request.user.organization,
                data=values,
                application=application,
            )
        return Response(self._answer(application))

    @extend_schema(request=IsvSubmitSerializer, responses=IsvApplicationSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the draft for review: the organization must be eligible and accept the agreement."""
        application = self.get_object()
        data = IsvSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            application = isv_services.isv_application_submit(
                actor=request.user,
                application=application,
                accept_agreement=data.validated_data["acceptAgreement"],
            )
        return Response(self._answer(application))

    @extend_schema(request=None, responses=IsvApplicationSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Turn a rejected application back into a draft to correct and submit again."""
        application = self.get_object()
        with service_errors():
            application = isv_services.isv_application_reopen(actor=request.user, application=application)
        return Response(self._answer(application))


class EligibilityCheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField(allow_blank=True)


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    checks = EligibilityCheckSerializer(many=True)


class IsvEligibilityViewSet(TenantViewSet):
    model = IsvSuccessApplication
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_VIEW}

    @extend_schema(operation_id="membership_isv_eligibility", responses=EligibilitySerializer)
    def eligibility(self, request):
        """Whether the organization may submit an ISV Success application, check by check."""
        return Response(EligibilitySerializer(isv_selectors.isv_eligibility(request.user.organization)).data)


# --- Marketplace Rewards ---------------------------------------------------------------------------


class RewardTierSerializer(serializers.Serializer):
    tier = serializers.IntegerField()
    name = serializers.CharField()
    minMbsUsd = decimal("min_mbs_usd")  # noqa: N815


class RewardBenefitSerializer(serializers.Serializer):
    packageCode = serializers.CharField(source="package_code")  # noqa: N815
    kind = serializers.ChoiceField(choices=BenefitKind.choices)
    product = serializers.CharField()
    quantity = decimal()
    unit = serializers.ChoiceField(choices=BenefitUnit.choices)


class RewardsYearSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    anniversary = serializers.DateField(read_only=True)
    mbsTtm = decimal("mbs_ttm_usd")  # noqa: N815
    tier = RewardTierSerializer(read_only=True)


class RewardsStatusSerializer(serializers.Serializer):
    currentYear = RewardsYearSerializer(source="current_year", allow_null=True)  # noqa: N815
    tier = RewardTierSerializer(allow_null=True)
    mbsTtm = decimal("mbs_ttm")  # noqa: N815
    projectedTier = RewardTierSerializer(  # noqa: N815
        source="projected_tier", allow_null=True, help_text="The tier today's twelve months reach."
    )
    nextTier = RewardTierSerializer(source="next_tier", allow_null=True)  # noqa: N815
    amountToNext = decimal("amount_to_next", allow_null=True)  # noqa: N815
    progressPercent = serializers.IntegerField(source="progress_percent", allow_null=True)  # noqa: N815
    nextAnniversary = serializers.DateField(source="next_anniversary", allow_null=True)  # noqa: N815
    benefits = RewardBenefitSerializer(many=True)


class RewardsStatusViewSet(TenantViewSet):
    model = RewardsYear
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_VIEW}

    @extend_schema(operation_id="membership_rewards_status", responses=RewardsStatusSerializer)
    def status(self, request):
        """The Marketplace Rewards tier by marketplace billed sales over the trailing twelve months,
        the next tier and how far away it is, and the tier's benefits."""
        result = reward_selectors.rewards_status(request.user.organization, today=timezone.localdate())
        return Response(RewardsStatusSerializer(result).data)


class RewardsYearViewSet(mixins.ListModelMixin, TenantViewSet):
    """`rewards/years/`: every benefit year, newest first."""

    model = RewardsYear
    serializer_class = RewardsYearSerializer
    select_related = ("tier",)
    pagination_class = cursor_ordered("-anniversary", "-id")
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_VIEW}
