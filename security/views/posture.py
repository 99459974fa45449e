"""Security workspace pages: posture — the requirements score, MFA of the partner's users and of
customers, the tenant's security settings, alerts and customers' Azure budgets.

Views parse input and call the services (security/services/); every rule and every write is
theirs, and their ValidationErrors are shown to the person as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Cast
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from portal.capabilities import Capability, can
from portal.files import copy_csv, csv_response, select_columns, text_rows
from portal.roles import Role
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import form_errors, query_without, show_errors
from security.choices import (
    AlertStatus,
    AlertType,
    ComplianceStatus,
    MfaMechanism,
    MfaMethod,
    RequirementKind,
    RequirementType,
)
from security.forms import AlertRespondForm, BudgetForm, SecuritySettingsForm, UploadForm, UserMfaPolicyForm
from security.models import (
    CustomerAzureSubscription,
    CustomerMfaStat,
    SecurityAlert,
    SecurityScoreSnapshot,
    UserMfaPolicy,
)
from security.services import alerts as alert_services
from security.services import mfa as mfa_services
from security.services import requirements as requirement_services
from security.services import settings as settings_services

C = Capability
PAGE_SIZE = 50
HISTORY_DAYS = 180
MECHANISM_LABELS = dict(MfaMechanism.choices)
METHOD_LABELS = dict(MfaMethod.choices)
REQUIREMENT_LABELS = dict(RequirementType.choices)


@dataclass(frozen=True)
class RequirementRow:
    """A requirement as the table shows it: the service's result and its name in words."""

    result: Any
    label: str


@dataclass(frozen=True)
class MfaRow:
    """A person's MFA state with its values in words."""

    user: Any
    mechanism: str
    policies: list[str]
    methods: list[str]
    roles: list[str]


# --- Helpers --------------------------------------------------------------------------------------


def require(request, capability: str) -> None:
    if not can(request.user, capability):
        raise PermissionDenied("Your roles don't allow this in the Security workspace.")


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _paged(request, rows, size: int = PAGE_SIZE):
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    return page, query_without(request, "page")


# --- Score ----------------------------------------------------------------------------------------


def index(request):
    """The score tiles, the requirement rows with their evidence and action, and the history chart."""
    if not can(request.user, C.SECURITY_VIEW):
        if can(request.user, C.COMPLIANCE_MANAGE) or can(request.user, C.ACCOUNT_VIEW):
            return redirect("security:compliance")
        require(request, C.SECURITY_VIEW)
    organization = request.user.organization
    score = requirement_services.security_score(organization)
    since = timezone.localdate() - timedelta(days=HISTORY_DAYS)
    snapshots = list(
        SecurityScoreSnapshot.objects.visible_to(request.user)
        .filter(taken_on__gte=since)
        .order_by("taken_on")
    )
    chart = {
        "labels": [snapshot.taken_on.isoformat() for snapshot in snapshots],
        "datasets": [{"label": "Security score", "data": [snapshot.score for snapshot in snapshots]}],
    }
    rows = [
        RequirementRow(row, REQUIREMENT_LABELS.get(row.requirement_type, row.requirement_type))
        for row in score.requirements
    ]
    context = {
        "score": score,
        "scored": [row for row in rows if row.result.kind == RequirementKind.SCORED],
        "advisories": [row for row in rows if row.result.kind != RequirementKind.SCORED],
        "snapshots": snapshots,
        "chart": chart,
        "COMPLIANT": ComplianceStatus.COMPLIANT,
        "NOT_APPLICABLE": ComplianceStatus.NOT_APPLICABLE,
    }
    return render(request, "security/index.html", context)


# --- MFA of the partner's own users ---------------------------------------------------------------


def _mfa_filters(request) -> dict:
    params = request.GET
    mechanism = params.get("mechanism") or None
    return {
        "search": (params.get("q") or "").strip(),
        "registered": _yes_no(params.get("registered")),
        "admins_only": params.get("admins") == "1",
        "mechanism": mechanism if mechanism in MECHANISM_LABELS else None,
    }


