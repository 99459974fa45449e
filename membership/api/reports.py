"""Membership API: the insights reports (spec §6), with the pages' rows and filters
(`membership.selectors.insights`, `membership.filters`). Field names are the camelCase of the
spec's column names; a bad filter value is a problem+json 400 naming the parameter."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from membership.api.common import C, cursor_ordered, envelope, filterset_parameters, service_errors
from membership.choices import AssessmentStatus, CertificationLevel, Designation, LicenseStatus, OsType
from membership.filters import LicenseFilterSet, SkillingFilterSet, SurfaceFilterSet, VmImageFilterSet
from membership.models import MarketplaceLicense, PersonCertification, SurfaceAssessment, VmImageUsage
from membership.selectors import insights
from portal.api import TenantViewSet


class ReportViewSet(TenantViewSet):
    """A report: `rows(user, params)` gives the filtered rows; the list pages them by cursor."""

    filter_backends: list = []
    capabilities = {"*": C.INSIGHTS_VIEW}
    rows = staticmethod(lambda user, params: None)

    def list(self, request):
        with service_errors():
            rows = type(self).rows(request.user, request.query_params)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- Marketplace API licenses ----------------------------------------------------------------------


class LicenseRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    offerName = serializers.CharField(source="offer_name")  # noqa: N815
    offerId = serializers.CharField(source="offer_id")  # noqa: N815
    planName = serializers.CharField(source="plan_name")  # noqa: N815
    planId = serializers.CharField(source="plan_id")  # noqa: N815
    customerName = serializers.CharField(source="customer_name")  # noqa: N815
    customerTenantId = serializers.UUIDField(source="customer_tenant_id")  # noqa: N815
    countryRegion = serializers.CharField(source="country")  # noqa: N815
    licensesPurchased = serializers.IntegerField(source="licenses_purchased")  # noqa: N815
    licensesAssigned = serializers.IntegerField(source="licenses_assigned")  # noqa: N815
    licenseStatus = serializers.ChoiceField(source="license_status", choices=LicenseStatus.choices)  # noqa: N815
    subscriptionId = serializers.UUIDField(source="subscription_id")  # noqa: N815
    termStart = serializers.DateField(source="term_start")  # noqa: N815
    termEnd = serializers.DateField(source="term_end")  # noqa: N815


class CountryLicensesSerializer(serializers.Serializer):
    countryRegion = serializers.CharField(source="country")  # noqa: N815
    customers = serializers.IntegerField()
    licensesPurchased = serializers.IntegerField(source="purchased")  # noqa: N815
    licensesAssigned = serializers.IntegerField(source="assigned")  # noqa: N815
    assignedPercent = serializers.FloatField(source="assigned_percent", allow_null=True)  # noqa: N815


class LicenseSummarySerializer(serializers.Serializer):
    asOf = serializers.DateField(  # noqa: N815
        source="as_of",
        allow_null=True,
        help_text="The latest report date of the filtered rows; the totals read its month.",
    )
    rows = serializers.IntegerField()
    customers = serializers.IntegerField()
    licensesPurchased = serializers.IntegerField(source="purchased")  # noqa: N815
    licensesAssigned = serializers.IntegerField(source="assigned")  # noqa: N815
    licensesUnassigned = serializers.IntegerField(source="unassigned")  # noqa: N815
    assignedPercent = serializers.FloatField(source="assigned_percent", allow_null=True)  # noqa: N815
    byCountry = CountryLicensesSerializer(source="by_country", many=True)  # noqa: N815


_LICENSE_FILTERS = filterset_parameters(LicenseFilterSet)


@extend_schema_view(list=extend_schema(parameters=_LICENSE_FILTERS))
class LicenseReportViewSet(ReportViewSet):
    """`reports/marketplaceLicenses/`: licences issued to customers through license-managed offers."""

    model = MarketplaceLicense
    serializer_class = LicenseRowSerializer
    pagination_class = cursor_ordered("-date", "-id")
    rows = staticmethod(insights.license_rows)

    @extend_schema(
        operation_id="membership_reports_licenses_summary",
        parameters=_LICENSE_FILTERS,
        responses=LicenseSummarySerializer,
    )
    def summary(self, request):
        """Customers and licences purchased vs assigned in the latest month of the filtered rows, by
        country."""
        with service_errors():
            rows = insights.license_rows(request.user, request.query_params)
        return Response(LicenseSummarySerializer(insights.license_summary(rows)).data)


# --- VM image versions -----------------------------------------------------------------------------


class VmImageRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = serializers.DateField(help_text="First day of the month.")
    offerName = serializers.CharField(source="offer_name")  # noqa: N815
    planSku = serializers.CharField(source="plan_sku")  # noqa: N815
    imageVersion = serializers.CharField(source="image_version")  # noqa: N815
    osType = serializers.ChoiceField(source="os_type", choices=OsType.choices)  # noqa: N815
    customerCount = serializers.IntegerField(source="customer_count")  # noqa: N815
    deployments = serializers.IntegerField()
    activeVms = serializers.IntegerField(source="active_vms")  # noqa: N815
    normalizedUsageHours = serializers.DecimalField(  # noqa: N815
        source="normalized_usage_hours", max_digits=14, decimal_places=2
    )
    rawUsageHours = serializers.DecimalField(source="raw_usage_hours", max_digits=14, decimal_places=2)  # noqa: N815
    countryRegion = serializers.CharField(source="country")  # noqa: N815
    isLatestVersion = serializers.BooleanField(source="is_latest_version")  # noqa: N815


class VmImageSummarySerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    deployments = serializers.IntegerField()
    activeVms = serializers.IntegerField(source="active_vms")  # noqa: N815
    activeVmsOnLatest = serializers.IntegerField(source="active_vms_on_latest")  # noqa: N815
    latestPercent = serializers.FloatField(source="latest_percent", allow_null=True)  # noqa: N815
    normalizedUsageHours = serializers.DecimalField(  # noqa: N815
        source="normalized_usage_hours", max_digits=16, decimal_places=2
    )


_VM_IMAGE_FILTERS = filterset_parameters(VmImageFilterSet)


@extend_schema_view(list=extend_schema(parameters=_VM_IMAGE_FILTERS))
class VmImageReportViewSet(ReportViewSet):
    """`reports/vmImages/`: usage by image version of the partner's VM offers."""

    model = VmImageUsage
    serializer_class = VmImageRowSerializer
    pagination_class = cursor_ordered("-month", "-id")
    rows = staticmethod(insights.vm_image_rows)

    @extend_schema(
        operation_id="membership_reports_vm_images_summary",
        parameters=_VM_IMAGE_FILTERS,
        responses=VmImageSummarySerializer,
    )
    def summary(self, request):
        """Deployments, active VMs and how many run the latest image version, of the filtered rows."""
        with service_errors():
            rows = insights.vm_image_rows(request.user, request.query_params)
        return Response(VmImageSummarySerializer(insights.vm_image_summary(rows)).data)


