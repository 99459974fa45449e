"""Catalog, price lists, legacy and new-commerce subscriptions, and migrations (spec/commerce.md §5).

The catalog and price lists are the vendor's, shared by every partner; subscriptions, migrations
and batches belong to a partner organization.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from commerce.choices import (
    NON_TERMINAL_MIGRATION_STATUSES,
    BillingCycle,
    MigrationInitiator,
    MigrationStatus,
    PriceListStatus,
    ScheduleStatus,
    Segment,
    SubscriptionChangeKind,
    SubscriptionStatus,
    TermDuration,
    TradeStatus,
)
from portal.capabilities import Capability
from portal.money import AmountField, CurrencyField
from portal.tenancy import TenantModel, TenantQuerySet, VendorDataManager


class Product(models.Model):
    product_id = models.CharField(max_length=12, primary_key=True, verbose_name="ProductId")
    title = models.CharField(max_length=200, verbose_name="ProductTitle")
    publisher = models.CharField(max_length=200, default="Microsoft Corporation")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.product_id})"


class Sku(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    sku_id = models.CharField(max_length=4, verbose_name="SkuId")
    title = models.CharField(max_length=200, verbose_name="SkuTitle")
    description = models.TextField(blank=True, verbose_name="SkuDescription")
    min_licenses = models.PositiveIntegerField(default=1)
    max_licenses = models.PositiveIntegerField(default=10000)
    max_seat_pooled = models.PositiveIntegerField(
        null=True, blank=True, help_text="Max seats per customer tenant across partners (e.g. 300)."
    )
    is_trial = models.BooleanField(default=False)
    is_addon = models.BooleanField(default=False)
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="addons", help_text="Base SKUs of an add-on."
    )

    class Meta:
        ordering = ["product_id", "sku_id"]
        constraints = [models.UniqueConstraint(fields=["product", "sku_id"], name="unique_sku_per_product")]

    def __str__(self) -> str:
        return f"{self.title} ({self.product_id}:{self.sku_id})"


class Availability(models.Model):
    """Where and how a SKU can be bought: segment, term, billing plans, markets."""

    availability_id = models.CharField(max_length=12, unique=True, verbose_name="AvailabilityId")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="availabilities")
    segment = models.CharField(max_length=12, choices=Segment.choices)
    term_duration = models.CharField(max_length=3, choices=TermDuration.choices)
    billing_plans = ArrayField(models.CharField(max_length=10, choices=BillingCycle.choices))
    markets = ArrayField(models.CharField(max_length=2), help_text="ISO country codes.")

    class Meta:
        ordering = ["sku", "segment", "term_duration"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "segment", "term_duration"], name="unique_availability_per_sku_segment_term"
            )
        ]

    def __str__(self) -> str:
        return self.catalog_item_id

    @property
    def catalog_item_id(self) -> str:
        return f"{self.sku.product_id}:{self.sku.sku_id}:{self.availability_id}"


class LegacyOffer(models.Model):
    """A legacy license-based offer and its new-commerce equivalent, when there is one."""

    offer_id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    segment = models.CharField(max_length=12, choices=Segment.choices, default=Segment.COMMERCIAL)
    equivalent_sku = models.ForeignKey(
        Sku, on_delete=models.SET_NULL, null=True, blank=True, related_name="legacy_offers"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Price lists: vendor data every partner reads -------------------------------------------------


class PriceList(models.Model):
    """One imported price list file (current or preview) for one market."""

    name = models.CharField(max_length=200)
    market = models.CharField(max_length=2)
    currency = CurrencyField()
    is_preview = models.BooleanField(default=False)
    effective_month = models.DateField(help_text="First day of the month the prices apply to.")
    source_file = models.CharField(max_length=255)
    status = models.CharField(
        max_length=10, choices=PriceListStatus.choices, default=PriceListStatus.IMPORTING
    )
    row_count = models.PositiveIntegerField(default=0)
    job = models.ForeignKey(
        "portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    #: SHA-256 of the file it came from (commerce.services.price_lists): the same file imported
    #: again for the same market, month and kind is this list, not a new one.
    content_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    #: The corrected list for the same market, month and kind that took this one's place.
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced"
    )

    objects = VendorDataManager()

    class Meta:
        ordering = ["-effective_month", "market", "-is_preview"]

    def __str__(self) -> str:
        kind = "preview" if self.is_preview else "price list"
        return f"{self.market} {kind} {self.effective_month:%Y-%m}"


class PriceListRow(models.Model):
    """A row of the new-commerce license-based price list, in its real column layout (§4.1)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="rows")
    product_title = models.CharField(max_length=200)
    product_id = models.CharField(max_length=12)
    sku_id = models.CharField(max_length=4)
    sku_title = models.CharField(max_length=200)
    publisher = models.CharField(max_length=200)
    sku_description = models.TextField(blank=True)
    unit_of_measure = models.CharField(max_length=50, blank=True)
    term_duration = models.CharField(max_length=3, choices=TermDuration.choices)
    billing_plan = models.CharField(max_length=10, choices=BillingCycle.choices)
    market = models.CharField(max_length=2)
    currency = CurrencyField()
    unit_price = AmountField()
    pricing_tier_range_min = models.PositiveIntegerField(null=True, blank=True)
    pricing_tier_range_max = models.PositiveIntegerField(null=True, blank=True)
    effective_start_date = models.DateTimeField()
    effective_end_date = models.DateTimeField()
    tags = models.CharField(max_length=200, blank=True)
    erp_price = AmountField(null=True, blank=True)
    segment = models.CharField(max_length=12, choices=Segment.choices)
    end_of_sale_date = models.DateTimeField(null=True, blank=True)
    #: Microsoft's optional `ChangeIndicator` column (spec/commerce.md §4.1), kept as written.
    change_indicator = models.CharField(max_length=50, blank=True, default="", db_default="")

    objects = VendorDataManager()

    class Meta:
        ordering = ["product_title", "sku_id", "term_duration", "billing_plan"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "price_list",
                    "product_id",
                    "sku_id",
                    "term_duration",
                    "billing_plan",
                    "segment",
                    "effective_start_date",
                    "pricing_tier_range_min",
                ],
                name="unique_price_list_row",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="price_list_row_price_not_negative"),
        ]
        indexes = [models.Index(fields=["price_list", "product_id", "sku_id"])]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.sku_id} {self.term_duration}/{self.billing_plan} {self.unit_price}"