def mfa(request):
    """Everyone in the partner tenant with their MFA state; people without MFA first."""
    require(request, C.SECURITY_VIEW)
    organization = request.user.organization
    filters = _mfa_filters(request)
    rows = [
        MfaRow(
            row,
            mechanism=MECHANISM_LABELS.get(row.enforcement_mechanism, row.enforcement_mechanism),
            policies=[MECHANISM_LABELS.get(p, p) for p in row.applicable_policies],
            methods=[METHOD_LABELS.get(m, m) for m in row.methods],
            roles=[Role(code).label for code in row.roles],
        )
        for row in mfa_services.mfa_user_rows(organization, **filters)
    ]
    context = {
        "rows": rows,
        "coverage": mfa_services.mfa_coverage(organization),
        "params": request.GET,
        "mechanisms": MfaMechanism.choices,
        "query": request.GET.urlencode(),
    }
    return render(request, "security/mfa.html", context)


MFA_CSV_HEADER = (
    "userId",
    "email",
    "displayName",
    "roles",
    "isAdminRole",
    "mfaRegistered",
    "mfaEnforced",
    "enforcementMechanism",
    "applicablePolicies",
    "methods",
    "lastSignInDateTime",
    "lastNonMfaSignInDateTime",
    "checkedDateTime",
)


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _mfa_csv_rows(rows) -> Iterator[tuple]:
    yield MFA_CSV_HEADER
    for row in rows:
        yield (
            row.user_id,
            row.email,
            row.display_name,
            ";".join(row.roles),
            str(row.is_admin_role).lower(),
            str(row.mfa_registered).lower(),
            str(row.mfa_enforced).lower(),
            row.enforcement_mechanism,
            ";".join(row.applicable_policies),
            ";".join(row.methods),
            _iso(row.last_sign_in_at),
            _iso(row.last_non_mfa_sign_in_at),
            _iso(row.checked_at),
        )


def mfa_download(request):
    """The MFA dashboard's rows (same filters) as CSV."""
    require(request, C.SECURITY_VIEW)
    rows = mfa_services.mfa_user_rows(request.user.organization, **_mfa_filters(request))
    return csv_response(text_rows(_mfa_csv_rows(rows)), f"mfa-users-{timezone.localdate():%Y-%m-%d}.csv")


# --- MFA in customer tenants ----------------------------------------------------------------------


def _customer_rows(request):
    """Every customer with its MFA figures (None when none were imported yet), filtered by the URL."""
    return mfa_services.customer_mfa_rows(
        request.user.organization,
        search=request.GET.get("q") or "",
        compliant=_yes_no(request.GET.get("compliant")),
    )


def customers_mfa(request):
    """MFA adoption per customer tenant: admins and non-admins with MFA, total users, compliance."""
    require(request, C.SECURITY_VIEW)
    page, query = _paged(request, _customer_rows(request))
    visible = CustomerMfaStat.objects.visible_to(request.user)
    context = {
        "page_obj": page,
        "query_without_page": query,
        "params": request.GET,
        "query": request.GET.urlencode(),
        "total": visible.count(),
        "compliant_count": visible.filter(admins_with_mfa=F("admins_total")).count(),
        "can_manage": can(request.user, C.SECURITY_MANAGE),
    }
    return render(request, "security/customers_mfa.html", context)


def _text_bool(expression) -> Case:
    return Case(
        When(**{expression: True}, then=Value("true")),
        When(**{expression: False}, then=Value("false")),
        default=Value(None),
        output_field=CharField(),
    )


def customers_mfa_download(request):
    """The customer MFA table (same filters) as CSV, streamed by PostgreSQL."""
    require(request, C.SECURITY_VIEW)
    columns = {
        "customer": F("name"),
        "customerTenantId": Cast("tenant_id", CharField()),
        "customerDomain": F("domain"),
        "adminsWithMfa": F("admins_with_mfa"),
        "adminsTotal": F("admins_total"),
        "adminMfaPercent": F("admin_mfa_pct"),
        "nonAdminsWithMfa": F("non_admins_with_mfa"),
        "usersTotal": F("users_total"),
        "isCompliant": _text_bool("is_compliant"),
        "securityDefaultsOn": _text_bool("security_defaults_on"),
        "conditionalAccessPolicies": F("ca_policies_count"),
        "checkedDateTime": F("mfa_checked_at"),
    }
    sql, params = select_columns(_customer_rows(request), columns)
    return csv_response(copy_csv(sql, params), f"customer-mfa-{timezone.localdate():%Y-%m-%d}.csv")


