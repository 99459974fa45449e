"""Security workspace pages: posture — the requirements score, MFA of the partner's users and of
customers, the tenant's security settings, alerts and customers' Azure budgets.

Views read through security/selectors/, parse input and call the services (security/services/);
every rule and every write is theirs, and their ValidationErrors are shown to the person as they are.
Lists filter with the FilterSets the API uses (same parameters, same rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, F, FloatField, Value, When
from django.db.models.functions import Cast, Round
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.capabilities import Capability, can
from portal.files import copy_csv, csv_response, select_columns, text_rows
from portal.paging import LookaheadPaginator, keyset_page
from portal.roles import Role
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import capability_required, form_errors, post_action, query_without, require_capability
from security.choices import (
    AlertStatus,
    AlertType,
    ComplianceStatus,
    MfaMechanism,
    MfaMethod,
    RequirementKind,
    RequirementType,
)
from security.filters import (
    AlertFilterSet,
    AzureSubscriptionFilterSet,
    CustomerMfaFilterSet,
    MfaUserFilterSet,
)
from security.forms import (
    AlertRespondForm,
    BudgetForm,
    SecurityImportForm,
    SecuritySettingsForm,
    UserMfaPolicyForm,
)
from security.models import CustomerAzureSubscription, SecurityAlert
from security.selectors.compliance import people_of
from security.selectors.mfa import (
    customer_mfa_stats,
    customer_mfa_summary,
    customers_without_mfa_figures,
    mfa_coverage,
    mfa_people,
    mfa_rows,
)
from security.selectors.posture import (
    alerts as alert_rows,
)
from security.selectors.posture import (
    alerts_average_response_hours,
    alerts_open_count,
    azure_budget_summary,
    azure_subscriptions,
    score_snapshots,
    settings_or_default,
    user_mfa_exceptions,
)
from security.services import alerts as alert_services
from security.services import mfa as mfa_services
from security.services import requirements as requirement_services
from security.services import settings as settings_services
from security.views import PAGE_SIZE

C = Capability

HISTORY_DAYS = 180
#: Customers without MFA figures listed by name on the customers' MFA page (when asked for).
WITHOUT_FIGURES_SHOWN = 50
DENIED = "Your roles don't allow this in the Security workspace."
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


def _page(request, rows):
    """Numbered pages (for lists ordered by something else than a date), counted up to the cap."""
    return LookaheadPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _latest_checked(request, rows):
    """Keyset pages of customer-tenant figures, the latest checked first."""
    return keyset_page(rows, field_name="checked_at", after=request.GET.get("after"), size=PAGE_SIZE)


# --- Score ----------------------------------------------------------------------------------------


@capability_required(C.SECURITY_VIEW, C.COMPLIANCE_MANAGE, C.ACCOUNT_VIEW, message=DENIED)
def index(request):
    """The score tiles, the requirement rows with their evidence and action, and the history chart.
    People who see only compliance land on the Compliance page."""
    if not can(request.user, C.SECURITY_VIEW):
        return redirect("security:compliance")
    score = requirement_services.security_score(request.user.organization)
    since = timezone.localdate() - timedelta(days=HISTORY_DAYS)
    snapshots = list(score_snapshots(request.user, since=since))
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


def _mfa_filtered(request):
    """The people filtered by the API's parameters (`registered`, `admin`, `mechanism`, `search`)."""
    organization = request.user.organization
    settings_row = settings_or_default(organization)
    people = mfa_people(organization, settings_row)
    return MfaUserFilterSet(request.GET, queryset=people, request=request), settings_row


