"""The pages that gather every workspace around one person: Home (the Action Center beside the
organization's security and verification posture) and their profile (roles and open training)."""

from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Case, Count, IntegerField, Value, When
from django.shortcuts import render

from accounts.choices import ActionItemStatus
from accounts.filters import ActionItemFilter
from accounts.models import ActionItem
from portal.capabilities import Capability, can
from portal.htmx import htmx_partial
from portal.paging import LookaheadPaginator
from portal.views import capability_required, member_page, query_without
from security.choices import CheckStatus
from security.models import ProgramEnrollment, TrainingAssignment
from security.services.compliance import verification_status
from security.services.requirements import security_score

C = Capability


_SEVERITY_ORDER = Case(
    When(severity="high", then=Value(0)),
    When(severity="medium", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


#: Action Center items per page: the most urgent first, the rest a click away.
ITEMS_PER_PAGE = 25


@capability_required(C.ACTION_CENTER_VIEW)
def index(request):
    queryset = ActionItem.objects.visible_to(request.user).select_related("assignee")
    params = request.GET.copy()
    if not params.get("status"):
        params.setlist("status", [ActionItemStatus.OPEN])
    item_filter = ActionItemFilter(params, queryset=queryset, request=request)
    ordered = item_filter.qs.order_by(_SEVERITY_ORDER, "due_at", "-created_at", "-id")
    paginator = LookaheadPaginator(ordered, ITEMS_PER_PAGE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        page = paginator.page(1)
    context = {
        "items": page.object_list,
        "page_obj": page,
        "filter": item_filter,
        "query_without_page": query_without(request, "page"),
    }
    if htmx_partial(request):
        return render(request, "accounts/_action_items.html", context)
    context["counts"] = {row["status"]: row["n"] for row in queryset.values("status").annotate(n=Count("id"))}
    context.update(_posture(request.user))
    return render(request, "home/index.html", context)


def _posture(user) -> dict:
    """The security score and each program's verification status, for the people who may see them."""
    posture = {}
    if can(user, C.SECURITY_VIEW):
        posture["security_score"] = security_score(user.organization)
    if can(user, C.ACCOUNT_VIEW) or can(user, C.COMPLIANCE_MANAGE):
        enrollments = ProgramEnrollment.objects.visible_to(user).prefetch_related("checks")
        posture["verifications"] = [(e, CheckStatus(verification_status(e))) for e in enrollments]
    return posture


@member_page
def profile(request):
    trainings = TrainingAssignment.objects.visible_to(request.user).filter(
        user=request.user, completed_at__isnull=True, canceled_at__isnull=True
    )
    return render(
        request,
        "home/profile.html",
        {"roles": sorted(request.user.role_codes), "trainings": trainings.select_related("course")},
    )