def _import_page(request, *, title, intro, columns, service, back, template="security/import.html"):
    require(request, C.SECURITY_MANAGE)
    form = UploadForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            count = service(
                actor=request.user, organization=request.user.organization, upload=form.cleaned_data["file"]
            )
        except UploadRejected as exc:
            rejection = exc
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"{count} row{'s' if count != 1 else ''} imported.")
            return redirect(back)
    context = {
        "form": form,
        "rejection": rejection,
        "title": title,
        "intro": intro,
        "columns": columns,
        "back": back,
    }
    return render(request, template, context)


def customers_mfa_import(request):
    return _import_page(
        request,
        title="Import customer MFA statistics",
        intro=(
            "One row per customer tenant. The whole file is checked first: if any row is wrong nothing "
            "is imported and every problem is listed."
        ),
        columns=(
            *mfa_services.CUSTOMER_MFA_COLUMNS,
            *(f"{c} (optional)" for c in mfa_services.CUSTOMER_MFA_OPTIONAL_COLUMNS),
        ),
        service=mfa_services.customer_mfa_import,
        back="security:customers-mfa",
    )


# --- Azure budgets --------------------------------------------------------------------------------


def azure_budgets(request):
    """Customers' Azure subscriptions and their spending budgets (a recommended requirement)."""
    require(request, C.SECURITY_VIEW)
    subscriptions = CustomerAzureSubscription.objects.visible_to(request.user).select_related("customer")
    search = (request.GET.get("q") or "").strip()
    if search:
        subscriptions = subscriptions.filter(
            Q(customer__name__icontains=search)
            | Q(display_name__icontains=search)
            | Q(subscription_id__icontains=search)
        )
    budget = _yes_no(request.GET.get("budget"))
    if budget is not None:
        subscriptions = subscriptions.filter(budget_amount__isnull=not budget)
    visible = CustomerAzureSubscription.objects.visible_to(request.user)
    page, query = _paged(request, subscriptions.order_by("customer__name", "display_name", "id"))
    context = {
        "page_obj": page,
        "query_without_page": query,
        "params": request.GET,
        "total": visible.count(),
        "with_budget": visible.filter(budget_amount__isnull=False).count(),
        "can_manage": can(request.user, C.SECURITY_MANAGE),
    }
    return render(request, "security/azure_budgets.html", context)


def azure_budgets_import(request):
    return _import_page(
        request,
        title="Import Azure subscriptions",
        intro=(
            "One row per customer Azure subscription, with its budget if one is set. The whole file is "
            "checked first: if any row is wrong nothing is imported and every problem is listed."
        ),
        columns=(
            *mfa_services.AZURE_COLUMNS,
            *(f"{c} (optional)" for c in mfa_services.AZURE_OPTIONAL_COLUMNS),
        ),
        service=mfa_services.azure_subscriptions_import,
        back="security:azure-budgets",
    )


@tenant_route(CustomerAzureSubscription)
@require_POST
def azure_budget_set(request, pk: int):
    require(request, C.SECURITY_MANAGE)
    subscription = get_visible_or_404(CustomerAzureSubscription.objects.all(), request.user, pk=pk)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            subscription = mfa_services.azure_budget_set(
                actor=request.user,
                subscription=subscription,
                amount=form.cleaned_data["amount"],
                currency=form.cleaned_data["currency"],
            )
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            if subscription.has_budget:
                messages.success(
                    request,
                    f"Budget of {subscription.display_name} set to {subscription.budget_amount} "
                    f"{subscription.budget_currency}.",
                )
            else:
                messages.success(request, f"Budget of {subscription.display_name} removed.")
    # The list's filters and page survive the change (only a query string, never another address).
    query = request.POST.get("query", "").lstrip("?")
    return redirect(reverse("security:azure-budgets") + (f"?{query}" if query else ""))


# --- Settings -------------------------------------------------------------------------------------


def _settings_initial(security_settings) -> dict:
    return {name: getattr(security_settings, name) for name in SecuritySettingsForm.FIELDS}


