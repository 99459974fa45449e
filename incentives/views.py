"""Incentives pages: overview, catalogue, opportunities, claims (list, wizard, detail, actions,
outcomes) and the customer's public consent page.

Views parse input and call the services (incentives/services/); every rule and every write is
theirs, and their ValidationErrors are shown to the person as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import PartnerLocation
from earnings.models import Earning, Transaction
from earnings.periods import add_months, month_start
from incentives import services as claim_services
from incentives.choices import OPEN_STAGES, TERMINAL_STATUSES, ClaimStatus, PayPattern, ProofKind
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
from incentives.models import ActivityRate, ActivityType, Claim, Opportunity, OutcomeLink, ProofDocument
from incentives.services.eligibility import customer_eligibility
from incentives.services.payouts import potential_payout
from portal.capabilities import Capability, can
from portal.history import history_for
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import query_without, show_errors

C = Capability
CHART_MONTHS = 12
ZERO = Decimal("0")
CONSENT_SESSION_KEY = "incentives-consent-url-{pk}"

#: What the partner must do in each status (spec §6), shown on the claim page and the overview.
PARTNER_GUIDANCE: dict[str, str] = {
    ClaimStatus.DRAFT: "Send the consent request to the customer contact.",
    ClaimStatus.PENDING_CONSENT: (
        "Waiting for the customer to accept the consent request; send them the consent link again "
        "if it got lost."
    ),
    ClaimStatus.CONSENT_DECLINED: "The customer declined; the claim is closed.",
    ClaimStatus.IN_PROGRESS: (
        "Deliver the activity, upload every required proof document, then submit the claim with the "
        "delivery date before the deadline."
    ),
    ClaimStatus.PENDING_POE: "Upload the missing proof documents, then submit the claim.",
    ClaimStatus.SUBMITTED: "Nothing to do: the claim waits for a reviewer.",
    ClaimStatus.UNDER_REVIEW: "Nothing to do: a reviewer is checking the proof.",
    ClaimStatus.PARTNER_ACTION_REQUIRED: (
        "The reviewer asked for changes: answer them, replace the proof if needed and submit again "
        "before the deadline."
    ),
    ClaimStatus.APPROVED: "Approved: the payout is paid through the next monthly payout run.",
    ClaimStatus.REJECTED: "Rejected: answer the reviewer and resubmit once, before the deadline.",
    ClaimStatus.FINAL_REJECTED: "Finally rejected: no further resubmission.",
    ClaimStatus.EXPIRED: "Expired: the deadline passed without the next step.",
    ClaimStatus.CANCELED: "Canceled by the partner.",
    ClaimStatus.COMPLETED: "Completed: the earning was paid.",
}
#: Statuses in which the partner is the one to act (the overview's "needs you now").
PARTNER_TURN = (
    ClaimStatus.DRAFT,
    ClaimStatus.IN_PROGRESS,
    ClaimStatus.PENDING_POE,
    ClaimStatus.PARTNER_ACTION_REQUIRED,
    ClaimStatus.REJECTED,
)
PROOF_OPEN = (
    ClaimStatus.IN_PROGRESS,
    ClaimStatus.PENDING_POE,
    ClaimStatus.PARTNER_ACTION_REQUIRED,
    ClaimStatus.REJECTED,
)
SUBMITTABLE = (ClaimStatus.PENDING_POE,)
RESPONDABLE = (ClaimStatus.PARTNER_ACTION_REQUIRED, ClaimStatus.REJECTED)
CONSENT_REQUESTABLE = (ClaimStatus.DRAFT, ClaimStatus.PENDING_CONSENT)
#: PayoutExplanation.limited_by, in words.
LIMITED_BY = {
    "per_claim_cap": "the per-claim cap",
    "annual_cap": "the annual cap",
    "no_rate": "no rate in force",
}
CLAIM_COLUMNS = ("activity_type__engagement", "customer", "location", "opportunity")


# --- Helpers --------------------------------------------------------------------------------------


def _require(request, capability: str) -> None:
    if not can(request.user, capability):
        raise PermissionDenied("Your roles don't allow this in the Incentives workspace.")


def _claim_or_404(request, pk: int) -> Claim:
    """The claim if the user's organization owns it (else 404), then the right to see it (else 403)."""
    claim = get_visible_or_404(
        Claim.objects.select_related(*CLAIM_COLUMNS, "created_by"), request.user, pk=pk
    )
    _require(request, C.INCENTIVES_VIEW)
    return claim


