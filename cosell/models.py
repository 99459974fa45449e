"""Co-sell: referrals and deals in Partner Center's Referrals API shape, routing, capability profile.

A referral keeps the API's nested objects (customer profile, details, consent, team, targets,
invite context) as JSON in their documented shape, and copies what filters, routing and insights
read into plain columns. Its history (the activity feed) is written by the services that change
it, into the one history of portal.history (cosell.services.activity).
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cosell.choices import (
    CustomerSize,
    DealKind,
    LeadTemperature,
    LossReason,
    MarketplaceIntent,
    MicrosoftStatus,
    ReferralQualification,
    ReferralStatus,
    ReferralSubstatus,
    ReferralType,
)
from portal.capabilities import Capability
from portal.money import AmountField, CurrencyField
from portal.tenancy import TenantManager, TenantModel, TenantQuerySet

#: The fields whose changes the activity feed shows (everything a person or the vendor can change).
TRACKED_FIELDS = (
    "name",
    "external_reference_id",
    "status",
    "substatus",
    "status_reason",
    "loss_reason",
    "type",
    "qualification",
    "deal_kind",
    "is_draft",
    "microsoft_status",
    "lead_temperature",
    "customer_name",
    "customer_country",
    "customer_size",
    "customer_profile",
    "consent",
    "notes",
    "deal_value",
    "currency",
    "closing_at",
    "requirements",
    "team",
    "target",
    "invite_context",
    "customer_marketplace_intent",
    "expiration_at",
    "accepted_at",
    "routing_rule",
    "assigned_team",
    "assigned_user",
    "partner_role",
    "solution_area",
    "solution_play",
)


#: The vendor's id in targets and invitations (`{"type": "BusinessProfileLocation", "id": "msft"}`).
VENDOR_ID = "msft"


class ReferralQuerySet(TenantQuerySet):
    def partner_side(self) -> ReferralQuerySet:
        """Without the connected vendor-side copies of co-sell deals (the vendor's record of the same
        deal, kept in the partner's engagement): counting them would count every co-sell deal twice."""
        return self.exclude(target__contains=[{"id": VENDOR_ID}])


class Referral(TenantModel):
    """One party's record of a lead or co-sell deal (spec §2). `organization` owns it."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.REFERRALS_MANAGE_OWN, Capability.REFERRALS_MANAGE_ALL)

    referral_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="id")
    engagement_id = models.UUIDField(default=uuid.uuid4, db_index=True, verbose_name="engagementId")
    name = models.CharField(max_length=200)
    external_reference_id = models.CharField(max_length=100, blank=True, verbose_name="externalReferenceId")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="createdDateTime")
    updated_at = models.DateTimeField(default=timezone.now, verbose_name="updatedDateTime")
    expiration_at = models.DateTimeField(null=True, blank=True, verbose_name="expirationDateTime")
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name="acceptedDateTime")
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    substatus = models.CharField(
        max_length=10, choices=ReferralSubstatus.choices, default=ReferralSubstatus.PENDING
    )
    status_reason = models.CharField(max_length=500, blank=True, verbose_name="statusReason")
    loss_reason = models.CharField(max_length=2, choices=LossReason.choices, blank=True)
    type = models.CharField(max_length=12, choices=ReferralType.choices)
    qualification = models.CharField(
        max_length=20, choices=ReferralQualification.choices, default=ReferralQualification.NONE
    )
    referral_source = models.CharField(max_length=40, blank=True, verbose_name="referralSource")
    call_to_action = models.CharField(max_length=40, blank=True, verbose_name="callToAction")
    customer_marketplace_intent = models.CharField(
        max_length=20, choices=MarketplaceIntent.choices, blank=True, verbose_name="customerMarketplaceIntent"
    )
    #: Received from another party (the vendor or a partner) rather than created by the owner.
    is_inbound = models.BooleanField(default=False)
    #: A deal the partner is still writing: local only, validated in full on submit (spec §3).
    is_draft = models.BooleanField(default=False)
    deal_kind = models.CharField(max_length=12, choices=DealKind.choices, blank=True)
    microsoft_status = models.CharField(max_length=10, choices=MicrosoftStatus.choices, blank=True)
    lead_temperature = models.CharField(max_length=5, choices=LeadTemperature.choices, blank=True)
    # customerProfile, with what filters and routing read copied into columns.
    customer_profile = models.JSONField(default=dict, blank=True, verbose_name="customerProfile")
    customer_name = models.CharField(max_length=200, blank=True)
    customer_country = models.CharField(max_length=2, blank=True)
    customer_size = models.CharField(max_length=25, choices=CustomerSize.choices, blank=True)
    consent = models.JSONField(default=dict, blank=True)
    # details
    notes = models.TextField(blank=True)
    deal_value = AmountField(null=True, blank=True, verbose_name="dealValue")
    currency = CurrencyField(blank=True)
    closing_at = models.DateTimeField(null=True, blank=True, verbose_name="closingDateTime")
    requirements = models.JSONField(default=dict, blank=True)
    team = models.JSONField(default=list, blank=True)
    target = models.JSONField(default=list, blank=True)
    invite_context = models.JSONField(default=dict, blank=True, verbose_name="inviteContext")
    # Services co-sell referrals only.
    partner_role = models.CharField(max_length=40, blank=True, verbose_name="partnerRole")
    solution_area = models.CharField(max_length=40, blank=True, verbose_name="solutionArea")
    solution_play = models.CharField(max_length=80, blank=True, verbose_name="solutionPlay")
    # Inbound routing (spec §5).
    routing_rule = models.ForeignKey(
        "cosell.RoutingRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_team = models.CharField(max_length=120, blank=True)
    assigned_user = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Optimistic concurrency: bumped by every write; the API's eTag is derived from it.
    version = models.PositiveIntegerField(default=1)

    objects = TenantManager.from_queryset(ReferralQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "substatus"]),
            models.Index(fields=["organization", "-id"]),
            models.Index(fields=["organization", "-created_at"]),
            # The API's $orderby=updatedDateTime and $filter=externalReferenceId at millions of rows.
            models.Index(fields=["organization", "-updated_at", "-id"]),
            models.Index(fields=["organization", "external_reference_id"]),
            models.Index(
                fields=["expiration_at"],
                condition=Q(status=ReferralStatus.NEW),
                name="cosell_referral_expiring",
            ),
            # Insights' time in each stage: the latest counted deals of a period that were accepted
            # / closed, read from the index alone (the moments are included, the rest is its condition).
            models.Index(
                fields=["organization", "-created_at"],
                include=["accepted_at"],
                condition=Q(accepted_at__isnull=False, is_draft=False)
                & ~Q(target__contains=[{"id": VENDOR_ID}]),
                name="cosell_referral_accepted",
            ),
            models.Index(
                fields=["organization", "-created_at"],
                include=["accepted_at", "updated_at"],
                condition=Q(substatus__in=[ReferralSubstatus.WON, ReferralSubstatus.LOST], is_draft=False)
                & ~Q(target__contains=[{"id": VENDOR_ID}]),
                name="cosell_referral_won_lost",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def narrow_for_user(cls, queryset: models.QuerySet, user) -> models.QuerySet:
        """A Referrals user works only the referrals assigned to them or that they created."""
        if Capability.REFERRALS_MANAGE_ALL in user.capabilities:
            return queryset
        if Capability.REFERRALS_MANAGE_OWN in user.capabilities:
            return queryset.filter(Q(assigned_user_id=user.pk) | Q(created_by_id=user.pk))
        return queryset.none()

    def is_own(self, user) -> bool:
        """Assigned to `user` or created by them: what a Referrals user may work (as `narrow_for_user`)."""
        return user.pk is not None and user.pk in (self.assigned_user_id, self.created_by_id)

    @property
    def etag(self) -> str:
        return f'"{self.referral_id.hex[:8]}-{self.version:08d}"'

    @property
    def is_closed(self) -> bool:
        return self.status == ReferralStatus.CLOSED


class RoutingRule(TenantModel):
    """Routes incoming referrals to a team or user (spec §5); the first matching rule wins."""

    name = models.CharField(max_length=120)
    priority = models.PositiveIntegerField(help_text="1 is evaluated first.")
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Applies when no other rule matches.")
    match_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    match_solution_ids = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    match_products = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    match_min_deal_value = AmountField(null=True, blank=True)
    assign_to_team = models.CharField(max_length=120, blank=True)
    assign_to_user = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notify_emails = ArrayField(models.EmailField(), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "is_default", "priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="cosell_one_default_rule"
            ),
            models.CheckConstraint(
                condition=~Q(assign_to_team="") | Q(assign_to_user__isnull=False),
                name="cosell_rule_assigns_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """What a rule must say, for every write path (pages and API), before the database's own
        constraints would refuse it less clearly."""
        errors = {}
        if not self.assign_to_team and self.assign_to_user_id is None:
            errors["assign_to_team"] = "Name a team or pick a user to assign to."
        elif (
            self.assign_to_user_id is not None and self.assign_to_user.organization_id != self.organization_id
        ):
            errors["assign_to_user"] = "No such user in your organization."
        if self.is_default:
            default = (
                RoutingRule.objects.filter(organization_id=self.organization_id, is_default=True)
                .exclude(pk=self.pk)
                .first()
            )
            if default is not None:
                errors["is_default"] = f"“{default.name}” is already the default rule."
        if errors:
            raise ValidationError(errors)


# --- Partner capability profile (spec §6) ---------------------------------------------------------


class CapabilityProfile(TenantModel):
    """What a vendor seller reads to pick a partner: one per organization."""

    solution_areas = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    industries = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    products = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    services = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    countries_served = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    languages = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    designations = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    specializations = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    certifications = models.JSONField(default=dict, blank=True, help_text="Count per certification id.")
    deal_size_band = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="cosell_one_profile")]

    def __str__(self) -> str:
        return f"Profile of {self.organization_id}"


class CaseStudy(TenantModel):
    """A customer reference of the partner."""

    title = models.CharField(max_length=200)
    customer_name = models.CharField(max_length=200)
    industry = models.CharField(max_length=60)
    products = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    outcome_text = models.TextField(blank=True)
    url = models.URLField(blank=True)
    is_public = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "case studies"

    def __str__(self) -> str:
        return self.title


class Solution(TenantModel):
    """A published partner solution (`SOL-…`), the target of SolutionProfile referrals."""

    solution_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    solution_area = models.CharField(max_length=40, blank=True)
    co_sell_ready = models.BooleanField(default=False)
    azure_ip_co_sell_eligible = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.solution_id})"


# --- Insights summary (spec §8) -------------------------------------------------------------------


class ReferralSummary(TenantModel):
    """Referrals rolled up per creation month (UTC) and the dimensions insights filter on.

    Kept by the database, like an index: statement triggers on `cosell_referral` (migration 0004)
    add each inserted, updated or deleted row's contribution in the same transaction, whichever
    code wrote it (services, bulk loads, data fixes). Drafts and the vendor-side copies of co-sell
    deals are not counted (as `partner_side`). Insights read these rows, so their cost follows the
    number of months and dimension values, not the number of referrals. Nothing in Python writes it.
    """

    # No database constraint and no cascade: deleting an organization deletes its referrals, whose
    # trigger takes their rows out of the summary (a row that reaches zero deals is removed).
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    month = models.DateField()
    status = models.CharField(max_length=10)
    substatus = models.CharField(max_length=10)
    microsoft_status = models.CharField(max_length=10, blank=True)
    deal_kind = models.CharField(max_length=12, blank=True)
    customer_country = models.CharField(max_length=2, blank=True)
    solution_area = models.CharField(max_length=40, blank=True)
    #: The ids of every target (solutions, …), sorted: the "solution" filter matches one of them.
    target_ids = ArrayField(models.TextField(), default=list, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    deals = models.IntegerField(default=0)
    #: Deals with a deal value, and the sum of those values (in `currency`).
    valued = models.IntegerField(default=0)
    value_sum = models.DecimalField(max_digits=30, decimal_places=6, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "month",
                    "status",
                    "substatus",
                    "microsoft_status",
                    "deal_kind",
                    "customer_country",
                    "solution_area",
                    "target_ids",
                    "currency",
                ],
                name="cosell_summary_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.month:%Y-%m} {self.status}/{self.substatus}: {self.deals}"
