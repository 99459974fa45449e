"""The vendor-side admin for the catalog, price lists, subscriptions and migrations."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from commerce.choices import MigrationStatus
from commerce.models import (
    Availability,
    LegacyOffer,
    LegacySubscription,
    Migration,
    MigrationBatch,
    MigrationSchedule,
    NceSubscription,
    PriceList,
    PriceListRow,
    Product,
    Sku,
)
from commerce.services import PRICE_LIST_IMPORTER, migration_retry, price_list_import_start
from portal.admin_imports import ImportJobAdminMixin
from portal.imports.forms import ImportForm
from portal.jobs import JobRun

# Price lists arrive only as the vendor's files: "Add price list" is the import pipeline's upload
# page (commerce.services.price_list_import_start), followed by the import job's page. Rows,
# products and SKUs come from those files, so they are read-only here.


class PriceListImportForm(ImportForm):
    is_preview = forms.BooleanField(
        required=False, label="Preview", help_text="Next month's prices (the file may add EndofSaleDate)."
    )
    effective_month = forms.DateField(
        required=False,
        help_text="Blank: the month of the newest EffectiveStartDate in the file (for a preview, the "
        "coming month). Any day of the month will do.",
    )
    field_order = ["file", "is_preview", "effective_month", "valid_rows_only"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _layout_help()


def _layout_help() -> str:
    columns = ", ".join(
        column.name if column.required else f"{column.name} (optional)"
        for column in PRICE_LIST_IMPORTER.layout.columns
    )
    return (
        "The license-based price list of one market in its real column layout: CSV, TSV or XLSX, or the "
        f"ZIP Microsoft's download comes in. Columns: {columns}."
    )


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PriceList)
class PriceListAdmin(ImportJobAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "market",
        "currency",
        "effective_month",
        "is_preview",
        "status",
        "row_count",
        "rows_link",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["market", "is_preview", "status", "currency", "effective_month"]
    search_fields = ["name", "market", "source_file"]
    list_select_related = ["uploaded_by", "job"]
    date_hierarchy = "effective_month"
    readonly_fields = [
        "name",
        "market",
        "currency",
        "is_preview",
        "effective_month",
        "source_file",
        "status",
        "row_count",
        "rows_link",
        "job_progress",
        "uploaded_by",
        "uploaded_at",
    ]
    fields = readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        # A list is what its file says; to correct one, import the corrected file: it replaces this one.
        return False

    import_form_class = PriceListImportForm
    import_template = "admin/commerce/price_list_import.html"

    def get_urls(self):
        return [*self.import_job_urls(), *super().get_urls()]

    def import_importer(self, request):
        return PRICE_LIST_IMPORTER

    def import_start(self, request, form) -> JobRun:
        data = form.cleaned_data
        return price_list_import_start(
            actor=request.user,
            upload=data["file"],
            is_preview=data["is_preview"],
            effective_month=data["effective_month"],
            valid_rows_only=data["valid_rows_only"],
        )

    def add_view(self, request, form_url="", extra_context=None):
        """The pipeline's upload page: the file's type, size and header are checked at once, its
        rows by the import job, whose page follows."""
        return self.import_page(request, title="Import a price list", form_kwargs={})

    def import_next(self, job: JobRun) -> dict[str, str] | None:
        result = job.result or {}
        price_list = PriceList.objects.filter(pk=result.get("price_list_id")).first()
        if price_list is None:
            return None
        url = reverse("admin:commerce_pricelist_change", args=[price_list.pk])
        if result.get("price_list") == "unchanged":
            return {"text": "These rows are already the list ", "url": url, "label": price_list.name}
        text = f"{result['note']} Created " if result.get("replaced_price_list_id") else "Created "
        return {"text": text, "url": url, "label": f"{price_list.name} ({price_list.row_count} rows)"}

    def import_rows_url(self, job: JobRun) -> str | None:
        price_list_id = (job.result or {}).get("price_list_id")
        if not price_list_id:
            return None
        return f"{reverse('admin:commerce_pricelistrow_changelist')}?price_list__id__exact={price_list_id}"

    @admin.display(description="Rows")
    def rows_link(self, obj: PriceList):
        url = reverse("admin:commerce_pricelistrow_changelist")
        return format_html('<a href="{}?price_list__id__exact={}">{} rows</a>', url, obj.pk, obj.row_count)

    @admin.display(description="Import job")
    def job_progress(self, obj: PriceList):
        if obj.job is None:
            return "—"
        if obj.job.kind != PRICE_LIST_IMPORTER.kind:  # a list imported before the pipeline
            return f"#{obj.job_id} · {obj.job.get_status_display()}"
        url = reverse("admin:commerce_pricelist_import_job", args=[obj.job_id])
        return format_html('<a href="{}">#{}</a> · {}', url, obj.job_id, obj.job.get_status_display())


@admin.register(PriceListRow)
class PriceListRowAdmin(_ReadOnlyAdmin):
    list_display = [
        "product_id",
        "sku_id",
        "product_title",
        "sku_title",
        "term_duration",
        "billing_plan",
        "segment",
        "currency",
        "unit_price",
        "erp_price",
        "effective_start_date",
        "effective_end_date",
        "price_list",
    ]
    list_filter = ["segment", "term_duration", "billing_plan", "market", "price_list__is_preview"]
    search_fields = ["product_id", "product_title", "sku_title"]
    list_select_related = ["price_list"]
    raw_id_fields = ["price_list"]
    # Lists run to hundreds of thousands of rows: don't count the whole table on every page.
    show_full_result_count = False


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ["sku_id", "title", "is_trial", "is_addon", "min_licenses", "max_licenses", "max_seat_pooled"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(_ReadOnlyAdmin):
    list_display = ["product_id", "title", "publisher"]
    list_filter = ["publisher"]
    search_fields = ["product_id", "title"]
    inlines = [SkuInline]


@admin.register(Sku)
class SkuAdmin(_ReadOnlyAdmin):
    list_display = [
        "product_id",
        "sku_id",
        "title",
        "product",
        "is_trial",
        "is_addon",
        "min_licenses",
        "max_licenses",
        "max_seat_pooled",
    ]
    list_filter = ["is_trial", "is_addon"]
    search_fields = ["product__product_id", "product__title", "sku_id", "title"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]


# Subscriptions, migrations and batches change only through commerce.services, so they are
# read-only here; the one write is the "Re-run failed migrations" action, which calls
# migration_retry. Legacy offers (their new-commerce equivalent) and availabilities are catalog
# data the vendor's staff curate.


class _ServiceOwnedAdmin(admin.ModelAdmin):
    """Rows the services own: listed and shown, never added, edited or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LegacyOffer)