def _acting_claim_or_404(request, pk: int) -> Claim:
    claim = _claim_or_404(request, pk)
    _require(request, C.INCENTIVES_CLAIMS)
    return claim


def _as_list(value: Any) -> list:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _default_location(user) -> PartnerLocation | None:
    return PartnerLocation.objects.visible_to(user).order_by("-is_headquarters", "partner_id").first()


def _current_rates() -> Prefetch:
    today = timezone.localdate()
    rates = (
        ActivityRate.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today), valid_from__lte=today)
        .annotate(percent=F("rate") * 100)
        .order_by("market_tier")
    )
    return Prefetch("rates", queryset=rates, to_attr="current_rates")


# --- Overview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusTotal:
    status: str
    count: int
    potential_usd: Decimal
    approved_usd: Decimal


@dataclass
class Chart:
    """Claims created and approved payouts per month; embedded with json_script for Chart.js."""

    months: list[str] = field(default_factory=list)
    claims: list[int] = field(default_factory=list)
    approved_usd: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "labels": self.months,
            "datasets": [
                {"label": "Approved payouts (USD)", "data": self.approved_usd, "type": "bar", "yAxisID": "y"},
                {"label": "Claims created", "data": self.claims, "type": "line", "yAxisID": "claims"},
            ],
        }


def status_totals(claims: QuerySet[Claim]) -> list[StatusTotal]:
    rows = {
        row["status"]: row
        for row in claims.order_by()
        .values("status")
        .annotate(n=Count("id"), potential=Sum("potential_payout_usd"), approved=Sum("approved_payout_usd"))
    }
    return [
        StatusTotal(
            status=status,
            count=rows[status]["n"],
            potential_usd=rows[status]["potential"] or ZERO,
            approved_usd=rows[status]["approved"] or ZERO,
        )
        for status in ClaimStatus.values
        if status in rows
    ]


