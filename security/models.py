"""Security posture, delegated administration and compliance (spec/security.md, spec/accounts.md §4).

The requirement rows and the MFA state of the partner's own users are computed from live data
(`security.services.requirements`, `security.services.mfa`); what is stored here is what the
portal cannot derive: settings, customer-tenant data the partner imports, delegated access,
alerts, verification and training.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from portal.capabilities import Capability
from portal.money import AmountField, CurrencyField
from portal.tenancy import TenantModel, VendorDataManager
from security.choices import (
    DAP_CREATION_ENDED,
    GDAP_AUTO_EXTEND_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_MAX_DURATION,
    GDAP_MIN_DURATION,
    AccessAssignmentStatus,
    AlertStatus,
    AlertType,
    CheckKind,
    CheckStatus,
    DocumentType,
    GdapStatus,
    Likelihood,
    Program,
    ReviewerDecision,
    TrainingStatus,
)


def _graph_id() -> str:
    return str(uuid.uuid4())


class SecuritySettings(TenantModel):
    """The partner tenant's security contact and MFA policies (one row per organization)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="security_settings"
    )
    security_contact_name = models.CharField(max_length=150, blank=True)
    security_contact_email = models.EmailField(blank=True)
    security_contact_phone = models.CharField(max_length=40, blank=True)
    security_defaults_enabled = models.BooleanField(
        default=False, help_text="Entra security defaults are on in the partner tenant."
    )
    conditional_access_requires_mfa = models.BooleanField(
        default=False, help_text="A conditional access policy requires MFA for every user."
    )
    conditional_access_policy_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "security settings"

    def __str__(self) -> str:
        return f"Security settings of {self.organization_id}"

    @property
    def has_security_contact(self) -> bool:
        return bool(self.security_contact_email)


