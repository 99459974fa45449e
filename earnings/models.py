"""Earnings: programs and rates (vendor data), transactions, the earnings ledger, payments.

The ledger is append-only: an earning row is never edited after it is written, except for the
payment it is assigned to (and that payment's status, copied so filters need no join).
Corrections are new rows (adjustments, reversals) with their own amounts (spec/earnings.md §8).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.choices import CustomerSegment
from earnings.choices import (
    AdjustmentReason,
    EarningKind,
    EarningType,
    ExportFormat,
    ExportStatus,
    IneligibleReason,
    PartnerAssociation,
    PartnerRole,
    PaymentMethod,
    PaymentStatus,
    QuantityType,
    ReconciliationLineKind,
    SolutionArea,
    TransactionSource,
    TransactionType,
)
from portal.capabilities import Capability, locations_granting
from portal.money import AmountField, CurrencyField
from portal.tenancy import TenantManager, TenantModel, VendorDataManager

RATE_DIGITS = {"max_digits": 12, "decimal_places": 8}


class LocationScoped:
    """Rows a location-scoped Incentives role sees only for its own partner locations.

    `location_path` names the partner location of the row ("location", "enrollment__location").
    """

    location_path = "location"

    @classmethod
    def narrow_for_user(cls, queryset: models.QuerySet, user) -> models.QuerySet:
        locations = locations_granting(user, Capability.EARNINGS_VIEW)
        if locations is None:
            return queryset
        return queryset.filter(**{f"{cls.location_path}_id__in": locations})


# --- Vendor data: programs, engagements, levers, rates, exchange rates -----------------------------


class Program(models.Model):
    """An incentive program (e.g. "Microsoft Commerce Incentives")."""

    code = models.CharField(max_length=20, unique=True, verbose_name="Program Code")
    name = models.CharField(max_length=200, unique=True, verbose_name="programName")
    description = models.TextField(blank=True)
    #: Months between a transaction's month and its estimated payment month (X1: Feb → May).
    payment_lag_months = models.PositiveSmallIntegerField(default=3)
    #: A payment is created only once the enrollment's due earnings reach this amount.
    min_payment_usd = AmountField(default=0)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    objects = VendorDataManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Engagement(models.Model):
    """An engagement of a program, assessed per transaction of its solution area."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="engagements")
    engagement_id = models.CharField(max_length=40, unique=True, verbose_name="engagementId")
    name = models.CharField(max_length=200, verbose_name="engagementName")
    solution_area = models.CharField(max_length=40, choices=SolutionArea.choices)
    excluded_segments = ArrayField(
        models.CharField(max_length=20, choices=CustomerSegment.choices), default=list, blank=True
    )
    #: Transactions below this USD amount earn nothing (reason BELOW_THRESHOLD).
    min_transaction_usd = AmountField(default=0)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    objects = VendorDataManager()

    class Meta:
        ordering = ["program__name", "name"]

    def __str__(self) -> str:
        return self.name


