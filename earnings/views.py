"""Earnings pages: earnings, revenue, ineligible revenue, payments, reports, payment profile.

Downloads and exports live in views_exports.py, reconciliation in views_reconcile.py. Each page
names the capability it needs; reads go through `earnings.selectors`, writes through
`earnings.services`.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from earnings import selectors
from earnings.filters import IneligibleFilterSet, PaymentFilterSet, TransactionFilterSet
from earnings.models import Earning, Enrollment, Payment
from earnings.services.payments import hold_set
from portal.capabilities import Capability
from portal.history import history_for
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import tenant_route
from portal.views import TenantDetailView, TenantListView, capability_required, post_action, query_without

C = Capability
DENIED = "Your roles don't allow the Earnings workspace."
#: The download hub (spec §6): (report as `earnings:download` names it, title, what it holds).
REPORTS = (
    ("earnings", "Earnings – Default", "Every earning row with its payment, in Partner Center's columns."),
    ("summarized", "Earnings – Summarized", "The same without earningId: one row per item and payment."),
    ("transactions", "Revenue (transactions)", "The billed and usage transactions earnings are computed on."),
    ("ineligible", "Ineligible revenue usage", "Transactions that earned nothing, with the reason."),
    ("payments", "Payments", "Payment orders: earned, taxes, total, status."),
)

viewing = capability_required(C.EARNINGS_VIEW, message=DENIED)


@viewing
def index(request):
    """Cards, the chart by month and lever, and the first page of the filtered earnings."""
    selection = selectors.earnings_selection(user=request.user, data=request.GET)
    page = keyset_page(
        selection.ledger.select_related("program", "engagement", "lever"),
        field_name="earning_date",
        after=request.GET.get("after"),
    )
    context = {
        "filter": selection.filterset,
        "page": page,
        "cards": selectors.earnings_cards(selection),
        "query_without_cursor": query_without(request, "after"),
        "query": request.GET.urlencode(),
        "chart": selectors.earnings_chart(selection).as_json(),
    }
    template = "earnings/_earnings_results.html" if htmx_partial(request) else "earnings/index.html"
    return render(request, template, context)


@viewing
def top_customers(request):
    """The top 50 earning customers of the selection, loaded into the Earnings page by htmx."""
    selection = selectors.earnings_selection(user=request.user, data=request.GET)
    customers, since = selectors.top_customers(selection)
    return render(request, "earnings/_top_customers.html", {"customers": customers, "since": since})


class EarningDetailView(TenantDetailView):
    """Every Partner Center field of one earning row, its transaction and its corrections."""

    model = Earning
    capability = C.EARNINGS_VIEW
    template_name = "earnings/earning_detail.html"
    context_object_name = "earning"

    def get_object(self, queryset=None):
        earning = selectors.earning_for_page(user=self.request.user, pk=self.kwargs["pk"])
        if earning is None:
            raise Http404("No earning of your organization has this id.")
        return earning

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        corrections = selectors.earning_corrections(user=self.request.user, earning=self.object)
        context["corrections"] = list(corrections)
        context["status_description"] = selectors.status_description(self.object.payment_status)
        return context


@viewing
def revenue(request):
    """Eligible and ineligible revenue (distinct transactions) and the transactions behind them."""
    user = request.user
    filterset = TransactionFilterSet(request.GET, queryset=selectors.transactions(user=user))
    page = keyset_page(
        selectors.with_earned(filterset.qs), field_name="transaction_date", after=request.GET.get("after")
    )
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    if htmx_partial(request):
        return render(request, "earnings/_transaction_table.html", context)
    context["totals"] = selectors.revenue_page_totals(user=user, filterset=filterset)
    return render(request, "earnings/revenue.html", context)


@viewing
def ineligible(request):
    """Every ineligible transaction with the reason it earned nothing, and the reasons summary."""
    user = request.user
    filterset = IneligibleFilterSet(request.GET, queryset=selectors.ineligible_rows(user=user))
    page = keyset_page(
        filterset.qs.select_related(*selectors.INELIGIBLE_COLUMNS),
        field_name="transaction_date",
        after=request.GET.get("after"),
    )
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    if htmx_partial(request):
        return render(request, "earnings/_ineligible_table.html", context)
    context["reasons"] = selectors.ineligible_page_reasons(user=user, filterset=filterset)
    return render(request, "earnings/ineligible.html", context)


class PaymentListView(TenantListView):
    model = Payment
    capability = C.EARNINGS_VIEW
    filterset_class = PaymentFilterSet
    template_name = "earnings/payment_list.html"
    partial_template_name = "earnings/_payment_table.html"

    def get_queryset(self):
        self.filterset = PaymentFilterSet(
            self.request.GET, queryset=selectors.payments(user=self.request.user), request=self.request
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for payment in context["object_list"]:
            payment.status_description, payment.status_action = selectors.status_description(payment.status)
        return context


class PaymentDetailView(TenantDetailView):
    """A remittance: the payment, its earnings summed per currency, history and blockers."""

    model = Payment
    capability = C.EARNINGS_VIEW
    template_name = "earnings/payment_detail.html"
    context_object_name = "payment"

    def get_object(self, queryset=None):
        payment = selectors.payment_for_page(user=self.request.user, pk=self.kwargs["pk"])
        if payment is None:
            raise Http404("No payment of your organization has this id.")
        return payment

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        payment = self.object
        context["remittance"] = selectors.remittance(payment)
        context["earnings"] = selectors.payment_earnings(user=self.request.user, payment=payment)
        context["earnings_shown"] = selectors.PAYMENT_EARNINGS_SHOWN
        context["history"] = history_for(payment)
        context["blockers"] = payment.enrollment.payment_blockers
        context["status_description"] = selectors.status_description(payment.status)
        return context


@viewing
def reports(request):
    """The download hub (spec §6): each report as CSV or XLSX with the current filters."""
    return render(request, "earnings/reports.html", {"reports": REPORTS, "query": request.GET.urlencode()})


@viewing
def payment_profile(request):
    """The partner's enrollments, what blocks their payments, and "Hold my payment"."""
    return render(
        request, "earnings/payment_profile.html", {"enrollments": selectors.enrollments(user=request.user)}
    )


@tenant_route(Enrollment)
@require_POST
@capability_required(
    # The payout profile belongs to whoever manages billing or the incentive programs.
    C.BILLING_MANAGE,
    C.INCENTIVES_MANAGE,
    message="Your roles don't allow changing payment holds.",
)
def hold_toggle(request, pk: int):
    enrollment = selectors.enrollment_for_page(user=request.user, pk=pk)
    if enrollment is None:
        raise Http404("No enrollment of your organization has this id.")
    hold = request.POST.get("hold") == "1"
    outcome = "on hold" if hold else "released"
    return post_action(
        request,
        lambda: hold_set(enrollment=enrollment, hold=hold, actor=request.user),
        success=f"Payments to {enrollment.participant_id} are {outcome}.",
        back=reverse("earnings:payment-profile"),
    )
