"""Home (the Action Center), sign-in and MFA, users and roles, customers, audit log, API clients."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.filters import AuditEventFilter, CustomerFilter, UserFilter
from accounts.forms import (
    ApiClientForm,
    CustomerForm,
    CustomerImportForm,
    EmailAuthenticationForm,
    InvitationAcceptForm,
    InviteForm,
    OutboxPasswordResetForm,
    RolesForm,
    TokenForm,
)
from accounts.models import ActionItem, ApiClient, Customer, Invitation, Organization, PartnerLocation, User
from accounts.services import action_center, api_clients, customers, mfa, people
from accounts.services.customer_import import customers_import_start
from portal.capabilities import Capability
from portal.htmx import htmx_partial
from portal.models import AuditEvent
from portal.roles import Role
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import (
    TenantDetailView,
    TenantListView,
    capability_required,
    form_errors,
    member_page,
    require_capability,
)

C = Capability
#: Session key: when this session last passed a second-factor check (epoch seconds).
SECOND_FACTOR_CHECKED_AT = "mfa_checked_at"
_WRONG_CODE = "That code is not valid. Use the current code from your app or an unused backup code."


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# --- Sign-in and the second factor --------------------------------------------------------------


def _pass_second_factor(request, device) -> None:
    otp_login(request, device)
    # A new session key for the verified session: a request still holding the old one can
    # neither read it (fixation) nor write a stale copy over it.
    request.session.cycle_key()
    request.session[SECOND_FACTOR_CHECKED_AT] = int(time.time())


def recent_second_factor_required(view):
    """Changing a factor needs a verified session whose last second-factor check is recent."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return second_factor_recheck(request) or view(request, *args, **kwargs)

    return wrapped


def second_factor_recheck(request):
    """A redirect to a fresh second-factor check when the last one is older than
    MFA_RECENT_CHECK_SECONDS (else None); the person comes back to `next` after: the page they were
    on for a form post, else the page itself."""
    if not request.user.is_verified():
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:mfa-verify')}?{query}")
    checked_at = request.session.get(SECOND_FACTOR_CHECKED_AT, 0)
    if time.time() - checked_at <= settings.MFA_RECENT_CHECK_SECONDS:
        return None
    back = request.get_full_path() if request.method == "GET" else _safe_next(request, "")
    back = back or reverse("home:profile")
    return redirect(f"{reverse('accounts:mfa-confirm')}?{urlencode({'next': back})}")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


def mfa_verify(request):
    """Second step of sign-in: a code from the authenticator app or a backup code."""
    if request.user.is_verified():
        return redirect(_safe_next(request, reverse("home:index")))
    if not mfa.has_confirmed_device(request.user):
        query = urlencode({"next": _safe_next(request, reverse("home:index"))})
        return redirect(f"{reverse('accounts:mfa-setup')}?{query}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.second_factor_match(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            _pass_second_factor(request, device)
            return redirect(_safe_next(request, reverse("home:index")))
        form.add_error("token", _WRONG_CODE)
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _safe_next(request, "")})


