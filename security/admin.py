"""The vendor-side admin of security and compliance.

- Vendor data edited here: the Entra role catalogue and the compliance training courses.
- Security alerts are raised through `alert_raise` (the add form), so the partner's Action Center
  item comes with them; the partner answers them.
- GDAP relationships (with their roles, access assignments and history) and legacy DAP
  links are read-only: GDAP changes through the partner's pages and API, and nothing creates a DAP
  (no add here; `dap_legacy_import` is the only writer).
- Verification: checks move along spec/accounts.md §4.1 with the "Move check to…" action
  (`check_transition`); documents are decided with "Accept", "Reject" and "Ask for another
  document" (`document_review`), next to the assisted assessment's findings.
- Everything else the services write is listed read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models

from portal.admin_base import (
    DecidedByActionsAdmin,
    ReadOnlyInline,
    ServiceOwnedAdmin,
    action_with_form,
    history_table,
    html_table,
)
from security.choices import CheckStatus
from security.models import (
    CustomerAzureSubscription,
    CustomerMfaStat,
    DapRelationship,
    EntraRole,
    GdapAccessAssignment,
    GdapRelationship,
    ProgramEnrollment,
    SecurityAlert,
    SecurityScoreSnapshot,
    SecuritySettings,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)
from security.services.alerts import alert_raise
from security.services.compliance import (
    ACCEPTED,
    ACTION_REQUIRED,
    REJECTED,
    check_transition,
    document_review,
)


def _roles(obj) -> str:
    return ", ".join(role.display_name for role in obj.roles.all()) or "—"


# --- Vendor data ----------------------------------------------------------------------------------


@admin.register(EntraRole)
class EntraRoleAdmin(admin.ModelAdmin):
    list_display = ["display_name", "role_definition_id", "is_privileged", "in_default_template"]
    list_filter = ["is_privileged", "in_default_template"]
    search_fields = ["display_name", "=role_definition_id"]


@admin.register(TrainingCourse)
class TrainingCourseAdmin(admin.ModelAdmin):
    list_display = ["title", "code", "duration_minutes", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["title", "code"]
    prepopulated_fields = {"code": ["title"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


# --- Alerts ---------------------------------------------------------------------------------------


class AlertRaiseForm(forms.ModelForm):
    class Meta:
        model = SecurityAlert
        fields = ["organization", "alert_type", "title", "customer", "created_at"]
        help_texts = {"created_at": "When the alert was detected (default: now)."}

    def clean(self):
        cleaned = super().clean()
        organization, customer = cleaned.get("organization"), cleaned.get("customer")
        if organization and customer and customer.organization_id != organization.pk:
            self.add_error("customer", "This customer belongs to another organization.")
        return cleaned


@admin.register(SecurityAlert)
class SecurityAlertAdmin(admin.ModelAdmin):
    """Raised here through `alert_raise` (which also puts the item in the partner's Action Center);
    answered by the partner."""

    list_display = ["title", "organization", "alert_type", "customer", "status", "created_at", "responded_at"]
    list_filter = ["status", "alert_type"]
    search_fields = ["title", "organization__legal_name", "customer__name", "=alert_id"]
    list_select_related = ["organization", "customer"]
    raw_id_fields = ["organization", "customer"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    form = AlertRaiseForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(AlertRaiseForm._meta.fields)
        return [
            "alert_id",
            "organization",
            "alert_type",
            "title",
            "customer",
            "status",
            "created_at",
            "responded_at",
            "responded_by",
            "response_note",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: SecurityAlert, form, change) -> None:
        if change:
            return  # the change page is read-only
        raised = alert_raise(
            organization=obj.organization,
            alert_type=obj.alert_type,
            title=obj.title,
            customer=obj.customer,
            created_at=obj.created_at,
        )
        # The admin logs and redirects to the object it saved: point it at the raised alert.
        obj.pk, obj.alert_id = raised.pk, raised.alert_id
        obj._state.adding = False


# --- GDAP and DAP ---------------------------------------------------------------------------------


class GdapRoleInline(ReadOnlyInline):
    model = GdapRelationship.roles.through
    fields = ["entrarole"]
    readonly_fields = fields
    show_change_link = False
    verbose_name = "role"
    verbose_name_plural = "roles"


class GdapAssignmentInline(ReadOnlyInline):
    model = GdapAccessAssignment
    fields = [
        "security_group_name",
        "security_group_id",
        "roles_shown",
        "status",
        "created_at",
        "last_modified_at",
    ]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "access assignments"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description="Roles")
    def roles_shown(self, obj: GdapAccessAssignment) -> str:
        return _roles(obj)


@admin.register(GdapRelationship)
class GdapRelationshipAdmin(ServiceOwnedAdmin):
    list_display = [
        "display_name",
        "organization",
        "customer",
        "status",
        "duration",
        "auto_extend_duration",
        "activated_at",
        "end_at",
    ]
    list_filter = ["status", "is_default_template"]
    search_fields = ["display_name", "=relationship_id", "customer__name", "organization__legal_name"]
    list_select_related = ["organization", "customer"]
    date_hierarchy = "created_at"
    inlines = [GdapRoleInline, GdapAssignmentInline]
    fields = [
        "relationship_id",
        "display_name",
        "organization",
        "customer",
        "status",
        "duration",
        "auto_extend_duration",
        "is_default_template",
        "created_at",
        "created_by",
        "locked_for_approval_at",
        "activated_at",
        "last_modified_at",
        "end_at",
        "history",
    ]
    readonly_fields = fields

    @admin.display(description="History")
    def history(self, obj: GdapRelationship):
        return history_table(
            obj,
            ("From", "To", "Note", "Ends", "Auto-extend"),
            lambda e: (
                e.from_status or "—",
                e.to_status,
                e.note or "—",
                e.data.get("end_at") or "—",
                e.data.get("auto_extend_duration", "—"),
            ),
            table_id="gdap-history",
        )


@admin.register(GdapAccessAssignment)
class GdapAccessAssignmentAdmin(ServiceOwnedAdmin):
    list_display = ["security_group_name", "relationship", "organization", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["security_group_name", "=assignment_id", "relationship__display_name"]
    list_select_related = ["relationship", "organization"]


@admin.register(DapRelationship)
class DapRelationshipAdmin(ServiceOwnedAdmin):
    """Legacy DAP links, read-only. No DAP is ever created here (spec §3)."""

    list_display = ["customer", "organization", "established_at", "last_activity_at", "removed_at"]
    list_filter = [("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__name", "organization__legal_name"]
    list_select_related = ["customer", "organization"]

    def has_add_permission(self, request, obj=None) -> bool:
        # Partner Center stopped creating DAP relationships; neither does the portal.
        return False


# --- Verification ---------------------------------------------------------------------------------


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="Move to", choices=CheckStatus.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What the partner reads: why, and the evidence that helps (needed for action "
        "required and rejected).",
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required unless accepting: tell the partner why, and what would pass.",
    )


class CheckDocumentInline(ReadOnlyInline):
    model = VerificationDocument
    fk_name = "check_ref"
    fields = ["original_name", "doc_type", "assist_score", "assist_band", "reviewer_decision", "uploaded_at"]
    readonly_fields = fields
    verbose_name_plural = "documents"


class EnrollmentCheckInline(ReadOnlyInline):
    model = VerificationCheck
    fields = ["kind", "status", "reason", "appeals_used", "updated_at"]
    readonly_fields = fields
    verbose_name_plural = "checks"


@admin.register(ProgramEnrollment)
class ProgramEnrollmentAdmin(ServiceOwnedAdmin):
    list_display = ["program", "organization", "enrolled_at"]
    list_filter = ["program"]
    search_fields = ["organization__legal_name"]
    list_select_related = ["organization"]
    inlines = [EnrollmentCheckInline]


@admin.action(description="Move check to…", permissions=["change"])
def transition_checks(modeladmin, request, queryset):
    return action_with_form(
        modeladmin,
        request,
        queryset,
        form_class=TransitionForm,
        title="Move verification checks",
        action="transition_checks",
        apply=lambda check, data: check_transition(
            actor=request.user, check=check, to_status=data["to_status"], reason=data["reason"]
        ),
    )


@admin.register(VerificationCheck)
class VerificationCheckAdmin(DecidedByActionsAdmin):
    list_display = ["__str__", "organization", "program", "kind", "status", "appeals_used", "updated_at"]
    list_filter = ["status", "kind", "enrollment__program"]
    search_fields = ["organization__legal_name", "reason"]
    list_select_related = ["organization", "enrollment"]
    show_full_result_count = False
    inlines = [CheckDocumentInline]
    actions = [transition_checks]
    fields = [
        "organization",
        "enrollment",
        "kind",
        "status",
        "reason",
        "appeals_used",
        "updated_at",
        "history",
    ]
    readonly_fields = fields

    @admin.display(description="Program", ordering="enrollment__program")
    def program(self, obj: VerificationCheck) -> str:
        return obj.enrollment.get_program_display()

    @admin.display(description="History")
    def history(self, obj: VerificationCheck):
        return history_table(
            obj,
            ("From", "To", "Reason", "Appeals"),
            lambda e: (e.from_status or "—", e.to_status, e.note, e.data.get("appeals_used", 0)),
            table_id="check-history",
        )


def _review_action(decision: str, description: str):
    def apply(modeladmin, request, queryset):
        return action_with_form(
            modeladmin,
            request,
            queryset,
            form_class=ReviewForm,
            title=description,
            action=f"review_{decision}",
            apply=lambda document, data: document_review(
                actor=request.user, document=document, decision=decision, note=data["note"]
            ),
        )

    apply.__name__ = f"review_{decision}"
    return admin.action(description=f"{description}…", permissions=["change"])(apply)


@admin.register(VerificationDocument)
class VerificationDocumentAdmin(DecidedByActionsAdmin):
    list_display = [
        "original_name",
        "organization",
        "check_ref",
        "doc_type",
        "assist_score",
        "assist_band",
        "reviewer_decision",
        "uploaded_at",
    ]
    list_filter = ["reviewer_decision", "assist_band", "doc_type", "check_ref__kind"]
    search_fields = ["original_name", "organization__legal_name", "=document_id", "=sha256"]
    list_select_related = ["organization", "check_ref"]
    date_hierarchy = "uploaded_at"
    show_full_result_count = False
    actions = [
        _review_action(ACCEPTED, "Accept"),
        _review_action(REJECTED, "Reject"),
        _review_action(ACTION_REQUIRED, "Ask for another document"),
    ]
    fields = [
        "document_id",
        "organization",
        "check_ref",
        "doc_type",
        "detected_doc_type",
        "file",
        "original_name",
        "file_type",
        "size",
        "sha256",
        "page_count",
        "uploaded_by",
        "uploaded_at",
        "assist_score",
        "assist_band",
        "findings",
        "reviewer_decision",
        "reviewer",
        "reviewed_at",
        "reviewer_note",
    ]
    readonly_fields = fields

    @admin.display(description="Assessment findings")
    def findings(self, obj: VerificationDocument):
        rows = obj.assist_findings or []
        if not rows:
            return "No findings."
        return html_table(
            ("Code", "Severity", "Points", "Detail", "Fix"),
            (
                (
                    f.get("code", ""),
                    f.get("severity", ""),
                    f.get("points", ""),
                    f.get("detail", ""),
                    f.get("fix", ""),
                )
                for f in rows
            ),
            table_id="document-findings",
        )


# --- Training and the rest the services write -----------------------------------------------------


@admin.register(TrainingAssignment)
class TrainingAssignmentAdmin(ServiceOwnedAdmin):
    list_display = ["course", "user", "organization", "due_on", "status_shown", "completed_at", "canceled_at"]
    list_filter = ["course", ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "course__title", "organization__legal_name"]
    list_select_related = ["course", "user", "organization"]

    @admin.display(description="Status")
    def status_shown(self, obj: TrainingAssignment) -> str:
        return str(obj.status)


@admin.register(SecuritySettings)
class SecuritySettingsAdmin(ServiceOwnedAdmin):
    list_display = [
        "organization",
        "security_contact_email",
        "security_defaults_enabled",
        "conditional_access_requires_mfa",
        "updated_at",
    ]
    search_fields = ["organization__legal_name", "security_contact_email"]
    list_select_related = ["organization"]


@admin.register(CustomerMfaStat)
class CustomerMfaStatAdmin(ServiceOwnedAdmin):
    list_display = [
        "customer",
        "organization",
        "admins_with_mfa",
        "admins_total",
        "users_total",
        "checked_at",
    ]
    search_fields = ["customer__name", "organization__legal_name"]
    list_select_related = ["customer", "organization"]


@admin.register(CustomerAzureSubscription)
class CustomerAzureSubscriptionAdmin(ServiceOwnedAdmin):
    list_display = ["display_name", "customer", "organization", "budget_amount", "budget_currency"]
    search_fields = ["display_name", "customer__name", "=subscription_id"]
    list_select_related = ["customer", "organization"]


@admin.register(SecurityScoreSnapshot)
class SecurityScoreSnapshotAdmin(ServiceOwnedAdmin):
    list_display = ["organization", "taken_on", "score", "earned", "possible", "authorization_ok"]
    list_filter = ["authorization_ok"]
    search_fields = ["organization__legal_name"]
    list_select_related = ["organization"]
    date_hierarchy = "taken_on"
