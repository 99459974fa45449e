"""Security workspace pages: delegated administration — GDAP relationships (list, request, page with
approval link, auto-extend, Global Administrator removal, renew, terminate, access assignments and
history), the customer's public invitation page, and legacy DAP links (report and remove).

Views read through `security.selectors.gdap`, parse input and call the services; every rule and
every write is the services'.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.capabilities import Capability
from portal.paging import keyset_page
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import capability_required, form_errors, post_action, query_without
from security.choices import (
    DAP_INACTIVE_DAYS,
    GDAP_LIVE_STATUSES,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    GdapStatus,
)
from security.filters import DapFilterSet, GdapRelationshipFilterSet
from security.forms import AssignmentForm, GdapCreateForm, InvitationApproveForm
from security.models import DapRelationship, EntraRole, GdapAccessAssignment, GdapRelationship
from security.selectors.gdap import (
    dap_relationships,
    gdap_approval_path,
    gdap_assignments_shown,
    gdap_history,
    gdap_relationship,
    gdap_relationship_from_token,
    gdap_relationships,
    gdap_summary,
)
from security.services import dap as dap_services
from security.services import gdap as gdap_services
from security.services import gdap_assignments as assignment_services
from security.services.gdap_rules import RENEWABLE_STATUSES
from security.views import PAGE_SIZE

C = Capability

READ = (C.SECURITY_VIEW, C.GDAP_MANAGE)
READ_DENIED = "Your roles don't allow this in the Security workspace."
MANAGE_DENIED = "Only an Admin agent or a Global admin may change GDAP relationships."
INVALID_LINK = "This approval link is not valid. Ask your partner to send it again."

#: Service fields the GDAP forms name differently.
_FORM_ALIASES = {"duration": "duration_days", "role_ids": "roles", "auto_extend_duration": "auto_extend"}


def _detail_url(relationship: GdapRelationship) -> str:
    return reverse("security:gdap-detail", args=[relationship.pk])


def _days(duration) -> int | None:
    return duration.days if duration is not None else None


# --- List and request -----------------------------------------------------------------------------


@capability_required(*READ, message=READ_DENIED)
def gdap_list(request):
    """Every GDAP relationship with its customer, status, roles and end date, newest first;
    filtered by the API's parameters in the URL."""
    filterset = GdapRelationshipFilterSet(
        request.GET, queryset=gdap_relationships(request.user), request=request
    )
    page = keyset_page(filterset.qs, field_name="created_at", after=request.GET.get("after"), size=PAGE_SIZE)
    context = {
        "filter": filterset,
        "page": page,
        "query_without_cursor": query_without(request, "after"),
        "statuses": GdapStatus.choices,
        "summary": gdap_summary(request.user),
    }
    return render(request, "security/gdap_list.html", context)


@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
def gdap_create(request):
    """Request a GDAP relationship with one customer: name, duration, roles, auto-extend."""
    initial: dict[str, Any] = {}
    if request.GET.get("customer"):
        initial["customer"] = request.GET["customer"]
    if request.method != "POST":
        initial["roles"] = list(
            EntraRole.objects.filter(in_default_template=True).values_list("pk", flat=True)
        )
    form = GdapCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            relationship = gdap_services.gdap_relationship_create(
                actor=request.user, organization=request.user.organization, **form.service_kwargs()
            )
        except ValidationError as exc:
            form_errors(form, exc, _FORM_ALIASES)
        else:
            messages.success(
                request,
                f"{relationship.display_name} created. "
                "Lock it for approval to get the link for the customer.",
            )
            return redirect(_detail_url(relationship))
    return render(request, "security/gdap_create.html", {"form": form})


# --- The relationship's page ------------------------------------------------------------------------


@tenant_route(GdapRelationship)
@capability_required(*READ, message=READ_DENIED)
def gdap_detail(request, pk: int):
    """The relationship with what may be done to it now (whether the person may is the template's
    `{% can %}`), its roles, access assignments and history."""
    relationship = gdap_relationship(request.user, pk)
    status = relationship.status
    roles = list(relationship.roles.all())
    has_global_admin = any(str(role.pk) == GLOBAL_ADMINISTRATOR_ROLE_ID for role in roles)
    live = status in GDAP_LIVE_STATUSES
    now = timezone.now()
    approval_url = ""
    if status == GdapStatus.APPROVAL_PENDING:
        approval_url = request.build_absolute_uri(gdap_approval_path(relationship))
    context = {
        "relationship": relationship,
        "roles": roles,
        "has_global_admin": has_global_admin,
        "assignments": gdap_assignments_shown(relationship),
        "history": gdap_history(relationship),
        "approval_url": approval_url,
        "duration_days": _days(relationship.duration),
        "days_left": (relationship.end_at - now).days if relationship.end_at and live else None,
        "lockable": status == GdapStatus.CREATED,
        "auto_extend_changeable": status in (GdapStatus.CREATED, *GDAP_LIVE_STATUSES)
        and not has_global_admin,
        "global_admin_removable": status == GdapStatus.ACTIVE and has_global_admin,
        "renewable": status in RENEWABLE_STATUSES,
        "terminable": live,
        "assignable": live,
        "assignment_form": AssignmentForm(relationship=relationship),
        "now": now,
    }
    return render(request, "security/gdap_detail.html", context)


