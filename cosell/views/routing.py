"""Routing rules (spec §5): the rules in the order they are tried with their problems, a rule's form,
its deletion, and the tester. Only Referrals admins manage them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from cosell.forms import RoutingRuleForm, RoutingTestForm
from cosell.models import RoutingRule
from cosell.selectors import routing as routing_selectors
from cosell.selectors.profile import solutions_of
from cosell.services import routing as rule_services
from portal.capabilities import Capability
from portal.tenancy import tenant_route
from portal.views import capability_required, form_errors, post_action

ADMINS_ONLY = "Only Referrals admins manage the routing rules."
manages_rules = capability_required(Capability.REFERRALS_MANAGE_ALL, message=ADMINS_ONLY)


@manages_rules
def routing_rules(request):
    """The organization's rules in the order they are tried, each with its problems inline."""
    listing = routing_selectors.routing_rules_listed(user=request.user)
    context = {
        "rules": listing.rules,
        "problems": listing.problems,
        "unplaced": listing.unplaced,
        "test_form": RoutingTestForm(),
    }
    return render(request, "cosell/routing_rules.html", context)


@manages_rules
def routing_rule_new(request):
    return _rule_form(request, None)


@tenant_route(RoutingRule)
@manages_rules
def routing_rule_edit(request, pk: int):
    return _rule_form(request, routing_selectors.routing_rule_for(user=request.user, pk=pk))


def _rule_form(request, rule: RoutingRule | None):
    organization = request.user.organization
    initial = (
        {} if rule is not None else {"priority": routing_selectors.routing_rule_next_priority(organization)}
    )
    form = RoutingRuleForm(request.POST or None, instance=rule, initial=initial, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = rule_services.routing_rule_create(
                    organization=organization, actor=request.user, values=form.values()
                )
            else:
                saved = rule_services.routing_rule_update(rule=rule, actor=request.user, values=form.values())
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Rule “{saved.name}” saved.")
            return redirect("cosell:routing-rules")
    return render(request, "cosell/routing_rule_form.html", {"form": form, "rule": rule})


@tenant_route(RoutingRule)
@manages_rules
def routing_rule_delete(request, pk: int):
    rule = routing_selectors.routing_rule_for(user=request.user, pk=pk)
    if request.method != "POST":
        return render(request, "cosell/routing_rule_delete.html", {"rule": rule})
    return post_action(
        request,
        lambda: rule_services.routing_rule_delete(rule=rule, actor=request.user),
        success=f"Rule “{rule.name}” deleted.",
        back=reverse("cosell:routing-rules"),
    )


@manages_rules
def routing_test(request):
    """The tester: for a country and a solution, which rule fires and why, rule by rule."""
    form = RoutingTestForm(request.GET if "country" in request.GET else None)
    decision = None
    if form.is_bound and form.is_valid():
        decision = routing_selectors.routing_test(
            organization=request.user.organization,
            country=form.cleaned_data["country"],
            solution_id=form.cleaned_data["solution_id"],
            products=tuple(form.cleaned_data["products"]),
            deal_value=form.cleaned_data["deal_value"],
        )
    context = {"form": form, "decision": decision, "solutions": solutions_of(user=request.user)}
    return render(request, "cosell/routing_test.html", context)