class LegacySubscription(TenantModel):
    subscription_id = models.UUIDField(default=uuid.uuid4, unique=True)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="legacy_subscriptions"
    )
    offer = models.ForeignKey(LegacyOffer, on_delete=models.PROTECT, related_name="subscriptions")
    friendly_name = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()
    term_duration = models.CharField(max_length=3, choices=TermDuration.choices, default=TermDuration.P1Y)
    billing_cycle = models.CharField(
        max_length=10, choices=BillingCycle.choices, default=BillingCycle.MONTHLY
    )
    term_start = models.DateField()
    term_end = models.DateField()
    auto_renew = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    is_trial = models.BooleanField(default=False)
    #: A promotion applied to the legacy subscription blocks its migration (`SubscriptionPromotionsPresent`).
    promotion_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    trade_status = models.CharField(
        max_length=12,
        choices=TradeStatus.choices,
        default=TradeStatus.ALLOWED,
        db_default=TradeStatus.ALLOWED,
    )
    #: What the vendor bills per seat for one billing period of the legacy subscription (the
    #: "before" of a migration's price impact); unknown when the vendor did not send it.
    unit_price = AmountField(null=True, blank=True)
    currency = CurrencyField(blank=True, default="", db_default="")
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="addons",
        help_text="The base subscription of an add-on.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer", "term_end", "id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["term_end"]),
            # The pages' order (commerce.selectors): soonest renewal first.
            models.Index(fields=["organization", "term_end", "id"], name="legacy_org_renewal_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="legacy_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.offer.name} × {self.quantity} ({self.customer})"


