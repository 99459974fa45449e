"""Incentives pages: overview, catalogue, opportunities, claims (list, wizard, detail, actions,
outcomes) and the customer's public consent page.

Each page names the capability it needs; reads go through `incentives.selectors`, writes
through the services (`incentives.services`), whose ValidationErrors are shown as they are.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from incentives import selectors
from incentives import services as claim_services
from incentives.choices import OPEN_STAGES, PARTNER_TURN, ClaimStatus, PayPattern
from incentives.filters import ActivityTypeFilterSet, ClaimFilterSet, OpportunityFilterSet
from incentives.forms import (
    ActivityStepForm,
    CancelForm,
    ConsentForm,
    CustomerStepForm,
    DetailsStepForm,
    ProofForm,
    RespondForm,
    SubmitForm,
)
from incentives.models import ActivityType, Claim, Opportunity, ProofDocument
from incentives.services.eligibility import customer_eligibility
from portal.capabilities import Capability
from portal.history import history_for
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import tenant_route
from portal.views import capability_required, post_action, query_without, require_capability

C = Capability
DENIED = "Your roles don't allow this in the Incentives workspace."
CONSENT_SESSION_KEY = "incentives-consent-url-{pk}"

PROOF_OPEN = (
    ClaimStatus.IN_PROGRESS,
    ClaimStatus.PENDING_POE,
    ClaimStatus.PARTNER_ACTION_REQUIRED,
    ClaimStatus.REJECTED,
)
SUBMITTABLE = (ClaimStatus.PENDING_POE,)
RESPONDABLE = (ClaimStatus.PARTNER_ACTION_REQUIRED, ClaimStatus.REJECTED)
CONSENT_REQUESTABLE = (ClaimStatus.DRAFT, ClaimStatus.PENDING_CONSENT)

viewing = capability_required(C.INCENTIVES_VIEW, message=DENIED)
claiming = capability_required(C.INCENTIVES_CLAIMS, message=DENIED)


def _found(row: Any) -> Any:
    if row is None:
        raise Http404("Not found in your organization.")
    return row


def _claim_url(claim: Claim) -> str:
    return reverse("incentives:claim-detail", args=[claim.pk])


# --- Overview, catalogue, opportunities ----------------------------------------------------------


@viewing
def index(request):
    """Counts and amounts by status, claims and approved payouts by month, what needs the partner."""
    user = request.user
    totals = selectors.status_totals(user=user)
    context = {
        "totals": totals,
        "claim_count": sum(t.count for t in totals),
        "potential_usd": selectors.open_potential_usd(totals),
        "approved_usd": sum((t.approved_usd for t in totals), start=selectors.ZERO),
        "chart": selectors.claims_chart(user=user).as_json(),
        "waiting": selectors.claims_waiting(user=user),
        "open_opportunities": selectors.open_opportunity_count(user=user),
    }
    return render(request, "incentives/index.html", context)


@viewing
def catalogue(request):
    """Every activity with its pay pattern, today's fee or rate and cap per market tier, dates."""
    filterset = ActivityTypeFilterSet(
        request.GET, queryset=selectors.catalogue(user=request.user), request=request
    )
    context = {"filter": filterset, "activities": filterset.qs, "today": timezone.localdate()}
    template = "incentives/_activity_table.html" if htmx_partial(request) else "incentives/catalogue.html"
    return render(request, template, context)


@tenant_route(ActivityType)
@viewing
def activity_detail(request, pk: int):
    activity = _found(selectors.activity_for_page(user=request.user, pk=pk))
    context = {
        "activity": activity,
        "rates": selectors.activity_rates(activity),
        "required_proof": selectors.proof_labels(activity.required_proof),
        "own_claims": selectors.own_claim_count(user=request.user, activity=activity),
        "today": timezone.localdate(),
    }
    return render(request, "incentives/activity_detail.html", context)


