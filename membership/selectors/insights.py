"""Insights reports of the Membership workspace (spec/membership.md §6): Marketplace API licenses,
VM image versions, Surface assessments and skilling (certifications by person and by solution area).

Every function takes the viewer and the request's parameters, reads only the viewer's rows
(`visible_to`: their organization, and for location-scoped viewers their locations) and filters
them with the FilterSets of `membership.filters`. Invalid parameters raise a ValidationError keyed
by parameter name, so pages show it on the form and the API answers 400. Who may read them
(INSIGHTS_VIEW) is checked by the pages and the API policy, not here.

Download columns are the spec's column names, in order; they are the models' verbose_names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    Max,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import JSONObject, Lower, TruncMonth
from django.utils import timezone

from earnings.periods import add_months
from membership.choices import AssessmentStatus, CertificationLevel, Designation
from membership.filters import (
    LicenseFilterSet,
    SkillingFilterSet,
    SurfaceFilterSet,
    VmImageFilterSet,
    active_on,
)
from membership.models import MarketplaceLicense, PersonCertification, SurfaceAssessment, VmImageUsage

__all__ = (
    "LICENSE_COLUMNS",
    "SKILLING_COLUMNS",
    "SURFACE_COLUMNS",
    "VM_IMAGE_COLUMNS",
    "CountryLicenses",
    "DesignationSkills",
    "LicenseSummary",
    "SurfaceKpis",
    "VmImageSummary",
    "license_filterset",
    "license_rows",
    "license_summary",
    "skilling_by_designation",
    "skilling_filterset",
    "skilling_people",
    "skilling_rows",
    "surface_filterset",
    "surface_kpis",
    "surface_rows",
    "vm_image_filterset",
    "vm_image_rows",
    "vm_image_summary",
)

LEVELS = [level.value for level in CertificationLevel]
#: Countries listed one by one in the license summary; the rest are summed as "Other".
TOP_COUNTRIES = 10


def _validated(filterset):
    """The FilterSet once its parameters are valid; otherwise a ValidationError keyed by parameter."""
    if not filterset.is_valid():
        errors = {
            (NON_FIELD_ERRORS if name == "__all__" else name): list(messages)
            for name, messages in filterset.errors.items()
        }
        raise ValidationError(errors)
    return filterset


def _params(params: Mapping | None) -> Mapping:
    # An unbound FilterSet applies no filter at all, not even the defaults; {} binds it.
    return {} if params is None else params


def _label_case(path: str, choices) -> Case:
    """A choice column written as its label (e.g. "Intermediate"), for the downloads."""
    return Case(
        *(When(**{path: value}, then=Value(str(label))) for value, label in choices),
        default=F(path),
        output_field=CharField(),
    )


def _yes_no_text(path: str) -> Case:
    return Case(When(**{path: True}, then=Value("true")), default=Value("false"), output_field=CharField())


def _columns(model, names: tuple[str, ...], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """header (the field's verbose_name) → expression, in the given order."""
    overrides = overrides or {}
    return {str(model._meta.get_field(name).verbose_name): overrides.get(name, F(name)) for name in names}


def _percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- Marketplace API license report -----------------------------------------------------------------

LICENSE_FIELDS = (
    "date",
    "offer_name",
    "offer_id",
    "plan_name",
    "plan_id",
    "customer_name",
    "customer_tenant_id",
    "country",
    "licenses_purchased",
    "licenses_assigned",
    "license_status",
    "subscription_id",
    "term_start",
    "term_end",
)
#: Download columns: `Date`, `Offer name`, … `Term end` (spec §6).
LICENSE_COLUMNS = _columns(MarketplaceLicense, LICENSE_FIELDS)


@dataclass(frozen=True)
class CountryLicenses:
    country: str
    customers: int
    purchased: int
    assigned: int

    @property
    def assigned_percent(self) -> Decimal | None:
        return _percent(self.assigned, self.purchased)


@dataclass(frozen=True)
class LicenseSummary:
    """Licenses purchased vs assigned on the latest report date of the filtered rows, in total and by
    country."""

    rows: int
    customers: int
    purchased: int
    assigned: int
    as_of: date | None = None  # the latest report date of the selection: the totals read its month
    by_country: list[CountryLicenses] = field(default_factory=list)

    @property
    def assigned_percent(self) -> Decimal | None:
        return _percent(self.assigned, self.purchased)

    @property
    def unassigned(self) -> int:
        return max(0, self.purchased - self.assigned)


def license_filterset(user, params: Mapping | None) -> LicenseFilterSet:
    """The license report's FilterSet over the viewer's rows (not validated: pages render it)."""
    return LicenseFilterSet(_params(params), queryset=MarketplaceLicense.objects.visible_to(user))


def license_rows(user, params: Mapping | None) -> QuerySet[MarketplaceLicense]:
    """The viewer's license rows under `params`, newest first."""
    return _validated(license_filterset(user, params)).qs.order_by("-date", "-id")


def license_summary(rows: QuerySet[MarketplaceLicense]) -> LicenseSummary:
    """Customers and licenses purchased vs assigned, by country (largest first), in the latest
    month of `rows`.

    The report holds a row per licence and month (its state that month), so the totals read one
    month: adding the months of a range would count a customer's licences once per month.
    """
    latest_month = rows.order_by("-date").annotate(month=TruncMonth("date")).values("month")[:1]
    rows = rows.order_by().filter(date__gte=Subquery(latest_month))
    totals = rows.aggregate(
        as_of=Max("date"),
        rows=Count("id"),
        customers=Count("customer_tenant_id", distinct=True),
        purchased=Sum("licenses_purchased", default=0),
        assigned=Sum("licenses_assigned", default=0),
    )
    countries = (
        rows.values("country")
        .annotate(
            customers=Count("customer_tenant_id", distinct=True),
            purchased=Sum("licenses_purchased"),
            assigned=Sum("licenses_assigned"),
        )
        .order_by("-purchased", "country")
    )
    by_country = [
        CountryLicenses(c["country"], c["customers"], c["purchased"], c["assigned"])
        for c in countries[:TOP_COUNTRIES]
    ]
    return LicenseSummary(by_country=by_country, **totals)


# --- VM image version report ------------------------------------------------------------------------

VM_IMAGE_FIELDS = (
    "month",
    "offer_name",
    "plan_sku",
    "image_version",
    "os_type",
    "customer_count",
    "deployments",
    "active_vms",
    "normalized_usage_hours",
    "raw_usage_hours",
    "country",
    "is_latest_version",
)
#: Download columns: `Month`, `Offer name`, … `Is latest version` (spec §6).
VM_IMAGE_COLUMNS = _columns(
    VmImageUsage,
    VM_IMAGE_FIELDS,
    {
        "month": Func(F("month"), Value("YYYY-MM"), function="to_char", output_field=CharField()),
        "is_latest_version": _yes_no_text("is_latest_version"),
    },
)


@dataclass(frozen=True)
class VmImageSummary:
    rows: int
    deployments: int
    active_vms: int
    active_vms_on_latest: int
    normalized_usage_hours: Decimal

    @property
    def latest_percent(self) -> Decimal | None:
        """Share of active VMs running the latest image version (the upgrade nudge)."""
        return _percent(self.active_vms_on_latest, self.active_vms)


def vm_image_filterset(user, params: Mapping | None) -> VmImageFilterSet:
    return VmImageFilterSet(_params(params), queryset=VmImageUsage.objects.visible_to(user))


def vm_image_rows(user, params: Mapping | None) -> QuerySet[VmImageUsage]:
    """The viewer's VM image usage rows under `params`, newest month first."""
    return _validated(vm_image_filterset(user, params)).qs.order_by("-month", "-id")


def vm_image_summary(rows: QuerySet[VmImageUsage]) -> VmImageSummary:
    totals = rows.order_by().aggregate(
        total_rows=Count("id"),
        total_deployments=Sum("deployments", default=0),
        total_active_vms=Sum("active_vms", default=0),
        total_on_latest=Sum("active_vms", filter=Q(is_latest_version=True), default=0),
        total_normalized=Sum("normalized_usage_hours", default=Decimal(0)),
    )
    return VmImageSummary(
        rows=totals["total_rows"],
        deployments=totals["total_deployments"],
        active_vms=totals["total_active_vms"],
        active_vms_on_latest=totals["total_on_latest"],
        normalized_usage_hours=totals["total_normalized"],
    )


# --- Surface insights ---------------------------------------------------------------------------------

SURFACE_FIELDS = (
    "learner_name",
    "email",
    "location",
    "country",
    "assessment_name",
    "completed_on",
    "score",
    "status",
)
#: Download columns: `Learner name`, `Email`, `Partner location (PartnerID)`, … `Status` (spec §6).
SURFACE_COLUMNS = {
    ("Partner location (PartnerID)" if header == "location" else header): expression
    for header, expression in _columns(
        SurfaceAssessment, SURFACE_FIELDS, {"location": F("location__partner_id")}
    ).items()
}


@dataclass(frozen=True)
class SurfaceKpis:
    """The tiles of Surface insights.

    total_learners: distinct e-mail addresses over all time (every filter but view and month);
    new_learners: distinct e-mail addresses that completed an assessment in the selected month;
    pass_rate: percent of the selected view's assessments that passed (None without any).
    """

    view: str
    month: date
    total_learners: int
    new_learners: int
    assessments: int
    passed: int

    @property
    def pass_rate(self) -> Decimal | None:
        return _percent(self.passed, self.assessments)


def surface_filterset(user, params: Mapping | None) -> SurfaceFilterSet:
    return SurfaceFilterSet(_params(params), queryset=SurfaceAssessment.objects.visible_to(user))


def surface_rows(user, params: Mapping | None) -> QuerySet[SurfaceAssessment]:
    """Assessments of every location the viewer may see: `view=new` (default) those completed in
    `month` (YYYY-MM, default this month), `view=historical` all of them; newest first."""
    filterset = _validated(surface_filterset(user, params))
    return filterset.qs.select_related("location").order_by("-completed_on", "-id")


def surface_kpis(user, params: Mapping | None) -> SurfaceKpis:
    filterset = _validated(surface_filterset(user, params))
    month = filterset.selected_month
    everything = filterset.without_period().order_by()
    learners = Count(Lower("email"), distinct=True)
    in_month = everything.filter(completed_on__gte=month, completed_on__lt=add_months(month, 1))
    view = filterset.qs.order_by().aggregate(
        assessments=Count("id"), passed=Count("id", filter=Q(status=AssessmentStatus.PASSED))
    )
    return SurfaceKpis(
        view=filterset.selected_view,
        month=month,
        total_learners=everything.aggregate(n=learners)["n"],
        new_learners=in_month.aggregate(n=learners)["n"],
        **view,
    )


# --- Skilling insights --------------------------------------------------------------------------------

#: Download by person, one row per certification held (with `Active`: see `skilling_columns`).
SKILLING_COLUMNS = {
    "Learner name": F("learner_name"),
    "Email": F("email"),
    "Partner location (PartnerID)": F("location__partner_id"),
    "Certification code": F("certification__code"),
    "Certification": F("certification__name"),
    "Level": _label_case("certification__level", CertificationLevel.choices),
    "Solution area": _label_case("certification__designation", Designation.choices),
    "Earned on": F("earned_on"),
    "Expires on": F("expires_on"),
}


def skilling_columns(*, today: date | None = None) -> dict[str, Any]:
    """SKILLING_COLUMNS and `Active` (true/false on `today`)."""
    today = today or timezone.localdate()
    return {
        **SKILLING_COLUMNS,
        "Active": Case(
            When(active_on(today), then=Value("true")), default=Value("false"), output_field=CharField()
        ),
    }


@dataclass(frozen=True)
class DesignationSkills:
    """People with an active certification counting for one designation, by level."""

    designation: str
    label: str
    people: int
    by_level: dict[str, int]

    @property
    def levels(self) -> list[tuple[str, int]]:
        return [(level, self.by_level.get(level, 0)) for level in LEVELS]


def skilling_filterset(user, params: Mapping | None) -> SkillingFilterSet:
    return SkillingFilterSet(_params(params), queryset=PersonCertification.objects.visible_to(user))


def skilling_rows(user, params: Mapping | None) -> QuerySet[PersonCertification]:
    """Certifications held, one row each, by person (name, then e-mail), then solution area."""
    return (
        _validated(skilling_filterset(user, params))
        .qs.select_related("certification", "location")
        .order_by(
            Lower("learner_name"), Lower("email"), "certification__designation", "certification__code", "id"
        )
    )


def skilling_people(user, params: Mapping | None, *, today: date | None = None) -> QuerySet:
    """One row per person (lower-cased e-mail): name, partner locations, and their certifications
    as a list of {code, name, level, designation, earned_on, expires_on, active}."""
    today = today or timezone.localdate()
    active = active_on(today)
    rows = skilling_rows(user, params).order_by()
    return (
        rows.annotate(person=Lower("email"))
        .values("person")
        .annotate(
            learner_name=Max("learner_name"),
            locations=ArrayAgg(
                "location__partner_id", distinct=True, filter=Q(location__isnull=False), default=Value([])
            ),
            certifications=ArrayAgg(
                JSONObject(
                    code="certification__code",
                    name="certification__name",
                    level="certification__level",
                    designation="certification__designation",
                    earned_on="earned_on",
                    expires_on="expires_on",
                    active=Case(When(active, then=Value(True)), default=Value(False)),
                ),
                order_by=("certification__designation", "certification__code", "earned_on"),
            ),
            certification_count=Count("id"),
            active_count=Count("id", filter=active),
        )
        .order_by(Lower("learner_name"), "person")
    )


def skilling_by_designation(
    user, params: Mapping | None, *, today: date | None = None
) -> list[DesignationSkills]:
    """Every designation with the distinct people holding an active certification for it, in
    total and by level. The status parameter does not apply: only active certifications count."""
    today = today or timezone.localdate()
    params = {key: value for key, value in _params(params).items() if key != "status"}
    rows = skilling_rows(user, params).order_by().filter(active_on(today))
    people = Count(Lower("email"), distinct=True)
    totals = {
        row["certification__designation"]: row["people"]
        for row in rows.values("certification__designation").annotate(people=people)
    }
    levels: dict[str, dict[str, int]] = {}
    for row in rows.values("certification__designation", "certification__level").annotate(people=people):
        levels.setdefault(row["certification__designation"], {})[row["certification__level"]] = row["people"]
    return [
        DesignationSkills(
            designation=designation.value,
            label=str(designation.label),
            people=totals.get(designation.value, 0),
            by_level=levels.get(designation.value, {}),
        )
        for designation in Designation
    ]