def claims_chart(claims: QuerySet[Claim], *, today: date | None = None) -> Chart:
    last = month_start(today or timezone.localdate())
    first = add_months(last, 1 - CHART_MONTHS)
    created = dict(
        claims.order_by()
        .filter(created_at__date__gte=first)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    approved = dict(
        claims.order_by()
        .filter(
            decided_at__date__gte=first,
            status__in=[ClaimStatus.APPROVED, ClaimStatus.COMPLETED],
            approved_payout_usd__isnull=False,
        )
        .annotate(month=TruncMonth("decided_at"))
        .values("month")
        .annotate(s=Sum("approved_payout_usd"))
        .values_list("month", "s")
    )
    created = {_month_of(k): v for k, v in created.items()}
    approved = {_month_of(k): v for k, v in approved.items()}
    months = [add_months(first, i) for i in range(CHART_MONTHS)]
    return Chart(
        months=[m.strftime("%Y-%m") for m in months],
        claims=[created.get(m, 0) for m in months],
        approved_usd=[str((approved.get(m) or ZERO).quantize(Decimal("0.01"))) for m in months],
    )


def _month_of(value: date | datetime) -> date:
    return (value.date() if isinstance(value, datetime) else value).replace(day=1)


def index(request):
    """Counts and amounts by status, claims and approved payouts by month, what needs the partner."""
    _require(request, C.INCENTIVES_VIEW)
    claims = Claim.objects.visible_to(request.user)
    totals = status_totals(claims)
    waiting = list(
        claims.filter(status__in=PARTNER_TURN)
        .select_related("activity_type", "customer")
        .order_by("action_due_at", "expires_at", "-created_at")[:20]
    )
    for claim in waiting:
        claim.guidance = PARTNER_GUIDANCE[claim.status]
    context = {
        "totals": totals,
        "claim_count": sum(t.count for t in totals),
        "potential_usd": sum(
            (t.potential_usd for t in totals if t.status not in TERMINAL_STATUSES), start=ZERO
        ),
        "approved_usd": sum((t.approved_usd for t in totals), start=ZERO),
        "chart": claims_chart(claims).as_json(),
        "waiting": waiting,
        "open_opportunities": Opportunity.objects.visible_to(request.user)
        .filter(stage__in=sorted(OPEN_STAGES))
        .count(),
    }
    return render(request, "incentives/index.html", context)


# --- Catalogue ------------------------------------------------------------------------------------


def catalogue(request):
    """Every activity with its pay pattern, today's fee or rate and cap per market tier, dates."""
    _require(request, C.INCENTIVES_VIEW)
    filterset = ActivityTypeFilterSet(
        request.GET,
        queryset=ActivityType.objects.visible_to(request.user)
        .select_related("engagement")
        .prefetch_related(_current_rates()),
        request=request,
    )
    context = {"filter": filterset, "activities": filterset.qs, "today": timezone.localdate()}
    template = "incentives/_activity_table.html" if htmx_partial(request) else "incentives/catalogue.html"
    return render(request, template, context)


@tenant_route(ActivityType)
def activity_detail(request, pk: int):
    _require(request, C.INCENTIVES_VIEW)
    activity = get_visible_or_404(
        ActivityType.objects.select_related("engagement__program", "lever", "prerequisite"),
        request.user,
        pk=pk,
    )
    context = {
        "activity": activity,
        "rates": activity.rates.annotate(percent=F("rate") * 100).order_by("market_tier", "-valid_from"),
        "required_proof": _proof_labels(activity.required_proof),
        "own_claims": Claim.objects.visible_to(request.user).filter(activity_type=activity).count(),
        "today": timezone.localdate(),
    }
    return render(request, "incentives/activity_detail.html", context)


def _proof_labels(kinds: Iterable[str]) -> list[str]:
    return [ProofKind(kind).label for kind in kinds]


# --- Opportunities --------------------------------------------------------------------------------


def opportunity_list(request):
    """The seller opportunities shared with the organization; open ones unless asked otherwise."""
    _require(request, C.INCENTIVES_VIEW)
    data = request.GET.copy()
    if "open" not in data:
        data["open"] = "true"
    filterset = OpportunityFilterSet(
        data,
        queryset=Opportunity.objects.visible_to(request.user).select_related("customer"),
        request=request,
    )
    page = keyset_page(filterset.qs, field_name="imported_at", after=request.GET.get("after"))
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    template = (
        "incentives/_opportunity_table.html" if htmx_partial(request) else "incentives/opportunity_list.html"
    )
    return render(request, template, context)


@dataclass
class Offer:
    """One activity an opportunity qualifies for, priced and checked for one location."""

    activity: ActivityType
    payout: Any = None
    payout_error: list[str] = field(default_factory=list)
    failures: list = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.failures


@tenant_route(Opportunity)
def opportunity_detail(request, pk: int):
    """The variable activities of the opportunity's solution area, each with its potential payout."""
    opportunity = get_visible_or_404(Opportunity.objects.select_related("customer"), request.user, pk=pk)
    _require(request, C.INCENTIVES_VIEW)
    locations = list(
        PartnerLocation.objects.visible_to(request.user).order_by("-is_headquarters", "partner_id")
    )
    location = next((loc for loc in locations if str(loc.pk) == request.GET.get("location")), None)
    location = location or (locations[0] if locations else None)
    today = timezone.localdate()
    activities = (
        ActivityType.objects.visible_to(request.user)
        .filter(
            pay_pattern=PayPattern.VARIABLE,
            engagement__solution_area=opportunity.solution_area,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .select_related("engagement")
    )
    offers = []
    for activity in activities:
        offer = Offer(activity=activity)
        if location is not None:
            offer.payout, offer.payout_error = _payout_or_errors(activity, location, opportunity)
            eligibility = customer_eligibility(
                activity_type=activity,
                customer=opportunity.customer,
                location=location,
                opportunity=opportunity,
            )
            offer.failures = list(eligibility.failures)
        offers.append(offer)
    context = {
        "opportunity": opportunity,
        "open": opportunity.stage in OPEN_STAGES,
        "locations": locations,
        "location": location,
        "offers": offers,
        "claims": Claim.objects.visible_to(request.user)
        .filter(opportunity=opportunity)
        .select_related("activity_type")
        .order_by("-created_at"),
    }
    return render(request, "incentives/opportunity_detail.html", context)


# --- Claims: list and wizard ----------------------------------------------------------------------


def claim_list(request):
    """Filters and search over the organization's claims; keyset pages, a fixed number of queries."""
    _require(request, C.INCENTIVES_VIEW)
    filterset = ClaimFilterSet(
        request.GET,
        queryset=Claim.objects.visible_to(request.user).select_related(*CLAIM_COLUMNS),
        request=request,
    )
    page = keyset_page(filterset.qs, field_name="created_at", after=request.GET.get("after"))
    context = {"filter": filterset, "page": page, "query_without_cursor": query_without(request, "after")}
    template = "incentives/_claim_table.html" if htmx_partial(request) else "incentives/claim_list.html"
    return render(request, template, context)


def claim_new(request):
    """The claim wizard: activity + location, customer (+ opportunity) with the eligibility check,
    then the contact and names. Steps 1–2 live in the URL (GET), so a link can start anywhere."""
    _require(request, C.INCENTIVES_CLAIMS)
    user = request.user
    params = request.GET
    context: dict[str, Any] = {"step": 1}
    initial = {"activity": params.get("activity"), "location": params.get("location")}
    if not initial["location"]:
        location = _default_location(user)
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
    data = params.copy()
    if not data.get("customer") and data.get("opportunity"):
        # An opportunity names its customer: start from it (the "Claim" button of an opportunity).
        chosen = Opportunity.objects.visible_to(user).filter(pk=data["opportunity"]).first()
        if chosen is not None:
            data["customer"] = str(chosen.customer_id)
    step2 = CustomerStepForm(
        data if data.get("customer") else None,
        user=user,
        variable=activity.pay_pattern == PayPattern.VARIABLE,
        initial={"opportunity": params.get("opportunity")},
    )
    context.update(step=2, step2=step2, activity=activity, location=location)
    if not step2.is_bound or not step2.is_valid():
        return render(request, "incentives/claim_new.html", context)

    customer = step2.cleaned_data["customer"]
    opportunity = step2.cleaned_data.get("opportunity")
    eligibility = customer_eligibility(
        activity_type=activity, customer=customer, location=location, opportunity=opportunity
    )
    context.update(customer=customer, opportunity=opportunity, eligibility=eligibility)
    context["payout"], context["payout_error"] = _payout_or_errors(activity, location, opportunity)
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
    return redirect("incentives:claim-detail", pk=claim.pk)


def _explained(payout: Any) -> Any:
    """Adds the words the templates show: what limits the payout and what would change it."""
    payout.limited_by_label = LIMITED_BY.get(payout.limited_by, payout.limited_by)
    payout.changes = _as_list(payout.what_would_change)
    return payout


def _payout_or_errors(activity, location, opportunity) -> tuple[Any, list[str]]:
    try:
        payout = potential_payout(activity_type=activity, location=location, opportunity=opportunity)
    except ValidationError as exc:
        return None, exc.messages
    return _explained(payout), []


# --- Claims: detail and actions -------------------------------------------------------------------


@tenant_route(Claim)
def claim_detail(request, pk: int):
    claim = _claim_or_404(request, pk)
    user = request.user
    proof = list(claim.proof.select_related("uploaded_by").order_by("kind", "-uploaded_at"))
    present = {doc.kind for doc in proof}
    payout, payout_error = _payout_or_errors(claim.activity_type, claim.location, claim.opportunity)
    reviews = list(claim.reviews.select_related("reviewer").order_by("-decided_at"))
    acting = can(user, C.INCENTIVES_CLAIMS)
    context = {
        "claim": claim,
        "guidance": PARTNER_GUIDANCE.get(claim.status, ""),
        "show_expiry": claim.status in (*PARTNER_TURN, ClaimStatus.PENDING_CONSENT),
        "proof": proof,
        "missing_proof": _proof_labels(k for k in claim.activity_type.required_proof if k not in present),
        "payout": payout,
        "payout_error": payout_error,
        "reviews": reviews,
        "latest_review": reviews[0] if reviews else None,
        "outcomes": claim.outcomes.select_related("transaction").order_by("transaction__transaction_date"),
        "earnings": Earning.objects.visible_to(user)
        .filter(claim_id=claim.claim_id)
        .order_by("earning_type", "revision", "id"),
        "history": history_for(claim),
        "consent_url": request.session.get(CONSENT_SESSION_KEY.format(pk=claim.pk)),
        "can_act": acting and not claim.is_terminal,
        "can_consent": acting and claim.status in CONSENT_REQUESTABLE,
        "can_proof": acting and claim.status in PROOF_OPEN,
        "can_submit": acting and claim.status in SUBMITTABLE,
        "can_respond": acting and claim.status in RESPONDABLE and bool(reviews),
        "can_cancel": acting and not claim.is_terminal and claim.status != ClaimStatus.APPROVED,
        "can_link": acting and claim.status not in (ClaimStatus.CANCELED, ClaimStatus.EXPIRED),
        "proof_form": ProofForm(),
        "submit_form": SubmitForm(initial={"delivered_on": claim.delivered_on}),
        "respond_form": RespondForm(),
        "cancel_form": CancelForm(),
    }
    return render(request, "incentives/claim_detail.html", context)


def _back(claim: Claim):
    return redirect("incentives:claim-detail", pk=claim.pk)


@tenant_route(Claim)
@require_POST
def claim_consent_request(request, pk: int):
    claim = _acting_claim_or_404(request, pk)
    try:
        url = claim_services.consent_request(claim=claim, actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        request.session[CONSENT_SESSION_KEY.format(pk=claim.pk)] = request.build_absolute_uri(url)
        messages.success(request, f"Consent request sent to {claim.contact_email or 'the customer contact'}.")
    return _back(claim)


@tenant_route(Claim)
@require_POST
def claim_proof(request, pk: int):
    claim = _acting_claim_or_404(request, pk)
    form = ProofForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(claim)
    try:
        document = claim_services.proof_attach(
            claim=claim, kind=form.cleaned_data["kind"], file=form.cleaned_data["file"], actor=request.user
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{document.original_name} attached as {document.get_kind_display()}.")
    return _back(claim)


@tenant_route(ProofDocument)
@require_POST
def claim_proof_remove(request, pk: int):
    document = get_visible_or_404(ProofDocument.objects.select_related("claim"), request.user, pk=pk)
    _require(request, C.INCENTIVES_CLAIMS)
    claim = document.claim
    try:
        claim_services.proof_remove(document=document, actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{document.original_name} removed.")
    return _back(claim)


@tenant_route(Claim)
@require_POST
def claim_submit(request, pk: int):
    claim = _acting_claim_or_404(request, pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the day the activity was delivered.")
        return _back(claim)
    try:
        claim = claim_services.claim_submit(
            claim=claim, actor=request.user, delivered_on=form.cleaned_data["delivered_on"]
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"Claim {claim.claim_id} is now {claim.get_status_display()}.")
    return _back(claim)


@tenant_route(Claim)
@require_POST
def claim_respond(request, pk: int):
    claim = _acting_claim_or_404(request, pk)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write your answer to the reviewer.")
        return _back(claim)
    try:
        claim = claim_services.claim_respond(
            claim=claim, actor=request.user, response=form.cleaned_data["response"]
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, "Your answer was sent to the reviewer.")
    return _back(claim)


@tenant_route(Claim)
@require_POST
def claim_cancel(request, pk: int):
    claim = _acting_claim_or_404(request, pk)
    form = CancelForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        claim_services.claim_cancel(claim=claim, actor=request.user, note=note)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"Claim {claim.claim_id} canceled.")
    return _back(claim)


@tenant_route(Claim)
def claim_outcomes(request, pk: int):
    """Phase 3: link the claim to transactions of the same customer (sales and usage)."""
    claim = _claim_or_404(request, pk)
    linked = set(OutcomeLink.objects.filter(claim=claim).values_list("transaction_id", flat=True))
    candidates = (
        Transaction.objects.visible_to(request.user)
        .filter(customer_id=claim.customer_id)
        .order_by("-transaction_date", "-id")
    )
    if request.method == "POST":
        _require(request, C.INCENTIVES_CLAIMS)
        chosen = candidates.filter(pk__in=[v for v in request.POST.getlist("transactions") if v.isdigit()])
        if not chosen.exists():
            messages.error(request, "Pick at least one transaction of this customer.")
            return redirect("incentives:claim-outcomes", pk=claim.pk)
        try:
            count = claim_services.outcome_link(claim=claim, transactions=chosen, actor=request.user)
        except ValidationError as exc:
            show_errors(request, exc)
            return redirect("incentives:claim-outcomes", pk=claim.pk)
        messages.success(
            request, f"{count} transaction{'s' if count != 1 else ''} linked to {claim.claim_id}."
        )
        return _back(claim)
    rows = list(candidates[:200])
    for row in rows:
        row.linked = row.pk in linked
    context = {"claim": claim, "transactions": rows, "can_link": can(request.user, C.INCENTIVES_CLAIMS)}
    return render(request, "incentives/claim_outcomes.html", context)


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
