"""Security workspace pages: delegated administration — GDAP relationships (list, request, page with
approval link, auto-extend, Global Administrator removal, renew, terminate, access assignments and
history), the customer's public invitation page, and legacy DAP links (report and remove).

Views parse input and call `security.services.gdap`; every rule and every write is the service's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Customer
from portal.capabilities import Capability, can
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import form_errors, query_without, show_errors
from security.choices import (
    GDAP_FINAL_STATUSES,
    GDAP_LIVE_STATUSES,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.forms import AssignmentForm, GdapCreateForm, InvitationApproveForm
from security.history import gdap_events
from security.models import (
    DapRelationship,
    EntraRole,
    GdapAccessAssignment,
    GdapRelationship,
)
from security.services import gdap as gdap_services

C = Capability
PAGE_SIZE = 50
STATUS_LABELS = dict(GdapStatus.choices)
#: Statuses whose relationship the partner may still act on (renew needs a final or live one).
RENEWABLE = GDAP_LIVE_STATUSES | GDAP_FINAL_STATUSES
TERMINABLE = GDAP_LIVE_STATUSES


# --- Helpers --------------------------------------------------------------------------------------


def _can_read(user) -> bool:
    return can(user, C.SECURITY_VIEW) or can(user, C.GDAP_MANAGE)


def _require_read(request) -> None:
    if not _can_read(request.user):
        raise PermissionDenied("Your roles don't allow this in the Security workspace.")


def _require_manage(request) -> None:
    if not can(request.user, C.GDAP_MANAGE):
        raise PermissionDenied("Only an Admin agent or a Global admin may change GDAP relationships.")


def _relationship_or_404(request, pk: int) -> GdapRelationship:
    _require_read(request)
    return get_visible_or_404(
        GdapRelationship.objects.select_related("customer", "created_by").prefetch_related("roles"),
        request.user,
        pk=pk,
    )


def _acting_relationship_or_404(request, pk: int) -> GdapRelationship:
    relationship = _relationship_or_404(request, pk)
    _require_manage(request)
    return relationship


def _back(relationship: GdapRelationship):
    return redirect("security:gdap-detail", pk=relationship.pk)


def _days(duration: timedelta | None) -> int | None:
    return duration.days if duration is not None else None


#: Service fields the GDAP forms name differently.
_FORM_ALIASES = {"duration": "duration_days", "role_ids": "roles", "auto_extend_duration": "auto_extend"}


def _errors_onto(form, exc: ValidationError) -> None:
    form_errors(form, exc, _FORM_ALIASES)


# --- List and request -----------------------------------------------------------------------------


def gdap_list(request):
    """Every GDAP relationship with its customer, status, roles and end date; filters in the URL."""
    _require_read(request)
    relationships = GdapRelationship.objects.visible_to(request.user).select_related("customer")
    status = request.GET.get("status") or ""
    if status in GdapStatus.values:
        relationships = relationships.filter(status=status)
    search = (request.GET.get("q") or "").strip()
    if search:
        relationships = relationships.filter(
            Q(display_name__icontains=search) | Q(customer__name__icontains=search)
        )
    if request.GET.get("global_admin") == "1":
        relationships = relationships.filter(roles__pk=GLOBAL_ADMINISTRATOR_ROLE_ID)
    relationships = relationships.prefetch_related(
        Prefetch("roles", queryset=EntraRole.objects.order_by("display_name"))
    ).order_by("-created_at", "-id")
    page = Paginator(relationships, PAGE_SIZE).get_page(request.GET.get("page"))
    visible = GdapRelationship.objects.visible_to(request.user)
    context = {
        "page_obj": page,
        "query_without_page": query_without(request, "page"),
        "params": request.GET,
        "statuses": GdapStatus.choices,
        "now": timezone.now(),
        "live_count": visible.filter(status__in=GDAP_LIVE_STATUSES).count(),
        "expiring_count": visible.filter(status=GdapStatus.EXPIRING).count(),
        "pending_count": visible.filter(status=GdapStatus.APPROVAL_PENDING).count(),
        "dap_count": DapRelationship.objects.visible_to(request.user).filter(removed_at__isnull=True).count(),
        "can_manage": can(request.user, C.GDAP_MANAGE),
        "global_admin_id": GLOBAL_ADMINISTRATOR_ROLE_ID,
    }
    return render(request, "security/gdap_list.html", context)


def gdap_create(request):
    """Request a GDAP relationship with one customer: name, duration, roles, auto-extend."""
    _require_manage(request)
    customers = Customer.objects.visible_to(request.user).order_by("name")
    initial: dict[str, Any] = {}
    if request.GET.get("customer"):
        initial["customer"] = request.GET["customer"]
    if request.method != "POST":
        initial["roles"] = list(
            EntraRole.objects.filter(in_default_template=True).values_list("pk", flat=True)
        )
    form = GdapCreateForm(request.POST or None, customers=customers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            relationship = gdap_services.gdap_relationship_create(
                actor=request.user, organization=request.user.organization, **form.service_kwargs()
            )
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(
                request,
                f"{relationship.display_name} created. "
                "Lock it for approval to get the link for the customer.",
            )
            return _back(relationship)
    return render(request, "security/gdap_create.html", {"form": form})


# --- The relationship's page ------------------------------------------------------------------------


@dataclass
class HistoryRow:
    when: datetime
    who: str
    status: str
    previous_status: str
    end_at: datetime | None
    auto_extend_days: int | None
    note: str


def gdap_history(relationship: GdapRelationship) -> list[HistoryRow]:
    """Status, end date and auto-extend changes, newest first."""
    return [
        HistoryRow(
            when=event.at,
            who=event.who,
            status=STATUS_LABELS.get(event.to_status, event.to_status),
            previous_status=STATUS_LABELS.get(event.from_status, event.from_status),
            end_at=event.end_at,
            auto_extend_days=_days(event.auto_extend_duration),
            note=event.note,
        )
        for event in reversed(gdap_events(relationship))
    ]


@tenant_route(GdapRelationship)
def gdap_detail(request, pk: int):
    relationship = _relationship_or_404(request, pk)
    manage = can(request.user, C.GDAP_MANAGE)
    status = relationship.status
    roles = list(relationship.roles.order_by("display_name"))
    has_global_admin = any(str(role.pk) == GLOBAL_ADMINISTRATOR_ROLE_ID for role in roles)
    live = status in GDAP_LIVE_STATUSES
    assignments = list(
        relationship.access_assignments.exclude(status=AccessAssignmentStatus.DELETED)
        .prefetch_related(Prefetch("roles", queryset=EntraRole.objects.order_by("display_name")))
        .order_by("security_group_name", "id")
    )
    approval_url = ""
    if status == GdapStatus.APPROVAL_PENDING:
        approval_url = request.build_absolute_uri(gdap_services.gdap_approval_path(relationship))
    now = timezone.now()
    context = {
        "relationship": relationship,
        "roles": roles,
        "has_global_admin": has_global_admin,
        "assignments": assignments,
        "history": gdap_history(relationship),
        "approval_url": approval_url,
        "duration_days": _days(relationship.duration),
        "days_left": (relationship.end_at - now).days if relationship.end_at and live else None,
        "can_lock": manage and status == GdapStatus.CREATED,
        "can_auto_extend": manage
        and status in (GdapStatus.CREATED, *GDAP_LIVE_STATUSES)
        and not has_global_admin,
        "can_remove_global_admin": manage and status == GdapStatus.ACTIVE and has_global_admin,
        "can_renew": manage and status in RENEWABLE,
        "can_terminate": manage and status in TERMINABLE,
        "can_assign": manage and live,
        "assignment_form": AssignmentForm(relationship=relationship),
        "now": now,
    }
    return render(request, "security/gdap_detail.html", context)


def _act(request, relationship, action, success: str, **kwargs):
    try:
        result = action(actor=request.user, relationship=relationship, **kwargs)
    except ValidationError as exc:
        show_errors(request, exc)
        return _back(relationship)
    messages.success(request, success.format(relationship=result))
    return _back(result)


@tenant_route(GdapRelationship)
@require_POST
def gdap_lock(request, pk: int):
    relationship = _acting_relationship_or_404(request, pk)
    return _act(
        request,
        relationship,
        gdap_services.gdap_lock_for_approval,
        "Locked for approval: send the approval link to the customer's Global Administrator.",
    )


@tenant_route(GdapRelationship)
@require_POST
def gdap_auto_extend(request, pk: int):
    relationship = _acting_relationship_or_404(request, pk)
    enabled = request.POST.get("enabled") == "1"
    return _act(
        request,
        relationship,
        gdap_services.gdap_auto_extend_set,
        "Auto-extend turned on: the end date moves 180 days on its last day."
        if enabled
        else "Auto-extend turned off.",
        enabled=enabled,
    )


@tenant_route(GdapRelationship)
@require_POST
def gdap_remove_global_admin(request, pk: int):
    relationship = _acting_relationship_or_404(request, pk)
    return _act(
        request, relationship, gdap_services.gdap_global_admin_remove, "Global Administrator removed."
    )


@tenant_route(GdapRelationship)
@require_POST
def gdap_renew(request, pk: int):
    relationship = _acting_relationship_or_404(request, pk)
    return _act(
        request,
        relationship,
        gdap_services.gdap_renew,
        "Renewal request {relationship.display_name} created with the same customer and roles: "
        "lock it for approval to send it.",
    )


@tenant_route(GdapRelationship)
@require_POST
def gdap_terminate(request, pk: int):
    relationship = _acting_relationship_or_404(request, pk)
    return _act(
        request,
        relationship,
        gdap_services.gdap_terminate,
        "Relationship terminated; its access assignments are deleted.",
    )


@tenant_route(GdapRelationship)
@require_POST
def gdap_assignment_add(request, pk: int):
    relationship = _acting_relationship_or_404(request, pk)
    form = AssignmentForm(request.POST, relationship=relationship)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return _back(relationship)
    try:
        assignment = gdap_services.gdap_assignment_create(
            actor=request.user,
            relationship=relationship,
            security_group_id=form.cleaned_data["security_group_id"],
            security_group_name=form.cleaned_data["security_group_name"],
            role_ids=[str(role.pk) for role in form.cleaned_data["roles"]],
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"Access assignment for {assignment.security_group_name} added.")
    return _back(relationship)


@tenant_route(GdapAccessAssignment)
@require_POST
def gdap_assignment_delete(request, pk: int):
    _require_read(request)
    assignment = get_visible_or_404(
        GdapAccessAssignment.objects.select_related("relationship"), request.user, pk=pk
    )
    _require_manage(request)
    try:
        gdap_services.gdap_assignment_delete(actor=request.user, assignment=assignment)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"Access assignment for {assignment.security_group_name} deleted.")
    return _back(assignment.relationship)


# --- The customer's invitation (public) -------------------------------------------------------------


def gdap_invitation(request, token: str):
    """The customer's Global Administrator reviews the requested roles and approves; no sign-in —
    the signed token is the only key."""
    try:
        relationship = gdap_services.gdap_relationship_from_token(token)
    except ValidationError as exc:
        return render(request, "security/gdap_invitation.html", {"errors": exc.messages}, status=404)
    form = InvitationApproveForm(request.POST or None)
    context: dict[str, Any] = {
        "form": form,
        "relationship": relationship,
        "roles": relationship.roles.order_by("display_name"),
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


def dap_list(request):
    """Legacy DAP links found in customer tenants: reported so they can be removed, never created."""
    _require_read(request)
    rows = DapRelationship.objects.visible_to(request.user).select_related("customer", "removed_by")
    if request.GET.get("removed") != "1":
        rows = rows.filter(removed_at__isnull=True)
    search = (request.GET.get("q") or "").strip()
    if search:
        rows = rows.filter(customer__name__icontains=search)
    page = Paginator(rows.order_by("customer__name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    customer_ids = [dap.customer_id for dap in page.object_list]
    with_gdap = set(
        GdapRelationship.objects.visible_to(request.user)
        .filter(customer_id__in=customer_ids, status__in=GDAP_LIVE_STATUSES)
        .values_list("customer_id", flat=True)
    )
    context = {
        "page_obj": page,
        "query_without_page": query_without(request, "page"),
        "params": request.GET,
        "with_gdap": with_gdap,
        "inactive_before": timezone.now() - timedelta(days=90),
        "can_manage": can(request.user, C.GDAP_MANAGE),
    }
    return render(request, "security/dap_list.html", context)


@tenant_route(DapRelationship)
@require_POST
def dap_remove(request, pk: int):
    _require_read(request)
    dap = get_visible_or_404(DapRelationship.objects.select_related("customer"), request.user, pk=pk)
    _require_manage(request)
    try:
        gdap_services.dap_remove(actor=request.user, dap=dap)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"DAP with {dap.customer.name} removed.")
    return redirect("security:dap-list")