class UserMfaPolicy(TenantModel):
    """Per-user MFA settings that are not policies of the whole tenant."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_policy")
    per_user_mfa_enabled = models.BooleanField(default=False)
    third_party_mfa = models.BooleanField(default=False, help_text="MFA done by a third-party provider.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "user MFA policies"

    def __str__(self) -> str:
        return f"MFA policy of {self.user_id}"


class SecurityAlert(TenantModel):
    """A security or fraud alert the partner must answer (average response ≤ 24 h is mandatory)."""

    alert_id = models.UUIDField(default=uuid.uuid4, unique=True)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="security_alerts"
    )
    alert_type = models.CharField(max_length=30, choices=AlertType.choices)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    response_note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.ACTIVE)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(responded_at__isnull=True) | Q(responded_at__gte=F("created_at")),
                name="alert_responded_after_created",
            ),
            models.CheckConstraint(
                condition=Q(status=AlertStatus.ACTIVE) | Q(responded_at__isnull=False),
                name="alert_closed_only_when_responded",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CustomerMfaStat(TenantModel):
    """MFA adoption in one customer tenant, imported or posted by the partner (spec §2.2)."""

    customer = models.OneToOneField("accounts.Customer", on_delete=models.CASCADE, related_name="mfa_stat")
    admins_with_mfa = models.PositiveIntegerField()
    admins_total = models.PositiveIntegerField()
    non_admins_with_mfa = models.PositiveIntegerField()
    users_total = models.PositiveIntegerField()
    security_defaults_on = models.BooleanField(default=False)
    ca_policies_count = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer__name"]
        # The customers' MFA page lists the latest figures first (keyset pages).
        indexes = [models.Index(fields=["organization", "-checked_at", "-id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(admins_with_mfa__lte=F("admins_total")), name="mfa_stat_admins_with_mfa_le_total"
            ),
            models.CheckConstraint(
                condition=Q(admins_total__lte=F("users_total")), name="mfa_stat_admins_le_users"
            ),
            models.CheckConstraint(
                condition=Q(non_admins_with_mfa__lte=F("users_total") - F("admins_total")),
                name="mfa_stat_non_admins_with_mfa_le_non_admins",
            ),
        ]

    def __str__(self) -> str:
        return f"MFA of {self.customer_id}"

    @property
    def is_compliant(self) -> bool:
        return self.admins_with_mfa == self.admins_total

    @property
    def admin_mfa_pct(self) -> float | None:
        return round(100 * self.admins_with_mfa / self.admins_total, 1) if self.admins_total else None


class CustomerAzureSubscription(TenantModel):
    """A customer's Azure subscription and its spending budget, as the partner last saw it."""

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="azure_subscriptions"
    )
    subscription_id = models.UUIDField()
    display_name = models.CharField(max_length=200)
    budget_amount = AmountField(null=True, blank=True)
    budget_currency = CurrencyField(blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer__name", "display_name"]
        # The budgets page lists the latest checked subscriptions first (keyset pages).
        indexes = [models.Index(fields=["organization", "-checked_at", "-id"])]
        constraints = [
            models.UniqueConstraint(fields=["customer", "subscription_id"], name="unique_azure_subscription"),
            models.CheckConstraint(
                condition=Q(budget_amount__isnull=True) | (Q(budget_amount__gt=0) & ~Q(budget_currency="")),
                name="azure_budget_positive_with_currency",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def has_budget(self) -> bool:
        return self.budget_amount is not None


class EntraRole(models.Model):
    """An Entra built-in role template (vendor data, spec §3.3)."""

    role_definition_id = models.UUIDField(primary_key=True)
    display_name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_privileged = models.BooleanField(default=False)
    in_default_template = models.BooleanField(
        default=False, help_text="Granted by the default GDAP relationship of a new customer."
    )

    objects = VendorDataManager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class DapRelationship(TenantModel):
    """A legacy DAP link found in a customer tenant. The portal never creates one (spec §3):
    rows only mirror links established before Partner Center stopped creating them, so they can be
    reported and removed."""

    customer = models.OneToOneField(
        "accounts.Customer", on_delete=models.CASCADE, related_name="dap_relationship"
    )
    established_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["customer__name"]
        verbose_name = "DAP relationship"
        # The DAP page lists the latest established links first (keyset pages).
        indexes = [models.Index(fields=["organization", "-established_at", "-id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(established_at__lt=DAP_CREATION_ENDED),
                name="dap_only_legacy",
                violation_error_message="DAP relationships can no longer be created; use GDAP.",
            ),
        ]

    def __str__(self) -> str:
        return f"DAP with {self.customer_id}"


class GdapRelationship(TenantModel):
    """Graph `delegatedAdminRelationship` (spec §3.1) with one customer."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.SECURITY_VIEW, Capability.GDAP_MANAGE)

    relationship_id = models.CharField(max_length=80, unique=True, default=_graph_id)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="gdap_relationships"
    )
    display_name = models.CharField(max_length=50)
    duration = models.DurationField()
    auto_extend_duration = models.DurationField(default=GDAP_AUTO_EXTEND_NONE)
    status = models.CharField(max_length=24, choices=GdapStatus.choices, default=GdapStatus.CREATED)
    roles = models.ManyToManyField(EntraRole, related_name="+")
    is_default_template = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    locked_for_approval_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    last_modified_at = models.DateTimeField(default=timezone.now)
    end_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "GDAP relationship"
        indexes = [
            # With the id, counts by status (and joins on the id) read the index alone.
            models.Index(fields=["organization", "status"], include=["id"], name="gdap_organization_status"),
            models.Index(fields=["status", "end_at"]),
            # The GDAP page lists the newest relationships first (keyset pages).
            models.Index(fields=["organization", "-created_at", "-id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "display_name"], name="unique_gdap_display_name_per_partner"
            ),
            models.CheckConstraint(
                condition=Q(duration__gte=GDAP_MIN_DURATION) & Q(duration__lte=GDAP_MAX_DURATION),
                name="gdap_duration_p1d_to_p2y",
            ),
            models.CheckConstraint(
                condition=Q(auto_extend_duration__in=[GDAP_AUTO_EXTEND_NONE, GDAP_AUTO_EXTEND_DAYS]),
                name="gdap_auto_extend_pt0s_or_p180d",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[GdapStatus.ACTIVE, GdapStatus.EXPIRING])
                | (Q(activated_at__isnull=False) & Q(end_at__isnull=False)),
                name="gdap_live_has_dates",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def auto_extends(self) -> bool:
        return self.auto_extend_duration > timedelta(0)


class GdapAccessAssignment(TenantModel):
    """Graph `delegatedAdminAccessAssignment` (spec §3.2): relationship roles given to a security group."""

    assignment_id = models.CharField(max_length=80, unique=True, default=_graph_id)
    relationship = models.ForeignKey(
        GdapRelationship, on_delete=models.CASCADE, related_name="access_assignments"
    )
    security_group_id = models.UUIDField()
    security_group_name = models.CharField(max_length=120)
    roles = models.ManyToManyField(EntraRole, related_name="+")
    status = models.CharField(
        max_length=10, choices=AccessAssignmentStatus.choices, default=AccessAssignmentStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["security_group_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "security_group_id"],
                condition=~Q(status=AccessAssignmentStatus.DELETED),
                name="one_live_assignment_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.security_group_name} in {self.relationship_id}"


class SecurityScoreSnapshot(TenantModel):
    """The score of one day, kept for the history chart (spec §1.3)."""

    taken_on = models.DateField()
    score = models.PositiveSmallIntegerField()
    earned = models.PositiveSmallIntegerField()
    possible = models.PositiveSmallIntegerField()
    authorization_ok = models.BooleanField()
    requirements = models.JSONField(default=list, help_text="The requirement rows as evaluated that day.")
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-taken_on"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "taken_on"], name="one_snapshot_per_day"),
            models.CheckConstraint(condition=Q(score__lte=100), name="snapshot_score_le_100"),
            models.CheckConstraint(
                condition=Q(earned__lte=F("possible")), name="snapshot_earned_le_possible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.taken_on}: {self.score}"


class ProgramEnrollment(TenantModel):
    """A program the partner is enrolled in; each is verified separately (spec/accounts.md §1, §4)."""

    program = models.CharField(max_length=30, choices=Program.choices)
    enrolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["program"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "program"], name="one_enrollment_per_program"),
        ]

    def __str__(self) -> str:
        return self.get_program_display()


class VerificationCheck(TenantModel):
    """One check of one program's verification (spec/accounts.md §4.1)."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.ACCOUNT_VIEW, Capability.COMPLIANCE_MANAGE)

    enrollment = models.ForeignKey(ProgramEnrollment, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(max_length=12, choices=CheckKind.choices)
    status = models.CharField(max_length=20, choices=CheckStatus.choices, default=CheckStatus.NOT_STARTED)
    reason = models.TextField(blank=True, help_text="Why action is required, and the evidence that helps.")
    appeals_used = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["enrollment", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "kind"], name="one_check_per_kind"),
            models.CheckConstraint(condition=Q(appeals_used__lte=3), name="at_most_three_appeals"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class VerificationDocument(TenantModel):
    """A document uploaded for a check, with the assisted verification's advisory assessment."""

    document_id = models.UUIDField(default=uuid.uuid4, unique=True)
    check_ref = models.ForeignKey(
        VerificationCheck, on_delete=models.CASCADE, related_name="documents", db_column="check_id"
    )
    doc_type = models.CharField(max_length=30, choices=DocumentType.choices, help_text="As declared.")
    file = models.FileField(upload_to="verification/%Y/%m/")
    original_name = models.CharField(max_length=255)
    file_type = models.CharField(max_length=10, help_text="Sniffed from the content: pdf, png or jpeg.")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    detected_doc_type = models.CharField(max_length=30, choices=DocumentType.choices, blank=True)
    page_count = models.PositiveSmallIntegerField(default=0)
    extracted_text = models.TextField(blank=True)
    assist_score = models.SmallIntegerField()
    assist_band = models.CharField(max_length=14, choices=Likelihood.choices)
    assist_findings = models.JSONField(default=list)
    reviewer_decision = models.CharField(
        max_length=10, choices=ReviewerDecision.choices, default=ReviewerDecision.PENDING
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewer_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["organization", "-uploaded_at"])]

    def __str__(self) -> str:
        return self.original_name


class TrainingCourse(models.Model):
    """A compliance training course of the vendor (vendor data)."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField()
    duration_minutes = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)

    objects = VendorDataManager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class TrainingAssignment(TenantModel):
    """A course assigned to one person of the partner, with its due date (spec/accounts.md §3.2)."""

    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trainings")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        # The training page lists the soonest due first.
        indexes = [models.Index(fields=["organization", "due_on", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "user"],
                condition=Q(completed_at__isnull=True, canceled_at__isnull=True),
                name="one_open_assignment_per_course_and_user",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(canceled_at__isnull=True),
                name="training_completed_or_canceled_not_both",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} for {self.user_id}"

    @property
    def status(self) -> str:
        if self.canceled_at:
            return TrainingStatus.CANCELED
        if self.completed_at:
            return TrainingStatus.COMPLETED
        if self.due_on < timezone.localdate():
            return TrainingStatus.OVERDUE
        return TrainingStatus.ASSIGNED