def _relationship_action(request, pk: int, service, success, **kwargs):
    """POST on a relationship: its service with the person as actor, then back to its page (the
    new relationship's page for a renewal)."""
    relationship = gdap_relationship(request.user, pk)
    return post_action(
        request,
        lambda: service(actor=request.user, relationship=relationship, **kwargs),
        success=success,
        back=lambda result: _detail_url(result or relationship),
    )


@tenant_route(GdapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_lock(request, pk: int):
    return _relationship_action(
        request,
        pk,
        gdap_services.gdap_lock_for_approval,
        "Locked for approval: send the approval link to the customer's Global Administrator.",
    )


@tenant_route(GdapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_auto_extend(request, pk: int):
    enabled = request.POST.get("enabled") == "1"
    return _relationship_action(
        request,
        pk,
        gdap_services.gdap_auto_extend_set,
        "Auto-extend turned on: the end date moves 180 days on its last day."
        if enabled
        else "Auto-extend turned off.",
        enabled=enabled,
    )


@tenant_route(GdapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_remove_global_admin(request, pk: int):
    return _relationship_action(
        request, pk, gdap_services.gdap_global_admin_remove, "Global Administrator removed."
    )


@tenant_route(GdapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_renew(request, pk: int):
    return _relationship_action(
        request,
        pk,
        gdap_services.gdap_renew,
        lambda renewal: (
            f"Renewal request {renewal.display_name} created with the same customer and roles: "
            "lock it for approval to send it."
        ),
    )


@tenant_route(GdapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_terminate(request, pk: int):
    return _relationship_action(
        request,
        pk,
        gdap_services.gdap_terminate,
        "Relationship terminated; its access assignments are deleted.",
    )


@tenant_route(GdapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_assignment_add(request, pk: int):
    relationship = gdap_relationship(request.user, pk)
    back = _detail_url(relationship)
    form = AssignmentForm(request.POST, relationship=relationship)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(back)
    return post_action(
        request,
        lambda: assignment_services.gdap_assignment_create(
            actor=request.user,
            relationship=relationship,
            security_group_id=form.cleaned_data["security_group_id"],
            security_group_name=form.cleaned_data["security_group_name"],
            role_ids=[str(role.pk) for role in form.cleaned_data["roles"]],
        ),
        success=lambda assignment: f"Access assignment for {assignment.security_group_name} added.",
        back=back,
    )


@tenant_route(GdapAccessAssignment)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def gdap_assignment_delete(request, pk: int):
    assignment = get_visible_or_404(
        GdapAccessAssignment.objects.select_related("relationship"), request.user, pk=pk
    )
    return post_action(
        request,
        lambda: assignment_services.gdap_assignment_delete(actor=request.user, assignment=assignment),
        success=f"Access assignment for {assignment.security_group_name} deleted.",
        back=_detail_url(assignment.relationship),
    )


# --- The customer's invitation (public) -------------------------------------------------------------


def gdap_invitation(request, token: str):
    """The customer's Global Administrator reviews the requested roles and approves; no sign-in —
    the signed token is the only key."""
    relationship = gdap_relationship_from_token(token)
    if relationship is None:
        return render(request, "security/gdap_invitation.html", {"errors": [INVALID_LINK]}, status=404)
    form = InvitationApproveForm(request.POST or None)
    context: dict[str, Any] = {
        "form": form,
        "relationship": relationship,
        "roles": relationship.roles.all(),
        "duration_days": _days(relationship.duration),
        "pending": relationship.status == GdapStatus.APPROVAL_PENDING,
    }
    if request.method == "POST" and form.is_valid():
        try:
            relationship = gdap_services.gdap_customer_approve(
                relationship=relationship,
                approver_name=form.cleaned_data["approver_name"],
                approver_email=form.cleaned_data["approver_email"],
            )
        except ValidationError as exc:
            context["errors"] = exc.messages
            return render(request, "security/gdap_invitation.html", context, status=400)
        context.update(done=True, relationship=relationship, pending=False)
    return render(request, "security/gdap_invitation.html", context)


# --- Legacy DAP ---------------------------------------------------------------------------------------


@capability_required(*READ, message=READ_DENIED)
def dap_list(request):
    """Legacy DAP links found in customer tenants, latest established first: reported so they can
    be removed, never created. The links not removed yet unless the URL asks otherwise (`removed`,
    as in the API)."""
    data = request.GET.copy()
    if "removed" not in data:
        data["removed"] = "false"
    filterset = DapFilterSet(data, queryset=dap_relationships(request.user), request=request)
    after = request.GET.get("after")
    page = keyset_page(filterset.qs, field_name="established_at", after=after, size=PAGE_SIZE)
    context = {
        "filter": filterset,
        "page": page,
        "query_without_cursor": query_without(request, "after"),
        "inactive_before": timezone.now() - timedelta(days=DAP_INACTIVE_DAYS),
    }
    return render(request, "security/dap_list.html", context)


@tenant_route(DapRelationship)
@capability_required(C.GDAP_MANAGE, message=MANAGE_DENIED)
@require_POST
def dap_remove(request, pk: int):
    dap = get_visible_or_404(DapRelationship.objects.select_related("customer"), request.user, pk=pk)
    return post_action(
        request,
        lambda: dap_services.dap_remove(actor=request.user, dap=dap),
        success=f"DAP with {dap.customer.name} removed.",
        back=reverse("security:dap-list"),
    )
