"""Commerce pages: subscriptions, eligibility, single and batch migrations.

Price-list pages live in views_pricing.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Customer
from commerce import services
from commerce.choices import MigrationStatus, SubscriptionStatus
from commerce.eligibility import eligibility_for, migration_validate
from commerce.filters import LegacySubscriptionFilter, MigrationFilter, NceSubscriptionFilter
from commerce.forms import BatchUploadForm, MigrationForm
from commerce.models import LegacySubscription, Migration, MigrationBatch, NceSubscription
from portal.capabilities import Capability, can
from portal.history import history_for
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import TenantDetailView, TenantListView

C = Capability


def index(request):
    if not can(request.user, C.CUSTOMERS_VIEW):
        raise PermissionDenied
    legacy = LegacySubscription.objects.visible_to(request.user)
    counts = legacy.aggregate(
        # distinct: the join to migrations repeats a subscription once per migration it had.
        active=Count("id", filter=Q(status=SubscriptionStatus.ACTIVE), distinct=True),
        migrated=Count("id", filter=Q(migrations__status=MigrationStatus.COMPLETED), distinct=True),
    )
    migrations = Migration.objects.visible_to(request.user)
    context = {
        "counts": counts,
        "failed": migrations.filter(status=MigrationStatus.FAILED).count(),
        "nce": NceSubscription.objects.visible_to(request.user)
        .filter(status=SubscriptionStatus.ACTIVE)
        .count(),
        "recent": migrations.select_related("customer", "current_subscription__offer")[:10],
        "batches": MigrationBatch.objects.visible_to(request.user).with_counts().select_related("job")[:5],
    }
    return render(request, "commerce/index.html", context)


class SubscriptionListView(TenantListView):
    """Legacy subscriptions across all customers, with whether each can move and why not."""

    model = LegacySubscription
    capability = C.CUSTOMERS_VIEW
    filterset_class = LegacySubscriptionFilter
    template_name = "commerce/subscription_list.html"
    partial_template_name = "commerce/_subscription_table.html"
    select_related = ("customer", "offer", "parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = list(context["object_list"])
        ids = [subscription.pk for subscription in page]
        results = eligibility_for(LegacySubscription.objects.visible_to(self.request.user).filter(pk__in=ids))
        context["rows"] = [(subscription, results.get(subscription.pk)) for subscription in page]
        context["can_migrate"] = can(self.request.user, C.ORDERS_PLACE)
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
        context["migrations"] = self.object.migrations.select_related("new_commerce_subscription")
        context["can_migrate"] = can(self.request.user, C.ORDERS_PLACE)
        return context

    def post(self, request, *args, **kwargs):
        if not can(request.user, C.ORDERS_PLACE):
            raise PermissionDenied("Your roles don't allow placing orders.")
        self.object = self.get_object()
        form = MigrationForm(request.POST)
        if form.is_valid():
            try:
                migration = services.migration_create(
                    actor=request.user, subscription=self.object, **form.service_kwargs()
                )
            except ValidationError as exc:
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
    capability = C.CUSTOMERS_VIEW
    filterset_class = NceSubscriptionFilter
    template_name = "commerce/nce_subscription_list.html"
    partial_template_name = "commerce/_nce_subscription_table.html"
    select_related = ("customer", "availability__sku", "migrated_from")


@tenant_route(Customer)
def customer_subscriptions(request, pk: int):
    """One customer's legacy and new-commerce subscriptions, with what can move."""
    if not can(request.user, C.CUSTOMERS_VIEW):
        raise PermissionDenied
    customer = get_visible_or_404(Customer, request.user, pk=pk)
    legacy = (
        LegacySubscription.objects.visible_to(request.user)
        .filter(customer=customer)
        .select_related("customer", "offer", "parent")
    )
    results = eligibility_for(legacy)
    context = {
        "customer": customer,
        "rows": [(subscription, results.get(subscription.pk)) for subscription in legacy],
        "nce": NceSubscription.objects.visible_to(request.user)
        .filter(customer=customer)
        .select_related("customer", "availability__sku", "migrated_from"),
        "can_migrate": can(request.user, C.ORDERS_PLACE),
    }
    return render(request, "commerce/customer_subscriptions.html", context)


class MigrationListView(TenantListView):
    model = Migration
    capability = C.CUSTOMERS_VIEW
    filterset_class = MigrationFilter
    template_name = "commerce/migration_list.html"
    partial_template_name = "commerce/_migration_table.html"
    select_related = ("customer", "current_subscription__offer", "new_commerce_subscription")


class MigrationDetailView(TenantDetailView):
    model = Migration
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/migration_detail.html"
    context_object_name = "migration"
    select_related = ("customer", "current_subscription__offer", "new_commerce_subscription", "batch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["history"] = history_for(self.object)
        context["add_ons"] = self.object.add_on_migrations.select_related("current_subscription__offer")
        context["can_retry"] = (
            can(self.request.user, C.ORDERS_PLACE) and self.object.status == MigrationStatus.FAILED
        )
        return context


@tenant_route(Migration)
@require_POST
def migration_retry(request, pk: int):
    if not can(request.user, C.ORDERS_PLACE):
        raise PermissionDenied
    migration = get_visible_or_404(Migration, request.user, pk=pk)
    try:
        services.migration_retry(actor=request.user, migration=migration)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("commerce:migration-detail", pk=pk)


@require_POST
def batch_from_selection(request):
    """Migrate the subscriptions ticked on the list, as one batch job."""
    if not can(request.user, C.ORDERS_PLACE):
        raise PermissionDenied
    ids = [value for value in request.POST.getlist("subscription") if value.isdigit()]
    chosen = LegacySubscription.objects.visible_to(request.user).filter(pk__in=ids)
    if not chosen:
        messages.error(request, "Tick at least one subscription to migrate.")
        return redirect("commerce:subscription-list")
    try:
        batch = services.migration_batch_start(
            actor=request.user,
            organization=request.user.organization,
            rows=[{"id": subscription.pk} for subscription in chosen],
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("commerce:subscription-list")
    return redirect("commerce:batch-detail", pk=batch.pk)


def batch_upload(request):
    if not can(request.user, C.ORDERS_PLACE):
        raise PermissionDenied
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            rows = services.migration_batch_validate(
                organization=request.user.organization, upload=form.cleaned_data["file"]
            )
        except UploadRejected as exc:
            rejection = exc
        else:
            batch = services.migration_batch_start(
                actor=request.user,
                organization=request.user.organization,
                rows=rows,
                external_reference_id=form.cleaned_data["external_reference_id"] or None,
                file_name=form.cleaned_data["file"].name,
            )
            return redirect("commerce:batch-detail", pk=batch.pk)
    return render(request, "commerce/batch_form.html", {"form": form, "rejection": rejection})


class BatchListView(TenantListView):
    model = MigrationBatch
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/batch_list.html"
    select_related = ("job",)

    def get_queryset(self):
        return super().get_queryset().with_counts()


class BatchDetailView(TenantDetailView):
    model = MigrationBatch
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/batch_detail.html"
    context_object_name = "batch"
    select_related = ("job",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["migrations"] = self.object.migrations.select_related(
            "customer", "current_subscription__offer"
        )[:500]
        return context