class NceSubscription(TenantModel):
    """A new-commerce subscription."""

    subscription_id = models.UUIDField(default=uuid.uuid4, unique=True)
    order_id = models.UUIDField(default=uuid.uuid4)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="nce_subscriptions"
    )
    availability = models.ForeignKey(Availability, on_delete=models.PROTECT, related_name="subscriptions")
    catalog_item_id = models.CharField(max_length=40)
    friendly_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    quantity = models.PositiveIntegerField()
    term_duration = models.CharField(max_length=3, choices=TermDuration.choices)
    billing_cycle = models.CharField(max_length=10, choices=BillingCycle.choices)
    term_start = models.DateField()
    term_end = models.DateField()
    auto_renew = models.BooleanField(default=True)
    #: 168 hours after purchase, migration or renewal: until then seats may be reduced and the
    #: subscription cancelled with a prorated credit (commerce.services.nce).
    cancellation_window_ends_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    unit_price = AmountField(help_text="Partner price for the whole term, from the price list.")
    currency = CurrencyField()
    migrated_from = models.OneToOneField(
        LegacySubscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="nce_subscription"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer", "term_end", "id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            # The pages' order (commerce.selectors): soonest term end first.
            models.Index(fields=["organization", "term_end", "id"], name="nce_org_term_end_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="nce_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.catalog_item_id} × {self.quantity} ({self.customer})"


def _migrations_of_batch(status: str) -> models.Func:
    """How many migrations of the batch (the outer row) have `status`, 0 when none."""
    counted = (
        Migration.objects.filter(batch=models.OuterRef("pk"), status=status)
        .order_by()
        .values("batch")
        .annotate(number=models.Count("id"))
        .values("number")
    )
    return Coalesce(models.Subquery(counted), 0)


class MigrationBatchQuerySet(TenantQuerySet):
    def with_counts(self) -> MigrationBatchQuerySet:
        """`completed` and `failed` migrations of each batch, counted per row shown: PostgreSQL
        evaluates the subqueries after ORDER BY and LIMIT, so a page of batches counts only its own."""
        return self.annotate(
            completed=_migrations_of_batch(MigrationStatus.COMPLETED),
            failed=_migrations_of_batch(MigrationStatus.FAILED),
        )


class MigrationBatch(TenantModel):
    """Many migrations submitted together under one `externalReferenceId`."""

    external_reference_id = models.CharField(max_length=100)
    file_name = models.CharField(max_length=255, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    job = models.ForeignKey(
        "portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(MigrationBatchQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_reference_id"], name="unique_batch_reference"
            )
        ]

    def __str__(self) -> str:
        return self.external_reference_id


