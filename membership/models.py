"""Membership: program membership, Solutions Partner designations and their capability scores,
ISV Success, Marketplace Rewards, benefits and the insights reports (spec/membership.md).

Scoring rules are data (`ScoreRuleSet`, `ScoreMetricDefinition`) so the vendor corrects weights
and thresholds, and switches fiscal years, without a release. Scores are never edited: each
nightly run writes one `ScoreSnapshot` per organization, designation, track and day, so the
history of every refresh stays readable.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from membership.choices import (
    ActivationStatus,
    AssessmentStatus,
    BenefitKind,
    BenefitUnit,
    CertificationLevel,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    LicenseStatus,
    MembershipStatus,
    Metric,
    MetricUnit,
    OsType,
    PackageSource,
    Track,
)
from portal.capabilities import Capability, locations_granting
from portal.money import AmountField
from portal.tenancy import TenantModel, VendorDataManager

PERCENT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]


class InsightsLocationScoped:
    """Rows a location-scoped insights viewer sees only for their partner locations (spec §6)."""

    @classmethod
    def narrow_for_user(cls, queryset: models.QuerySet, user) -> models.QuerySet:
        locations = locations_granting(user, Capability.INSIGHTS_VIEW)
        if locations is None:
            return queryset
        return queryset.filter(location_id__in=locations)


# --- Vendor data: scoring rules, certifications, benefit catalogue, reward tiers --------------------


class ScoreRuleSet(models.Model):
    """The scoring rules of one fiscal year; the one in effect on a day is the latest started."""

    fiscal_year = models.CharField(max_length=4, unique=True, help_text='e.g. "FY27"')
    effective_from = models.DateField(unique=True, help_text="1 July of the fiscal year.")

    objects = VendorDataManager()

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return self.fiscal_year


class ScoreMetricDefinition(models.Model):
    """One metric of one designation and track: its weight in points and the threshold that earns
    them all (spec §2.2). Partial progress earns partial points (spec §2.3)."""

    rule_set = models.ForeignKey(ScoreRuleSet, on_delete=models.CASCADE, related_name="metrics")
    designation = models.CharField(max_length=40, choices=Designation.choices)
    track = models.CharField(max_length=10, choices=Track.choices, default=Track.ALL)
    metric = models.CharField(max_length=20, choices=Metric.choices)
    weight = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    threshold = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0.01)])
    unit = models.CharField(max_length=12, choices=MetricUnit.choices)

    objects = VendorDataManager()

    class Meta:
        ordering = ["rule_set", "designation", "track", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "designation", "track", "metric"], name="one_definition_per_metric"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} {self.designation} {self.track} {self.metric}"


class Certification(models.Model):
    """A Microsoft certification and the designation whose skilling metric it counts for."""

    code = models.CharField(max_length=20, unique=True, help_text='Exam or credential, e.g. "PL-200".')
    name = models.CharField(max_length=200)
    designation = models.CharField(max_length=40, choices=Designation.choices)
    level = models.CharField(max_length=12, choices=CertificationLevel.choices)

    objects = VendorDataManager()

    class Meta:
        ordering = ["designation", "level", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BenefitTemplate(models.Model):
    """What one benefit package grants (spec §5); granting a package copies its templates."""

    package_code = models.CharField(max_length=60, db_index=True)
    package_name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=BenefitKind.choices)
    product = models.CharField(max_length=120)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=10, choices=BenefitUnit.choices)

    objects = VendorDataManager()

    class Meta:
        ordering = ["package_code", "id"]

    def __str__(self) -> str:
        return f"{self.package_code}: {self.product}"


class MarketplaceRewardTier(models.Model):
    """A Marketplace Rewards tier by marketplace billed sales over twelve months (spec §4)."""

    tier = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=40)
    min_mbs_usd = AmountField(verbose_name="Minimum MBS (USD)")

    objects = VendorDataManager()

    class Meta:
        ordering = ["tier"]

    def __str__(self) -> str:
        return self.name

    @property
    def package_code(self) -> str:
        return f"marketplace_rewards_tier_{self.tier}"


# --- Membership and designations -------------------------------------------------------------------


class Membership(TenantModel):
    """The partner's AI Cloud Partner Program membership (spec §1)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="membership"
    )
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    member_since = models.DateField()
    anniversary_date = models.DateField(help_text="The next renewal date.")

    def __str__(self) -> str:
        return f"Membership of {self.organization_id}"


