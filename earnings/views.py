"""Earnings pages: earnings, revenue, ineligible revenue, payments, reports, payment profile.

Downloads and exports live in views_exports.py, reconciliation in views_reconcile.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from earnings import queries
from earnings.filters import IneligibleFilterSet, PaymentFilterSet, TransactionFilterSet
from earnings.models import Earning, Enrollment, IneligibleTransaction, Payment, Transaction
from earnings.services.payments import hold_set
from portal.capabilities import Capability, can
from portal.history import history_for
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import TenantDetailView, TenantListView, query_without

C = Capability
EARNING_COLUMNS = ("program", "engagement", "lever", "enrollment", "payment", "transaction")
#: The download hub (spec §6): (report as `earnings:download` names it, title, what it holds).
REPORTS = (
    ("earnings", "Earnings – Default", "Every earning row with its payment, in Partner Center's columns."),
    ("summarized", "Earnings – Summarized", "The same without earningId: one row per item and payment."),
    ("transactions", "Revenue (transactions)", "The billed and usage transactions earnings are computed on."),
    ("ineligible", "Ineligible revenue usage", "Transactions that earned nothing, with the reason."),
    ("payments", "Payments", "Payment orders: earned, taxes, total, status."),
)


def _require_view(request) -> None:
    if not can(request.user, C.EARNINGS_VIEW):
        raise PermissionDenied("Your roles don't allow the Earnings workspace.")


def index(request):
    """Cards, the chart by month and lever, and the first page of the filtered earnings."""
    _require_view(request)
    selection = queries.earnings_selection(user=request.user, data=request.GET)
    page = keyset_page(
        selection.ledger.select_related("program", "engagement", "lever"),
        field_name="earning_date",
        after=request.GET.get("after"),
    )
    cards = queries.earnings_cards(selection)
    context = {
        "filter": selection.filterset,
        "page": page,
        "cards": cards,
        "query_without_cursor": query_without(request, "after"),
        "query": request.GET.urlencode(),
    }
    context["chart"] = queries.earnings_chart(selection).as_json()
    template = "earnings/_earnings_results.html" if htmx_partial(request) else "earnings/index.html"
    return render(request, template, context)


def top_customers(request):
    """The top 50 earning customers of the selection, loaded into the Earnings page by htmx."""
    _require_view(request)
    selection = queries.earnings_selection(user=request.user, data=request.GET)
    customers, since = queries.top_customers(selection)
    return render(request, "earnings/_top_customers.html", {"customers": customers, "since": since})


class EarningDetailView(TenantDetailView):
    """Every Partner Center field of one earning row, its transaction and its corrections."""

    model = Earning
    capability = C.EARNINGS_VIEW
    template_name = "earnings/earning_detail.html"
    context_object_name = "earning"
    select_related = (*EARNING_COLUMNS, "enrollment__location", "customer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        earning = self.object
        corrections = Earning.objects.none()
        if earning.transaction_id:
            corrections = (
                Earning.objects.visible_to(self.request.user)
                .filter(transaction_id=earning.transaction_id, lever_id=earning.lever_id)
                .exclude(pk=earning.pk)
                .order_by("revision", "id")
            )
        context["corrections"] = corrections
        context["status_description"] = queries.status_description(earning.payment_status)
        return context


def revenue(request):
    """Eligible and ineligible revenue (distinct transactions) and the transactions behind them."""
    _require_view(request)
    filterset = TransactionFilterSet(request.GET, queryset=Transaction.objects.visible_to(request.user))
    page = keyset_page(
        queries.with_earned(filterset.qs), field_name="transaction_date", after=request.GET.get("after")
    )
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    if htmx_partial(request):
        return render(request, "earnings/_transaction_table.html", context)
    context["totals"] = queries.revenue_totals(filterset.qs)
    return render(request, "earnings/revenue.html", context)


def ineligible(request):
    """Every ineligible transaction with the reason it earned nothing, and the reasons summary."""
    _require_view(request)
    filterset = IneligibleFilterSet(
        request.GET, queryset=IneligibleTransaction.objects.visible_to(request.user)
    )
    page = keyset_page(
        filterset.qs.select_related("transaction", "engagement", "program"),
        field_name="transaction__transaction_date",
        after=request.GET.get("after"),
    )
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    if htmx_partial(request):
        return render(request, "earnings/_ineligible_table.html", context)
    context["reasons"] = queries.ineligible_reasons(filterset.qs)
    return render(request, "earnings/ineligible.html", context)


class PaymentListView(TenantListView):
    model = Payment
    capability = C.EARNINGS_VIEW
    filterset_class = PaymentFilterSet
    template_name = "earnings/payment_list.html"
    partial_template_name = "earnings/_payment_table.html"
    select_related = ("program", "enrollment")

    def get_queryset(self):
        return super().get_queryset().annotate(tax=F("sales_tax") + F("service_fee_tax"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for payment in context["object_list"]:
            payment.status_description, payment.status_action = queries.status_description(payment.status)
        return context


class PaymentDetailView(TenantDetailView):
    """A remittance: the payment, its earnings summed per currency, history and blockers."""

    model = Payment
    capability = C.EARNINGS_VIEW
    template_name = "earnings/payment_detail.html"
    context_object_name = "payment"
    select_related = ("program", "enrollment")
    earnings_shown = 200

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        payment = self.object
        context["remittance"] = queries.remittance(payment)
        context["earnings"] = (
            Earning.objects.visible_to(self.request.user)
            .filter(payment=payment)
            .select_related("lever", "engagement")
            .order_by("-earning_date", "-id")[: self.earnings_shown]
        )
        context["earnings_shown"] = self.earnings_shown
        context["history"] = history_for(payment)
        context["blockers"] = payment.enrollment.payment_blockers
        context["status_description"] = queries.status_description(payment.status)
        return context


def reports(request):
    """The download hub (spec §6): each report as CSV or XLSX with the current filters."""
    _require_view(request)
    return render(request, "earnings/reports.html", {"reports": REPORTS, "query": request.GET.urlencode()})


def _can_hold(user) -> bool:
    # The payout profile belongs to whoever manages billing or the incentive programs.
    return can(user, C.BILLING_MANAGE) or can(user, C.INCENTIVES_MANAGE)


def payment_profile(request):
    """The partner's enrollments, what blocks their payments, and "Hold my payment"."""
    _require_view(request)
    enrollments = (
        Enrollment.objects.visible_to(request.user)
        .select_related("program", "location")
        .order_by("program__name", "participant_id")
    )
    return render(
        request,
        "earnings/payment_profile.html",
        {"enrollments": enrollments, "can_hold": _can_hold(request.user)},
    )


@tenant_route(Enrollment)
@require_POST
def hold_toggle(request, pk: int):
    enrollment = get_visible_or_404(Enrollment, request.user, pk=pk)
    if not _can_hold(request.user):
        raise PermissionDenied("Your roles don't allow changing payment holds.")
    hold = request.POST.get("hold") == "1"
    try:
        hold_set(enrollment=enrollment, hold=hold, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        if hold:
            messages.success(request, f"Payments to {enrollment.participant_id} are on hold.")
        else:
            messages.success(request, f"Payments to {enrollment.participant_id} are released.")
    return redirect("earnings:payment-profile")
