"""Forms of the Security workspace's posture and GDAP pages (compliance forms live elsewhere).

They only parse input; every rule is the services' (security/services/), whose ValidationErrors
the views show next to the field they name.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import QuerySet

from accounts.models import Customer, User
from portal.imports.forms import ImportForm
from security.choices import (
    GDAP_AUTO_EXTEND_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_DISPLAY_NAME_MAX,
    GDAP_MAX_DURATION,
    GDAP_MIN_DURATION,
    AlertStatus,
)
from security.models import EntraRole
from security.selectors.gdap import customers_matching

#: How many of the customers a name fits are listed when it fits several.
CUSTOMER_CHOICES_SHOWN = 5
#: What the import pipeline reads (portal.imports): CSV, TSV, XLSX, or a ZIP holding one of them.
IMPORT_FILES = (
    ".csv,.tsv,.txt,.xlsx,.zip,text/csv,text/tab-separated-values,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/zip"
)


class SecuritySettingsForm(forms.Form):
    security_contact_name = forms.CharField(label="Security contact name", max_length=150, required=False)
    security_contact_email = forms.EmailField(
        label="Security contact email",
        required=False,
        help_text="Partner Center sends security notifications here; required to keep CSP authorization.",
    )
    security_contact_phone = forms.CharField(label="Security contact phone", max_length=40, required=False)
    security_defaults_enabled = forms.BooleanField(
        label="Security defaults are on in the partner tenant", required=False
    )
    conditional_access_requires_mfa = forms.BooleanField(
        label="A conditional access policy requires MFA for every user", required=False
    )
    conditional_access_policy_count = forms.IntegerField(
        label="Conditional access policies", min_value=0, required=False, initial=0
    )

    FIELDS = (
        "security_contact_name",
        "security_contact_email",
        "security_contact_phone",
        "security_defaults_enabled",
        "conditional_access_requires_mfa",
        "conditional_access_policy_count",
    )

    def changes(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.FIELDS}
        data["conditional_access_policy_count"] = data["conditional_access_policy_count"] or 0
        return data


class UserMfaPolicyForm(forms.Form):
    user = forms.EmailField(label="Person's e-mail", help_text="Someone of your organization.")
    per_user_mfa_enabled = forms.BooleanField(label="Per-user MFA enabled", required=False)
    third_party_mfa = forms.BooleanField(label="MFA by a third-party provider", required=False)

    def __init__(self, *args, people: QuerySet[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.people = people

    def clean_user(self) -> User:
        email = self.cleaned_data["user"].strip().lower()
        person = self.people.filter(email=email).first()
        if person is None:
            raise forms.ValidationError(f"No active person of your organization has the e-mail {email}.")
        return person


class AlertRespondForm(forms.Form):
    status = forms.ChoiceField(
        label="Outcome",
        choices=[(AlertStatus.RESOLVED, "Resolved"), (AlertStatus.DISMISSED, "Dismissed (not a threat)")],
    )
    note = forms.CharField(
        label="What you did",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: the response is kept with the alert.",
    )


class SecurityImportForm(ImportForm):
    """A customer MFA or Azure subscriptions file, and the "valid rows only" choice."""

    file = forms.FileField(
        label="File",
        help_text=ImportForm.base_fields["file"].help_text,
        widget=forms.ClearableFileInput(attrs={"accept": IMPORT_FILES}),
    )


class BudgetForm(forms.Form):
    amount = forms.DecimalField(
        label="Monthly budget",
        min_value=0,
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="Leave empty to remove the budget.",
    )
    currency = forms.CharField(label="Currency", max_length=3, required=False)

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


class GdapCreateForm(forms.Form):
    customer = forms.CharField(
        label="Customer",
        max_length=253,
        help_text="The customer's tenant ID, primary domain or name.",
    )
    display_name = forms.CharField(
        label="Name",
        max_length=GDAP_DISPLAY_NAME_MAX,
        help_text=(
            "Unique among your relationships, at most 50 characters; "
            "it can't change after approval is requested."
        ),
    )
    duration_days = forms.IntegerField(
        label="Duration (days)",
        min_value=GDAP_MIN_DURATION.days,
        max_value=GDAP_MAX_DURATION.days,
        initial=GDAP_MAX_DURATION.days,
        help_text="1 to 730 days (P1D to P2Y).",
    )
    roles = forms.ModelMultipleChoiceField(
        label="Roles", queryset=EntraRole.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    auto_extend = forms.BooleanField(
        label="Extend by 180 days automatically",
        required=False,
        help_text="Not allowed with Global Administrator.",
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["roles"].label_from_instance = lambda role: (
            f"{role.display_name}{' (privileged)' if role.is_privileged else ''}"
        )

    def clean_customer(self) -> Customer:
        """One customer, named by tenant ID, domain or name; a name that fits several is refused
        with the first few, so the partner can tell them apart."""
        text = self.cleaned_data["customer"].strip()
        found = customers_matching(self.user, text, limit=CUSTOMER_CHOICES_SHOWN + 1)
        if not found:
            raise forms.ValidationError(f"No customer of yours matches {text!r}.")
        if len(found) > 1:
            shown = ", ".join(f"{c.name} ({c.domain})" for c in found[:CUSTOMER_CHOICES_SHOWN])
            more = " and more" if len(found) > CUSTOMER_CHOICES_SHOWN else ""
            raise forms.ValidationError(
                f"Several customers match {text!r}: {shown}{more}. Give the tenant ID or the domain."
            )
        return found[0]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "customer": data["customer"],
            "display_name": data["display_name"],
            "duration": timedelta(days=data["duration_days"]),
            "role_ids": [str(role.pk) for role in data["roles"]],
            "auto_extend_duration": GDAP_AUTO_EXTEND_DAYS if data["auto_extend"] else GDAP_AUTO_EXTEND_NONE,
        }


class AssignmentForm(forms.Form):
    security_group_id = forms.UUIDField(
        label="Security group id", help_text="The object id of the security group in your tenant."
    )
    security_group_name = forms.CharField(label="Security group name", max_length=120)
    roles = forms.ModelMultipleChoiceField(
        label="Roles", queryset=EntraRole.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, relationship=None, **kwargs):
        super().__init__(*args, **kwargs)
        if relationship is not None:
            self.fields["roles"].queryset = relationship.roles.all()


class InvitationApproveForm(forms.Form):
    approver_name = forms.CharField(label="Your name", max_length=150)
    approver_email = forms.EmailField(label="Your work email")