def settings_page(request):
    """The security contact and the tenant's MFA policies; per-user MFA exceptions below."""
    require(request, C.SECURITY_VIEW)
    organization = request.user.organization
    security_settings = settings_services.security_settings_for(organization)
    can_manage = can(request.user, C.SECURITY_MANAGE)
    users = (
        User.objects.visible_to(request.user)
        .filter(is_active=True, is_service_account=False)
        .order_by("email")
    )
    form = SecuritySettingsForm(initial=_settings_initial(security_settings))
    policy_form = UserMfaPolicyForm(users=users)
    if request.method == "POST":
        require(request, C.SECURITY_MANAGE)
        if request.POST.get("form") == "policy":
            policy_form = UserMfaPolicyForm(request.POST, users=users)
            if policy_form.is_valid():
                data = policy_form.cleaned_data
                try:
                    settings_services.user_mfa_policy_set(
                        actor=request.user,
                        user=data["user"],
                        per_user_mfa_enabled=data["per_user_mfa_enabled"],
                        third_party_mfa=data["third_party_mfa"],
                    )
                except ValidationError as exc:
                    show_errors(request, exc)
                else:
                    messages.success(request, f"MFA policy of {data['user'].email} saved.")
                    return redirect("security:settings")
        else:
            form = SecuritySettingsForm(request.POST)
            if form.is_valid():
                try:
                    settings_services.security_settings_update(
                        actor=request.user, organization=organization, **form.changes()
                    )
                except ValidationError as exc:
                    form_errors(form, exc)
                else:
                    messages.success(request, "Security settings saved.")
                    return redirect("security:settings")
    policies = (
        UserMfaPolicy.objects.visible_to(request.user)
        .select_related("user")
        .filter(Q(per_user_mfa_enabled=True) | Q(third_party_mfa=True))
    )
    context = {
        "form": form,
        "policy_form": policy_form,
        "policies": policies.order_by("user__email"),
        "security_settings": security_settings,
        "can_manage": can_manage,
    }
    return render(request, "security/settings.html", context)


# --- Alerts ---------------------------------------------------------------------------------------


def alerts(request):
    """Security and fraud alerts with the average response time of the last 30 days."""
    require(request, C.SECURITY_VIEW)
    rows = SecurityAlert.objects.visible_to(request.user).select_related("customer", "responded_by")
    status = request.GET.get("status") or ""
    if status in AlertStatus.values:
        rows = rows.filter(status=status)
    alert_type = request.GET.get("type") or ""
    if alert_type in AlertType.values:
        rows = rows.filter(alert_type=alert_type)
    search = (request.GET.get("q") or "").strip()
    if search:
        rows = rows.filter(Q(title__icontains=search) | Q(customer__name__icontains=search))
    page, query = _paged(request, rows.order_by("-created_at", "-id"))
    organization = request.user.organization
    context = {
        "page_obj": page,
        "query_without_page": query,
        "params": request.GET,
        "statuses": AlertStatus.choices,
        "types": AlertType.choices,
        "average_hours": alert_services.alerts_average_response_hours(organization),
        "open_count": SecurityAlert.objects.visible_to(request.user)
        .filter(status=AlertStatus.ACTIVE)
        .count(),
        "now": timezone.now(),
    }
    return render(request, "security/alerts.html", context)


@tenant_route(SecurityAlert)
def alert_detail(request, pk: int):
    require(request, C.SECURITY_VIEW)
    alert = get_visible_or_404(
        SecurityAlert.objects.select_related("customer", "responded_by"), request.user, pk=pk
    )
    can_respond = can(request.user, C.SECURITY_MANAGE) and alert.status == AlertStatus.ACTIVE
    form = AlertRespondForm(request.POST or None)
    if request.method == "POST":
        require(request, C.SECURITY_MANAGE)
        if form.is_valid():
            try:
                alert_services.alert_respond(
                    actor=request.user,
                    alert=alert,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"Alert “{alert.title}” answered.")
                return redirect("security:alert-detail", pk=alert.pk)
    age = (alert.responded_at or timezone.now()) - alert.created_at
    context = {
        "alert": alert,
        "form": form,
        "can_respond": can_respond,
        "age_hours": round(age.total_seconds() / 3600, 1),
    }
    return render(request, "security/alert_detail.html", context)
