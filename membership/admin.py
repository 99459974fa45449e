"""The vendor-side admin of Membership (spec/membership.md).

- Vendor data edited here: the scoring rules of each fiscal year (a rule set with its metric
  definitions, whose weights must add up to 100 for every designation and track), the
  certification catalogue, the benefit package catalogue and the Marketplace Rewards tiers.
- Partner memberships are edited here; designation enrollments, score snapshots, benefit packages
  (with their benefits), consumption and rewards years are written by the services and listed
  read-only.
- ISV Success applications are reviewed with the "Start review", "Approve" and "Reject" actions,
  which call `membership.services.isv.isv_application_review`.
- Data files come in through the "Import a file" pages (membership.imports): the Marketplace
  license report, the VM image version report, Surface assessment completions, person
  certifications and Marketplace billed sales, each for one organization: the file is imported by
  a job of the import pipeline (portal.imports), whose page lists every problem and the result.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import path, reverse

from accounts.admin_imports import OrganizationImportAdminMixin
from membership.choices import Designation, IsvStatus, Track
from membership.imports import IMPORTERS
from membership.models import (
    Benefit,
    BenefitConsumption,
    BenefitPackage,
    BenefitTemplate,
    Certification,
    DesignationEnrollment,
    IsvSuccessApplication,
    MarketplaceBilledSale,
    MarketplaceLicense,
    MarketplaceRewardTier,
    Membership,
    PersonCertification,
    RewardsYear,
    ScoreMetricDefinition,
    ScoreRuleSet,
    ScoreSnapshot,
    SurfaceAssessment,
    TrainingDelivery,
    VmImageUsage,
)
from membership.services.imports import membership_import_start
from membership.services.isv import isv_application_review
from portal.admin_base import (
    DecidedByActionsAdmin,
    ReadOnlyInline,
    ServiceOwnedAdmin,
    action_with_form,
    history_table,
    html_table,
)
from portal.imports import Importer
from portal.jobs import JobRun

TOTAL_WEIGHT = 100


# --- Vendor data: scoring rules --------------------------------------------------------------------


class MetricDefinitionFormSet(forms.BaseInlineFormSet):
    """The weights of each designation and track add up to 100 points (spec §2.2)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("designation"):
                continue
            totals[(data["designation"], data.get("track") or Track.ALL)] += data.get("weight") or 0
        wrong = [
            f"{Designation(designation).label}, track {Track(track).label}: the weights add up to "
            f"{total}, not {TOTAL_WEIGHT}."
            for (designation, track), total in sorted(totals.items())
            if total != TOTAL_WEIGHT
        ]
        if wrong:
            raise ValidationError(wrong)


class ScoreMetricDefinitionInline(admin.TabularInline):
    model = ScoreMetricDefinition
    formset = MetricDefinitionFormSet
    fields = ["designation", "track", "metric", "weight", "threshold", "unit"]
    extra = 0


class ScoreRuleSetForm(forms.ModelForm):
    class Meta:
        model = ScoreRuleSet
        fields = ["fiscal_year", "effective_from"]

    def clean(self):
        cleaned = super().clean()
        fiscal_year, effective_from = cleaned.get("fiscal_year"), cleaned.get("effective_from")
        if not fiscal_year:
            return cleaned
        if len(fiscal_year) != 4 or not fiscal_year.startswith("FY") or not fiscal_year[2:].isdigit():
            self.add_error("fiscal_year", f"{fiscal_year!r} is not a fiscal year like FY27.")
            return cleaned
        first_day = date(2000 + int(fiscal_year[2:]) - 1, 7, 1)
        if effective_from and effective_from != first_day:
            self.add_error(
                "effective_from",
                f"{fiscal_year} starts on {first_day:%Y-%m-%d} (1 July), not {effective_from}.",
            )
        return cleaned


@admin.register(ScoreRuleSet)
class ScoreRuleSetAdmin(admin.ModelAdmin):
    form = ScoreRuleSetForm
    list_display = ["fiscal_year", "effective_from", "metric_count"]
    inlines = [ScoreMetricDefinitionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(metric_total=Count("metrics"))

    @admin.display(description="Metrics", ordering="metric_total")
    def metric_count(self, obj: ScoreRuleSet) -> int:
        return obj.metric_total


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "designation", "level"]
    list_filter = ["designation", "level"]
    search_fields = ["code", "name"]


@admin.register(BenefitTemplate)
class BenefitTemplateAdmin(admin.ModelAdmin):
    list_display = ["package_code", "package_name", "kind", "product", "quantity", "unit"]
    list_filter = ["package_code", "kind"]
    search_fields = ["package_code", "package_name", "product"]


