"""The vendor-side admin of earnings: programs and rates, enrollments, transactions, payout runs,
payments and the ledger.

Programs, engagements, levers, rates, exchange rates and enrollments are vendor data edited here.
Transactions, earnings, ineligible rows and payments are written by the services only, so they
are read-only; the writes made here (file uploads, payout runs, payment status moves, holds and
manual adjustments) call earnings.services.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_imports import OrganizationImportAdminMixin
from earnings.admin_forms import (
    AdjustmentForm,
    EarningRateForm,
    EarningRateInlineFormSet,
    EnrollmentForm,
    PaymentStatusForm,
    PayoutRunForm,
    TransactionUploadForm,
)
from earnings.imports import TRANSACTIONS_IMPORTER
from earnings.models import (
    Earning,
    EarningRate,
    Engagement,
    Enrollment,
    ExchangeRate,
    IneligibleTransaction,
    Lever,
    Payment,
    Program,
    Transaction,
    TransactionUpload,
)
from earnings.periods import format_month
from earnings.services.engine import JOB_KIND_PAYOUT_RUN, payout_run_start
from earnings.services.ledger import adjustment_create
from earnings.services.payments import hold_set, payment_status_change
from earnings.services.transactions import transactions_import_start
from portal.admin_base import ReadOnlyInline, ServiceOwnedAdmin, action_with_form
from portal.jobs import JobRun

PAYOUT_RUNS_SHOWN = 50


# --- Programs, engagements, levers and rates ------------------------------------------------------


class EngagementInline(admin.TabularInline):
    model = Engagement
    extra = 0
    fields = ["engagement_id", "name", "solution_area", "min_transaction_usd", "starts_on", "ends_on"]
    show_change_link = True


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "payment_lag_months", "min_payment_usd", "starts_on", "ends_on"]
    search_fields = ["name", "code"]
    inlines = [EngagementInline]


class LeverInline(admin.TabularInline):
    model = Lever
    extra = 0
    fields = ["name", "partner_role", "partner_association", "earning_type"]
    show_change_link = True


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "engagement_id",
        "program",
        "solution_area",
        "excluded",
        "min_transaction_usd",
        "starts_on",
        "ends_on",
    ]
    list_filter = ["program", "solution_area"]
    search_fields = ["name", "engagement_id", "program__name"]
    list_select_related = ["program"]
    inlines = [LeverInline]

    @admin.display(description="Excluded segments")
    def excluded(self, obj: Engagement) -> str:
        return ", ".join(obj.excluded_segments) or "—"


class EarningRateInline(admin.TabularInline):
    model = EarningRate
    form = EarningRateForm
    formset = EarningRateInlineFormSet
    extra = 0
    fields = ["product_id", "segment", "rate", "min_quantity", "valid_from", "valid_to"]


@admin.register(Lever)
class LeverAdmin(admin.ModelAdmin):
    list_display = ["name", "engagement", "partner_role", "partner_association", "earning_type"]
    list_filter = ["engagement__program", "engagement", "partner_role", "earning_type"]
    search_fields = ["name", "engagement__name"]
    list_select_related = ["engagement"]
    inlines = [EarningRateInline]


@admin.register(EarningRate)
class EarningRateAdmin(admin.ModelAdmin):
    form = EarningRateForm
    list_display = [
        "lever",
        "product_id",
        "segment",
        "rate_percent",
        "min_quantity",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["lever", "product_id", "segment"]
    search_fields = ["product_id", "lever__name", "lever__engagement__name"]
    list_select_related = ["lever__engagement"]
    date_hierarchy = "valid_from"

    @admin.display(description="Rate", ordering="rate")
    def rate_percent(self, obj: EarningRate) -> str:
        return f"{obj.rate:.2%}"


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate_date", "rate_to_usd"]
    list_filter = ["currency"]
    search_fields = ["currency"]
    date_hierarchy = "rate_date"


# --- Enrollments: payment prerequisites and holds -------------------------------------------------


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    form = EnrollmentForm
    list_display = [
        "participant_id",
        "participant_name",
        "organization",
        "program",
        "location",
        "enrolled_from",
        "enrolled_to",
        "bank_profile_ok",
        "tax_profile_ok",
        "hold_payment",
        "ar_overdue",
        "payment_currency",
    ]
    list_filter = [
        "program",
        "bank_profile_ok",
        "tax_profile_ok",
        "hold_payment",
        "ar_overdue",
        "payment_currency",
    ]
    search_fields = ["participant_id", "participant_name", "organization__legal_name"]
    list_select_related = ["organization", "program", "location"]
    raw_id_fields = ["organization", "location"]
    readonly_fields = ["hold_payment", "blockers"]
    actions = ["hold", "release_hold"]

    @admin.display(description="Payment blockers")
    def blockers(self, obj: Enrollment) -> str:
        return " ".join(obj.payment_blockers) or "None: payments are released in their month."

    @admin.action(description="Hold payments of the selected enrollments", permissions=["change"])
    def hold(self, request, queryset):
        self._hold(request, queryset, hold=True)

    @admin.action(description="Release the payment hold of the selected enrollments", permissions=["change"])
    def release_hold(self, request, queryset):
        self._hold(request, queryset, hold=False)

    def _hold(self, request, queryset, *, hold: bool) -> None:
        for enrollment in queryset.order_by("pk"):
            hold_set(enrollment=enrollment, hold=hold, actor=request.user)
        verb = "held" if hold else "released"
        self.message_user(request, f"Payments of {queryset.count()} enrollment(s) {verb}.", messages.SUCCESS)


# --- Transactions and their files -----------------------------------------------------------------


@admin.register(Transaction)
class TransactionAdmin(ServiceOwnedAdmin):
    list_display = [
        "transaction_id",
        "transaction_date",
        "organization",
        "customer_name",
        "product_id",
        "product_name",
        "solution_area",
        "partner_role",
        "quantity",
        "transaction_currency",
        "transaction_amount",
        "transaction_amount_usd",
        "source",
    ]
    list_filter = ["source", "solution_area", "partner_role", "transaction_type", "transaction_currency"]
    search_fields = [
        "=transaction_id",
        "customer_name",
        "=customer_tenant_id",
        "product_id",
        "product_name",
        "=invoice_number",
    ]
    list_select_related = ["organization"]
    date_hierarchy = "transaction_date"


@admin.register(TransactionUpload)
class TransactionUploadAdmin(OrganizationImportAdminMixin, admin.ModelAdmin):
    """Adding one means uploading a usage/billing file for an organization: an import job
    (earnings.imports) whose page the admin is sent to."""

    list_display = ["file_name", "organization", "row_count", "uploaded_by", "uploaded_at", "rows_link"]
    list_filter = ["uploaded_at"]
    search_fields = ["file_name", "organization__legal_name"]
    list_select_related = ["organization", "uploaded_by"]
    readonly_fields = ["file_name", "organization", "row_count", "uploaded_by", "uploaded_at", "rows_link"]
    fields = readonly_fields
    import_form_class = TransactionUploadForm
    import_template = "admin/earnings/transaction_upload.html"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Its transactions may have earned already: they stay, and so does the file they came from.
        return False

    @admin.display(description="Transactions")
    def rows_link(self, obj: TransactionUpload):
        url = reverse("admin:earnings_transaction_changelist")
        return format_html('<a href="{}?upload__id__exact={}">{} rows</a>', url, obj.pk, obj.row_count)

    def get_urls(self):
        return [*self.import_job_urls(), *super().get_urls()]

    def may_import(self, request) -> bool:
        return self.has_add_permission(request)

    def import_importer(self, request):
        return TRANSACTIONS_IMPORTER

    def import_start(self, request, form) -> JobRun:
        return transactions_import_start(
            organization=form.cleaned_data["organization"],
            upload=form.cleaned_data["file"],
            actor=request.user,
            valid_rows_only=form.cleaned_data["valid_rows_only"],
        )

    def add_view(self, request, form_url="", extra_context=None):
        return self.import_page(request, title="Upload usage or billing transactions")


# --- Payments and payout runs ---------------------------------------------------------------------


class PaymentEarningInline(ReadOnlyInline):
    model = Earning
    fk_name = "payment"
    fields = [
        "earning_id",
        "kind",
        "lever",
        "customer_name",
        "product_name",
        "earning_amount",
        "currency",
        "earning_amount_usd",
        "earning_date",
        "payment_status",
    ]
    readonly_fields = fields
    verbose_name_plural = "earnings paid by this payment"


@admin.register(Payment)
class PaymentAdmin(ServiceOwnedAdmin):
    change_list_template = "admin/earnings/payment/change_list.html"
    list_display = [
        "payment_id",
        "organization",
        "participant",
        "program",
        "payment_month",
        "status",
        "currency",
        "earned",
        "sales_tax",
        "total_payment",
        "earned_usd",
        "payment_date",
    ]
    list_filter = ["status", "program", ("payment_month", admin.AllValuesFieldListFilter), "currency"]
    search_fields = ["=payment_id", "enrollment__participant_id", "organization__legal_name"]
    list_select_related = ["organization", "enrollment", "program"]
    date_hierarchy = "payment_month"
    inlines = [PaymentEarningInline]
    actions = ["change_status"]

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is read-only; status moves go through the action (payment_status_change).
        return obj is None and request.user.has_perm("earnings.change_payment")

    @admin.display(description="participantId", ordering="enrollment__participant_id")
    def participant(self, obj: Payment) -> str:
        return obj.enrollment.participant_id

    @admin.action(description="Move the selected payments to another status…", permissions=["change"])
    def change_status(self, request, queryset):
        return action_with_form(
            self,
            request,
            queryset,
            form_class=PaymentStatusForm,
            title="Move payment status",
            action="change_status",
            apply=lambda payment, data: payment_status_change(
                payment=payment, to_status=data["to_status"], actor=request.user, note=data["note"]
            ),
        )

    def get_urls(self):
        runs = path(
            "payout-runs/", self.admin_site.admin_view(self.payout_runs_view), name="earnings_payout_runs"
        )
        return [runs, *super().get_urls()]

    def payout_runs_view(self, request):
        """Start a payout run for a period, watch the runs' progress, and re-run a period."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        may_run = self.has_change_permission(request)
        form = PayoutRunForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and may_run and form.is_valid():
            period = form.cleaned_data["period"]
            job = payout_run_start(period=period, actor=request.user)
            again = "Re-run" if "rerun" in request.POST else "Payout run"
            self.message_user(
                request, f"{again} of {format_month(period)} queued as job #{job.pk}.", messages.SUCCESS
            )
            return HttpResponseRedirect(request.path)
        runs = list(
            JobRun.objects.filter(kind=JOB_KIND_PAYOUT_RUN).select_related("created_by")[:PAYOUT_RUNS_SHOWN]
        )
        for run in runs:
            run.period = run.parameters.get("period", "")
            run.counts = {k: v for k, v in (run.result or {}).items() if k not in ("period",)}
        return TemplateResponse(
            request,
            "admin/earnings/payout_runs.html",
            {
                **self.admin_site.each_context(request),
                "title": "Payout runs",
                "form": form,
                "may_run": may_run,
                "runs": runs,
                "watching": any(not run.is_finished for run in runs),
                "opts": self.model._meta,
            },
        )


