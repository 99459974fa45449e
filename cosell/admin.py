"""The vendor-side admin of co-sell: referrals with their history, routing rules, capability
profiles, case studies, solutions, and "Find partners" — a seller's customer need ranked by
`match_partners`, every score explained factor by factor.

Referrals are written by cosell.services.referrals; here vendor staff change only the vendor's own
fields (Microsoft status, assignment, lead temperature). Such an edit is recorded like any other
write (`referral_recorded`, source "admin"), so it shows in the referral's history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from cosell.choices import CustomerSize, HistorySource
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from cosell.services.activity import referral_history, referral_recorded
from cosell.services.matching import CustomerNeed, match_partners
from earnings.choices import SolutionArea
from portal.admin_base import html_table

#: The fields vendor staff may change on a referral; everything else is the partner's document.
VENDOR_EDITABLE = ("microsoft_status", "lead_temperature", "assigned_team", "assigned_user")


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "customer_name",
        "customer_country",
        "status",
        "substatus",
        "type",
        "deal_kind",
        "microsoft_status",
        "deal_value",
        "currency",
        "created_at",
        "expiration_at",
    ]
    list_filter = [
        "status",
        "substatus",
        "type",
        "qualification",
        "deal_kind",
        "microsoft_status",
        "is_inbound",
        "is_draft",
        "customer_country",
    ]
    search_fields = ["=referral_id", "=engagement_id", "name", "customer_name", "organization__legal_name"]
    list_select_related = ["organization"]
    raw_id_fields = ["assigned_user"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["referral_id", "engagement_id", "organization", "name", "external_reference_id"]}),
        (
            "State",
            {
                "fields": [
                    "status",
                    "substatus",
                    "status_reason",
                    "loss_reason",
                    "expiration_at",
                    "accepted_at",
                ]
            },
        ),
        ("Vendor", {"fields": list(VENDOR_EDITABLE)}),
        (
            "Deal",
            {
                "fields": [
                    "type",
                    "qualification",
                    "deal_kind",
                    "is_inbound",
                    "is_draft",
                    "customer_name",
                    "customer_country",
                    "customer_size",
                    "deal_value",
                    "currency",
                    "closing_at",
                    "target",
                    "requirements",
                    "routing_rule",
                ]
            },
        ),
        ("History", {"fields": ["history"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        every = [f.name for f in Referral._meta.fields if f.name not in VENDOR_EDITABLE and f.name != "id"]
        return [*every, "history"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Referral, form, change) -> None:
        """Record who changed the vendor fields, from the admin, and bump the ETag's version."""
        obj.version += 1
        obj.updated_at = timezone.now()
        with referral_recorded(obj, actor=request.user, source=HistorySource.ADMIN):
            obj.save(update_fields=[*form.changed_data, "version", "updated_at"])

    @admin.display(description="Changes")
    def history(self, obj: Referral):
        changes = referral_history(obj, viewer=None)
        if not changes:
            return "—"
        return html_table(
            ("When", "Who", "Source", "Field", "Old", "New"),
            (
                (
                    timezone.localtime(c.when).strftime("%Y-%m-%d %H:%M:%S"),
                    c.who,
                    c.source,
                    c.field,
                    c.old,
                    c.new,
                )
                for c in changes
            ),
        )


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "priority",
        "is_active",
        "is_default",
        "countries",
        "solutions",
        "assign_to_team",
        "assign_to_user",
    ]
    list_filter = ["is_active", "is_default"]
    search_fields = ["name", "organization__legal_name", "assign_to_team"]
    list_select_related = ["organization", "assign_to_user"]
    raw_id_fields = ["organization", "assign_to_user"]
    ordering = ["organization", "is_default", "priority", "id"]

    @admin.display(description="Countries")
    def countries(self, obj: RoutingRule) -> str:
        return ", ".join(obj.match_countries) or "any"

    @admin.display(description="Solutions")
    def solutions(self, obj: RoutingRule) -> str:
        return ", ".join(obj.match_solution_ids) or "any"


class NeedForm(forms.Form):
    country = forms.CharField(max_length=2, help_text="ISO 3166 code, e.g. DE.")
    industry = forms.CharField(max_length=60, required=False)
    products = forms.CharField(required=False, help_text="Comma-separated, e.g. Azure, PowerBI.")
    solution_area = forms.ChoiceField(choices=[("", "—"), *SolutionArea.choices], required=False)
    size = forms.ChoiceField(choices=[("", "—"), *CustomerSize.choices], required=False)
    limit = forms.IntegerField(min_value=1, max_value=50, initial=10)

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def need(self) -> CustomerNeed:
        data = self.cleaned_data
        products = tuple(p.strip() for p in data["products"].split(",") if p.strip())
        return CustomerNeed(
            country=data["country"],
            industry=data["industry"].strip(),
            products=products,
            solution_area=data["solution_area"],
            size=data["size"],
        )


@admin.register(CapabilityProfile)
class CapabilityProfileAdmin(admin.ModelAdmin):
    change_list_template = "admin/cosell/capabilityprofile/change_list.html"
    list_display = [
        "organization",
        "areas",
        "countries",
        "industries_shown",
        "designations_shown",
        "updated_at",
    ]
    search_fields = ["organization__legal_name", "organization__partner_global_id"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]

    @admin.display(description="Solution areas")
    def areas(self, obj: CapabilityProfile) -> str:
        return ", ".join(obj.solution_areas) or "—"

    @admin.display(description="Countries served")
    def countries(self, obj: CapabilityProfile) -> str:
        return ", ".join(obj.countries_served) or "—"

    @admin.display(description="Industries")
    def industries_shown(self, obj: CapabilityProfile) -> str:
        return ", ".join(obj.industries) or "—"

    @admin.display(description="Designations")
    def designations_shown(self, obj: CapabilityProfile) -> str:
        return ", ".join(obj.designations) or "—"

    def get_urls(self):
        find = path(
            "find-partners/", self.admin_site.admin_view(self.find_partners_view), name="cosell_find_partners"
        )
        return [find, *super().get_urls()]

    def find_partners_view(self, request):
        """A vendor seller's customer need → partners ranked by match_partners, with each component."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = NeedForm(request.GET or None)
        matches = None
        if form.is_bound and form.is_valid():
            matches = match_partners(need=form.need(), limit=form.cleaned_data["limit"])
        profiles = reverse("admin:cosell_capabilityprofile_changelist")
        return TemplateResponse(
            request,
            "admin/cosell/find_partners.html",
            {
                **self.admin_site.each_context(request),
                "title": "Find partners",
                "form": form,
                "matches": matches,
                "profiles_url": profiles,
                "opts": self.model._meta,
            },
        )


@admin.register(CaseStudy)
class CaseStudyAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "customer_name", "industry", "products_shown", "is_public"]
    list_filter = ["is_public", "industry"]
    search_fields = ["title", "customer_name", "organization__legal_name"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    # A reference link without a scheme is a web page: https, as Django 6 will assume.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="Products")
    def products_shown(self, obj: CaseStudy) -> str:
        return ", ".join(obj.products) or "—"


@admin.register(Solution)
class SolutionAdmin(admin.ModelAdmin):
    list_display = [
        "solution_id",
        "name",
        "organization",
        "solution_area",
        "co_sell_ready",
        "azure_ip_co_sell_eligible",
    ]
    list_filter = ["solution_area", "co_sell_ready", "azure_ip_co_sell_eligible"]
    search_fields = ["=solution_id", "name", "organization__legal_name"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
