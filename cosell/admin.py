"""The vendor-side admin of co-sell: referrals with their history, routing rules, capability
profiles, case studies, solutions, and "Find partners" — a seller's customer need ranked by
`match_partners`, every score explained factor by factor.

Every write goes through cosell.services, as the pages' and the API's do. On a referral vendor staff
change only the vendor's own fields (Microsoft status, assignment, lead temperature):
`referral_vendor_update` records the edit like any other write (source "admin"), so it shows in the
referral's history. Rules, profiles, case studies and solutions are written (and audited) by their
services too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from cosell.choices import CustomerSize
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from cosell.selectors.activity import referral_history
from cosell.selectors.matching import CustomerNeed, match_partners
from cosell.services import profile as profile_services
from cosell.services import routing as rule_services
from cosell.services.referrals import VENDOR_EDITABLE, referral_vendor_update
from earnings.choices import SolutionArea
from portal.admin_base import html_table


class ServiceWritesAdmin(admin.ModelAdmin):
    """An admin whose saves and deletes call the model's services instead of writing the row.

    Subclasses define `service_save(request, obj, values, change)`, which returns the row as the
    service saved it, and `service_delete(request, obj)`. The organization is chosen when a row is
    added and stays the same afterwards.
    """

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "organization"] if obj is not None else fields

    def save_model(self, request, obj, form, change) -> None:
        names = form.changed_data if change else list(form.cleaned_data)
        values = {name: form.cleaned_data[name] for name in names if name != "organization"}
        saved = self.service_save(request, obj, values, change)
        # The admin goes on with `obj` (its log entry, the redirect): it becomes the saved row.
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.service_delete(request, obj)


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
        """The vendor fields through `referral_vendor_update`: recorded (source "admin"), a new eTag."""
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        saved = referral_vendor_update(referral=obj, actor=request.user, values=values)
        obj.version = saved.version

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
class RoutingRuleAdmin(ServiceWritesAdmin):
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
    readonly_fields = ["created_at"]
    ordering = ["organization", "is_default", "priority", "id"]

    def service_save(self, request, obj: RoutingRule, values: dict[str, Any], change: bool) -> RoutingRule:
        if change:
            return rule_services.routing_rule_update(rule=obj, actor=request.user, values=values)
        return rule_services.routing_rule_create(
            organization=obj.organization, actor=request.user, values=values
        )

    def service_delete(self, request, obj: RoutingRule) -> None:
        rule_services.routing_rule_delete(rule=obj, actor=request.user)

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
class CapabilityProfileAdmin(ServiceWritesAdmin):
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
    readonly_fields = ["updated_at"]

    def service_save(self, request, obj: CapabilityProfile, values: dict[str, Any], change: bool):
        return profile_services.capability_profile_save(
            organization=obj.organization, actor=request.user, values=values
        )

    def service_delete(self, request, obj: CapabilityProfile) -> None:
        profile_services.capability_profile_delete(profile=obj, actor=request.user)

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
class CaseStudyAdmin(ServiceWritesAdmin):
    list_display = ["title", "organization", "customer_name", "industry", "products_shown", "is_public"]
    list_filter = ["is_public", "industry"]
    search_fields = ["title", "customer_name", "organization__legal_name"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    # A reference link without a scheme is a web page: https, as Django 6 will assume.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def service_save(self, request, obj: CaseStudy, values: dict[str, Any], change: bool) -> CaseStudy:
        return profile_services.case_study_save(
            organization=obj.organization,
            actor=request.user,
            case_study=obj if change else None,
            values=values,
        )

    def service_delete(self, request, obj: CaseStudy) -> None:
        profile_services.case_study_delete(case_study=obj, actor=request.user)

    @admin.display(description="Products")
    def products_shown(self, obj: CaseStudy) -> str:
        return ", ".join(obj.products) or "—"


@admin.register(Solution)
class SolutionAdmin(ServiceWritesAdmin):
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

    def service_save(self, request, obj: Solution, values: dict[str, Any], change: bool) -> Solution:
        return profile_services.solution_save(
            organization=obj.organization, actor=request.user, solution=obj if change else None, values=values
        )

    def service_delete(self, request, obj: Solution) -> None:
        profile_services.solution_delete(solution=obj, actor=request.user)
