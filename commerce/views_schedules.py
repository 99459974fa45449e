"""Migration schedule pages: the list, scheduling one or many legacy subscriptions (from the
subscription list's selection or a subscription's page), and a schedule's page with its edit form,
cancel button and history. Writers are in `commerce.services.schedules`."""

from __future__ import annotations

from dataclasses import replace

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from commerce import selectors
from commerce.choices import BillingCycle, ScheduleStatus, TermDuration
from commerce.filters import MigrationScheduleFilter
from commerce.models import MigrationSchedule
from commerce.services.schedules import (
    ScheduleRequest,
    schedule_cancel,
    schedule_create_many,
    schedule_run_day,
    schedule_update,
)
from portal.capabilities import Capability, can
from portal.history import history_for
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import (
    TenantDetailView,
    TenantListView,
    capability_required,
    form_errors,
    post_action,
    require_capability,
)

C = Capability
ORDERS_DENIED = "Your roles don't allow placing orders."
RENEWAL, ON_DATE = "renewal", "date"


class ScheduleForm(forms.Form):
    """When to migrate and how; blank term, billing and seats keep the legacy subscription's."""

    timing = forms.ChoiceField(
        label="When",
        choices=[(ON_DATE, "On a date"), (RENEWAL, "When the legacy term ends (on renewal)")],
        initial=ON_DATE,
        widget=forms.RadioSelect,
    )
    target_date = forms.DateField(
        required=False,
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="After today, at the latest the day the legacy term ends.",
    )
    purchase_full_term = forms.BooleanField(
        required=False,
        label="Start a new full term",
        help_text="On a date: otherwise the new subscription ends when the legacy term would. On renewal a "
        "new full term always starts.",
    )
    quantity = forms.IntegerField(min_value=1, required=False, help_text="Blank keeps each one's seats.")
    term_duration = forms.ChoiceField(
        choices=[("", "Keep the current term")] + list(TermDuration.choices), required=False, label="Term"
    )
    billing_cycle = forms.ChoiceField(
        choices=[("", "Keep the current billing")]
        + [(value, label) for value, label in BillingCycle.choices if value != BillingCycle.NONE],
        required=False,
        label="Billing",
    )
    external_reference_id = forms.CharField(max_length=100, required=False, label="Batch ID (optional)")

    #: The service's field names → this form's.
    ALIASES = {"migrate_on_renewal": "timing"}

    def clean(self):
        data = super().clean()
        if data.get("timing") == ON_DATE and not data.get("target_date"):
            self.add_error("target_date", "Choose the day to migrate, or migrate when the legacy term ends.")
        return data

    @classmethod
    def for_schedule(cls, schedule: MigrationSchedule, data=None) -> ScheduleForm:
        initial = {
            "timing": RENEWAL if schedule.migrate_on_renewal else ON_DATE,
            "target_date": schedule.target_date,
            "purchase_full_term": schedule.purchase_full_term,
            "quantity": schedule.quantity,
            "term_duration": schedule.term_duration,
            "billing_cycle": schedule.billing_cycle,
            "external_reference_id": schedule.external_reference_id,
        }
        return cls(data, initial=initial)

    def schedule_request(self, base: ScheduleRequest | None = None) -> ScheduleRequest:
        """The request the form asks for; what it has no field for (a custom term end date set
        through the API) is kept from `base`."""
        data = self.cleaned_data
        on_renewal = data["timing"] == RENEWAL
        return replace(
            base or ScheduleRequest(),
            target_date=None if on_renewal else data["target_date"],
            migrate_on_renewal=on_renewal,
            term_duration=data.get("term_duration") or "",
            billing_cycle=data.get("billing_cycle") or "",
            quantity=data.get("quantity"),
            purchase_full_term=bool(data.get("purchase_full_term")),
            external_reference_id=data.get("external_reference_id") or "",
        )


class ScheduleListView(TenantListView):
    """Every migration schedule, newest first."""

    model = MigrationSchedule
    capability = C.CUSTOMERS_VIEW
    filterset_class = MigrationScheduleFilter
    template_name = "commerce/schedule_list.html"
    partial_template_name = "commerce/_schedule_table.html"
    select_related = ("customer", "current_subscription__offer", "migration")


@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def schedule_new(request):
    """Schedule the subscriptions ticked on the list (or named in the link): the form, then the
    schedules, all or none."""
    source = request.POST if request.method == "POST" else request.GET
    ids = [value for value in source.getlist("subscription") if value.isdigit()]
    chosen = list(
        selectors.legacy_subscriptions(request.user).filter(pk__in=ids).select_related("customer", "offer")
    )
    # The list's selection posts only the ticked subscriptions; this page's form also posts `timing`.
    if request.method == "POST" and "timing" in request.POST:
        form = ScheduleForm(request.POST)
        if form.is_valid():
            try:
                schedules = schedule_create_many(
                    actor=request.user, subscriptions=chosen, request=form.schedule_request()
                )
            except ValidationError as exc:
                form_errors(form, exc, ScheduleForm.ALIASES)
            else:
                count = len(schedules)
                messages.success(request, f"{count} migration{'s' if count != 1 else ''} scheduled.")
                if count == 1:
                    return redirect("commerce:schedule-detail", pk=schedules[0].pk)
                return redirect("commerce:schedule-list")
    else:
        form = ScheduleForm()
    return render(request, "commerce/schedule_form.html", {"form": form, "subscriptions": chosen})


class ScheduleDetailView(TenantDetailView):
    """One schedule: what and when, its migration once it ran, the edit form while it waits."""

    model = MigrationSchedule
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/schedule_detail.html"
    context_object_name = "schedule"
    select_related = ("customer", "current_subscription__offer", "migration", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = self.object
        waiting = schedule.status == ScheduleStatus.CREATED
        may_order = can(self.request.user, C.ORDERS_PLACE)
        run_day = schedule_run_day(schedule, schedule.current_subscription)
        context["run_day"] = run_day
        context["cancellable"] = waiting and may_order
        context["editable"] = waiting and may_order and timezone.localdate() < run_day
        context["form"] = kwargs.get("form") or ScheduleForm.for_schedule(schedule)
        context["history"] = history_for(schedule)
        return context

    def post(self, request, *args, **kwargs):
        require_capability(request, C.ORDERS_PLACE, message=ORDERS_DENIED)
        self.object = self.get_object()
        form = ScheduleForm.for_schedule(self.object, request.POST)
        if form.is_valid():
            try:
                schedule_update(
                    actor=request.user,
                    schedule=self.object,
                    request=form.schedule_request(base=ScheduleRequest.of(self.object)),
                )
            except ValidationError as exc:
                form_errors(form, exc, ScheduleForm.ALIASES)
            else:
                messages.success(request, "Schedule updated.")
                return redirect("commerce:schedule-detail", pk=self.object.pk)
        return self.render_to_response(self.get_context_data(form=form))


@tenant_route(MigrationSchedule)
@require_POST
@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def schedule_cancel_view(request, pk: int):
    schedule = get_visible_or_404(MigrationSchedule, request.user, pk=pk)
    return post_action(
        request,
        lambda: schedule_cancel(actor=request.user, schedule=schedule),
        success="Schedule cancelled.",
        back=reverse("commerce:schedule-detail", args=[pk]),
    )
