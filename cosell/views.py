"""Co-sell pages: referrals and deals (list, page with its activity feed, edit, accept, decline,
close), the deal workflow, routing rules and their tester, the capability profile, insights and
matching.

Views parse input and call the services (cosell/services/); every rule and every write is theirs,
and their ValidationErrors are shown next to the field they name, or at the top when no field does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cosell.choices import DealKind, HistorySource, ReferralStatus, ReferralSubstatus
from cosell.filters import ReferralFilterSet
from cosell.forms import (
    STEPS,
    CapabilityProfileForm,
    CaseStudyFormSet,
    CloseForm,
    DeclineForm,
    InsightFilterForm,
    NeedForm,
    ReferralEditForm,
    RoutingRuleForm,
    RoutingTestForm,
    SolutionFormSet,
)
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from cosell.services import insights as insight_services
from cosell.services import matching as matching_services
from cosell.services import referrals as referral_services
from cosell.services import routing as routing_services
from cosell.services.activity import referral_history
from portal.capabilities import Capability, can
from portal.files import csv_response
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import query_without, show_errors

C = Capability
CENT = Decimal("0.01")
REFERRAL_COLUMNS = ("assigned_user", "routing_rule", "created_by")
TABS = {
    "inbound": "Inbound",
    "mine": "My deals",
    "closed": "Closed",
}


# --- Helpers --------------------------------------------------------------------------------------


def _can_work_referrals(user) -> bool:
    return can(user, C.REFERRALS_MANAGE_ALL) or can(user, C.REFERRALS_MANAGE_OWN)


def _require(request, capability: str | None = None) -> None:
    allowed = can(request.user, capability) if capability else _can_work_referrals(request.user)
    if not allowed:
        raise PermissionDenied("Your roles don't allow this in the Co-sell workspace.")


def _referral_or_404(request, pk: int) -> Referral:
    """The referral if the user's organization owns it and they may work it (else 404).

    A user without either Referrals capability is refused first (403): `visible_to` shows them
    nothing, which would otherwise read as "not found".
    """
    _require(request)
    return get_visible_or_404(Referral.objects.select_related(*REFERRAL_COLUMNS), request.user, pk=pk)


def _rule_or_404(request, pk: int) -> RoutingRule:
    _require(request, C.REFERRALS_MANAGE_ALL)
    return get_visible_or_404(RoutingRule.objects.select_related("assign_to_user"), request.user, pk=pk)


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


def _money(value: Decimal | None) -> Decimal | None:
    """An amount as the forms show it: two decimals (the column keeps more)."""
    return value.quantize(CENT) if value is not None else None


def _back(referral: Referral):
    return redirect("cosell:referral-detail", pk=referral.pk)


# --- Referrals: list --------------------------------------------------------------------------------


def tab_queryset(queryset: QuerySet[Referral], tab: str) -> QuerySet[Referral]:
    if tab == "closed":
        return queryset.filter(status=ReferralStatus.CLOSED)
    open_ = queryset.exclude(status=ReferralStatus.CLOSED)
    if tab == "mine":
        # The connected vendor-side referral of a co-sell deal is the vendor's record of the same
        # deal: its status shows on the deal as "Microsoft status", not as a second row.
        return open_.filter(is_inbound=False).partner_side()
    return open_.filter(is_inbound=True)


def index(request):
    """Inbound referrals, the organization's own deals and the closed ones: filters, search, keyset
    pages, and the same number of queries however many rows."""
    _require(request)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "inbound"
    visible = Referral.objects.visible_to(request.user)
    filterset = ReferralFilterSet(
        request.GET, queryset=tab_queryset(visible, tab).select_related(*REFERRAL_COLUMNS), request=request
    )
    page = keyset_page(filterset.qs, field_name="created_at", after=request.GET.get("after"))
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


# --- Referrals: page, activity feed, actions -------------------------------------------------------


@dataclass
class FeedGroup:
    """The changes one write made (the feed groups them by the second they happened in)."""

    when: datetime
    who: str
    source: str
    changes: list


def activity_feed(referral: Referral, *, viewer: Any = None) -> list[FeedGroup]:
    # Newest write first; the changes of one write keep the service's order.
    changes = sorted(referral_history(referral, viewer=viewer), key=lambda c: c.when, reverse=True)
    groups = []
    for (second, who, source), rows in groupby(
        changes, key=lambda change: (change.when.replace(microsecond=0), change.who, change.source)
    ):
        groups.append(FeedGroup(when=second, who=who, source=_source_label(source), changes=list(rows)))
    return groups


def _source_label(source: str) -> str:
    try:
        return str(HistorySource(source).label)
    except ValueError:
        return source or "—"


def _solution_id_of(referral: Referral) -> str:
    return next(
        (t.get("id", "") for t in referral.target or [] if t.get("type") == "SolutionProfile"),
        "",
    )


def _routing_explanation(referral: Referral):
    """Why the routing picked who it picked, replayed on the referral's country and solution."""
    if not referral.is_inbound:
        return None
    products = [tag.get("id") for tag in (referral.requirements or {}).get("products", []) if tag.get("id")]
    return routing_services.routing_test(
        organization=referral.organization,
        country=referral.customer_country,
        solution_id=_solution_id_of(referral),
        products=products,
        deal_value=referral.deal_value,
    )