class RewardTierForm(forms.ModelForm):
    class Meta:
        model = MarketplaceRewardTier
        fields = ["tier", "name", "min_mbs_usd"]

    def clean(self):
        cleaned = super().clean()
        tier, minimum = cleaned.get("tier"), cleaned.get("min_mbs_usd")
        if tier is None or minimum is None:
            return cleaned
        others = MarketplaceRewardTier.objects.exclude(pk=self.instance.pk)
        lower = others.filter(tier__lt=tier).order_by("-tier").first()
        higher = others.filter(tier__gt=tier).order_by("tier").first()
        if lower and minimum <= lower.min_mbs_usd:
            self.add_error(
                "min_mbs_usd", f"Must be above {lower.name}'s minimum of {lower.min_mbs_usd:,.2f}."
            )
        if higher and minimum >= higher.min_mbs_usd:
            self.add_error(
                "min_mbs_usd", f"Must be below {higher.name}'s minimum of {higher.min_mbs_usd:,.2f}."
            )
        return cleaned


@admin.register(MarketplaceRewardTier)
class MarketplaceRewardTierAdmin(admin.ModelAdmin):
    form = RewardTierForm
    list_display = ["tier", "name", "min_mbs_usd", "package_code"]


# --- Memberships, designations, scores ---------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["organization", "status", "member_since", "anniversary_date"]

    def clean(self):
        cleaned = super().clean()
        since, anniversary = cleaned.get("member_since"), cleaned.get("anniversary_date")
        if since and anniversary and anniversary <= since:
            self.add_error("anniversary_date", "The renewal date must be after the member-since date.")
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["organization", "status", "member_since", "anniversary_date"]
    list_filter = ["status"]
    search_fields = ["organization__legal_name", "=organization__partner_global_id"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    show_full_result_count = False


@admin.register(DesignationEnrollment)
class DesignationEnrollmentAdmin(ServiceOwnedAdmin):
    """Written by designations_sync and designation_enroll; read here with its history."""

    list_display = [
        "organization",
        "designation",
        "status",
        "last_qualified_on",
        "enrolled_on",
        "renews_on",
        "lapsed_on",
    ]
    list_filter = ["status", "designation"]
    search_fields = ["organization__legal_name", "=organization__partner_global_id"]
    list_select_related = ["organization"]
    fields = [
        "organization",
        "designation",
        "status",
        "last_qualified_on",
        "enrolled_on",
        "renews_on",
        "lapsed_on",
        "updated_at",
        "history",
    ]
    readonly_fields = fields

    @admin.display(description="History")
    def history(self, obj: DesignationEnrollment):
        return history_table(
            obj,
            ("From", "To", "Note", "Renews on"),
            lambda e: (e.from_status or "—", e.to_status, e.note, e.data.get("renews_on") or "—"),
            table_id="enrollment-history",
        )


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ServiceOwnedAdmin):
    """One row per organization, designation, track and day, written by the nightly score run."""

    list_display = ["organization", "designation", "track", "taken_on", "total", "qualified", "is_best"]
    list_filter = ["designation", "track", "qualified", "is_best", "rule_set"]
    search_fields = ["organization__legal_name", "=organization__partner_global_id"]
    list_select_related = ["organization"]
    date_hierarchy = "taken_on"
    fields = [
        "organization",
        "designation",
        "track",
        "taken_on",
        "rule_set",
        "total",
        "qualified",
        "is_best",
        "metric_table",
    ]
    readonly_fields = fields

    @admin.display(description="Metrics")
    def metric_table(self, obj: ScoreSnapshot):
        if not obj.metrics:
            return "No metric recorded."
        return html_table(
            ("Metric", "Achieved", "Threshold", "Unit", "Weight", "Points"),
            (
                (
                    code,
                    values.get("achieved", "—"),
                    values.get("threshold", "—"),
                    values.get("unit", ""),
                    values.get("weight", "—"),
                    values.get("points", "—"),
                )
                for code, values in obj.metrics.items()
            ),
            table_id="score-metrics",
        )


# --- ISV Success ---------------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Optional: what the partner reads with the approval.",
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: why, and what would be approved. The partner reads it.",
    )


def _review(modeladmin, request, queryset, *, to_status: str, form_class, title: str, action: str):
    return action_with_form(
        modeladmin,
        request,
        queryset,
        form_class=form_class,
        title=title,
        action=action,
        apply=lambda application, data: isv_application_review(
            actor=request.user, application=application, to_status=to_status, note=data["note"]
        ),
    )