@capability_required(C.SECURITY_VIEW, message=DENIED)
def mfa(request):
    """Everyone in the partner tenant with their MFA state; people without MFA first."""
    filterset, settings_row = _mfa_filtered(request)
    page = _page(request, filterset.qs)
    rows = [
        MfaRow(
            row,
            mechanism=MECHANISM_LABELS.get(row.enforcement_mechanism, row.enforcement_mechanism),
            policies=[MECHANISM_LABELS.get(p, p) for p in row.applicable_policies],
            methods=[METHOD_LABELS.get(m, m) for m in row.methods],
            roles=[Role(code).label for code in row.roles],
        )
        for row in mfa_rows(page.object_list, settings_row)
    ]
    context = {
        "rows": rows,
        "page_obj": page,
        "query_without_page": query_without(request, "page"),
        "coverage": mfa_coverage(request.user.organization),
        "params": request.GET,
        "mechanisms": MfaMechanism.choices,
        "query": query_without(request, "page"),
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


@capability_required(C.SECURITY_VIEW, message=DENIED)
def mfa_download(request):
    """The MFA dashboard's rows (same filters) as CSV."""
    filterset, settings_row = _mfa_filtered(request)
    rows = mfa_rows(filterset.qs, settings_row)
    return csv_response(text_rows(_mfa_csv_rows(rows)), f"mfa-users-{timezone.localdate():%Y-%m-%d}.csv")


# --- MFA in customer tenants ----------------------------------------------------------------------


def _customer_mfa_filtered(request) -> CustomerMfaFilterSet:
    return CustomerMfaFilterSet(request.GET, queryset=customer_mfa_stats(request.user), request=request)


@capability_required(C.SECURITY_VIEW, message=DENIED)
def customers_mfa(request):
    """MFA adoption per customer tenant, the latest figures first: admins and non-admins with MFA,
    total users, compliance; and the customers still without figures."""
    filterset = _customer_mfa_filtered(request)
    context = {
        "filter": filterset,
        "page": _latest_checked(request, filterset.qs),
        "query_without_cursor": query_without(request, "after"),
        "params": request.GET,
        "query": query_without(request, "page"),
        "summary": customer_mfa_summary(request.user),
        # Listed when asked for (`missing=1`): finding them means looking at every customer.
        "without_figures": customers_without_mfa_figures(request.user, limit=WITHOUT_FIGURES_SHOWN)
        if request.GET.get("missing") == "1"
        else None,
    }
    return render(request, "security/customers_mfa.html", context)


def _text_bool(expression) -> Case:
    return Case(
        When(**{expression: True}, then=Value("true")),
        When(**{expression: False}, then=Value("false")),
        default=Value(None),
        output_field=CharField(),
    )


_ADMIN_MFA_PERCENT = Case(
    When(admins_total=0, then=Value(None)),
    default=Cast(Round(Value(100.0) * F("admins_with_mfa") / F("admins_total"), 1), FloatField()),
    output_field=FloatField(null=True),
)
_COMPLIANT = Case(
    When(admins_with_mfa=F("admins_total"), then=Value("true")),
    default=Value("false"),
    output_field=CharField(),
)


@capability_required(C.SECURITY_VIEW, message=DENIED)
def customers_mfa_download(request):
    """The customers' MFA table (same filters) as CSV, streamed by PostgreSQL."""
    columns = {
        "customer": F("customer__name"),
        "customerTenantId": Cast("customer__tenant_id", CharField()),
        "customerDomain": F("customer__domain"),
        "adminsWithMfa": F("admins_with_mfa"),
        "adminsTotal": F("admins_total"),
        "adminMfaPercent": _ADMIN_MFA_PERCENT,
        "nonAdminsWithMfa": F("non_admins_with_mfa"),
        "usersTotal": F("users_total"),
        "isCompliant": _COMPLIANT,
        "securityDefaultsOn": _text_bool("security_defaults_on"),
        "conditionalAccessPolicies": F("ca_policies_count"),
        "checkedDateTime": F("checked_at"),
    }
    sql, params = select_columns(_customer_mfa_filtered(request).qs, columns)
    return csv_response(copy_csv(sql, params), f"customer-mfa-{timezone.localdate():%Y-%m-%d}.csv")


def _import_page(request, *, title: str, intro: str, columns, service: Callable, back: str):
    """An import page (portal.imports): the file's header is checked at once, then its rows in a job
    whose page lists every problem and links the result file."""
    form = SecurityImportForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            job = service(
                actor=request.user,
                organization=request.user.organization,
                upload=form.cleaned_data["file"],
                valid_rows_only=form.cleaned_data["valid_rows_only"],
            )
        except UploadRejected as exc:
            rejection = exc
        else:
            return redirect("portal:job-detail", pk=job.pk)
    context = {
        "form": form,
        "rejection": rejection,
        "title": title,
        "intro": intro,
        "columns": columns,
        "back": back,
    }
    return render(request, "security/import.html", context)


_CHECKED_FIRST = (
    "Every row is checked first: if any row has a problem nothing is imported and every problem is "
    "listed (row, column, value), unless you choose to import the valid rows only. Importing the same "
    "file again changes nothing."
)


@capability_required(C.SECURITY_MANAGE, message=DENIED)
def customers_mfa_import(request):
    return _import_page(
        request,
        title="Import customer MFA statistics",
        intro=f"One row per customer tenant, by its tenant ID or else its name. {_CHECKED_FIRST}",
        columns=(
            *mfa_services.CUSTOMER_MFA_COLUMNS,
            *(f"{c} (optional)" for c in mfa_services.CUSTOMER_MFA_OPTIONAL_COLUMNS),
        ),
        service=mfa_services.customer_mfa_import,
        back="security:customers-mfa",
    )


# --- Azure budgets --------------------------------------------------------------------------------


@capability_required(C.SECURITY_VIEW, message=DENIED)
def azure_budgets(request):
    """Customers' Azure subscriptions and their spending budgets (a recommended requirement), the
    latest checked first."""
    filterset = AzureSubscriptionFilterSet(
        request.GET, queryset=azure_subscriptions(request.user), request=request
    )
    editing = request.GET.get("edit", "")
    context = {
        "filter": filterset,
        "page": _latest_checked(request, filterset.qs),
        "query_without_cursor": query_without(request, "after", "edit"),
        "query_without_edit": query_without(request, "edit"),
        # The one row whose budget form is open (`edit=<pk>`); the others show a link to open it.
        "editing": int(editing) if editing.isdigit() else None,
        "params": request.GET,
        "summary": azure_budget_summary(request.user),
    }
    return render(request, "security/azure_budgets.html", context)


@capability_required(C.SECURITY_MANAGE, message=DENIED)
def azure_budgets_import(request):
    return _import_page(
        request,
        title="Import Azure subscriptions",
        intro=f"One row per customer Azure subscription, with its budget if one is set. {_CHECKED_FIRST}",
        columns=(
            *mfa_services.AZURE_COLUMNS,
            *(f"{c} (optional)" for c in mfa_services.AZURE_OPTIONAL_COLUMNS),
        ),
        service=mfa_services.azure_subscriptions_import,
        back="security:azure-budgets",
    )


def _budget_saved(subscription: CustomerAzureSubscription) -> str:
    if subscription.has_budget:
        return (
            f"Budget of {subscription.display_name} set to {subscription.budget_amount} "
            f"{subscription.budget_currency}."
        )
    return f"Budget of {subscription.display_name} removed."


@tenant_route(CustomerAzureSubscription)
@capability_required(C.SECURITY_MANAGE, message=DENIED)
@require_POST
def azure_budget_set(request, pk: int):
    subscription = get_visible_or_404(CustomerAzureSubscription.objects.all(), request.user, pk=pk)
    # The list's filters and page survive the change (only a query string, never another address).
    query = request.POST.get("query", "").lstrip("?")
    back = reverse("security:azure-budgets") + (f"?{query}" if query else "")
    form = BudgetForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    return post_action(
        request,
        lambda: mfa_services.azure_budget_set(
            actor=request.user,
            subscription=subscription,
            amount=form.cleaned_data["amount"],
            currency=form.cleaned_data["currency"],
        ),
        success=_budget_saved,
        back=back,
    )


# --- Settings -------------------------------------------------------------------------------------


@capability_required(C.SECURITY_VIEW, message=DENIED)
def settings_page(request):
    """The security contact and the tenant's MFA policies; per-user MFA exceptions below. Saving
    either form needs SECURITY_MANAGE."""
    organization = request.user.organization
    security_settings = settings_or_default(organization)
    initial = {name: getattr(security_settings, name) for name in SecuritySettingsForm.FIELDS}
    form = SecuritySettingsForm(initial=initial)
    policy_form = UserMfaPolicyForm(people=people_of(request.user))
    if request.method == "POST":
        require_capability(request, C.SECURITY_MANAGE, message=DENIED)
        if request.POST.get("form") == "policy":
            policy_form = UserMfaPolicyForm(request.POST, people=people_of(request.user))
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
                    form_errors(policy_form, exc)
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
    context = {
        "form": form,
        "policy_form": policy_form,
        "policies": user_mfa_exceptions(request.user),
        "security_settings": security_settings,
    }
    return render(request, "security/settings.html", context)


# --- Alerts ---------------------------------------------------------------------------------------


@capability_required(C.SECURITY_VIEW, message=DENIED)
def alerts(request):
    """Security and fraud alerts, newest first, with the average response time of the last 30 days;
    filtered by the API's parameters (`q`, `status`, `alertType`, `customerTenantId`)."""
    filterset = AlertFilterSet(request.GET, queryset=alert_rows(request.user), request=request)
    context = {
        "filter": filterset,
        "page": keyset_page(
            filterset.qs, field_name="created_at", after=request.GET.get("after"), size=PAGE_SIZE
        ),
        "query_without_cursor": query_without(request, "after"),
        "params": request.GET,
        "statuses": AlertStatus.choices,
        "types": AlertType.choices,
        "average_hours": alerts_average_response_hours(request.user.organization),
        "open_count": alerts_open_count(request.user),
        "now": timezone.now(),
    }
    return render(request, "security/alerts.html", context)


@tenant_route(SecurityAlert)
@capability_required(C.SECURITY_VIEW, message=DENIED)
def alert_detail(request, pk: int):
    """One alert; answering it (POST) needs SECURITY_MANAGE."""
    alert = get_visible_or_404(
        SecurityAlert.objects.select_related("customer", "responded_by"), request.user, pk=pk
    )
    form = AlertRespondForm(request.POST or None)
    if request.method == "POST":
        require_capability(request, C.SECURITY_MANAGE, message=DENIED)
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
        "answerable": alert.status == AlertStatus.ACTIVE,
        "age_hours": round(age.total_seconds() / 3600, 1),
    }
    return render(request, "security/alert_detail.html", context)