@tenant_route(Referral)
def referral_detail(request, pk: int):
    referral = _referral_or_404(request, pk)
    if referral.is_draft:
        return redirect("cosell:deal-step", pk=referral.pk, step=1)
    now = timezone.now()
    awaiting = referral.is_inbound and referral.status == ReferralStatus.NEW
    context = {
        "referral": referral,
        "address": (referral.customer_profile or {}).get("address") or {},
        "contacts": (referral.customer_profile or {}).get("team") or [],
        "requirements": referral.requirements or {},
        "routing": _routing_explanation(referral),
        "feed": activity_feed(referral, viewer=request.user),
        "connected": Referral.objects.visible_to(request.user)
        .filter(engagement_id=referral.engagement_id)
        .exclude(pk=referral.pk)
        .order_by("created_at"),
        "awaiting": awaiting,
        "deadline_passed": bool(referral.expiration_at and referral.expiration_at <= now),
        "can_edit": not referral.is_closed,
        "can_close": referral.status == ReferralStatus.ACTIVE,
        "decline_form": DeclineForm(),
        "close_form": CloseForm(),
    }
    return render(request, "cosell/referral_detail.html", context)


def _referral_initial(referral: Referral) -> dict[str, Any]:
    return {
        "etag": referral.etag,
        "name": referral.name,
        "external_reference_id": referral.external_reference_id,
        "customer_name": referral.customer_name,
        "customer_country": referral.customer_country,
        "customer_size": referral.customer_size,
        "deal_value": _money(referral.deal_value),
        "currency": referral.currency,
        "closing_date": referral.closing_at.date() if referral.closing_at else None,
        "notes": referral.notes,
        "lead_temperature": referral.lead_temperature,
        "customer_marketplace_intent": referral.customer_marketplace_intent,
    }


@tenant_route(Referral)
def referral_edit(request, pk: int):
    referral = _referral_or_404(request, pk)
    if referral.is_closed:
        messages.error(request, "A closed referral can't be edited.")
        return _back(referral)
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
            return _back(referral)
    return render(request, "cosell/referral_edit.html", {"referral": referral, "form": form})