class ScoreSnapshot(TenantModel):
    """A designation's partner capability score on one day, for one track (spec §7).

    `metrics` holds the breakdown by metric code: achieved, threshold, weight, points, unit.
    `is_best` marks the track whose total counts for the designation (spec §2.1).
    """

    designation = models.CharField(max_length=40, choices=Designation.choices)
    track = models.CharField(max_length=10, choices=Track.choices)
    taken_on = models.DateField()
    rule_set = models.ForeignKey(ScoreRuleSet, on_delete=models.PROTECT, related_name="+")
    metrics = models.JSONField()
    total = models.PositiveSmallIntegerField()
    qualified = models.BooleanField()
    is_best = models.BooleanField()

    class Meta:
        ordering = ["designation", "-taken_on", "track"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "designation", "track", "taken_on"], name="one_score_per_day"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "taken_on"]),
            models.Index(fields=["taken_on"], condition=Q(is_best=True), name="best_score_by_day"),
        ]

    def __str__(self) -> str:
        return f"{self.designation} {self.track} {self.taken_on}: {self.total}"


class DesignationEnrollment(TenantModel):
    """Whether the partner holds a designation (spec §2.5, §7)."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.MEMBERSHIP_VIEW, Capability.MEMBERSHIP_MANAGE)

    designation = models.CharField(max_length=40, choices=Designation.choices)
    status = models.CharField(max_length=10, choices=EnrollmentStatus.choices)
    last_qualified_on = models.DateField(null=True, blank=True)
    enrolled_on = models.DateField(null=True, blank=True)
    renews_on = models.DateField(null=True, blank=True)
    lapsed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["designation"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "designation"], name="one_enrollment_per_designation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.designation}: {self.status}"


class PersonCertification(InsightsLocationScoped, TenantModel):
    """A certification held by a person associated with the partner (skilling, spec §2.3)."""

    location = models.ForeignKey(
        "accounts.PartnerLocation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    learner_name = models.CharField(max_length=150)
    email = models.EmailField()
    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="holders")
    earned_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["learner_name", "certification__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email", "certification", "earned_on"], name="one_certification_award"
            ),
        ]
        indexes = [models.Index(fields=["organization", "certification"])]

    def __str__(self) -> str:
        return f"{self.learner_name}: {self.certification_id}"


class TrainingDelivery(TenantModel):
    """A course the partner delivered as a training services partner (spec §2.6)."""

    course_name = models.CharField(max_length=200)
    delivered_on = models.DateField()
    learners = models.PositiveIntegerField()
    satisfaction = models.PositiveSmallIntegerField(
        validators=PERCENT_VALIDATORS, help_text="Average learner satisfaction, 0–100."
    )

    class Meta:
        ordering = ["-delivered_on", "id"]
        verbose_name_plural = "training deliveries"
        indexes = [models.Index(fields=["organization", "delivered_on"])]

    def __str__(self) -> str:
        return f"{self.course_name} ({self.delivered_on})"


# --- ISV Success -----------------------------------------------------------------------------------


class IsvSuccessApplication(TenantModel):
    """An ISV's sign-up for ISV Success (spec §3)."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.MEMBERSHIP_VIEW, Capability.MEMBERSHIP_MANAGE)

    status = models.CharField(max_length=10, choices=IsvStatus.choices, default=IsvStatus.DRAFT)
    app_name = models.CharField(max_length=120)
    app_description = models.TextField(max_length=2000)
    designation = models.CharField(
        max_length=40, choices=Designation.choices, verbose_name="Target solution area"
    )
    expected_release_date = models.DateField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    marketplace_offer_id = models.CharField(max_length=100, blank=True)
    agreement_accepted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "ISV Success application"
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=~Q(status=IsvStatus.REJECTED),
                name="one_live_isv_application",
                violation_error_message="The organization already has an ISV Success application.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.app_name} ({self.status})"


