"""The referral pages: the workspace's list, a referral with its activity feed, its edit form and
the accept, decline and close actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cosell.choices import HistorySource, ReferralStatus
from cosell.filters import ReferralFilterSet
from cosell.forms import CloseForm, DeclineForm, ReferralEditForm
from cosell.models import Referral
from cosell.selectors.activity import activity_feed
from cosell.selectors.referrals import (
    TABS,
    referral_capabilities,
    referral_for,
    referrals_connected,
    referrals_of_tab,
)
from cosell.selectors.routing import routing_explanation
from cosell.services import referrals as referral_services
from portal.capabilities import Capability
from portal.htmx import htmx_partial
from portal.paging import LIST_PAGE_SIZE, keyset_page
from portal.tenancy import tenant_route
from portal.views import capability_required, post_action, query_without, require_capability

C = Capability
#: The Co-sell workspace is open to whoever works referrals: their own, or all of them.
REFERRAL_ACCESS = (C.REFERRALS_MANAGE_OWN, C.REFERRALS_MANAGE_ALL)
DENIED = "Your roles don't allow this in the Co-sell workspace."
CENT = Decimal("0.01")


def referral_or_404(request, pk: int) -> Referral:
    """The referral if the user's organization owns it and they may see it (else 404), and the
    row check: their own referral takes either Referrals capability, anyone else's managing all."""
    referral = referral_for(user=request.user, pk=pk)
    require_capability(request, *referral_capabilities(referral, request.user), message=DENIED)
    return referral


def detail_url(referral: Referral) -> str:
    return reverse("cosell:referral-detail", kwargs={"pk": referral.pk})


