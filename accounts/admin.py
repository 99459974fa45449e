"""The vendor-side admin for organizations, users and roles; actions call the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
    ActionItem,
    ApiClient,
    Customer,
    Invitation,
    Organization,
    PartnerLocation,
    RoleAssignment,
    User,
)
from accounts.services import api_clients, mfa, people
from portal.admin_base import action_with_form
from portal.models import AuditEvent
from portal.roles import Role


class RolesActionForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class InviteActionForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(max_length=150, required=False)
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)


class PartnerLocationInline(admin.TabularInline):
    model = PartnerLocation
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["legal_name", "partner_global_id", "country", "types", "created_at"]
    list_filter = ["country"]
    search_fields = ["legal_name", "partner_global_id"]
    inlines = [PartnerLocationInline]
    actions = ["invite_user"]

    @admin.display(description="Partner types")
    def types(self, obj: Organization) -> str:
        return ", ".join(obj.partner_types)

    @admin.action(description="Invite a user to the selected organizations…")
    def invite_user(self, request, queryset):
        return action_with_form(
            self,
            request,
            queryset,
            form_class=InviteActionForm,
            title="Invite a user",
            action="invite_user",
            apply=lambda organization, data: people.user_invite(
                actor=request.user, organization=organization, **data
            ),
        )


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    readonly_fields = ["role", "location", "assigned_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Roles change only through the "Set roles" action, so every change is audited.
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "organization",
        "role_list",
        "is_active",
        "is_staff",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_service_account", "role_assignments__role"]
    list_select_related = ["organization"]
    search_fields = ["email", "display_name", "organization__legal_name"]
    raw_id_fields = ["organization"]
    readonly_fields = ["last_login", "date_joined", "is_service_account"]
    inlines = [RoleAssignmentInline]
    actions = ["set_roles", "transfer_ownership", "reset_mfa"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "organization", "is_service_account")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "organization", "password1", "password2")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments")

    @admin.display(description="Roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(sorted(Role(a.role).label for a in obj.role_assignments.all()))

    @admin.action(description="Set roles of the selected users…")
    def set_roles(self, request, queryset):
        return action_with_form(
            self,
            request,
            queryset,
            form_class=RolesActionForm,
            title="Set roles",
            action="set_roles",
            apply=lambda user, data: people.user_roles_change(
                actor=request.user, user=user, roles=data["roles"]
            ),
        )

    @admin.action(description="Transfer ownership of the organization to the selected user")
    def transfer_ownership(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one user to become the Owner.", messages.ERROR)
            return
        user = queryset.get()
        try:
            people.ownership_transfer(actor=request.user, new_owner=user)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
        else:
            self.message_user(request, f"{user} is now the Owner of {user.organization}.", messages.SUCCESS)

    @admin.action(description="Reset MFA of the selected users (they enrol again at next sign-in)")
    def reset_mfa(self, request, queryset):
        for user in queryset:
            mfa.mfa_reset(actor=request.user, user=user)
        self.message_user(request, f"MFA reset for {len(queryset)} user(s).", messages.SUCCESS)


# A person's authenticator secret and backup codes are never shown, not even to vendor staff
# (django-otp's own admin displays both); staff reset a lost factor with the action above.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "organization", "country", "segment", "created_at"]
    list_filter = ["segment", "country"]
    list_select_related = ["organization"]
    search_fields = ["name", "domain", "tenant_id"]
    raw_id_fields = ["organization", "location"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "roles", "created_at", "expires_at", "accepted_at"]
    list_select_related = ["organization"]
    search_fields = ["email"]
    readonly_fields = ["token", "invited_by", "accepted_user", "accepted_at"]
    raw_id_fields = ["organization"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "code", "severity", "status", "due_at", "created_at"]
    list_filter = ["status", "severity", "code"]
    list_select_related = ["organization"]
    search_fields = ["title", "dedupe_key", "organization__legal_name"]
    raw_id_fields = ["organization", "location", "resolved_by"]
    readonly_fields = ["status", "resolved_at", "resolved_by", "dedupe_key"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "target", "organization", "ip_address"]
    list_filter = ["action"]
    list_select_related = ["organization"]
    search_fields = ["actor_label", "action", "target_label", "request_id"]
    date_hierarchy = "at"

    @admin.display(description="Target")
    def target(self, obj: AuditEvent):
        return format_html("{} <small>{}#{}</small>", obj.target_label, obj.target_type, obj.target_id)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "scopes", "created_at", "revoked_at"]
    list_select_related = ["organization"]
    readonly_fields = ["application", "service_user", "scopes", "created_by", "created_at", "revoked_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected API clients")
    def revoke(self, request, queryset):
        for client in queryset.filter(revoked_at__isnull=True):
            api_clients.api_client_revoke(actor=request.user, client=client)