# --- Surface insights ------------------------------------------------------------------------------


class SurfaceRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    learnerName = serializers.CharField(source="learner_name")  # noqa: N815
    email = serializers.EmailField()
    partnerLocation = serializers.CharField(source="location.partner_id", help_text="The PartnerID.")  # noqa: N815
    country = serializers.CharField()
    assessmentName = serializers.CharField(source="assessment_name")  # noqa: N815
    completionDate = serializers.DateField(source="completed_on")  # noqa: N815
    score = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AssessmentStatus.choices)


class SurfaceKpisSerializer(serializers.Serializer):
    view = serializers.CharField()
    month = serializers.DateField(help_text="First day of the selected month.")
    totalLearners = serializers.IntegerField(source="total_learners")  # noqa: N815
    newLearners = serializers.IntegerField(source="new_learners", help_text="New this month.")  # noqa: N815
    assessments = serializers.IntegerField()
    passed = serializers.IntegerField()
    passRate = serializers.FloatField(source="pass_rate", allow_null=True)  # noqa: N815


_SURFACE_FILTERS = filterset_parameters(SurfaceFilterSet)


@extend_schema_view(list=extend_schema(parameters=_SURFACE_FILTERS))
class SurfaceReportViewSet(ReportViewSet):
    """`reports/surface/`: Surface assessments across every location the caller may see; `view=new`
    (default: completed in `month`, default this month) or `view=historical` (all time)."""

    model = SurfaceAssessment
    serializer_class = SurfaceRowSerializer
    pagination_class = cursor_ordered("-completed_on", "-id")
    rows = staticmethod(insights.surface_rows)

    @staticmethod
    def tenant_list_params(assessment: SurfaceAssessment) -> dict:
        return {"view": "historical"}

    @extend_schema(
        operation_id="membership_reports_surface_kpis",
        parameters=_SURFACE_FILTERS,
        responses=SurfaceKpisSerializer,
    )
    def kpis(self, request):
        """The tiles: total learners, new this month, pass rate."""
        with service_errors():
            kpis = insights.surface_kpis(request.user, request.query_params)
        return Response(SurfaceKpisSerializer(kpis).data)