class Migration(TenantModel):
    """A legacy → new commerce migration, in Partner Center's migration resource shape (§3.4)."""

    #: Who may read (and download) its history: portal.history_views.
    history_capabilities = (Capability.CUSTOMERS_VIEW,)

    migration_id = models.UUIDField(default=uuid.uuid4, unique=True)
    customer = models.ForeignKey("accounts.Customer", on_delete=models.CASCADE, related_name="migrations")
    current_subscription = models.ForeignKey(
        LegacySubscription, on_delete=models.CASCADE, related_name="migrations"
    )
    status = models.CharField(
        max_length=12, choices=MigrationStatus.choices, default=MigrationStatus.PROCESSING
    )
    catalog_item_id = models.CharField(max_length=40, blank=True)
    term_duration = models.CharField(max_length=3, choices=TermDuration.choices)
    billing_cycle = models.CharField(max_length=10, choices=BillingCycle.choices)
    purchase_full_term = models.BooleanField(default=False)
    quantity = models.PositiveIntegerField()
    custom_term_end_date = models.DateField(null=True, blank=True)
    external_reference_id = models.CharField(max_length=100, blank=True)
    batch = models.ForeignKey(
        MigrationBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="migrations"
    )
    new_commerce_subscription = models.OneToOneField(
        NceSubscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="migration"
    )
    new_commerce_order_id = models.UUIDField(null=True, blank=True)
    subscription_end_date = models.DateField(null=True, blank=True)
    started_time = models.DateTimeField(default=timezone.now)
    completed_time = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    error_description = models.TextField(blank=True)
    initiated_by = models.CharField(
        max_length=10, choices=MigrationInitiator.choices, default=MigrationInitiator.PARTNER
    )
    parent_migration = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="add_on_migrations"
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_time", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["external_reference_id"]),
            # The pages' order (Meta.ordering, commerce.selectors): newest first.
            models.Index(fields=["organization", "-started_time", "-id"], name="migration_org_newest_idx"),
        ]
        constraints = [
            # One migration in flight per legacy subscription, and it can complete only once.
            models.UniqueConstraint(
                fields=["current_subscription"],
                condition=Q(status__in=NON_TERMINAL_MIGRATION_STATUSES),
                name="one_open_migration_per_subscription",
            ),
            models.UniqueConstraint(
                fields=["current_subscription"],
                condition=Q(status=MigrationStatus.COMPLETED),
                name="one_completed_migration_per_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.migration_id} ({self.status})"


class NceSubscriptionChange(TenantModel):
    """One change of a new-commerce subscription's seats or life, with the credit it gave."""

    subscription = models.ForeignKey(NceSubscription, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16, choices=SubscriptionChangeKind.choices)
    quantity_before = models.PositiveIntegerField()
    quantity_after = models.PositiveIntegerField()
    #: Prorated credit of a reduction or cancellation inside the window (0 otherwise).
    credit = AmountField(default=0)
    currency = CurrencyField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: The client's `MS-RequestId` / Idempotency-Key: a retried request finds its change.
    request_id = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "request_id"],
                condition=~Q(request_id=""),
                name="one_change_per_request",
            )
        ]


class MigrationSchedule(TenantModel):
    """A migration to run later: on a target date or at the legacy term's renewal (§3.4, §3.5)."""

    history_capabilities = (Capability.CUSTOMERS_VIEW,)

    schedule_id = models.UUIDField(default=uuid.uuid4, unique=True)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="migration_schedules"
    )
    current_subscription = models.ForeignKey(
        LegacySubscription, on_delete=models.CASCADE, related_name="migration_schedules"
    )
    status = models.CharField(max_length=12, choices=ScheduleStatus.choices, default=ScheduleStatus.CREATED)
    term_duration = models.CharField(max_length=3, choices=TermDuration.choices, blank=True)
    billing_cycle = models.CharField(max_length=10, choices=BillingCycle.choices, blank=True)
    purchase_full_term = models.BooleanField(default=False)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    custom_term_end_date = models.DateField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    migrate_on_renewal = models.BooleanField(default=False)
    external_reference_id = models.CharField(max_length=100, blank=True)
    migration = models.OneToOneField(
        Migration, on_delete=models.SET_NULL, null=True, blank=True, related_name="schedule"
    )
    error_code = models.CharField(max_length=80, blank=True)
    error_description = models.TextField(blank=True)
    created_time = models.DateTimeField(default=timezone.now)
    last_modified_time = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_time", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["status", "target_date"], name="schedule_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_date__isnull=False, migrate_on_renewal=False)
                | Q(target_date__isnull=True, migrate_on_renewal=True),
                name="schedule_date_or_renewal",
            ),
            # One waiting schedule per legacy subscription.
            models.UniqueConstraint(
                fields=["current_subscription"],
                condition=Q(status__in=[ScheduleStatus.CREATED, ScheduleStatus.PROCESSING]),
                name="one_open_schedule_per_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} ({self.status})"
