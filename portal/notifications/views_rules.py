"""The person's alert rules: the list (with the kinds they may add), a rule's form (the kind's own
parameters), switching one off and on, deleting one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal.capabilities import can
from portal.notifications.models import AlertRule
from portal.notifications.rules import alert_rule_create, alert_rule_delete, alert_rule_update, rule_kinds
from portal.tenancy import tenant_route
from portal.views import member_page


def _mine(request):
    return AlertRule.objects.filter(owner=request.user, organization_id=request.user.organization_id)


@member_page
def alert_rule_list(request):
    kinds = {kind.code: kind for kind in rule_kinds()}
    rules = list(_mine(request))
    for rule in rules:
        rule.kind_label = kinds[rule.kind].label if rule.kind in kinds else rule.kind
    available = [kind for kind in kinds.values() if can(request.user, kind.capability)]
    return render(request, "notifications/alert_rules.html", {"rules": rules, "kinds": available})


@member_page
def alert_rule_new(request, kind: str):
    found = next((k for k in rule_kinds() if k.code == kind and can(request.user, k.capability)), None)
    if found is None:
        raise Http404("No such kind of alert rule.")
    values = {p.name: request.POST.get(p.name, "") for p in found.parameters}
    errors: dict[str, list[str]] = {}
    name = request.POST.get("name", "")
    if request.method == "POST":
        try:
            alert_rule_create(actor=request.user, kind=found.code, name=name, parameters=values)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        else:
            messages.success(request, "The alert rule is saved; it fires through your notification channels.")
            return redirect("portal:alert-rule-list")
    fields = [
        {"parameter": p, "value": values[p.name], "errors": errors.get(p.name, [])} for p in found.parameters
    ]
    context = {
        "kind": found,
        "fields": fields,
        "name": name,
        "errors": errors.get("__all__", []) + errors.get("kind", []),
    }
    return render(request, "notifications/alert_rule_form.html", context)


@member_page
@tenant_route(AlertRule)
@require_POST
def alert_rule_toggle(request, pk: int):
    rule = get_object_or_404(_mine(request), pk=pk)
    try:
        alert_rule_update(actor=request.user, rule=rule, is_active=not rule.is_active)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("portal:alert-rule-list")


@member_page
@tenant_route(AlertRule)
@require_POST
def alert_rule_remove(request, pk: int):
    rule = get_object_or_404(_mine(request), pk=pk)
    alert_rule_delete(actor=request.user, rule=rule)
    messages.success(request, f"The alert rule {rule.name} is deleted.")
    return redirect("portal:alert-rule-list")