@admin.action(description="Start review", permissions=["change"])
def start_review(modeladmin, request, queryset):
    done = 0
    for application in queryset.order_by("pk"):
        try:
            isv_application_review(actor=request.user, application=application, to_status=IsvStatus.IN_REVIEW)
            done += 1
        except ValidationError as exc:
            modeladmin.message_user(request, f"{application}: {'; '.join(exc.messages)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"Review started: {done} done.", messages.SUCCESS)


@admin.action(description="Approve…", permissions=["change"])
def approve(modeladmin, request, queryset):
    return _review(
        modeladmin,
        request,
        queryset,
        to_status=IsvStatus.APPROVED,
        form_class=ApproveForm,
        title="Approve ISV Success applications",
        action="approve",
    )


@admin.action(description="Reject with a note…", permissions=["change"])
def reject(modeladmin, request, queryset):
    return _review(
        modeladmin,
        request,
        queryset,
        to_status=IsvStatus.REJECTED,
        form_class=RejectForm,
        title="Reject ISV Success applications",
        action="reject",
    )


@admin.register(IsvSuccessApplication)
class IsvSuccessApplicationAdmin(DecidedByActionsAdmin):
    """Read-only page; the review moves only through the actions (isv_application_review)."""

    list_display = [
        "app_name",
        "organization",
        "designation",
        "status",
        "is_published",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = ["status", "designation", "is_published"]
    search_fields = ["app_name", "organization__legal_name", "=marketplace_offer_id"]
    list_select_related = ["organization", "reviewed_by"]
    date_hierarchy = "created_at"
    actions = [start_review, approve, reject]
    fields = [
        "organization",
        "status",
        "app_name",
        "app_description",
        "designation",
        "expected_release_date",
        "is_published",
        "marketplace_offer_id",
        "agreement_accepted_at",
        "created_by",
        "created_at",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "history",
    ]
    readonly_fields = fields

    @admin.display(description="History")
    def history(self, obj: IsvSuccessApplication):
        return history_table(
            obj,
            ("From", "To", "Note"),
            lambda e: (e.from_status or "—", e.to_status, e.note or "—"),
            table_id="isv-history",
        )


# --- Benefits and rewards ------------------------------------------------------------------------------


class BenefitInline(ReadOnlyInline):
    model = Benefit
    fields = ["kind", "product", "quantity", "unit", "activation_status", "activated_at", "expires_at"]
    readonly_fields = fields


@admin.register(BenefitPackage)
class BenefitPackageAdmin(ServiceOwnedAdmin):
    """Granted by the services (designation enrollment, ISV Success approval, rewards, purchase)."""

    list_display = ["name", "code", "organization", "source", "start", "end"]
    list_filter = ["source", "code"]
    search_fields = ["name", "code", "organization__legal_name", "=organization__partner_global_id"]
    list_select_related = ["organization"]
    date_hierarchy = "start"
    fields = ["organization", "code", "name", "source", "start", "end"]
    readonly_fields = fields
    inlines = [BenefitInline]


class ConsumptionInline(ReadOnlyInline):
    model = BenefitConsumption
    fields = ["as_of", "consumed_quantity"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Benefit)
class BenefitAdmin(ServiceOwnedAdmin):
    list_display = ["product", "package", "organization", "kind", "quantity", "unit", "activation_status"]
    list_filter = ["kind", "activation_status", "unit"]
    search_fields = ["product", "package__code", "organization__legal_name"]
    list_select_related = ["package", "organization"]
    fields = [
        "organization",
        "package",
        "kind",
        "product",
        "quantity",
        "unit",
        "activation_status",
        "activated_at",
        "activated_by",
        "expires_at",
    ]
    readonly_fields = fields
    inlines = [ConsumptionInline]


@admin.register(BenefitConsumption)
class BenefitConsumptionAdmin(ServiceOwnedAdmin):
    list_display = ["benefit", "organization", "consumed_quantity", "as_of"]
    list_filter = ["benefit__kind"]
    search_fields = ["benefit__product", "organization__legal_name"]
    list_select_related = ["benefit", "organization"]
    date_hierarchy = "as_of"
    fields = ["organization", "benefit", "consumed_quantity", "as_of"]
    readonly_fields = fields


@admin.register(RewardsYear)
class RewardsYearAdmin(ServiceOwnedAdmin):
    list_display = ["organization", "anniversary", "mbs_ttm_usd", "tier"]
    list_filter = ["tier"]
    search_fields = ["organization__legal_name", "=organization__partner_global_id"]
    list_select_related = ["organization", "tier"]
    fields = ["organization", "anniversary", "mbs_ttm_usd", "tier"]
    readonly_fields = fields


@admin.register(TrainingDelivery)
class TrainingDeliveryAdmin(admin.ModelAdmin):
    list_display = ["course_name", "organization", "delivered_on", "learners", "satisfaction"]
    search_fields = ["course_name", "organization__legal_name"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    date_hierarchy = "delivered_on"


# --- Imported data files ---------------------------------------------------------------------------------


class FileImportAdmin(OrganizationImportAdminMixin, admin.ModelAdmin):
    """Rows that come from data files: listed, imported with "Import a file", deleted if wrong; never
    added or edited one by one. An import runs as a job (portal.imports) whose page the admin is
    sent to."""

    importer: Importer
    change_list_template = "admin/membership/import_change_list.html"
    list_select_related = ["organization"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('add', self.opts)}")

    def may_import(self, request) -> bool:
        return self.has_import_permission(request)

    def import_importer(self, request) -> Importer:
        return self.importer

    @property
    def import_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_import"

    def get_urls(self):
        page = path("import/", self.admin_site.admin_view(self.import_view), name=self.import_url_name)
        return [page, *self.import_job_urls(), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"import_url": None, "import_title": self.importer.layout.title}
        if self.has_import_permission(request):
            extra["import_url"] = reverse(f"admin:{self.import_url_name}")
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def import_start(self, request, form) -> JobRun:
        return membership_import_start(
            self.importer,
            organization=form.cleaned_data["organization"],
            upload=form.cleaned_data["file"],
            actor=request.user,
            valid_rows_only=form.cleaned_data["valid_rows_only"],
        )

    def import_view(self, request):
        """A file for one organization: its header checked now, its rows by the import job."""
        return self.import_page(request, title=f"Import: {self.importer.layout.title}")


@admin.register(MarketplaceLicense)
class MarketplaceLicenseAdmin(FileImportAdmin):
    importer = IMPORTERS["license_report"]
    list_display = [
        "date",
        "organization",
        "offer_name",
        "plan_name",
        "customer_name",
        "country",
        "licenses_purchased",
        "licenses_assigned",
        "license_status",
    ]
    list_filter = ["license_status", "country"]
    search_fields = ["offer_name", "=offer_id", "customer_name", "=customer_tenant_id", "=subscription_id"]
    date_hierarchy = "date"


@admin.register(VmImageUsage)
class VmImageUsageAdmin(FileImportAdmin):
    importer = IMPORTERS["vm_image_report"]
    list_display = [
        "month",
        "organization",
        "offer_name",
        "plan_sku",
        "image_version",
        "os_type",
        "active_vms",
        "is_latest_version",
    ]
    list_filter = ["os_type", "is_latest_version", "country"]
    search_fields = ["offer_name", "plan_sku", "=image_version", "organization__legal_name"]
    date_hierarchy = "month"


@admin.register(SurfaceAssessment)
class SurfaceAssessmentAdmin(FileImportAdmin):
    importer = IMPORTERS["surface_assessments"]
    list_display = [
        "learner_name",
        "email",
        "organization",
        "location",
        "assessment_name",
        "completed_on",
        "score",
        "status",
    ]
    list_filter = ["status", "country"]
    search_fields = ["learner_name", "=email", "assessment_name", "organization__legal_name"]
    list_select_related = ["organization", "location"]
    date_hierarchy = "completed_on"


@admin.register(PersonCertification)
class PersonCertificationAdmin(FileImportAdmin):
    importer = IMPORTERS["person_certifications"]
    list_display = [
        "learner_name",
        "email",
        "organization",
        "certification",
        "earned_on",
        "expires_on",
        "location",
    ]
    list_filter = ["certification__designation", "certification__level"]
    search_fields = ["learner_name", "=email", "=certification__code", "organization__legal_name"]
    list_select_related = ["organization", "certification", "location"]
    date_hierarchy = "earned_on"


@admin.register(MarketplaceBilledSale)
class MarketplaceBilledSaleAdmin(FileImportAdmin):
    importer = IMPORTERS["billed_sales"]
    list_display = ["billed_on", "organization", "offer_id", "offer_name", "amount_usd"]
    search_fields = ["=offer_id", "offer_name", "organization__legal_name"]
    date_hierarchy = "billed_on"