# --- Marketplace Rewards and benefits ----------------------------------------------------------------


class MarketplaceBilledSale(TenantModel):
    """Marketplace billed sales of one offer in one month (spec §4: MBS)."""

    billed_on = models.DateField(help_text="First day of the billing month.")
    offer_id = models.CharField(max_length=100)
    offer_name = models.CharField(max_length=200)
    amount_usd = AmountField(verbose_name="Billed sales (USD)")

    class Meta:
        ordering = ["-billed_on", "offer_id"]
        indexes = [models.Index(fields=["organization", "billed_on"])]
        constraints = [
            # The billed sales file's rows (membership.imports): a restated month replaces its amount.
            models.UniqueConstraint(fields=["organization", "billed_on", "offer_id"], name="one_billed_sale"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.billed_on}: {self.amount_usd}"


class RewardsYear(TenantModel):
    """One benefit year of Marketplace Rewards: the tier earned by the twelve months of MBS before
    its anniversary (spec §4)."""

    anniversary = models.DateField()
    mbs_ttm_usd = AmountField(verbose_name="MBS, trailing twelve months (USD)")
    tier = models.ForeignKey(MarketplaceRewardTier, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-anniversary"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "anniversary"], name="one_rewards_year"),
        ]

    def __str__(self) -> str:
        return f"{self.anniversary}: tier {self.tier_id}"


class BenefitPackage(TenantModel):
    """A package of benefits the partner holds (spec §5)."""

    code = models.CharField(max_length=60)
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=12, choices=PackageSource.choices)
    start = models.DateField()
    end = models.DateField()

    class Meta:
        ordering = ["-start", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code", "start"], name="one_package_grant"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="package_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start} – {self.end})"


