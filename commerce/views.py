"""Commerce pages: subscriptions, eligibility, single and batch migrations.

Views read through `commerce.selectors` and act through `commerce.services`. Price-list pages live
in views_pricing.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Customer
from commerce import bam_files, selectors, services
from commerce.choices import MigrationStatus, ScheduleStatus
from commerce.eligibility import migration_validate
from commerce.filters import LegacySubscriptionFilter, MigrationFilter, NceSubscriptionFilter
from commerce.forms import BatchUploadForm, MigrationForm
from commerce.models import LegacySubscription, Migration, MigrationBatch, NceSubscription
from portal.capabilities import Capability
from portal.files import csv_response
from portal.history import history_for
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import (
    TenantDetailView,
    TenantListView,
    capability_required,
    form_errors,
    post_action,
    query_without,
    require_capability,
)

C = Capability
ORDERS_DENIED = "Your roles don't allow placing orders."


@capability_required(C.CUSTOMERS_VIEW)
def index(request):
    return render(request, "commerce/index.html", {"summary": selectors.commerce_summary(request.user)})


class SubscriptionListView(TenantListView):
    """Legacy subscriptions across all customers, with whether each can move and why not."""

    model = LegacySubscription
    capability = C.CUSTOMERS_VIEW
    filterset_class = LegacySubscriptionFilter
    template_name = "commerce/subscription_list.html"
    partial_template_name = "commerce/_subscription_table.html"

    def get_queryset(self):
        rows = selectors.legacy_subscriptions(self.request.user)
        self.filterset = self.filterset_class(self.request.GET, queryset=rows, request=self.request)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = selectors.with_eligibility(context["object_list"])
        return context


class SubscriptionDetailView(TenantDetailView):
    """One legacy subscription: eligibility, the before/after and the migration form."""

    model = LegacySubscription
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/subscription_detail.html"
    context_object_name = "subscription"
    select_related = ("customer", "offer", "parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or MigrationForm(self.request.GET or None)
        options = form.service_kwargs() if form.is_bound and form.is_valid() else {}
        context["form"] = form
        context["eligibility"] = migration_validate(subscription=self.object, **options)
        context["migrations"] = selectors.subscription_migrations(self.object)
        # The schedule waiting (or running) for this subscription: commerce.views_schedules.
        context["schedule"] = self.object.migration_schedules.filter(
            status__in=[ScheduleStatus.CREATED, ScheduleStatus.PROCESSING]
        ).first()
        return context

    def post(self, request, *args, **kwargs):
        require_capability(request, C.ORDERS_PLACE, message=ORDERS_DENIED)
        self.object = self.get_object()
        form = MigrationForm(request.POST)
        if form.is_valid():
            try:
                migration = services.migration_create(
                    actor=request.user, subscription=self.object, **form.service_kwargs()
                )
            except ValidationError as exc:
                # The form posts hidden fields: every problem shows above its button.
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request, f"Migration {migration.migration_id}: {migration.get_status_display()}."
                )
                return redirect("commerce:migration-detail", pk=migration.pk)
        return self.render_to_response(self.get_context_data(form=form))


class NceSubscriptionListView(TenantListView):
    model = NceSubscription
    paginate_by = selectors.LIST_PAGE_SIZE
    capability = C.CUSTOMERS_VIEW
    filterset_class = NceSubscriptionFilter
    template_name = "commerce/nce_subscription_list.html"
    partial_template_name = "commerce/_nce_subscription_table.html"

    def get_queryset(self):
        rows = selectors.nce_subscriptions(self.request.user)
        self.filterset = self.filterset_class(self.request.GET, queryset=rows, request=self.request)
        return self.filterset.qs


@tenant_route(Customer)
@capability_required(C.CUSTOMERS_VIEW)
def customer_subscriptions(request, pk: int):
    """One customer's legacy and new-commerce subscriptions, with what can move."""
    customer = get_visible_or_404(Customer, request.user, pk=pk)
    legacy = selectors.legacy_subscriptions(request.user).filter(customer=customer)
    context = {
        "customer": customer,
        "rows": selectors.with_eligibility(legacy),
        "nce": selectors.nce_subscriptions(request.user).filter(customer=customer),
    }
    return render(request, "commerce/customer_subscriptions.html", context)


@capability_required(C.CUSTOMERS_VIEW)
def migration_list(request):
    """Every migration, newest first, a keyset page at a time; htmx gets the results only."""
    filterset = MigrationFilter(request.GET, queryset=selectors.migrations(request.user), request=request)
    page = keyset_page(
        filterset.qs, field_name="started_time", after=request.GET.get("after"), size=selectors.LIST_PAGE_SIZE
    )
    context = {
        "filter": filterset,
        "page": page,
        "query_without_cursor": query_without(request, "after"),
    }
    template = "commerce/_migration_results.html" if htmx_partial(request) else "commerce/migration_list.html"
    return render(request, template, context)