class LegacyOfferAdmin(admin.ModelAdmin):
    list_display = ["name", "offer_id", "segment", "equivalent_sku"]
    list_filter = ["segment", ("equivalent_sku", admin.EmptyFieldListFilter)]
    search_fields = ["name", "offer_id", "equivalent_sku__product__product_id", "equivalent_sku__title"]
    list_select_related = ["equivalent_sku__product"]
    raw_id_fields = ["equivalent_sku"]


@admin.register(Availability)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["availability_id", "catalog_item", "segment", "term_duration", "billing_plans", "markets"]
    list_filter = ["segment", "term_duration"]
    search_fields = ["availability_id", "sku__product__product_id", "sku__title"]
    list_select_related = ["sku__product"]
    raw_id_fields = ["sku"]

    @admin.display(description="CatalogItemId")
    def catalog_item(self, obj: Availability) -> str:
        return obj.catalog_item_id


@admin.register(LegacySubscription)
class LegacySubscriptionAdmin(_ServiceOwnedAdmin):
    list_display = [
        "subscription_id",
        "customer",
        "organization",
        "offer",
        "quantity",
        "term_duration",
        "billing_cycle",
        "term_end",
        "status",
        "is_trial",
        "parent",
    ]
    list_filter = ["status", "is_trial", "term_duration", "billing_cycle", "customer__segment", "offer"]
    search_fields = [
        "subscription_id",
        "friendly_name",
        "customer__name",
        "customer__tenant_id",
        "offer__name",
    ]
    list_select_related = ["customer", "organization", "offer", "parent"]
    raw_id_fields = ["customer", "organization", "offer", "parent"]
    date_hierarchy = "term_end"
    show_full_result_count = False


@admin.register(NceSubscription)
class NceSubscriptionAdmin(_ServiceOwnedAdmin):
    list_display = [
        "subscription_id",
        "customer",
        "organization",
        "catalog_item_id",
        "quantity",
        "term_duration",
        "billing_cycle",
        "term_start",
        "term_end",
        "unit_price",
        "currency",
        "status",
        "cancellation_window_ends_at",
    ]
    list_filter = ["status", "term_duration", "billing_cycle", "currency", "availability__segment"]
    search_fields = ["subscription_id", "order_id", "catalog_item_id", "customer__name"]
    list_select_related = ["customer", "organization"]
    raw_id_fields = ["customer", "organization", "availability", "migrated_from"]
    show_full_result_count = False