class Benefit(TenantModel):
    """One benefit of a package, e.g. 25 Microsoft 365 E5 seats or USD 4,000 Azure credit."""

    package = models.ForeignKey(BenefitPackage, on_delete=models.CASCADE, related_name="benefits")
    kind = models.CharField(max_length=20, choices=BenefitKind.choices)
    product = models.CharField(max_length=120)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=10, choices=BenefitUnit.choices)
    activation_status = models.CharField(
        max_length=14, choices=ActivationStatus.choices, default=ActivationStatus.NOT_ACTIVATED
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateField()

    class Meta:
        ordering = ["package", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} {self.unit} {self.product}"


class BenefitConsumption(TenantModel):
    """How much of a benefit was consumed as of a day (spec §5); the latest row is current."""

    benefit = models.ForeignKey(Benefit, on_delete=models.CASCADE, related_name="consumptions")
    consumed_quantity = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    as_of = models.DateField()

    class Meta:
        ordering = ["benefit", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["benefit", "as_of"], name="one_consumption_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.benefit_id} {self.as_of}: {self.consumed_quantity}"


# --- Insights reports (spec §6) ----------------------------------------------------------------------


class MarketplaceLicense(TenantModel):
    """A row of the Marketplace API license report."""

    date = models.DateField(verbose_name="Date")
    offer_name = models.CharField(max_length=200, verbose_name="Offer name")
    offer_id = models.CharField(max_length=100, verbose_name="Offer ID")
    plan_name = models.CharField(max_length=200, verbose_name="Plan name")
    plan_id = models.CharField(max_length=100, verbose_name="Plan ID")
    customer_name = models.CharField(max_length=200, verbose_name="Customer name")
    customer_tenant_id = models.UUIDField(verbose_name="Customer tenant ID")
    country = models.CharField(max_length=2, verbose_name="Country/region")
    licenses_purchased = models.PositiveIntegerField(verbose_name="Licenses purchased")
    licenses_assigned = models.PositiveIntegerField(verbose_name="Licenses assigned")
    license_status = models.CharField(
        max_length=10, choices=LicenseStatus.choices, verbose_name="License status"
    )
    subscription_id = models.UUIDField(verbose_name="Subscription ID")
    term_start = models.DateField(verbose_name="Term start")
    term_end = models.DateField(verbose_name="Term end")

    class Meta:
        ordering = ["-date", "offer_name", "customer_name", "id"]
        indexes = [
            models.Index(fields=["organization", "-date"]),
            # The report's totals and countries, read from the index alone.
            models.Index(
                fields=["organization", "country", "customer_tenant_id"],
                include=["licenses_purchased", "licenses_assigned"],
                name="license_org_country_idx",
            ),
            # The offer and plan choices of the report's filters.
            models.Index(fields=["organization", "offer_name", "offer_id"], name="license_org_offer_idx"),
            models.Index(fields=["organization", "plan_name", "plan_id"], name="license_org_plan_idx"),
        ]
        constraints = [
            # The license report's rows (membership.imports): a corrected report updates them.
            models.UniqueConstraint(
                fields=["organization", "date", "subscription_id", "plan_id"], name="one_license_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.customer_name} {self.date}"


class VmImageUsage(TenantModel):
    """A row of the VM image version report."""

    month = models.DateField(verbose_name="Month", help_text="First day of the month.")
    offer_name = models.CharField(max_length=200, verbose_name="Offer name")
    plan_sku = models.CharField(max_length=100, verbose_name="Plan (SKU)")
    image_version = models.CharField(max_length=40, verbose_name="Image version")
    os_type = models.CharField(max_length=10, choices=OsType.choices, verbose_name="OS type")
    customer_count = models.PositiveIntegerField(verbose_name="Customer count")
    deployments = models.PositiveIntegerField(verbose_name="Deployments")
    active_vms = models.PositiveIntegerField(verbose_name="Active VMs")
    normalized_usage_hours = models.DecimalField(
        max_digits=14, decimal_places=2, verbose_name="Normalized usage hours"
    )
    raw_usage_hours = models.DecimalField(max_digits=14, decimal_places=2, verbose_name="Raw usage hours")
    country = models.CharField(max_length=2, verbose_name="Country/region")
    is_latest_version = models.BooleanField(verbose_name="Is latest version")

    class Meta:
        ordering = ["-month", "offer_name", "plan_sku", "image_version", "id"]
        verbose_name = "VM image usage"
        indexes = [models.Index(fields=["organization", "-month"])]
        constraints = [
            # The VM image report's rows (membership.imports).
            models.UniqueConstraint(
                fields=["organization", "month", "offer_name", "plan_sku", "image_version", "country"],
                name="one_vm_image_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_name} {self.image_version} {self.month}"


class SurfaceAssessment(InsightsLocationScoped, TenantModel):
    """A Surface assessment or training a person completed, at any location of the partner (spec §6)."""

    location = models.ForeignKey("accounts.PartnerLocation", on_delete=models.PROTECT, related_name="+")
    learner_name = models.CharField(max_length=150, verbose_name="Learner name")
    email = models.EmailField(verbose_name="Email")
    country = models.CharField(max_length=2, verbose_name="Country")
    assessment_name = models.CharField(max_length=200, verbose_name="Assessment name")
    completed_on = models.DateField(verbose_name="Completion date")
    score = models.PositiveSmallIntegerField(validators=PERCENT_VALIDATORS, verbose_name="Score")
    status = models.CharField(max_length=6, choices=AssessmentStatus.choices, verbose_name="Status")

    class Meta:
        ordering = ["-completed_on", "learner_name", "id"]
        indexes = [models.Index(fields=["organization", "-completed_on"])]
        constraints = [
            # The Surface completions file's rows (membership.imports).
            models.UniqueConstraint(
                fields=["organization", "completed_on", "email", "assessment_name"],
                name="one_surface_completion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_name}: {self.assessment_name}"
