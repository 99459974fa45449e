"""The vendor-side admin of incentives: the activity catalogue and its rates, market tiers, seller
opportunities (with a file import per organization), and the review of claims.

The catalogue is vendor data edited here. Claims, their proof, reviews and outcome links are
written by incentives.services only, so they are read-only; a reviewer decides on claims through
the actions "Approve", "Ask for more information", "Reject" and "Reject finally" (claim_review).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_imports import OrganizationImportAdminMixin
from incentives.admin_forms import (
    REVIEW_FORMS,
    ActivityRateForm,
    ActivityRateInlineFormSet,
    OpportunityImportForm,
)
from incentives.choices import ActivityAvailability, ReviewDecision
from incentives.imports import OPPORTUNITY_IMPORTER
from incentives.models import (
    ActivityRate,
    ActivityType,
    Claim,
    ClaimReview,
    CountryMarketTier,
    Opportunity,
    OutcomeLink,
    ProofDocument,
)
from incentives.services.claims.review import claim_review
from incentives.services.opportunities import opportunities_import
from portal.admin_base import ReadOnlyInline, ServiceOwnedAdmin, action_with_form, html_table
from portal.history import history_for
from portal.models import JobRun

# --- The catalogue ----------------------------------------------------------------------------------


class ActivityRateInline(admin.TabularInline):
    model = ActivityRate
    form = ActivityRateForm
    formset = ActivityRateInlineFormSet
    extra = 0
    fields = ["market_tier", "fixed_fee_usd", "rate", "cap_per_claim_usd", "valid_from", "valid_to"]


class AvailabilityFilter(admin.SimpleListFilter):
    title = "availability"
    parameter_name = "availability"

    def lookups(self, request, model_admin):
        return ActivityAvailability.choices

    def queryset(self, request, queryset):
        from django.utils import timezone  # noqa: PLC0415 - today is read per request

        today = timezone.localdate()
        if self.value() == ActivityAvailability.UPCOMING:
            return queryset.filter(starts_on__gt=today)
        if self.value() == ActivityAvailability.EXPIRED:
            return queryset.filter(ends_on__lt=today)
        if self.value() == ActivityAvailability.ACTIVE:
            return queryset.filter(starts_on__lte=today, ends_on__gte=today)
        return queryset


@admin.register(ActivityType)
class ActivityTypeAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "solution_area",
        "pay_pattern",
        "starts_on",
        "ends_on",
        "availability_shown",
        "max_claims_per_customer",
        "annual_cap_usd",
        "proof",
    ]
    list_filter = ["engagement__solution_area", "pay_pattern", AvailabilityFilter]
    search_fields = ["code", "name", "engagement__engagement_id"]
    list_select_related = ["engagement"]
    inlines = [ActivityRateInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "engagement", "lever", "pay_pattern"]}),
        (
            "Dates and limits",
            {
                "fields": [
                    "starts_on",
                    "ends_on",
                    "claim_window_days",
                    "submission_deadline_days",
                    "max_claims_per_customer",
                    "annual_cap_usd",
                ]
            },
        ),
        (
            "Eligibility",
            {
                "fields": [
                    "customer_segments",
                    "customer_countries",
                    "min_customer_employees",
                    "max_customer_employees",
                    "prerequisite",
                ]
            },
        ),
        ("Proof of execution", {"fields": ["required_proof"]}),
    ]

    @admin.display(description="Solution area", ordering="engagement__solution_area")
    def solution_area(self, obj: ActivityType) -> str:
        return obj.engagement.solution_area

    @admin.display(description="Availability")
    def availability_shown(self, obj: ActivityType) -> str:
        return str(obj.availability())

    @admin.display(description="Required proof")
    def proof(self, obj: ActivityType) -> str:
        return ", ".join(obj.required_proof) or "—"


@admin.register(CountryMarketTier)
class CountryMarketTierAdmin(admin.ModelAdmin):
    list_display = ["country", "market_tier"]
    list_filter = ["market_tier"]
    search_fields = ["country"]


# --- Seller opportunities ------------------------------------------------------------------------------


@admin.register(Opportunity)
class OpportunityAdmin(OrganizationImportAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/incentives/opportunity/change_list.html"
    list_display = [
        "msx_opportunity_id",
        "name",
        "organization",
        "customer",
        "solution_area",
        "estimated_value_usd",
        "stage",
        "seller_name",
        "close_date",
        "imported_at",
    ]
    list_filter = ["stage", "solution_area"]
    search_fields = [
        "=msx_opportunity_id",
        "name",
        "customer__name",
        "organization__legal_name",
        "seller_name",
    ]
    list_select_related = ["organization", "customer"]
    raw_id_fields = ["organization", "customer"]

    import_form_class = OpportunityImportForm
    import_template = "admin/incentives/opportunity_import.html"

    def get_urls(self):
        page = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name="incentives_opportunity_import",
        )
        return [page, *self.import_job_urls(), *super().get_urls()]

    def import_importer(self, request):
        return OPPORTUNITY_IMPORTER

    def import_start(self, request, form) -> JobRun:
        return opportunities_import(
            organization=form.cleaned_data["organization"],
            file=form.cleaned_data["file"],
            actor=request.user,
            valid_rows_only=form.cleaned_data["valid_rows_only"],
        )

    def import_view(self, request):
        """Import a file of opportunities for one organization (portal.imports): the header is checked
        at once, every row in a job whose page lists each problem; all or nothing unless the valid
        rows only are asked for."""
        return self.import_page(request, title="Import seller opportunities")


# --- Claims and their review -----------------------------------------------------------------------


class ProofDocumentInline(ReadOnlyInline):
    model = ProofDocument
    fields = ["kind", "download", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    verbose_name_plural = "proof of execution"

    @admin.display(description="File")
    def download(self, obj: ProofDocument):
        url = reverse("admin:incentives_claim_proof", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


class ClaimReviewInline(ReadOnlyInline):
    model = ClaimReview
    fields = [
        "decided_at",
        "reviewer",
        "decision",
        "reason_code",
        "comment",
        "partner_response",
        "responded_at",
    ]
    readonly_fields = fields
    verbose_name_plural = "reviews"


def _review_action(decision: str, description: str):
    def apply(modeladmin, request, queryset):
        return action_with_form(
            modeladmin,
            request,
            queryset,
            form_class=REVIEW_FORMS[decision],
            title=description,
            action=f"review_{decision}",
            apply=lambda claim, data: claim_review(
                claim=claim,
                reviewer=request.user,
                decision=decision,
                reason_code=data["reason_code"],
                comment=data["comment"],
            ),
        )

    apply.__name__ = f"review_{decision}"
    return admin.action(description=f"{description}…", permissions=["change"])(apply)


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = [
        "claim_id",
        "organization",
        "activity_type",
        "pay_pattern",
        "customer",
        "status",
        "market_tier",
        "potential_payout_usd",
        "approved_payout_usd",
        "submitted_at",
        "decided_at",
    ]
    list_filter = ["status", "activity_type__pay_pattern", "activity_type", "market_tier"]
    search_fields = [
        "=claim_id",
        "customer__name",
        "=customer_tenant_id",
        "friendly_name",
        "organization__legal_name",
    ]
    list_select_related = ["organization", "activity_type", "customer"]
    date_hierarchy = "created_at"
    inlines = [ProofDocumentInline, ClaimReviewInline]
    actions = [
        _review_action(ReviewDecision.APPROVE, "Approve"),
        _review_action(ReviewDecision.REQUEST_INFO, "Ask for more information"),
        _review_action(ReviewDecision.REJECT, "Reject"),
        _review_action(ReviewDecision.FINAL_REJECT, "Reject finally"),
    ]
    fieldsets = [
        (
            None,
            {"fields": ["claim_id", "organization", "status", "activity_type", "location", "friendly_name"]},
        ),
        (
            "Customer",
            {
                "fields": [
                    "customer",
                    "customer_tenant_id",
                    "customer_id_type",
                    "contact_name",
                    "contact_email",
                    "opportunity",
                ]
            },
        ),
        (
            "Payout",
            {
                "fields": [
                    "market_tier",
                    "estimated_deal_size_usd",
                    "potential_payout_usd",
                    "approved_payout_usd",
                ]
            },
        ),
        (
            "Dates",
            {
                "fields": [
                    "created_at",
                    "consent_at",
                    "delivered_on",
                    "submitted_at",
                    "decided_at",
                    "expires_at",
                    "action_due_at",
                    "resubmit_count",
                    "created_by",
                ]
            },
        ),
        ("History", {"fields": ["history"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Every field: a claim changes only through the services (the review actions).
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is read-only; the decision goes through the review actions of the list.
        return obj is None and request.user.has_perm("incentives.change_claim")

    @admin.display(description="Pattern", ordering="activity_type__pay_pattern")
    def pay_pattern(self, obj: Claim) -> str:
        return obj.activity_type.pay_pattern

    @admin.display(description="Status history")
    def history(self, obj: Claim):
        events = list(history_for(obj))
        if not events:
            return "No status change yet."
        return html_table(
            ("When", "Who", "From", "To", "Note"),
            (
                (f"{e.at:%Y-%m-%d %H:%M}", e.actor_label, e.from_status or "—", e.to_status, e.note)
                for e in events
            ),
            table_id="claim-history",
        )

    def get_urls(self):
        proof = path(
            "proof/<int:pk>/",
            self.admin_site.admin_view(self.proof_download),
            name="incentives_claim_proof",
        )
        return [proof, *super().get_urls()]

    def proof_download(self, request, pk: int):
        """A proof document, always as a download (never rendered inline by the browser)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = ProofDocument.objects.filter(pk=pk).first()
        if document is None or not document.file:
            raise Http404("No such proof document.")
        try:
            handle = document.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("The file is missing from storage.") from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=document.original_name,
            content_type="application/octet-stream",
        )


@admin.register(ClaimReview)
class ClaimReviewAdmin(ServiceOwnedAdmin):
    list_display = [
        "claim",
        "organization",
        "decision",
        "reason_code",
        "reviewer",
        "decided_at",
        "responded_at",
    ]
    list_filter = ["decision", "reason_code"]
    search_fields = ["=claim__claim_id", "comment", "partner_response"]
    list_select_related = ["claim", "organization", "reviewer"]


@admin.register(OutcomeLink)
class OutcomeLinkAdmin(ServiceOwnedAdmin):
    list_display = ["claim", "transaction_shown", "organization", "linked_by", "linked_at"]
    search_fields = ["=claim__claim_id", "=transaction__transaction_id"]
    list_select_related = ["claim", "transaction", "organization", "linked_by"]

    @admin.display(description="transactionId")
    def transaction_shown(self, obj: OutcomeLink):
        url = reverse("admin:earnings_transaction_change", args=[obj.transaction_id])
        return format_html('<a href="{}">{}</a>', url, obj.transaction.transaction_id)
