"""Partner activities: the catalogue (vendor data), seller opportunities, claims and their proof.

An activity type is an MCI engagement of the Earnings ledger (`earnings.Engagement`) with its
Build-intent lever, so an approved claim becomes earnings through the same payout run and ledger
(spec/incentives.md §9).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.choices import CustomerSegment
from incentives.choices import (
    OPEN_STAGES,
    PARTNER_TURN,
    TERMINAL_STATUSES,
    ActivityAvailability,
    ClaimStatus,
    CustomerIdType,
    MarketTier,
    OpportunityStage,
    PayPattern,
    ProofKind,
    ReviewDecision,
    ReviewReason,
)
from portal.capabilities import Capability
from portal.money import AmountField
from portal.tenancy import TenantModel, VendorDataManager

RATE_DIGITS = {"max_digits": 12, "decimal_places": 8}

# --- Vendor data: the activity catalogue ----------------------------------------------------------


class ActivityType(models.Model):
    """A paid partner activity (spec §3), e.g. "Copilot readiness workshop"."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    engagement = models.OneToOneField(
        "earnings.Engagement", on_delete=models.PROTECT, related_name="activity_type"
    )
    lever = models.ForeignKey("earnings.Lever", on_delete=models.PROTECT, related_name="+")
    pay_pattern = models.CharField(max_length=10, choices=PayPattern.choices)
    starts_on = models.DateField()
    ends_on = models.DateField()
    #: Days after consent within which the claim must be submitted (R3).
    claim_window_days = models.PositiveSmallIntegerField(default=90)
    #: Days after the activity's delivery within which the claim must be submitted.
    submission_deadline_days = models.PositiveSmallIntegerField(default=60)
    max_claims_per_customer = models.PositiveSmallIntegerField(default=1)
    annual_cap_usd = AmountField(
        default=Decimal("500000"), help_text="Per partner and fiscal year (1 July – 30 June)."
    )
    # Eligibility rules (spec §4); empty lists mean "any".
    customer_segments = ArrayField(
        models.CharField(max_length=20, choices=CustomerSegment.choices), default=list, blank=True
    )
    customer_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    min_customer_employees = models.PositiveIntegerField(null=True, blank=True)
    max_customer_employees = models.PositiveIntegerField(null=True, blank=True)
    prerequisite = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="An activity the customer must have received (approved or completed) first.",
    )
    required_proof = ArrayField(
        models.CharField(max_length=12, choices=ProofKind.choices), default=list, blank=True
    )

    objects = VendorDataManager()

    class Meta:
        ordering = ["engagement__solution_area", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="incentives_activity_dates"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def availability(self, today=None) -> str:
        today = today or timezone.localdate()
        if today < self.starts_on:
            return ActivityAvailability.UPCOMING
        if today > self.ends_on:
            return ActivityAvailability.EXPIRED
        return ActivityAvailability.ACTIVE


class ActivityRate(models.Model):
    """What an activity pays in one market tier over a period: a fixed fee, or a rate with a cap."""

    activity_type = models.ForeignKey(ActivityType, on_delete=models.CASCADE, related_name="rates")
    market_tier = models.CharField(max_length=1, choices=MarketTier.choices, default=MarketTier.A)
    fixed_fee_usd = AmountField(null=True, blank=True)
    rate = models.DecimalField(**RATE_DIGITS, null=True, blank=True, help_text="0.05 = 5 % of the value.")
    cap_per_claim_usd = AmountField(null=True, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Exclusive; blank: open-ended.")

    objects = VendorDataManager()

    class Meta:
        ordering = ["activity_type", "market_tier", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(fixed_fee_usd__isnull=False) & Q(rate__isnull=True))
                | (Q(fixed_fee_usd__isnull=True) & Q(rate__isnull=False)),
                name="incentives_rate_fee_xor_rate",
            ),
            models.UniqueConstraint(
                fields=["activity_type", "market_tier", "valid_from"], name="incentives_rate_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_type.code} {self.market_tier}"


class CountryMarketTier(models.Model):
    """The market tier of a country (spec §4.1); countries not listed are Market A."""

    country = models.CharField(max_length=2, unique=True)
    market_tier = models.CharField(max_length=1, choices=MarketTier.choices)

    objects = VendorDataManager()

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.country}: {self.market_tier}"


# --- Seller opportunities (variable pay) ----------------------------------------------------------


class Opportunity(TenantModel):
    """A vendor-seller (MSX) opportunity shared with the partner organization."""

    msx_opportunity_id = models.CharField(max_length=20, unique=True, verbose_name="MSX opportunity ID")
    name = models.CharField(max_length=200)
    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="+")
    solution_area = models.CharField(max_length=40)
    estimated_value_usd = AmountField()
    stage = models.CharField(
        max_length=10, choices=OpportunityStage.choices, default=OpportunityStage.QUALIFY
    )
    seller_name = models.CharField(max_length=150)
    seller_email = models.EmailField(blank=True)
    close_date = models.DateField(null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            # The list pages newest first; the overview counts the open ones.
            models.Index(fields=["organization", "-imported_at", "-id"]),
            models.Index(
                fields=["organization", "stage"],
                condition=Q(stage__in=sorted(OPEN_STAGES)),
                name="incentives_open_opportunities",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.msx_opportunity_id} {self.name}"


# --- Claims ---------------------------------------------------------------------------------------


class Claim(TenantModel):
    """A partner's claim for one activity delivered to one customer (spec §6, §11)."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.INCENTIVES_VIEW, Capability.INCENTIVES_CLAIMS)

    claim_id = models.CharField(max_length=20, unique=True, verbose_name="claimId")
    activity_type = models.ForeignKey(ActivityType, on_delete=models.PROTECT, related_name="claims")
    location = models.ForeignKey("accounts.PartnerLocation", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="+")
    #: The customer's tenant, copied: one live claim per activity and tenant across all partners (R1).
    customer_tenant_id = models.UUIDField()
    customer_id_type = models.CharField(
        max_length=20, choices=CustomerIdType.choices, default=CustomerIdType.TENANT_ID
    )
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    friendly_name = models.CharField(max_length=120)
    status = models.CharField(max_length=30, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    market_tier = models.CharField(max_length=1, choices=MarketTier.choices, default=MarketTier.A)
    estimated_deal_size_usd = AmountField(null=True, blank=True)
    #: The payout shown when the claim was created (variable: min(rate × value, caps)).
    potential_payout_usd = AmountField(default=0)
    approved_payout_usd = AmountField(null=True, blank=True)
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    delivered_on = models.DateField(null=True, blank=True, help_text="When the activity was delivered.")
    consent_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    #: When a partner action is due after a reviewer asked for it or rejected the claim.
    action_due_at = models.DateTimeField(null=True, blank=True)
    resubmit_count = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity_type", "customer_tenant_id"],
                condition=~Q(status__in=sorted(TERMINAL_STATUSES)),
                name="incentives_one_live_claim_per_customer",
                violation_error_message="This customer already has a claim for this activity.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status", "decided_at"]),
            # "Your claims" of an activity, counted from the index alone.
            models.Index(fields=["organization", "activity_type"]),
            # The overview's "needs you now", in the order it shows them.
            models.Index(
                fields=["organization", "action_due_at", "expires_at", "-created_at"],
                condition=Q(status__in=PARTNER_TURN),
                name="incentives_claims_partner_turn",
            ),
        ]

    def __str__(self) -> str:
        return self.claim_id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class ClaimSummary(TenantModel):
    """Claims counted and summed per status, creation month and decision month, for the overview.

    Kept by `incentives.services.summary.claim_summary_rebuild`, which every service that creates
    a claim, changes its status or its approved payout calls; the overview reads these few rows
    instead of aggregating every claim of the organization.
    """

    status = models.CharField(max_length=30, choices=ClaimStatus.choices)
    created_month = models.DateField()
    decided_month = models.DateField(null=True, blank=True)
    claim_count = models.PositiveIntegerField()
    potential_payout_usd = AmountField()
    approved_payout_usd = AmountField()

    class Meta:
        indexes = [models.Index(fields=["organization", "created_month"])]

    def __str__(self) -> str:
        return f"{self.created_month:%Y-%m} {self.status}: {self.claim_count}"


class ProofDocument(TenantModel):
    """A proof-of-execution file attached to a claim (spec §7)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="proof")
    kind = models.CharField(max_length=12, choices=ProofKind.choices)
    file = models.FileField(upload_to="incentives/proof/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "kind", "-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class ClaimReview(TenantModel):
    """A vendor reviewer's decision on a claim, and the partner's answer to it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    decision = models.CharField(max_length=15, choices=ReviewDecision.choices)
    reason_code = models.CharField(max_length=30, choices=ReviewReason.choices, blank=True)
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField(default=timezone.now)
    partner_response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claim", "-decided_at"]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.decision}"


class OutcomeLink(TenantModel):
    """Phase 3: a claim linked to a transaction of the customer's later sales or usage.

    One activity may be linked to many transactions, and one transaction to several activities;
    a transaction's amount is shared equally among the claims linked to it.
    """

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="outcomes")
    transaction = models.ForeignKey("earnings.Transaction", on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "transaction"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "transaction"], name="incentives_outcome_once")
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} → {self.transaction_id}"