class MigrationDetailView(TenantDetailView):
    model = Migration
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/migration_detail.html"
    context_object_name = "migration"
    select_related = ("customer", "current_subscription__offer", "new_commerce_subscription", "batch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["history"] = history_for(self.object)
        context["add_ons"] = selectors.migration_add_ons(self.object)
        context["retryable"] = self.object.status == MigrationStatus.FAILED
        return context


@tenant_route(Migration)
@require_POST
@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def migration_retry(request, pk: int):
    migration = get_visible_or_404(Migration, request.user, pk=pk)
    return post_action(
        request,
        lambda: services.migration_retry(actor=request.user, migration=migration),
        success=lambda retried: f"Migration retried: {retried.get_status_display()}.",
        back=reverse("commerce:migration-detail", args=[pk]),
    )


@require_POST
@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def batch_from_selection(request):
    """Migrate the subscriptions ticked on the list, as one batch job."""
    ids = [value for value in request.POST.getlist("subscription") if value.isdigit()]
    chosen = selectors.legacy_subscriptions(request.user).filter(pk__in=ids).values_list("pk", flat=True)
    return post_action(
        request,
        lambda: services.migration_batch_start(
            actor=request.user,
            organization=request.user.organization,
            rows=[{"id": pk} for pk in chosen],
        ),
        success=lambda batch: (
            f"Batch {batch.external_reference_id}: {batch.row_count} subscriptions to migrate."
        ),
        back=lambda batch: (
            reverse("commerce:batch-detail", args=[batch.pk])
            if batch
            else reverse("commerce:subscription-list")
        ),
    )


@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def batch_upload(request):
    """A batch file: checked on the import pipeline, then the batch of its rows runs as a job."""
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            job = services.migration_batch_import_start(
                actor=request.user,
                organization=request.user.organization,
                upload=form.cleaned_data["file"],
                external_reference_id=form.cleaned_data["external_reference_id"] or None,
                valid_rows_only=form.cleaned_data["valid_rows_only"],
            )
        except UploadRejected as exc:
            rejection = exc
        except ValidationError as exc:
            form_errors(form, exc, {"externalReferenceId": "external_reference_id"})
        else:
            return redirect("portal:job-detail", pk=job.pk)
    return render(request, "commerce/batch_form.html", {"form": form, "rejection": rejection})


@capability_required(C.CUSTOMERS_VIEW)
def batch_list(request):
    """Every batch, newest first, a keyset page at a time."""
    batches = selectors.batches(request.user)
    page = keyset_page(
        batches, field_name="created_at", after=request.GET.get("after"), size=selectors.LIST_PAGE_SIZE
    )
    context = {"page": page, "query_without_cursor": query_without(request, "after")}
    return render(request, "commerce/batch_list.html", context)


class BatchDetailView(TenantDetailView):
    """A batch: its progress, and every row's outcome — for a BAM upload the file's rows (migrated,
    skipped, rejected with Microsoft's code) with their price impact and the total per currency."""

    model = MigrationBatch
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/batch_detail.html"
    context_object_name = "batch"
    select_related = ("job",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["migrations"] = selectors.batch_migrations(self.object)
        context["bam_rows"] = bam_files.result_preview(self.object, limit=selectors.BATCH_MIGRATIONS_SHOWN)
        context["bam_rows_shown"] = selectors.BATCH_MIGRATIONS_SHOWN
        context["bam_counts"] = bam_files.batch_counts(self.object)
        context["price_totals"] = bam_files.batch_totals(self.object)
        return context


# --- Files in the NCE Batch Migration tool's layouts (commerce.bam_files) ------------------------------


@capability_required(C.CUSTOMERS_VIEW)
def subscriptions_bam_csv(request):
    """The listed legacy subscriptions (the list's filters) as the tool's subscriptions.csv, with
    their eligibility: edit Term, BillingPlan, SeatCount… and upload it as a batch."""
    rows = selectors.legacy_subscriptions(request.user)
    filterset = LegacySubscriptionFilter(request.GET, queryset=rows, request=request)
    content = bam_files.file_lines(bam_files.eligible_rows(filterset.qs, on=timezone.localdate()))
    return csv_response(content, f"subscriptions-{timezone.localdate():%Y-%m-%d}.csv")


@capability_required(C.CUSTOMERS_VIEW)
def nce_subscriptions_bam_csv(request):
    """The listed new-commerce subscriptions (the list's filters) as the tool's ncesubscriptions.csv."""
    rows = selectors.nce_subscriptions(request.user)
    filterset = NceSubscriptionFilter(request.GET, queryset=rows, request=request)
    content = bam_files.file_lines(bam_files.nce_rows(filterset.qs))
    return csv_response(content, f"ncesubscriptions-{timezone.localdate():%Y-%m-%d}.csv")


@tenant_route(MigrationBatch)
@capability_required(C.CUSTOMERS_VIEW)
def batch_result_csv(request, pk: int):
    """A BAM batch's result file: the uploaded rows with BatchId, MigrationId and what each became."""
    batch = get_visible_or_404(MigrationBatch.objects.select_related("job"), request.user, pk=pk)
    if bam_files.batch_rows_file(batch) is None:
        raise Http404("This batch has no result file: it was not uploaded as a BAM file.")
    content = bam_files.file_lines(bam_files.result_rows(batch))
    # Named as the tool names its upload output: <file>_<batch ID>.csv.
    name = f"{_safe_name(batch.file_name)}_{_safe_name(batch.external_reference_id)}.csv"
    return csv_response(content, name)


@tenant_route(MigrationBatch)
@capability_required(C.CUSTOMERS_VIEW)
def batch_status_csv(request, pk: int):
    """A batch's migrations in the tool's migration status layout (MigrationResult)."""
    batch = get_visible_or_404(MigrationBatch, request.user, pk=pk)
    content = bam_files.file_lines(bam_files.status_rows(batch))
    return csv_response(content, f"migrationstatus-{_safe_name(batch.external_reference_id)}.csv")


def _safe_name(text: str) -> str:
    """Part of a download's file name: the file's stem, only letters, digits, `-`, `_` and `.`."""
    stem = text.rsplit(".", 1)[0] if text.lower().endswith((".csv", ".tsv", ".xlsx", ".zip")) else text
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) or "batch"