@viewing
def opportunity_list(request):
    """The seller opportunities shared with the organization; open ones unless asked otherwise."""
    data = request.GET.copy()
    if "open" not in data:
        data["open"] = "true"
    filterset = OpportunityFilterSet(
        data, queryset=selectors.opportunities(user=request.user), request=request
    )
    page = keyset_page(
        filterset.qs,
        field_name="imported_at",
        after=request.GET.get("after"),
        size=selectors.PAGE_SIZE,
    )
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    template = (
        "incentives/_opportunity_table.html" if htmx_partial(request) else "incentives/opportunity_list.html"
    )
    return render(request, template, context)


@tenant_route(Opportunity)
@viewing
def opportunity_detail(request, pk: int):
    """The variable activities of the opportunity's solution area, each with its potential payout."""
    user = request.user
    opportunity = _found(selectors.opportunities(user=user).filter(pk=pk).first())
    locations = list(selectors.partner_locations(user=user))
    location = next((loc for loc in locations if str(loc.pk) == request.GET.get("location")), None)
    location = location or (locations[0] if locations else None)
    context = {
        "opportunity": opportunity,
        "open": opportunity.stage in OPEN_STAGES,
        "locations": locations,
        "location": location,
        "offers": selectors.opportunity_offers(user=user, opportunity=opportunity, location=location),
        "claims": selectors.opportunity_claims(user=user, opportunity=opportunity),
    }
    return render(request, "incentives/opportunity_detail.html", context)


# --- Claims: list and wizard ----------------------------------------------------------------------


@viewing
def claim_list(request):
    """Filters and search over the organization's claims; keyset pages, a fixed number of queries."""
    filterset = ClaimFilterSet(request.GET, queryset=selectors.claims(user=request.user), request=request)
    page = keyset_page(
        filterset.qs, field_name="created_at", after=request.GET.get("after"), size=selectors.PAGE_SIZE
    )
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    template = "incentives/_claim_table.html" if htmx_partial(request) else "incentives/claim_list.html"
    return render(request, template, context)


def _wizard_customer(user, params) -> tuple[Any, list, bool]:
    """The customer step 2 names — by id (a link, or the match chosen), by the opportunity the
    wizard started from, or the only match of the search — else the matches to choose from and
    whether there are more than shown."""
    if params.get("customer"):
        return selectors.customer_for_page(user=user, pk=params["customer"]), [], False
    if params.get("opportunity"):
        chosen = selectors.opportunities(user=user).filter(pk=_int(params["opportunity"])).first()
        if chosen is not None:
            return chosen.customer, [], False
    matches = selectors.customers_matching(user=user, text=params.get("find", ""))
    if len(matches) == 1:
        return matches[0], [], False
    return None, matches[: selectors.CUSTOMER_MATCHES], len(matches) > selectors.CUSTOMER_MATCHES


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None


@claiming
def claim_new(request):
    """The claim wizard: activity + location, customer (+ opportunity) with the eligibility check,
    then the contact and names. Steps 1–2 live in the URL (GET), so a link can start anywhere."""
    user = request.user
    params = request.GET
    context: dict[str, Any] = {"step": 1}
    initial = {"activity": params.get("activity"), "location": params.get("location")}
    if not initial["location"]:
        location = selectors.default_location(user=user)
        initial["location"] = location.pk if location else None
    step1 = ActivityStepForm(
        params if params.get("location") and params.get("activity") else None, user=user, initial=initial
    )
    context["step1"] = step1
    context["carry"] = {key: params.get(key, "") for key in ("opportunity", "customer")}
    if not step1.is_bound or not step1.is_valid():
        return render(request, "incentives/claim_new.html", context)

    activity = step1.cleaned_data["activity"]
    location = step1.cleaned_data["location"]
    customer, matches, more = _wizard_customer(user, params)
    step2 = CustomerStepForm(
        params if customer is not None or params.get("find") else None,
        user=user,
        customer=customer,
        variable=activity.pay_pattern == PayPattern.VARIABLE,
        initial={"find": params.get("find", ""), "opportunity": params.get("opportunity")},
    )
    if customer is None and params.get("find") and not matches:
        step2.add_error("find", "None of your customers matches this; try part of the name or the domain.")
    context.update(
        step=2,
        step2=step2,
        activity=activity,
        location=location,
        customer=customer,
        matches=matches,
        more=more,
    )
    if customer is None or not step2.is_valid():
        return render(request, "incentives/claim_new.html", context)

    opportunity = step2.cleaned_data.get("opportunity")
    eligibility = customer_eligibility(
        activity_type=activity, customer=customer, location=location, opportunity=opportunity
    )
    context.update(opportunity=opportunity, eligibility=eligibility)
    context["payout"], context["payout_error"] = selectors.payout_or_errors(activity, location, opportunity)
    if not eligibility.eligible:
        return render(request, "incentives/claim_new.html", context)

    context["step"] = 3
    if request.method != "POST":
        context["step3"] = DetailsStepForm(initial={"friendly_name": f"{activity.name} – {customer.name}"})
        return render(request, "incentives/claim_new.html", context)
    step3 = DetailsStepForm(request.POST)
    context["step3"] = step3
    if not step3.is_valid():
        return render(request, "incentives/claim_new.html", context)
    try:
        claim = claim_services.claim_create(
            actor=user,
            activity_type=activity,
            location=location,
            customer=customer,
            opportunity=opportunity,
            **step3.cleaned_data,
        )
    except claim_services.ClaimRefused as exc:
        context["refused"] = list(exc.failures)
        return render(request, "incentives/claim_new.html", context)
    except ValidationError as exc:
        context["errors"] = exc.messages
        return render(request, "incentives/claim_new.html", context)
    messages.success(
        request, f"Claim {claim.claim_id} created. Next: send the consent request to the customer."
    )
    return redirect(_claim_url(claim))


