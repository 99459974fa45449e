"""Commerce pages: subscriptions, eligibility, single and batch migrations.

Views read through `commerce.selectors` and act through `commerce.services`. Price-list pages live
in views_pricing.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Customer
from commerce import selectors, services
from commerce.choices import MigrationStatus
from commerce.eligibility import migration_validate
from commerce.filters import LegacySubscriptionFilter, MigrationFilter, NceSubscriptionFilter
from commerce.forms import BatchUploadForm, MigrationForm
from commerce.models import LegacySubscription, Migration, MigrationBatch, NceSubscription
from portal.capabilities import Capability
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
    model = MigrationBatch
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/batch_detail.html"
    context_object_name = "batch"
    select_related = ("job",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["migrations"] = selectors.batch_migrations(self.object)
        return context