@tenant_route(Referral)
@require_POST
def referral_accept(request, pk: int):
    referral = _referral_or_404(request, pk)
    try:
        referral_services.referral_accept(referral=referral, actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{referral.name} accepted.")
    return _back(referral)


@tenant_route(Referral)
@require_POST
def referral_decline(request, pk: int):
    referral = _referral_or_404(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick why you decline the referral.")
        return _back(referral)
    try:
        referral_services.referral_decline(
            referral=referral,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            loss_reason=form.cleaned_data["loss_reason"],
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{referral.name} declined.")
    return _back(referral)


@tenant_route(Referral)
@require_POST
def referral_close(request, pk: int):
    referral = _referral_or_404(request, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(referral)
    won = form.cleaned_data["outcome"] == "won"
    try:
        referral_services.referral_close(
            referral=referral,
            actor=request.user,
            won=won,
            reason=form.cleaned_data["reason"],
            loss_reason="" if won else form.cleaned_data["loss_reason"],
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{referral.name} closed as {'won' if won else 'lost'}.")
    return _back(referral)


# --- The deal workflow ----------------------------------------------------------------------------


def step_initial(referral: Referral | None, step: int) -> dict[str, Any]:
    if referral is None:
        return {}
    profile = referral.customer_profile or {}
    address = profile.get("address") or {}
    requirements = referral.requirements or {}
    consent = referral.consent or {}
    if step == 1:
        return {
            "name": referral.name,
            "customer_name": profile.get("name", referral.customer_name),
            "address_line1": address.get("addressLine1", ""),
            "city": address.get("city", ""),
            "state": address.get("state", ""),
            "postal_code": address.get("postalCode", ""),
            "country": address.get("country", referral.customer_country),
            "size": profile.get("size", referral.customer_size),
            "contacts": profile.get("team") or [],
        }
    if step == 2:
        tags = {
            kind: [t.get("id") for t in requirements.get(kind, [])]
            for kind in ("industries", "products", "services")
        }
        return {
            "solution": _solution_id_of(referral) or None,
            **tags,
            "partner_role": referral.partner_role,
            "solution_area": referral.solution_area,
        }
    if step == 3:
        return {
            "deal_value": _money(referral.deal_value),
            "currency": referral.currency,
            "closing_date": referral.closing_at.date() if referral.closing_at else None,
        }
    if step == 4:
        return {"team": referral.team or []}
    return {
        "deal_kind": referral.deal_kind or DealKind.CO_SELL,
        "consent_share": bool(consent.get("consentToToShareInfoWithOthers")),
        "consent_contact": bool(consent.get("consentToContact")),
        "notes": referral.notes,
    }


#: Which step holds the field a submit error names (by the top of its JSON path).
STEP_OF_PATH = {
    "name": 1,
    "customerProfile": 1,
    "target": 2,
    "details.requirements": 2,
    "partnerRole": 2,
    "solutionArea": 2,
    "details.dealValue": 3,
    "details.currency": 3,
    "details.closingDateTime": 3,
    "team": 4,
    "type": 5,
    "dealKind": 5,
    "consent": 5,
    "details.notes": 5,
}


def step_of(path: str) -> int | None:
    for prefix, step in sorted(STEP_OF_PATH.items(), key=lambda item: -len(item[0])):
        if path == prefix or path.startswith(prefix + "."):
            return step
    return None


def _step_form(step: int, organization, data=None, initial=None):
    form_class = STEPS[step][1]
    kwargs: dict[str, Any] = {"initial": initial or {}}
    if step == 2:
        kwargs["organization"] = organization
    return form_class(data, **kwargs)


def deal_new(request):
    """Step 1 of a new deal; the draft exists from the first save on."""
    return _deal_step(request, None, 1)


@tenant_route(Referral, step="1")
def deal_step(request, pk: int, step: int):
    referral = _referral_or_404(request, pk)
    if not referral.is_draft:
        messages.info(request, "This deal was submitted; edit it from its page.")
        return _back(referral)
    if step not in STEPS:
        raise Http404("No such step.")
    return _deal_step(request, referral, step)


def _deal_step(request, draft: Referral | None, step: int):
    _require(request)
    organization = request.user.organization
    form = _step_form(
        step,
        organization,
        data=request.POST if request.method == "POST" else None,
        initial=step_initial(draft, step),
    )
    context: dict[str, Any] = {
        "draft": draft,
        "step": step,
        "steps": STEPS,
        "form": form,
        "submit_errors": [],
    }
    if request.method != "POST" or not form.is_valid():
        return render(request, "cosell/deal_step.html", context)
    try:
        draft = referral_services.deal_draft_save(
            organization=organization, actor=request.user, data=form.document(), referral=draft
        )
    except ValidationError as exc:
        errors_onto(form, exc, form.PATHS)
        return render(request, "cosell/deal_step.html", context)
    action = request.POST.get("action", "next")
    if action == "draft":
        messages.success(request, f"Draft saved at step {step} of {len(STEPS)}. Resume it from My deals.")
        return redirect("cosell:deal-step", pk=draft.pk, step=step)
    if action == "submit" and step == len(STEPS):
        try:
            submitted = referral_services.deal_submit(referral=draft, actor=request.user)
        except ValidationError as exc:
            context["draft"] = draft
            context["submit_errors"] = _submit_errors(exc)
            return render(request, "cosell/deal_step.html", context)
        messages.success(request, f"{submitted.name} submitted.")
        return _back(submitted)
    return redirect("cosell:deal-step", pk=draft.pk, step=min(step + 1, len(STEPS)))


@dataclass(frozen=True)
class SubmitError:
    path: str
    message: str
    step: int | None


def _submit_errors(exc: ValidationError) -> list[SubmitError]:
    if not hasattr(exc, "error_dict"):
        return [SubmitError("", message, None) for message in exc.messages]
    return [
        SubmitError(path, message, step_of(path))
        for path, errors in exc.message_dict.items()
        for message in errors
    ]


# --- Routing rules (spec §5) ----------------------------------------------------------------------


def routing_rules(request):
    """The organization's rules in the order they are tried, each with its problems inline."""
    _require(request, C.REFERRALS_MANAGE_ALL)
    organization = request.user.organization
    rules = list(
        RoutingRule.objects.visible_to(request.user)
        .select_related("assign_to_user")
        .order_by("is_default", "priority", "id")
    )
    problems = list(routing_services.routing_problems(organization))
    by_rule: dict[int, list] = {}
    unplaced = []
    for problem in problems:
        rule_ids = _problem_rule_ids(problem)
        for rule_id in rule_ids:
            by_rule.setdefault(rule_id, []).append(problem)
        if not rule_ids:
            unplaced.append(problem)
    for rule in rules:
        rule.problems = by_rule.get(rule.pk, [])
    context = {"rules": rules, "problems": problems, "unplaced": unplaced, "test_form": RoutingTestForm()}
    return render(request, "cosell/routing_rules.html", context)


def _problem_rule_ids(problem: routing_services.Problem) -> list[int]:
    # A problem is shown on the rule it makes wrong (the later one); its message names the other.
    return [problem.rule.pk]


def routing_rule_new(request):
    _require(request, C.REFERRALS_MANAGE_ALL)
    return _rule_form(request, RoutingRule())


@tenant_route(RoutingRule)
def routing_rule_edit(request, pk: int):
    return _rule_form(request, _rule_or_404(request, pk))


def _rule_form(request, rule: RoutingRule):
    organization = request.user.organization
    if rule.pk is None and request.method != "POST":
        last = (
            RoutingRule.objects.filter(organization=organization, is_default=False)
            .order_by("-priority")
            .first()
        )
        rule.priority = (last.priority + 10) if last else 10
    form = RoutingRuleForm(request.POST or None, instance=rule, organization=organization)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
        messages.success(request, f"Rule “{saved.name}” saved.")
        return redirect("cosell:routing-rules")
    return render(request, "cosell/routing_rule_form.html", {"form": form, "rule": rule})


@tenant_route(RoutingRule)
def routing_rule_delete(request, pk: int):
    rule = _rule_or_404(request, pk)
    if request.method != "POST":
        return render(request, "cosell/routing_rule_delete.html", {"rule": rule})
    name = rule.name
    rule.delete()
    messages.success(request, f"Rule “{name}” deleted.")
    return redirect("cosell:routing-rules")


def routing_test(request):
    """The tester: for a country and a solution, which rule fires and why, rule by rule."""
    _require(request, C.REFERRALS_MANAGE_ALL)
    form = RoutingTestForm(request.GET if "country" in request.GET else None)
    decision = None
    if form.is_bound and form.is_valid():
        decision = routing_services.routing_test(
            organization=request.user.organization,
            country=form.cleaned_data["country"],
            solution_id=form.cleaned_data["solution_id"],
            products=tuple(form.cleaned_data["products"]),
            deal_value=form.cleaned_data["deal_value"],
        )
    solutions = Solution.objects.visible_to(request.user).order_by("name")
    return render(
        request, "cosell/routing_test.html", {"form": form, "decision": decision, "solutions": solutions}
    )


# --- Capability profile (spec §6) -----------------------------------------------------------------


def profile(request):
    """What vendor sellers read to pick a partner: capabilities, customer references, solutions."""
    _require(request)
    organization = request.user.organization
    editable = can(request.user, C.REFERRALS_MANAGE_ALL)
    instance = CapabilityProfile.objects.filter(organization=organization).first() or CapabilityProfile(
        organization=organization
    )
    data = request.POST if request.method == "POST" else None
    if data is not None and not editable:
        raise PermissionDenied("Only Referrals admins edit the capability profile.")
    form = CapabilityProfileForm(data, instance=instance, prefix="profile")
    studies = CaseStudyFormSet(
        data, queryset=CaseStudy.objects.visible_to(request.user).order_by("title"), prefix="studies"
    )
    solutions = SolutionFormSet(
        data, queryset=Solution.objects.visible_to(request.user).order_by("name"), prefix="solutions"
    )
    if data is not None and form.is_valid() and studies.is_valid() and solutions.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.organization = organization
            saved.updated_at = timezone.now()
            saved.save()
            for formset in (studies, solutions):
                for obj in formset.save(commit=False):
                    obj.organization = organization
                    obj.save()
                for obj in formset.deleted_objects:
                    obj.delete()
        messages.success(request, "Capability profile saved.")
        return redirect("cosell:profile")
    context = {
        "form": form,
        "studies": studies,
        "solutions": solutions,
        "editable": editable,
        "profile": instance,
    }
    return render(request, "cosell/profile.html", context)


# --- Matching (spec §7) ---------------------------------------------------------------------------


def matching(request):
    """ "How a seller would rank you": the organization's own score for a need, factor by factor, and
    its position; other partners' names and scores stay with the vendor (its sellers use the admin)."""
    _require(request)
    form = NeedForm(request.GET if "country" in request.GET else None)
    context: dict[str, Any] = {"form": form, "own": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        need = matching_services.CustomerNeed(
            country=data["country"],
            industry=data["industry"],
            products=tuple(data["products"]),
            solution_area=data["solution_area"],
            size=data["size"],
        )
        total = CapabilityProfile.objects.count()
        ranked = matching_services.match_partners(need=need, limit=max(total, 1))
        organization_id = request.user.organization_id
        position = next(
            (n for n, m in enumerate(ranked, start=1) if m.organization_id == organization_id), None
        )
        context.update(
            own=ranked[position - 1] if position else None,
            position=position,
            ranked_count=len(ranked),
            has_profile=CapabilityProfile.objects.filter(organization_id=organization_id).exists(),
        )
    return render(request, "cosell/matching.html", context)


# --- Insights (spec §8) ---------------------------------------------------------------------------


def _insight_filters(form: InsightFilterForm) -> insight_services.InsightFilters:
    if not form.is_bound or not form.is_valid():
        return insight_services.InsightFilters()
    data = form.cleaned_data
    return insight_services.InsightFilters(
        solution_area=data["solution_area"],
        solution_id=data["solution_id"].solution_id if data["solution_id"] else "",
        country=data["country"],
        owner_id=data["owner"].pk if data["owner"] else None,
        deal_kind=data["deal_kind"],
        period_from=data["period_from"],
        period_to=data["period_to"],
    )


def pipeline_charts(rows: list) -> dict[str, Any]:
    """Chart.js data of the pipeline rows: deals per month stacked by stage, and win rate per month."""
    months = sorted({row.month for row in rows})
    stages = sorted({(row.status, row.substatus) for row in rows})
    counts = {(row.month, row.status, row.substatus): row for row in rows}
    labels = [month.strftime("%Y-%m") for month in months]
    pipeline = {
        "labels": labels,
        "datasets": [
            {
                "label": f"{status} · {substatus}",
                "data": [
                    counts[(m, status, substatus)].deals if (m, status, substatus) in counts else 0
                    for m in months
                ],
                "stack": "deals",
            }
            for status, substatus in stages
        ],
    }
    win_rates = []
    for month in months:
        won = sum(r.deals for r in rows if r.month == month and r.substatus == ReferralSubstatus.WON)
        lost = sum(r.deals for r in rows if r.month == month and r.substatus == ReferralSubstatus.LOST)
        win_rates.append(round(100 * won / (won + lost), 1) if won + lost else None)
    win_rate = {"labels": labels, "datasets": [{"label": "Win rate (%)", "data": win_rates}]}
    return {"pipeline": pipeline, "win_rate": win_rate}


def insights(request):
    """Pipeline by stage and month, win rate, deal value, time in each stage; the same as CSV."""
    _require(request)
    form = InsightFilterForm(request.GET or None, organization=request.user.organization)
    filters = _insight_filters(form)
    user = request.user
    rows = insight_services.pipeline_by_stage_and_month(user=user, filters=filters)
    context = {
        "form": form,
        "rows": rows,
        "summary": insight_services.insights_summary(user=user, filters=filters),
        "durations": insight_services.lifecycle_durations(user=user, filters=filters),
        "charts": pipeline_charts(rows),
        "query": request.GET.urlencode(),
    }
    return render(request, "cosell/insights.html", context)


def insights_csv(request):
    _require(request)
    form = InsightFilterForm(request.GET or None, organization=request.user.organization)
    filters = _insight_filters(form)
    content = insight_services.insights_csv(user=request.user, filters=filters)
    return csv_response(content, f"cosell-insights-{date.today():%Y-%m-%d}.csv")