@member_page
def mfa_confirm(request):
    """A fresh second-factor check inside a verified session, before a factor is changed."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.second_factor_match(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            request.session[SECOND_FACTOR_CHECKED_AT] = int(time.time())
            return redirect(_safe_next(request, reverse("home:profile")))
        form.add_error("token", _WRONG_CODE)
    return render(request, "accounts/mfa_confirm.html", {"form": form, "next": _safe_next(request, "")})


def mfa_setup(request):
    """Enrol an authenticator app: scan the QR code, confirm with one code, keep the backup codes.

    A person without a device enrols before the second factor (first sign-in); replacing an
    existing app needs a verified session and a recent check, like every change of a factor.
    """
    if mfa.has_confirmed_device(request.user):
        return _mfa_replace(request)
    return _mfa_enrol(request)


@recent_second_factor_required
def _mfa_replace(request):
    return _mfa_enrol(request)


def _mfa_enrol(request):
    device = None
    device_id = request.session.get("mfa_enrolment_device")
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first()
    if device is None:
        device = mfa.totp_enrolment_start(user=request.user)
        request.session["mfa_enrolment_device"] = device.pk
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.totp_enrolment_confirm(user=request.user, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            request.session.pop("mfa_enrolment_device", None)
            _pass_second_factor(request, device)
            return render(
                request,
                "accounts/mfa_backup_codes.html",
                {"codes": codes, "next": _safe_next(request, reverse("home:index"))},
            )
        form.add_error(
            "token", "That code doesn't match. Check the time on your phone and try the next code."
        )
    context = {
        "form": form,
        "qr_svg": mfa.totp_qr_svg(device),
        "secret": mfa.totp_secret_base32(device),
        "next": _safe_next(request, ""),
        "replacing": mfa.has_confirmed_device(request.user),
    }
    return render(request, "accounts/mfa_setup.html", context)


@member_page
@require_POST
@recent_second_factor_required
def mfa_backup_codes_regenerate(request):
    codes = mfa.backup_codes_regenerate(user=request.user)
    return render(
        request, "accounts/mfa_backup_codes.html", {"codes": codes, "next": reverse("home:profile")}
    )


# --- The Action Center (listed on the Home page, home.views) -------------------------------------


@capability_required(C.ACTION_CENTER_VIEW)
@tenant_route(ActionItem, transition="done")
@require_POST
def action_item_transition(request, pk: int, transition: str):
    functions = {
        "done": action_center.action_item_mark_done,
        "dismiss": action_center.action_item_dismiss,
        "snooze": action_center.action_item_snooze,
        "take": lambda actor, item: action_center.action_item_assign(actor=actor, item=item, assignee=actor),
        "release": lambda actor, item: action_center.action_item_assign(
            actor=actor, item=item, assignee=None
        ),
    }
    if transition not in functions:
        raise PermissionDenied("Unknown action.")
    item = get_visible_or_404(ActionItem, request.user, pk=pk)
    error = None
    try:
        item = functions[transition](actor=request.user, item=item)
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    if htmx_partial(request):
        return render(request, "accounts/_action_item.html", {"item": item, "error": error})
    if error:
        messages.error(request, error)
    return redirect("home:index")


# --- Organization, users and roles ----------------------------------------------------------------


@capability_required(C.ACCOUNT_VIEW)
def organization_detail(request):
    organization = get_visible_or_404(Organization, request.user, pk=request.user.organization_id)
    locations = PartnerLocation.objects.visible_to(request.user)
    return render(
        request, "accounts/organization.html", {"organization": organization, "locations": locations}
    )


class UserListView(TenantListView):
    model = User
    capability = C.USERS_VIEW
    filterset_class = UserFilter
    template_name = "accounts/user_list.html"
    partial_template_name = "accounts/_user_table.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("role_assignments")


class UserDetailView(TenantDetailView):
    model = User
    capability = C.USERS_VIEW
    template_name = "accounts/user_detail.html"
    context_object_name = "member"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = self.object
        context["form"] = kwargs.get("form") or RolesForm(initial={"roles": sorted(member.role_codes)})
        context["role_labels"] = sorted(Role(code).label for code in member.role_codes)
        actor = self.request.user
        # Whether the row itself may change; whether the person may is the template's {% can %}.
        context["roles_changeable"] = (
            not member.is_service_account and member.pk != actor.pk and Role.OWNER not in member.role_codes
        )
        context["can_transfer_ownership"] = (
            Role.OWNER in actor.role_codes
            and member.pk != actor.pk
            and member.is_active
            and not member.is_service_account
        )
        context["audit"] = AuditEvent.objects.visible_to(self.request.user).filter(
            target_type="accounts.user", target_id=str(member.pk)
        )[:20]
        return context

    def post(self, request, *args, **kwargs):
        require_capability(
            request, C.USERS_MANAGE, message="Only account or user management admins change roles."
        )
        self.object = self.get_object()
        form = RolesForm(request.POST)
        if form.is_valid():
            try:
                people.user_roles_change(
                    actor=request.user, user=self.object, roles=form.cleaned_data["roles"]
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"Roles of {self.object} saved.")
                return redirect("accounts:user-detail", pk=self.object.pk)
        return self.render_to_response(self.get_context_data(form=form))


@capability_required(C.USERS_MANAGE)
@tenant_route(User)
@require_POST
def user_transfer_ownership(request, pk: int):
    member = get_visible_or_404(User, request.user, pk=pk)
    recheck = second_factor_recheck(request)
    if recheck is not None:
        return recheck
    try:
        people.ownership_transfer(actor=request.user, new_owner=member)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"{member} is now the Owner of your organization.")
    return redirect("accounts:user-detail", pk=member.pk)


@capability_required(C.USERS_MANAGE)
def user_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = people.user_invite(
                actor=request.user, organization=request.user.organization, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            link = request.build_absolute_uri(reverse("accounts:invitation-accept", args=[invitation.token]))
            messages.success(request, f"Invitation sent to {invitation.email}. Link: {link}")
            return redirect("accounts:user-list")
    invitations = Invitation.objects.visible_to(request.user).filter(accepted_at__isnull=True)
    return render(request, "accounts/user_invite.html", {"form": form, "invitations": invitations})


def invitation_accept(request, token: str):
    invitation = (
        Invitation.objects.filter(token=token, accepted_at__isnull=True)
        .select_related("organization")
        .first()
    )
    form = InvitationAcceptForm(
        request.POST or None, initial={"display_name": getattr(invitation, "display_name", "")}
    )
    if invitation is not None and request.method == "POST" and form.is_valid():
        try:
            people.invitation_accept(
                token=token,
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Your account is ready. Sign in, then set up your authenticator app.")
            return redirect("accounts:login")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})


class AuditEventListView(TenantListView):
    model = AuditEvent
    capability = C.AUDIT_VIEW
    filterset_class = AuditEventFilter
    template_name = "accounts/audit_list.html"
    partial_template_name = "accounts/_audit_table.html"


# --- Customers ------------------------------------------------------------------------------------


class CustomerListView(TenantListView):
    model = Customer
    capability = C.CUSTOMERS_VIEW
    filterset_class = CustomerFilter
    template_name = "accounts/customer_list.html"
    partial_template_name = "accounts/_customer_table.html"


class CustomerDetailView(TenantDetailView):
    model = Customer
    capability = C.CUSTOMERS_VIEW
    template_name = "accounts/customer_detail.html"


@capability_required(C.CUSTOMERS_MANAGE)
def customer_create(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customers.customer_create(
                actor=request.user, organization=request.user.organization, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            return redirect("accounts:customer-detail", pk=customer.pk)
    return render(request, "accounts/customer_form.html", {"form": form})


@capability_required(C.CUSTOMERS_MANAGE)
@tenant_route(Customer)
def customer_edit(request, pk: int):
    customer = get_visible_or_404(Customer, request.user, pk=pk)
    initial = {field: getattr(customer, field) for field in CustomerForm.base_fields}
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            customers.customer_update(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "The customer was saved.")
            return redirect("accounts:customer-detail", pk=customer.pk)
    return render(request, "accounts/customer_form.html", {"form": form, "customer": customer})


@capability_required(C.CUSTOMERS_MANAGE)
def customer_import(request):
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            job = customers_import_start(
                actor=request.user,
                organization=request.user.organization,
                upload=form.cleaned_data["file"],
                valid_rows_only=form.cleaned_data["valid_rows_only"],
            )
        except UploadRejected as exc:
            rejection = exc
        else:
            return redirect("portal:job-detail", pk=job.pk)
    return render(request, "accounts/customer_import.html", {"form": form, "rejection": rejection})


# --- API clients ----------------------------------------------------------------------------------


class ApiClientListView(TenantListView):
    model = ApiClient
    capability = C.API_CLIENTS_MANAGE
    template_name = "accounts/api_client_list.html"
    select_related = ("application",)


@capability_required(C.API_CLIENTS_MANAGE)
def api_client_create(request):
    form = ApiClientForm(request.POST or None, scopes=settings.OAUTH2_PROVIDER["SCOPES"])
    if request.method == "POST" and form.is_valid():
        try:
            client, secret = api_clients.api_client_create(
                actor=request.user, organization=request.user.organization, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            return render(
                request,
                "accounts/api_client_created.html",
                {
                    "client": client,
                    "secret": secret,
                    "token_url": request.build_absolute_uri(reverse("oauth2_provider:token")),
                },
            )
    return render(request, "accounts/api_client_form.html", {"form": form})


@capability_required(C.API_CLIENTS_MANAGE)
@tenant_route(ApiClient)
@require_POST
def api_client_revoke(request, pk: int):
    client = get_visible_or_404(ApiClient, request.user, pk=pk)
    try:
        api_clients.api_client_revoke(actor=request.user, client=client)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"{client.name} is revoked; its tokens no longer work.")
    return redirect("accounts:api-client-list")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
