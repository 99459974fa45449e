"""The page of one new-commerce subscription: its 7-day window, seats, cancellation and changes.

Reads through `visible_to` (another organization's subscription is a 404), acts through
`commerce.services.nce`. Each form carries a request id drawn when the page was shown, so a form
sent twice (a double click, a browser's retry) makes one change.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from commerce.choices import SubscriptionChangeKind, SubscriptionStatus
from commerce.models import NceSubscription, NceSubscriptionChange
from commerce.services.nce import (
    nce_credit,
    nce_subscription_cancel,
    nce_subscription_seats_change,
    nce_window,
)
from portal.capabilities import Capability, can
from portal.money import format_money
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import TenantDetailView, capability_required, post_action

C = Capability
ORDERS_DENIED = "Your roles don't allow changing orders."
#: Changes listed on the page, newest first.
CHANGES_SHOWN = 100


class NceSeatsForm(forms.Form):
    quantity = forms.IntegerField(label="Seats", min_value=0, max_value=1_000_000)
    request_id = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)


class NceCancelForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand the subscription ends now and cannot be restored.",
        error_messages={"required": "Tick the confirmation to cancel the subscription."},
    )
    request_id = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)


class NceSubscriptionDetailView(TenantDetailView):
    """One new-commerce subscription: the window, the seats and cancel forms, the changes."""

    model = NceSubscription
    capability = C.CUSTOMERS_VIEW
    template_name = "commerce/nce_subscription_detail.html"
    context_object_name = "subscription"
    select_related = ("customer", "availability__sku", "migrated_from__offer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription = self.object
        now = timezone.now()
        window = nce_window(subscription, now=now)
        active = subscription.status == SubscriptionStatus.ACTIVE
        may_change = active and can(self.request.user, C.ORDERS_PLACE)
        context.update(
            window=window,
            may_change=may_change,
            may_cancel=may_change and window.is_open,
            cancel_credit=(
                nce_credit(subscription, seats=subscription.quantity, on=timezone.localdate(now))
                if window.is_open
                else None
            ),
            seats_form=NceSeatsForm(initial={"quantity": subscription.quantity, "request_id": uuid.uuid4()}),
            cancel_form=NceCancelForm(initial={"request_id": uuid.uuid4()}),
            changes=subscription.changes.select_related("changed_by")[:CHANGES_SHOWN],
        )
        return context


def _back(pk: int) -> str:
    return reverse("commerce:nce-subscription-detail", args=[pk])


def _form_refused(request, form: forms.Form, pk: int):
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect(_back(pk))


def _done(change: NceSubscriptionChange) -> str:
    if change.replayed:
        return "This request was already carried out; nothing changed again."
    credit = f"; credit {format_money(change.credit, change.currency)}" if change.credit else ""
    if change.kind == SubscriptionChangeKind.CANCELLED:
        return f"Subscription cancelled{credit}."
    return f"Seats {change.quantity_before} → {change.quantity_after}{credit}."


@tenant_route(NceSubscription)
@require_POST
@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def nce_subscription_seats(request, pk: int):
    """Add seats (any time) or reduce them (inside the 7-day window)."""
    subscription = get_visible_or_404(NceSubscription, request.user, pk=pk)
    form = NceSeatsForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, form, pk)
    return post_action(
        request,
        lambda: nce_subscription_seats_change(
            actor=request.user,
            subscription=subscription,
            quantity=form.cleaned_data["quantity"],
            request_id=form.cleaned_data["request_id"],
        ),
        success=_done,
        back=_back(pk),
    )


@tenant_route(NceSubscription)
@require_POST
@capability_required(C.ORDERS_PLACE, message=ORDERS_DENIED)
def nce_subscription_cancel_view(request, pk: int):
    """Cancel inside the 7-day window, once the person has ticked the confirmation."""
    subscription = get_visible_or_404(NceSubscription, request.user, pk=pk)
    form = NceCancelForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, form, pk)
    return post_action(
        request,
        lambda: nce_subscription_cancel(
            actor=request.user, subscription=subscription, request_id=form.cleaned_data["request_id"]
        ),
        success=_done,
        back=_back(pk),
    )
