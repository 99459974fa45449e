"""The vendor-side admin for organizations, users and roles; actions call the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import PartnerType
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
from portal.views import form_errors


class RolesActionForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class InviteActionForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(max_length=150, required=False)
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)


class OwnerInviteForm(forms.Form):
    email = forms.EmailField(label="Owner's email")
    display_name = forms.CharField(max_length=150, required=False, label="Owner's name")
    global_admin = forms.BooleanField(
        required=False,
        initial=True,
        label="Also Global admin",
        help_text="As in Partner Center, the first account of a partner is usually its Global admin too.",
    )


class OrganizationAdminForm(forms.ModelForm):
    partner_types = forms.MultipleChoiceField(
        choices=PartnerType.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = [
            "legal_name",
            "doing_business_as",
            "partner_global_id",
            "country",
            "partner_types",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "website",
            "company_registration_number",
            "tax_id",
            "company_size",
            "primary_contact_first_name",
            "primary_contact_last_name",
            "primary_contact_email",
            "primary_contact_phone",
        ]
        help_texts = {
            "partner_global_id": "The partner global account's PartnerID: seven digits.",
            "country": "Where the organization is registered: ISO 3166-1 alpha-2, e.g. DE.",
        }

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()


class PartnerLocationInline(admin.TabularInline):
    model = PartnerLocation
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["legal_name", "partner_global_id", "country", "types", "created_at"]
    list_filter = ["country"]
    search_fields = ["legal_name", "partner_global_id"]
    inlines = [PartnerLocationInline]
    actions = ["invite_user"]
    readonly_fields = ["owner"]
    fieldsets = (
        (
            None,
            {"fields": ("legal_name", "doing_business_as", "partner_global_id", "country", "partner_types")},
        ),
        ("Owner", {"fields": ("owner",)}),
        (
            "Address and contact",
            {
                "classes": ("collapse",),
                "fields": (
                    ("address_line1", "address_line2"),
                    ("city", "state", "postal_code"),
                    ("phone", "website"),
                    ("company_registration_number", "tax_id", "company_size"),
                    ("primary_contact_first_name", "primary_contact_last_name"),
                    ("primary_contact_email", "primary_contact_phone"),
                ),
            },
        ),
    )

    @admin.display(description="Partner types")
    def types(self, obj: Organization) -> str:
        return ", ".join(obj.partner_types)

    @admin.display(description="Owner")
    def owner(self, obj: Organization | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the organization, then invite its Owner."
        owner = (
            RoleAssignment.objects.filter(organization=obj, role=Role.OWNER).select_related("user").first()
        )
        if owner is not None:
            return str(owner.user.email)
        invitation = self._open_owner_invitation(obj)
        if invitation is None:
            return "None yet: use “Invite owner” above."
        if invitation.expires_at < timezone.now():
            expired = f"{invitation.expires_at:%Y-%m-%d}"
            return f"The invitation to {invitation.email} expired on {expired}: delete it, then invite again."
        return f"Invited: {invitation.email} (until {invitation.expires_at:%Y-%m-%d})"

    @staticmethod
    def _open_owner_invitation(organization: Organization) -> Invitation | None:
        return (
            Invitation.objects.filter(
                organization=organization, roles__contains=[Role.OWNER], accepted_at__isnull=True
            )
            .order_by("-created_at")
            .first()
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new organization goes through the service: audited, with its Action Center prompt. The
        # inlines below were bound to `obj`, so it takes over the saved row.
        fields = {name: getattr(obj, name) for name in form.cleaned_data if name in form.fields}
        created = people.organization_create(actor=request.user, **fields)
        vars(obj).update(vars(created))

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if {"_continue", "_addanother", "_saveasnew", IS_POPUP_VAR} & set(request.POST):
            return response
        if not self.has_invite_owner_permission(request, obj):
            return response
        return HttpResponseRedirect(reverse("admin:accounts_organization_invite_owner", args=[obj.pk]))

    def has_invite_owner_permission(self, request, obj: Organization | None) -> bool:
        return self.has_change_permission(request, obj) and request.user.has_perm("accounts.add_invitation")

    def get_urls(self):
        invite = path(
            "<path:object_id>/invite-owner/",
            self.admin_site.admin_view(self.invite_owner_view),
            name="accounts_organization_invite_owner",
        )
        return [invite, *super().get_urls()]

    def invite_owner_view(self, request, object_id: str):
        """Invite the organization's Owner (people.owner_invite) and show the invitation's link: the
        e-mail goes out as well, but the vendor can hand the link over themselves."""
        organization = self.get_object(request, unquote(object_id))
        if organization is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_invite_owner_permission(request, organization):
            raise PermissionDenied
        form = OwnerInviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                invitation = people.owner_invite(
                    actor=request.user, organization=organization, **form.cleaned_data
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                self.message_user(
                    request,
                    f"{invitation.email} is invited to become the Owner of {organization}. Send them "
                    f"this link (valid until {invitation.expires_at:%Y-%m-%d}): "
                    f"{self._invitation_link(request, invitation)}",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
        invitations = Invitation.objects.filter(organization=organization, accepted_at__isnull=True)
        return TemplateResponse(
            request,
            "admin/accounts/organization/invite_owner.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Invite the Owner of {organization.legal_name}",
                "opts": self.opts,
                "original": organization,
                "form": form,
                "owner": self.owner(organization),
                "open_invitations": [
                    {
                        "invitation": invitation,
                        "roles": ", ".join(Role(role).label for role in invitation.roles),
                        "link": self._invitation_link(request, invitation),
                    }
                    for invitation in invitations
                ],
            },
        )

    @staticmethod
    def _invitation_link(request, invitation: Invitation) -> str:
        return request.build_absolute_uri(reverse("accounts:invitation-accept", args=[invitation.token]))

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