# --- Claims: detail and actions -------------------------------------------------------------------


def _claim_or_404(request, pk: int) -> Claim:
    return _found(selectors.claim_for_page(user=request.user, pk=pk))


@tenant_route(Claim)
@viewing
def claim_detail(request, pk: int):
    claim = _claim_or_404(request, pk)
    shown = selectors.claim_page(user=request.user, claim=claim)
    payout, payout_error = selectors.payout_or_errors(claim.activity_type, claim.location, claim.opportunity)
    live = not claim.is_terminal
    context = {
        "claim": claim,
        "guidance": selectors.PARTNER_GUIDANCE.get(claim.status, ""),
        "show_expiry": claim.status in (*PARTNER_TURN, ClaimStatus.PENDING_CONSENT),
        "proof": shown.proof,
        "missing_proof": shown.missing_proof,
        "payout": payout,
        "payout_error": payout_error,
        "reviews": shown.reviews,
        "latest_review": shown.latest_review,
        "outcomes": shown.outcomes,
        "earnings": shown.earnings,
        "history": history_for(claim),
        "consent_url": request.session.get(CONSENT_SESSION_KEY.format(pk=claim.pk)),
        # What the claim's status allows; the template adds who may do it ({% can %}).
        "consent_open": claim.status in CONSENT_REQUESTABLE,
        "proof_open": claim.status in PROOF_OPEN,
        "submit_open": claim.status in SUBMITTABLE,
        "respond_open": claim.status in RESPONDABLE and bool(shown.reviews),
        "cancel_open": live and claim.status != ClaimStatus.APPROVED,
        "link_open": claim.status not in (ClaimStatus.CANCELED, ClaimStatus.EXPIRED),
        "proof_form": ProofForm(),
        "submit_form": SubmitForm(initial={"delivered_on": claim.delivered_on}),
        "respond_form": RespondForm(),
        "cancel_form": CancelForm(),
    }
    return render(request, "incentives/claim_detail.html", context)


@tenant_route(Claim)
@require_POST
@claiming
def claim_consent_request(request, pk: int):
    claim = _claim_or_404(request, pk)

    def send() -> None:
        url = claim_services.consent_request(claim=claim, actor=request.user)
        request.session[CONSENT_SESSION_KEY.format(pk=claim.pk)] = request.build_absolute_uri(url)

    return post_action(
        request,
        send,
        success=f"Consent request sent to {claim.contact_email or 'the customer contact'}.",
        back=_claim_url(claim),
    )