class AddOnMigrationInline(admin.TabularInline):
    model = Migration
    fk_name = "parent_migration"
    fields = ["migration_id", "current_subscription", "status", "catalog_item_id", "quantity", "error_code"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "add-on migration"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Migration)
class MigrationAdmin(_ServiceOwnedAdmin):
    list_display = [
        "migration_id",
        "customer",
        "organization",
        "current_subscription_link",
        "status",
        "initiated_by",
        "catalog_item_id",
        "quantity",
        "term_duration",
        "billing_cycle",
        "started_time",
        "completed_time",
        "external_reference_id",
        "error_code",
    ]
    list_filter = ["status", "initiated_by", "term_duration", "billing_cycle", "purchase_full_term"]
    search_fields = [
        "migration_id",
        "current_subscription__subscription_id",
        "customer__name",
        "external_reference_id",
    ]
    list_select_related = ["customer", "organization", "current_subscription"]
    raw_id_fields = [
        "organization",
        "customer",
        "current_subscription",
        "batch",
        "new_commerce_subscription",
        "parent_migration",
        "created_by",
    ]
    inlines = [AddOnMigrationInline]
    actions = ["rerun_failed"]
    date_hierarchy = "started_time"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is a read-only view; the action below is the only change made here.
        return obj is None and request.user.has_perm("commerce.change_migration")

    @admin.display(description="Current subscription")
    def current_subscription_link(self, obj: Migration):
        url = reverse("admin:commerce_legacysubscription_change", args=[obj.current_subscription_id])
        return format_html('<a href="{}">{}</a>', url, obj.current_subscription.subscription_id)

    @admin.action(description="Re-run failed migrations", permissions=["change"])
    def rerun_failed(self, request, queryset):
        completed = failed = refused = 0
        chosen = queryset.filter(status=MigrationStatus.FAILED, parent_migration__isnull=True).order_by("pk")
        for migration in chosen:
            try:
                result = migration_retry(actor=request.user, migration=migration)
            except ValidationError as exc:
                refused += 1
                self.message_user(
                    request, f"{migration.migration_id}: {'; '.join(exc.messages)}", messages.WARNING
                )
                continue
            if result.status == MigrationStatus.COMPLETED:
                completed += 1
            else:
                failed += 1
        skipped = queryset.count() - completed - failed - refused
        self.message_user(
            request,
            f"Re-ran failed migrations: {completed} completed, {failed} failed again, {refused} refused, "
            f"{skipped} skipped (not failed, or add-ons that re-run with their base).",
            messages.SUCCESS if not (failed or refused) else messages.WARNING,
        )


@admin.register(MigrationBatch)
class MigrationBatchAdmin(_ServiceOwnedAdmin):
    list_display = [
        "external_reference_id",
        "organization",
        "file_name",
        "row_count",
        "progress",
        "created_by",
    ]
    list_filter = ["created_at"]
    search_fields = ["external_reference_id", "file_name", "organization__legal_name"]
    list_select_related = ["organization", "job", "created_by"]
    raw_id_fields = ["organization", "job", "created_by"]

    @admin.display(description="Job")
    def progress(self, obj: MigrationBatch):
        if obj.job is None:
            return "—"
        result = ", ".join(f"{k} {v}" for k, v in (obj.job.result or {}).items())
        return format_html(
            "{} · {} / {} ({}%) {}",
            obj.job.get_status_display(),
            obj.job.done,
            obj.job.total,
            obj.job.percent,
            result,
        )


@admin.register(MigrationSchedule)
class MigrationScheduleAdmin(_ServiceOwnedAdmin):
    """Partners' migration schedules: read-only; the daily run and the partner's pages change them."""

    list_display = [
        "schedule_id",
        "organization",
        "customer",
        "current_subscription",
        "status",
        "target_date",
        "migrate_on_renewal",
        "external_reference_id",
        "error_code",
        "created_time",
    ]
    list_filter = ["status", "migrate_on_renewal", "term_duration", "billing_cycle"]
    search_fields = [
        "schedule_id",
        "current_subscription__subscription_id",
        "customer__name",
        "external_reference_id",
    ]
    list_select_related = ["organization", "customer", "current_subscription__offer"]
    raw_id_fields = ["organization", "customer", "current_subscription", "migration", "created_by"]
    date_hierarchy = "created_time"
    show_full_result_count = False