def errors_onto(form, exc: ValidationError, paths: dict[str, str]) -> None:
    """Puts a service's errors next to the field whose JSON path they name; the rest on top."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for path, errors in exc.message_dict.items():
        name = _field_for(path, paths)
        for message in errors:
            if name and name in form.fields:
                form.add_error(name, message)
            elif path in ("", "__all__", "non_field_errors"):
                form.add_error(None, message)
            else:
                form.add_error(None, f"{path}: {message}")


def _field_for(path: str, paths: dict[str, str]) -> str | None:
    """The form field of a JSON path, or of its nearest parent ("customerProfile.team[0].email")."""
    while path:
        if path in paths:
            return paths[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def money(value: Decimal | None) -> Decimal | None:
    """An amount as the forms show it: two decimals (the column keeps more)."""
    return value.quantize(CENT) if value is not None else None


# --- The list ---------------------------------------------------------------------------------------


@capability_required(*REFERRAL_ACCESS, message=DENIED)
def index(request):
    """Inbound referrals, the organization's own deals and the closed ones: filters, search, keyset
    pages, and the same number of queries however many rows."""
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "inbound"
    filterset = ReferralFilterSet(
        request.GET, queryset=referrals_of_tab(user=request.user, tab=tab), request=request
    )
    page = keyset_page(
        filterset.qs, field_name="created_at", after=request.GET.get("after"), size=LIST_PAGE_SIZE
    )
    context = {
        "filter": filterset,
        "page": page,
        "tab": tab,
        "tabs": TABS,
        "now": timezone.now(),
        "query_without_cursor": query_without(request, "after"),
        "query_without_tab": query_without(request, "after", "tab"),
    }
    template = "cosell/_referral_table.html" if htmx_partial(request) else "cosell/index.html"
    return render(request, template, context)


# --- A referral: page, edit, actions ----------------------------------------------------------------


@tenant_route(Referral)
@capability_required(*REFERRAL_ACCESS, message=DENIED)
def referral_detail(request, pk: int):
    referral = referral_or_404(request, pk)
    if referral.is_draft:
        return redirect("cosell:deal-step", pk=referral.pk, step=1)
    profile = referral.customer_profile or {}
    awaiting = referral.is_inbound and referral.status == ReferralStatus.NEW
    context = {
        "referral": referral,
        "address": profile.get("address") or {},
        "contacts": profile.get("team") or [],
        "requirements": referral.requirements or {},
        "feed": activity_feed(referral, viewer=request.user),
        "connected": referrals_connected(referral=referral, user=request.user),
        "awaiting": awaiting,
        "deadline_passed": bool(referral.expiration_at and referral.expiration_at <= timezone.now()),
        "open_for_edits": not referral.is_closed,
        "closable": referral.status == ReferralStatus.ACTIVE,
        "decline_form": DeclineForm(),
        "close_form": CloseForm(),
    }
    return render(request, "cosell/referral_detail.html", context)


@tenant_route(Referral)
@capability_required(*REFERRAL_ACCESS, message=DENIED)
def referral_routing(request, pk: int):
    """The routing card's "why, rule by rule", loaded when it is opened: the rules as they are
    today, replayed on the referral (only inbound referrals are routed)."""
    decision = routing_explanation(referral_or_404(request, pk))
    if decision is None:
        raise Http404("Only inbound referrals are routed.")
    return render(request, "cosell/_decision.html", {"decision": decision})


def _referral_initial(referral: Referral) -> dict[str, Any]:
    return {
        "etag": referral.etag,
        "name": referral.name,
        "external_reference_id": referral.external_reference_id,
        "customer_name": referral.customer_name,
        "customer_country": referral.customer_country,
        "customer_size": referral.customer_size,
        "deal_value": money(referral.deal_value),
        "currency": referral.currency,
        "closing_date": referral.closing_at.date() if referral.closing_at else None,
        "notes": referral.notes,
        "lead_temperature": referral.lead_temperature,
        "customer_marketplace_intent": referral.customer_marketplace_intent,
    }


@tenant_route(Referral)
@capability_required(*REFERRAL_ACCESS, message=DENIED)
def referral_edit(request, pk: int):
    referral = referral_or_404(request, pk)
    if referral.is_closed:
        messages.error(request, "A closed referral can't be edited.")
        return redirect(detail_url(referral))
    form = ReferralEditForm(request.POST or None, initial=_referral_initial(referral))
    if request.method == "POST" and form.is_valid():
        try:
            referral_services.referral_update(
                referral=referral,
                actor=request.user,
                data=form.document(referral),
                if_match=form.cleaned_data["etag"],
                partial=True,
                source=HistorySource.UI,
            )
        except ValidationError as exc:
            errors_onto(form, exc, ReferralEditForm.PATHS)
        else:
            messages.success(request, f"{referral.name} saved.")
            return redirect(detail_url(referral))
    return render(request, "cosell/referral_edit.html", {"referral": referral, "form": form})


def _valid(form, message: str = "") -> dict[str, Any]:
    """The form's data, or its errors (or `message`) as the action's ValidationError, which
    `post_action` shows as messages."""
    if not form.is_valid():
        raise ValidationError(message or [error for errors in form.errors.values() for error in errors])
    return form.cleaned_data


@tenant_route(Referral)
@capability_required(*REFERRAL_ACCESS, message=DENIED)
@require_POST
def referral_accept(request, pk: int):
    referral = referral_or_404(request, pk)
    return post_action(
        request,
        lambda: referral_services.referral_accept(referral=referral, actor=request.user),
        success=f"{referral.name} accepted.",
        back=detail_url(referral),
    )


@tenant_route(Referral)
@capability_required(*REFERRAL_ACCESS, message=DENIED)
@require_POST
def referral_decline(request, pk: int):
    referral = referral_or_404(request, pk)

    def decline() -> Referral:
        data = _valid(DeclineForm(request.POST), "Pick why you decline the referral.")
        return referral_services.referral_decline(
            referral=referral, actor=request.user, reason=data["reason"], loss_reason=data["loss_reason"]
        )

    return post_action(request, decline, success=f"{referral.name} declined.", back=detail_url(referral))


@tenant_route(Referral)
@capability_required(*REFERRAL_ACCESS, message=DENIED)
@require_POST
def referral_close(request, pk: int):
    referral = referral_or_404(request, pk)

    def close() -> Referral:
        data = _valid(CloseForm(request.POST))
        won = data["outcome"] == "won"
        return referral_services.referral_close(
            referral=referral,
            actor=request.user,
            won=won,
            reason=data["reason"],
            loss_reason="" if won else data["loss_reason"],
        )

    return post_action(
        request,
        close,
        success=lambda closed: f"{closed.name} closed as {closed.substatus.lower()}.",
        back=detail_url(referral),
    )