@tenant_route(Claim)
@require_POST
@claiming
def claim_proof(request, pk: int):
    claim = _claim_or_404(request, pk)
    form = ProofForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_claim_url(claim))
    return post_action(
        request,
        lambda: claim_services.proof_attach(
            claim=claim, kind=form.cleaned_data["kind"], file=form.cleaned_data["file"], actor=request.user
        ),
        success=lambda document: f"{document.original_name} attached as {document.get_kind_display()}.",
        back=_claim_url(claim),
    )


@tenant_route(ProofDocument)
@require_POST
@claiming
def claim_proof_remove(request, pk: int):
    document = _found(selectors.proof_document_for_page(user=request.user, pk=pk))
    return post_action(
        request,
        lambda: claim_services.proof_remove(document=document, actor=request.user),
        success=f"{document.original_name} removed.",
        back=_claim_url(document.claim),
    )


@tenant_route(Claim)
@require_POST
@claiming
def claim_submit(request, pk: int):
    claim = _claim_or_404(request, pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the day the activity was delivered.")
        return redirect(_claim_url(claim))
    return post_action(
        request,
        lambda: claim_services.claim_submit(
            claim=claim, actor=request.user, delivered_on=form.cleaned_data["delivered_on"]
        ),
        success=lambda submitted: f"Claim {submitted.claim_id} is now {submitted.get_status_display()}.",
        back=_claim_url(claim),
    )


@tenant_route(Claim)
@require_POST
@claiming
def claim_respond(request, pk: int):
    claim = _claim_or_404(request, pk)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write your answer to the reviewer.")
        return redirect(_claim_url(claim))
    return post_action(
        request,
        lambda: claim_services.claim_respond(
            claim=claim, actor=request.user, response=form.cleaned_data["response"]
        ),
        success="Your answer was sent to the reviewer.",
        back=_claim_url(claim),
    )


@tenant_route(Claim)
@require_POST
@claiming
def claim_cancel(request, pk: int):
    claim = _claim_or_404(request, pk)
    form = CancelForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return post_action(
        request,
        lambda: claim_services.claim_cancel(claim=claim, actor=request.user, note=note),
        success=f"Claim {claim.claim_id} canceled.",
        back=_claim_url(claim),
    )


@tenant_route(Claim)
@viewing
def claim_outcomes(request, pk: int):
    """Phase 3: link the claim to transactions of the same customer (sales and usage)."""
    user = request.user
    claim = _claim_or_404(request, pk)
    if request.method != "POST":
        context = {
            "claim": claim,
            "page": selectors.outcome_candidates(user=user, claim=claim, after=request.GET.get("after")),
            "query_without_cursor": query_without(request, "after"),
        }
        return render(request, "incentives/claim_outcomes.html", context)
    require_capability(request, C.INCENTIVES_CLAIMS, message=DENIED)
    picked = [value for value in request.POST.getlist("transactions") if _int(value) is not None]
    chosen = selectors.outcome_transactions(user=user, claim=claim).filter(pk__in=picked)
    if not chosen.exists():
        messages.error(request, "Pick at least one transaction of this customer.")
        return redirect("incentives:claim-outcomes", pk=claim.pk)
    return post_action(
        request,
        lambda: claim_services.outcome_link(claim=claim, transactions=chosen, actor=user),
        success=lambda count: f"{count} transaction{'s' if count != 1 else ''} linked to {claim.claim_id}.",
        back=lambda count: (
            _claim_url(claim) if count is not None else reverse("incentives:claim-outcomes", args=[claim.pk])
        ),
    )


# --- The customer's consent (public, no sign-in) --------------------------------------------------


def consent(request, token: str):
    """The customer accepts or declines the partner's claim; the signed token is the only key."""
    try:
        claim = claim_services.consent_claim(token)
    except ValidationError as exc:
        return render(request, "incentives/consent.html", {"errors": exc.messages}, status=404)
    form = ConsentForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "claim": claim}
    if request.method == "POST" and form.is_valid():
        accept = request.POST.get("decision") == "accept"
        try:
            claim = claim_services.consent_record(token=token, accept=accept, note=form.cleaned_data["note"])
        except ValidationError as exc:
            context["errors"] = exc.messages
            return render(request, "incentives/consent.html", context, status=400)
        context.update(done=True, accepted=accept, claim=claim)
    return render(request, "incentives/consent.html", context)