# --- The ledger ------------------------------------------------------------------------------------


@admin.register(Earning)
class EarningAdmin(ServiceOwnedAdmin):
    """Read-only, except "Add" which books a manual adjustment (earnings.services.ledger)."""

    list_display = [
        "earning_id",
        "kind",
        "organization",
        "participant",
        "program",
        "lever",
        "transaction_link",
        "earning_amount",
        "currency",
        "earning_amount_usd",
        "earning_date",
        "estimated_payment_month",
        "payment_status",
        "reason_code",
    ]
    list_filter = ["kind", "payment_status", "program", "solution_area", "partner_role", "earning_type"]
    search_fields = ["=earning_id", "=transaction__transaction_id", "customer_name", "product_id"]
    list_select_related = ["organization", "enrollment", "program", "lever__engagement", "transaction"]

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("earnings.add_earning")

    @admin.display(description="participantId", ordering="enrollment__participant_id")
    def participant(self, obj: Earning) -> str:
        return obj.enrollment.participant_id

    @admin.display(description="transactionId")
    def transaction_link(self, obj: Earning):
        if obj.transaction_id is None:
            return "—"
        url = reverse("admin:earnings_transaction_change", args=[obj.transaction_id])
        return format_html('<a href="{}">{}</a>', url, obj.transaction.transaction_id)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                row = adjustment_create(
                    enrollment=data["enrollment"],
                    amount=data["amount"],
                    currency=data["currency"],
                    reason_code=data["reason_code"],
                    note=data["note"],
                    actor=request.user,
                    earning=data["earning"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(
                    request,
                    f"Adjustment {row.earning_id} of {row.earning_amount:,.2f} {row.currency} booked for "
                    f"{row.enrollment.participant_id}; the next payout run pays it.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:earnings_earning_change", args=[row.pk]))
        return TemplateResponse(
            request,
            "admin/earnings/adjustment_form.html",
            {
                **self.admin_site.each_context(request),
                "title": "Book a manual adjustment",
                "form": form,
                "opts": self.model._meta,
            },
        )


@admin.register(IneligibleTransaction)
class IneligibleTransactionAdmin(ServiceOwnedAdmin):
    list_display = [
        "transaction",
        "transaction_date",
        "organization",
        "customer",
        "product",
        "engagement",
        "program",
        "reason_code",
        "calculation_date",
    ]
    list_filter = ["reason_code", "program", "engagement"]
    search_fields = [
        "=transaction__transaction_id",
        "transaction__customer_name",
        "transaction__product_id",
        "transaction__product_name",
    ]
    list_select_related = ["transaction", "organization", "engagement", "program"]

    @admin.display(description="transactionDate", ordering="transaction__transaction_date")
    def transaction_date(self, obj: IneligibleTransaction):
        return obj.transaction.transaction_date

    @admin.display(description="customerName")
    def customer(self, obj: IneligibleTransaction) -> str:
        return obj.transaction.customer_name

    @admin.display(description="productName")
    def product(self, obj: IneligibleTransaction) -> str:
        return obj.transaction.product_name