class Lever(models.Model):
    """The business rule that produces an earning for one partner role of an engagement."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="levers")
    name = models.CharField(max_length=120, verbose_name="lever")
    partner_role = models.CharField(max_length=20, choices=PartnerRole.choices)
    partner_association = models.CharField(
        max_length=30,
        choices=PartnerAssociation.choices,
        blank=True,
        help_text="Blank: any association of the role earns.",
    )
    earning_type = models.CharField(max_length=10, choices=EarningType.choices, default=EarningType.REBATE)

    objects = VendorDataManager()

    class Meta:
        ordering = ["engagement__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "partner_role"], name="earnings_lever_one_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.engagement.name} – {self.name}"


class EarningRate(models.Model):
    """A lever's rate for one product (and optionally one segment) over an effective period."""

    lever = models.ForeignKey(Lever, on_delete=models.CASCADE, related_name="rates")
    product_id = models.CharField(max_length=12, verbose_name="productId")
    segment = models.CharField(
        max_length=20, choices=CustomerSegment.choices, blank=True, help_text="Blank: every segment."
    )
    rate = models.DecimalField(**RATE_DIGITS, help_text="Fraction of the transaction amount, 0.04 = 4 %.")
    min_quantity = models.PositiveIntegerField(default=0, help_text="Fewer seats earn nothing.")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Exclusive; blank: open-ended.")

    objects = VendorDataManager()

    class Meta:
        ordering = ["lever", "product_id", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["lever", "product_id", "segment", "valid_from"], name="earnings_rate_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="earnings_rate_period_ordered",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=1), name="earnings_rate_fraction"),
        ]
        indexes = [models.Index(fields=["product_id", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.lever} {self.product_id} {self.rate:%}"


class ExchangeRate(models.Model):
    """Units of USD for one unit of `currency`, in force from `rate_date` until the next one."""

    currency = CurrencyField()
    rate_date = models.DateField()
    rate_to_usd = models.DecimalField(**RATE_DIGITS)

    objects = VendorDataManager()

    class Meta:
        ordering = ["currency", "-rate_date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "rate_date"], name="earnings_fx_unique_day"),
            models.CheckConstraint(condition=Q(rate_to_usd__gt=0), name="earnings_fx_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_date}: {self.rate_to_usd}"


# --- The partner's enrollment and payment prerequisites -------------------------------------------


class Enrollment(LocationScoped, TenantModel):
    """A partner location enrolled in a program: the participant that earns and is paid."""

    location = models.ForeignKey("accounts.PartnerLocation", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    participant_id = models.CharField(max_length=20, verbose_name="participantId")
    participant_id_type = models.CharField(
        max_length=20, default="PartnerID", verbose_name="participantIdType"
    )
    participant_name = models.CharField(max_length=200, verbose_name="participantName")
    enrolled_from = models.DateField()
    enrolled_to = models.DateField(null=True, blank=True, help_text="Exclusive; blank: still enrolled.")
    payment_currency = CurrencyField(default="USD")
    payment_method = models.CharField(
        max_length=30, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    #: Payment prerequisites (spec §4.1).
    bank_profile_ok = models.BooleanField(default=False, verbose_name="Bank (payout) profile validated")
    tax_profile_ok = models.BooleanField(default=False, verbose_name="Tax profile validated")
    hold_payment = models.BooleanField(default=False, verbose_name="Hold my payment")
    ar_overdue = models.BooleanField(default=False, verbose_name="Invoices overdue (AR compliance)")
    sales_tax_rate = models.DecimalField(
        **RATE_DIGITS, default=0, help_text="Added to cash payments where the tax POE process applies."
    )

    class Meta:
        ordering = ["program__name", "participant_id"]
        constraints = [
            models.UniqueConstraint(fields=["participant_id", "program"], name="earnings_enrollment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.program}"

    @property
    def payment_blockers(self) -> list[str]:
        """Why payments to this enrollment are held, in the partner's words (empty: none)."""
        blockers = []
        if not self.bank_profile_ok:
            blockers.append("The payout (bank) profile is incomplete or not validated.")
        if not self.tax_profile_ok:
            blockers.append("The tax profile is incomplete or not validated.")
        if self.hold_payment:
            blockers.append('"Hold my payment" is selected.')
        return blockers


# --- Transactions ---------------------------------------------------------------------------------


class TransactionUpload(TenantModel):
    """A usage or billing file an admin loaded for one partner organization."""

    file_name = models.CharField(max_length=255)
    row_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.file_name


class Transaction(LocationScoped, TenantModel):
    """A billed or usage transaction incentives are computed on (spec §8 `transaction`)."""

    transaction_id = models.CharField(max_length=64, unique=True, verbose_name="transactionId")
    transaction_date = models.DateField(verbose_name="transactionDate")
    transaction_type = models.CharField(
        max_length=10, choices=TransactionType.choices, default=TransactionType.PURCHASE
    )
    source = models.CharField(max_length=10, choices=TransactionSource.choices)
    upload = models.ForeignKey(
        TransactionUpload, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    #: The partner location that transacted; its enrollment earns.
    location = models.ForeignKey("accounts.PartnerLocation", on_delete=models.PROTECT, related_name="+")
    #: Null when the customer is not associated with the partner (reason CUSTOMER_NOT_ASSOCIATED).
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer_name = models.CharField(max_length=200, verbose_name="customerName")
    customer_tenant_id = models.CharField(max_length=40, blank=True, verbose_name="customerTenantId")
    customer_country = models.CharField(max_length=2, blank=True, verbose_name="customerCountry")
    customer_segment = models.CharField(max_length=20, choices=CustomerSegment.choices, blank=True)
    product_id = models.CharField(max_length=12, verbose_name="productId")
    sku_id = models.CharField(max_length=4, blank=True, verbose_name="SkuId")
    product_name = models.CharField(max_length=200, verbose_name="productName")
    subscription_id = models.CharField(max_length=40, blank=True, verbose_name="subscriptionId")
    invoice_number = models.CharField(max_length=40, blank=True, verbose_name="invoiceNumber")
    solution_area = models.CharField(max_length=40, choices=SolutionArea.choices)
    partner_role = models.CharField(max_length=20, choices=PartnerRole.choices)
    partner_association = models.CharField(max_length=30, choices=PartnerAssociation.choices, blank=True)
    is_trial = models.BooleanField(default=False)
    quantity = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    quantity_type = models.CharField(max_length=20, choices=QuantityType.choices, default=QuantityType.BILLED)
    transaction_currency = CurrencyField(verbose_name="transactionCurrency")
    transaction_amount = AmountField(verbose_name="transactionAmount")
    transaction_exchange_rate = models.DecimalField(**RATE_DIGITS, verbose_name="transactionExchangeRate")
    transaction_amount_usd = AmountField(verbose_name="transactionAmountUSD")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-transaction_date", "-id"]
        indexes = [
            models.Index(fields=["transaction_date", "id"]),
            models.Index(fields=["organization", "-transaction_date", "-id"]),
        ]

    def __str__(self) -> str:
        return self.transaction_id


# --- Payments -------------------------------------------------------------------------------------


class Payment(LocationScoped, TenantModel):
    """A payment order: the enrollment's due earnings of one payment month in one currency."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.EARNINGS_VIEW,)

    location_path = "enrollment__location"

    payment_id = models.CharField(max_length=20, unique=True, verbose_name="paymentID")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="payments")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="payments")
    payment_month = models.DateField(help_text="First day of the month the payment belongs to.")
    status = models.CharField(max_length=30, choices=PaymentStatus.choices, default=PaymentStatus.UPCOMING)
    method = models.CharField(
        max_length=30, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    currency = CurrencyField(verbose_name="earnedCurrencyCode")
    earned = AmountField(default=0)
    earned_usd = AmountField(default=0, verbose_name="earnedUSD")
    sales_tax = AmountField(default=0, verbose_name="salesTax")
    service_fee_tax = AmountField(default=0, verbose_name="serviceFeeTax")
    total_payment = AmountField(default=0, verbose_name="totalPayment")
    payment_date = models.DateField(null=True, blank=True, verbose_name="paymentDate")
    ci_reference_number = models.CharField(max_length=40, blank=True, verbose_name="CIReferenceNumber")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-payment_month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "payment_month", "currency"], name="earnings_payment_one_per_month"
            )
        ]
        indexes = [models.Index(fields=["organization", "-payment_month"])]

    def __str__(self) -> str:
        return self.payment_id


# --- The earnings ledger --------------------------------------------------------------------------


class Earning(LocationScoped, TenantModel):
    """One row of the ledger: an earning, or an adjustment or reversal of earlier rows.

    For a transaction and a lever, `revision` counts the rows written; their sum is what the
    transaction earns now. Filter columns (solution area, role, customer, product, payment
    status) are copied here so that pages, filters and exports read one table.
    """

    location_path = "enrollment__location"

    earning_id = models.CharField(max_length=40, unique=True, verbose_name="earningId")
    kind = models.CharField(max_length=12, choices=EarningKind.choices, default=EarningKind.EARNING)
    reason_code = models.CharField(max_length=80, choices=AdjustmentReason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="earnings")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lever = models.ForeignKey(Lever, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="earnings"
    )
    revision = models.PositiveSmallIntegerField(default=1)
    claim_id = models.CharField(max_length=40, blank=True, verbose_name="claimId")
    earning_type = models.CharField(max_length=10, choices=EarningType.choices, verbose_name="earningType")
    earning_rate = models.DecimalField(**RATE_DIGITS, null=True, blank=True, verbose_name="earningRate")
    earning_amount = AmountField(verbose_name="earningAmount")
    currency = CurrencyField(verbose_name="transactionCurrency")
    earning_exchange_rate = models.DecimalField(**RATE_DIGITS, verbose_name="earningExchangeRate")
    exchange_rate_date = models.DateField(verbose_name="exchangeRateDate")
    earning_amount_usd = AmountField(verbose_name="earningAmountUSD")
    earning_date = models.DateField(verbose_name="earningDate")
    calculation_date = models.DateField(verbose_name="calculationDate")
    #: Null: "Not applicable" (co-op earnings are not paid as cash).
    estimated_payment_month = models.DateField(null=True, blank=True, verbose_name="estimatedPaymentMonth")
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="earnings"
    )
    payment_status = models.CharField(
        max_length=30,
        choices=PaymentStatus.choices,
        default=PaymentStatus.UNPROCESSED,
        verbose_name="paymentStatus",
    )
    solution_area = models.CharField(max_length=40, choices=SolutionArea.choices, blank=True)
    partner_role = models.CharField(max_length=20, choices=PartnerRole.choices, blank=True)
    partner_association = models.CharField(max_length=30, choices=PartnerAssociation.choices, blank=True)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer_name = models.CharField(max_length=200, blank=True, verbose_name="customerName")
    product_id = models.CharField(max_length=12, blank=True, verbose_name="productId")
    product_name = models.CharField(max_length=200, blank=True, verbose_name="productName")
    job = models.ForeignKey(
        "portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-earning_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "lever", "revision"],
                condition=Q(transaction__isnull=False),
                name="earnings_earning_revision_unique",
            ),
            models.UniqueConstraint(
                fields=["claim_id", "earning_type", "revision"],
                condition=~Q(claim_id=""),
                name="earnings_claim_earning_revision_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind=EarningKind.EARNING) | ~Q(reason_code=""),
                name="earnings_correction_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-earning_date", "-id"]),
            # The API's cursor pages by id within the organization.
            models.Index(fields=["organization", "-id"]),
            models.Index(fields=["organization", "estimated_payment_month"]),
            # A payment's earnings, newest first, and its remittance read from the index alone.
            models.Index(fields=["payment", "-earning_date", "-id"]),
            models.Index(
                fields=["payment", "currency"],
                include=["earning_amount", "earning_amount_usd"],
                name="earnings_payment_remittance",
            ),
            models.Index(fields=["enrollment", "payment_status", "estimated_payment_month"]),
        ]

    def __str__(self) -> str:
        return self.earning_id


class EarningSummary(LocationScoped, TenantModel):
    """Earnings rolled up per month and filter dimensions, rebuilt by the payout run.

    Cards and charts read this instead of the ledger, so their cost does not grow with history.
    """

    location_path = "enrollment__location"

    earning_month = models.DateField()
    estimated_payment_month = models.DateField(null=True, blank=True)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    lever = models.ForeignKey(Lever, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+")
    solution_area = models.CharField(max_length=40, blank=True)
    partner_role = models.CharField(max_length=20, blank=True)
    partner_association = models.CharField(max_length=30, blank=True)
    earning_type = models.CharField(max_length=10)
    payment_status = models.CharField(max_length=30)
    earning_count = models.PositiveIntegerField()
    earning_amount_usd = AmountField()

    class Meta:
        indexes = [models.Index(fields=["organization", "earning_month"])]


class CustomerEarningTotal(TenantModel):
    """What each customer earned since `since` (the trailing year when the summaries were last
    rebuilt): the Earnings page's top customers, without aggregating the ledger.

    The totals span every partner location, so a person who sees only some locations sees none
    of them (the page aggregates their own rows instead).
    """

    since = models.DateField()
    customer_name = models.CharField(max_length=200)
    earning_count = models.PositiveIntegerField()
    earning_amount_usd = AmountField()

    class Meta:
        indexes = [models.Index(fields=["organization", "-earning_amount_usd", "customer_name"])]

    @classmethod
    def narrow_for_user(cls, queryset: models.QuerySet, user) -> models.QuerySet:
        if locations_granting(user, Capability.EARNINGS_VIEW) is None:
            return queryset
        return queryset.none()


class RevenueSummary(LocationScoped, TenantModel):
    """Assessed transactions per month and Revenue filter: how many earned under some engagement
    and how many earned under none, with their USD amounts (the Revenue page's totals)."""

    location = models.ForeignKey("accounts.PartnerLocation", on_delete=models.CASCADE, related_name="+")
    transaction_month = models.DateField()
    solution_area = models.CharField(max_length=40)
    partner_role = models.CharField(max_length=20)
    partner_association = models.CharField(max_length=30, blank=True)
    transaction_type = models.CharField(max_length=10)
    eligible_count = models.PositiveIntegerField()
    eligible_usd = AmountField()
    ineligible_count = models.PositiveIntegerField()
    ineligible_usd = AmountField()

    class Meta:
        indexes = [models.Index(fields=["organization", "transaction_month"])]


class IneligibleSummary(LocationScoped, TenantModel):
    """Ineligible transactions per month, reason and filter, each transaction counted once per
    reason (the Ineligible revenue page's reasons)."""

    location = models.ForeignKey("accounts.PartnerLocation", on_delete=models.CASCADE, related_name="+")
    transaction_month = models.DateField()
    reason_code = models.CharField(max_length=30, choices=IneligibleReason.choices)
    solution_area = models.CharField(max_length=40)
    partner_role = models.CharField(max_length=20)
    transaction_count = models.PositiveIntegerField()
    amount_usd = AmountField()

    class Meta:
        indexes = [models.Index(fields=["organization", "transaction_month"])]


# --- Ineligible transactions ----------------------------------------------------------------------


class IneligibleTransaction(LocationScoped, TenantModel):
    """A transaction that earned nothing under one engagement, and the first rule it failed."""

    location_path = "transaction__location"

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="ineligibilities")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    reason_code = models.CharField(max_length=30, choices=IneligibleReason.choices)
    #: The transaction's date, so the page orders and pages by it without a join. Writers pass
    #: nothing (`default=None`): the database copies it on every insert (trigger
    #: `earnings_ineligible_transaction_date`, migration 0004).
    transaction_date = models.DateField(editable=False, default=None)
    calculation_date = models.DateField()
    job = models.ForeignKey(
        "portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-transaction_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "engagement"], name="earnings_ineligible_once")
        ]
        indexes = [
            models.Index(fields=["organization", "reason_code"]),
            models.Index(fields=["organization", "-transaction_date", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} {self.reason_code}"

    @property
    def reason(self) -> str:
        return IneligibleReason(self.reason_code).label


# --- Exports and reconciliation -------------------------------------------------------------------


class ExportJob(TenantModel):
    """An asynchronous export request (spec §2): Queued → Running → Completed | Failed."""

    export_id = models.UUIDField(unique=True)
    report = models.CharField(max_length=40)
    file_format = models.CharField(max_length=4, choices=ExportFormat.choices, default=ExportFormat.CSV)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    row_count = models.PositiveBigIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    job = models.ForeignKey(
        "portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.report} export {self.export_id}"


class Reconciliation(TenantModel):
    """A partner's own records matched against the portal's earnings.

    A user whose roles see some partner locations only sees the reconciliations they made:
    another person's lines may show other locations' earnings.
    """

    file_name = models.CharField(max_length=255)
    column_mapping = models.JSONField(default=dict)
    amount_tolerance = models.DecimalField(max_digits=12, decimal_places=2, default=0.01)
    payment_month = models.DateField(null=True, blank=True)
    payment_id = models.CharField(max_length=20, blank=True, verbose_name="paymentId")
    matched_count = models.PositiveIntegerField(default=0)
    difference_count = models.PositiveIntegerField(default=0)
    partner_only_count = models.PositiveIntegerField(default=0)
    portal_only_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    #: The import job that read the file and made this reconciliation: one per job, so a job run
    #: again (a worker lost) finds it instead of making a second one.
    job = models.OneToOneField(
        "portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @classmethod
    def narrow_for_user(cls, queryset: models.QuerySet, user) -> models.QuerySet:
        if locations_granting(user, Capability.EARNINGS_VIEW) is None:
            return queryset
        return queryset.filter(created_by_id=user.pk)


class ReconciliationLine(TenantModel):
    @classmethod
    def narrow_for_user(cls, queryset: models.QuerySet, user) -> models.QuerySet:
        if locations_granting(user, Capability.EARNINGS_VIEW) is None:
            return queryset
        return queryset.filter(reconciliation__created_by_id=user.pk)

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=ReconciliationLineKind.choices)
    row_number = models.PositiveIntegerField(null=True, blank=True, help_text="Row in the partner's file.")
    earning = models.ForeignKey(Earning, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    transaction_id = models.CharField(max_length=64, blank=True)
    invoice_number = models.CharField(max_length=40, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    product_id = models.CharField(max_length=12, blank=True)
    partner_amount = AmountField(null=True, blank=True)
    portal_amount = AmountField(null=True, blank=True)
    difference = AmountField(null=True, blank=True)
    #: The amounts' currency: the file's, else the matched earning's; blank when neither says.
    #: Totals are summed per currency, never across currencies.
    currency = CurrencyField(blank=True, default="", db_default="")
    partner_row = models.JSONField(default=dict, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["reconciliation", "kind", "row_number", "id"]
        indexes = [models.Index(fields=["reconciliation", "kind"])]
