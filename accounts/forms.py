from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse

from accounts.choices import CustomerSegment
from accounts.models import customer_name_validator
from portal.imports.forms import ImportForm
from portal.notifications import email_queue
from portal.roles import Role


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Work email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_service_account:
            raise forms.ValidationError("API clients cannot sign in to pages.", code="service_account")


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, its e-mail sent through the portal's outbox (absolute link, both parts)."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        user = context["user"]
        organization = user.organization
        email_queue(
            key=f"password-reset:{user.pk}:{context['token']}",
            to=to_email,
            title="Reset your Partner Portal password",
            body=f"Someone asked to reset the password of your account ({to_email}). If it was you, "
            "open the link within three hours. If it wasn't you, ignore this message; your password "
            "stays as it is.",
            url=reverse(
                "accounts:password-reset-confirm",
                kwargs={"uidb64": context["uid"], "token": context["token"]},
            ),
            organization_id=organization.pk if organization else None,
            organization_name=organization.legal_name if organization else None,
        )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class InviteForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(max_length=150, required=False, label="Name")
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)


class InvitationAcceptForm(forms.Form):
    display_name = forms.CharField(max_length=150, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput, min_length=12)
    password_again = forms.CharField(widget=forms.PasswordInput, label="Password again")

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The passwords don't match.")
        return data


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200, validators=[customer_name_validator])
    tenant_id = forms.UUIDField(
        label="Tenant ID",
        required=False,
        help_text="The customer's Microsoft Entra tenant (directory) ID, a GUID. Leave it empty for a "
        "customer that has no tenant yet: one is created for it.",
    )
    domain = forms.RegexField(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", max_length=253)
    country = forms.RegexField(r"^[A-Za-z]{2}$", max_length=2, help_text="ISO 3166-1 alpha-2, e.g. DE")
    segment = forms.ChoiceField(choices=CustomerSegment.choices)
    employee_count = forms.IntegerField(min_value=0, required=False)


class CustomerImportForm(ImportForm):
    file = forms.FileField(
        help_text="CSV, TSV or XLSX (or a ZIP holding one) with columns name and domain, and optionally "
        "tenant_id, country, segment and employee_count; or the customers.csv that Microsoft's NCE "
        "Batch Migration tool exports (TenantId, Domain, CompanyName)."
    )


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    roles = forms.MultipleChoiceField(
        choices=[c for c in Role.choices if c[0] != Role.OWNER], widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, scopes: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = sorted(scopes.items())