# --- Skilling --------------------------------------------------------------------------------------


class SkillingRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    learnerName = serializers.CharField(source="learner_name")  # noqa: N815
    email = serializers.EmailField()
    partnerLocation = serializers.CharField(  # noqa: N815
        source="location.partner_id", allow_null=True, default=None, help_text="The PartnerID."
    )
    certificationCode = serializers.CharField(source="certification.code")  # noqa: N815
    certification = serializers.CharField(source="certification.name")
    level = serializers.ChoiceField(source="certification.level", choices=CertificationLevel.choices)
    solutionArea = serializers.ChoiceField(source="certification.designation", choices=Designation.choices)  # noqa: N815
    earnedOn = serializers.DateField(source="earned_on")  # noqa: N815
    expiresOn = serializers.DateField(source="expires_on", allow_null=True)  # noqa: N815


class PersonCertificationSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=CertificationLevel.choices)
    solutionArea = serializers.ChoiceField(source="designation", choices=Designation.choices)  # noqa: N815
    earnedOn = serializers.DateField(source="earned_on")  # noqa: N815
    expiresOn = serializers.DateField(source="expires_on", allow_null=True)  # noqa: N815
    active = serializers.BooleanField()


class SkillingPersonSerializer(serializers.Serializer):
    id = serializers.CharField(source="person", help_text="The person's e-mail address, lower case.")
    learnerName = serializers.CharField(source="learner_name")  # noqa: N815
    partnerLocations = serializers.ListField(source="locations", child=serializers.CharField())  # noqa: N815
    certificationCount = serializers.IntegerField(source="certification_count")  # noqa: N815
    activeCount = serializers.IntegerField(source="active_count")  # noqa: N815
    certifications = PersonCertificationSerializer(many=True)


class SkillingLevelCountSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=CertificationLevel.choices)
    people = serializers.IntegerField()


class DesignationSkillsSerializer(serializers.Serializer):
    solutionArea = serializers.ChoiceField(source="designation", choices=Designation.choices)  # noqa: N815
    name = serializers.CharField(source="label")
    people = serializers.IntegerField()
    levels = serializers.SerializerMethodField()

    def get_levels(self, skills) -> list[dict]:
        return SkillingLevelCountSerializer(
            [{"level": level, "people": people} for level, people in skills.levels], many=True
        ).data


DesignationSkillsListSerializer = envelope(DesignationSkillsSerializer)
_SKILLING_FILTERS = filterset_parameters(SkillingFilterSet)


@extend_schema_view(list=extend_schema(parameters=_SKILLING_FILTERS))
class SkillingReportViewSet(ReportViewSet):
    """`reports/skilling/`: the certifications of the partner's people, one row each."""

    model = PersonCertification
    serializer_class = SkillingRowSerializer
    pagination_class = cursor_ordered("learner_name", "id")
    rows = staticmethod(insights.skilling_rows)


@extend_schema_view(list=extend_schema(parameters=_SKILLING_FILTERS))
class SkillingPeopleViewSet(ReportViewSet):
    """`reports/skilling/people/`: one row per person with their certifications."""

    model = PersonCertification
    serializer_class = SkillingPersonSerializer
    pagination_class = cursor_ordered("learner_name", "person")
    rows = staticmethod(insights.skilling_people)

    @staticmethod
    def tenant_row_id(certification: PersonCertification) -> str:
        return certification.email.lower()

    @extend_schema(
        operation_id="membership_reports_skilling_by_designation",
        parameters=[parameter for parameter in _SKILLING_FILTERS if parameter.name != "status"],
        responses=DesignationSkillsListSerializer,
    )
    def by_designation(self, request):
        """Per designation: the people with an active certification counting for it, by level."""
        with service_errors():
            rows = insights.skilling_by_designation(request.user, request.query_params)
        return Response(DesignationSkillsListSerializer({"value": rows}).data)
