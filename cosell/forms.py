"""Forms of the Co-sell pages: the deal workflow's five steps, the referral edit and actions, routing
rules and their tester, the capability profile and the matching need.

Forms only parse input into the services' shapes; every rule (required fields, known country and
currency codes, transitions, ETags) is the services' (cosell/services/), whose ValidationErrors the
views show next to the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from cosell.choices import CustomerSize, DealKind, LeadTemperature, LossReason, MarketplaceIntent
from cosell.models import CapabilityProfile, CaseStudy, RoutingRule, Solution
from cosell.services.routing import RULE_FIELDS
from earnings.choices import PartnerRole, SolutionArea
from earnings.filters import MonthField

DATE = forms.DateInput(attrs={"type": "date"})


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "—"), *[(value, label) for value, label in choices if value]]


class CommaListField(forms.CharField):
    """A list typed as comma-separated values (a tag input); blanks dropped, order and case kept
    unless `upper`."""

    def __init__(self, *args, upper: bool = False, **kwargs):
        self.upper = upper
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"class": "tag-input"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value) -> list[str]:
        items = [str(v) for v in value] if isinstance(value, list | tuple) else (value or "").split(",")
        cleaned = [item.strip() for item in items if item.strip()]
        return [item.upper() for item in cleaned] if self.upper else cleaned


class UserEmailField(forms.ModelChoiceField):
    """A person of the organization, typed as their e-mail address and looked up on submit: a text
    input, not a list of every user (an organization may have thousands)."""

    widget = forms.EmailInput

    def __init__(self, queryset=None, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("to_field_name", "email")
        super().__init__(queryset if queryset is not None else User.objects.none(), **kwargs)
        self.error_messages["invalid_choice"] = "Nobody in your organization has this e-mail address."

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, User):
            return value
        try:
            return self.queryset.get(email__iexact=str(value).strip())
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class MembersField(forms.CharField):
    """People, one a line: `First Last, e-mail, phone` → Partner Center Member objects."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "One a line: First Last, e-mail, phone.")
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            lines = []
            for member in value:
                name = " ".join(p for p in (member.get("firstName", ""), member.get("lastName", "")) if p)
                parts = [name, member.get("email", ""), member.get("phoneNumber", "")]
                lines.append(", ".join(parts).rstrip(", "))
            return "\n".join(lines)
        return value

    def to_python(self, value) -> list[dict[str, str]]:
        if isinstance(value, list):
            return value
        members = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            first, _, last = parts[0].partition(" ")
            member = {"firstName": first, "lastName": last.strip()}
            if len(parts) > 1 and parts[1]:
                if "@" not in parts[1]:
                    raise forms.ValidationError(f"Line {number}: “{parts[1]}” is not an e-mail address.")
                member["email"] = parts[1]
            if len(parts) > 2 and parts[2]:
                member["phoneNumber"] = parts[2]
            members.append(member)
        return members


# --- The deal workflow (spec §3) -----------------------------------------------------------------


class CustomerStep(forms.Form):
    """Step 1: the deal's name and its customer."""

    PATHS = {
        "name": "name",
        "customerProfile.name": "customer_name",
        "customerProfile.address.addressLine1": "address_line1",
        "customerProfile.address.city": "city",
        "customerProfile.address.state": "state",
        "customerProfile.address.postalCode": "postal_code",
        "customerProfile.address.country": "country",
        "customerProfile.address": "country",
        "customerProfile.size": "size",
        "customerProfile.team": "contacts",
        "customerProfile": "customer_name",
    }

    name = forms.CharField(max_length=200, label="Deal name")
    customer_name = forms.CharField(max_length=200, label="Customer name", required=False)
    address_line1 = forms.CharField(max_length=200, label="Address", required=False)
    city = forms.CharField(max_length=100, label="City", required=False)
    state = forms.CharField(max_length=100, label="State or region", required=False)
    postal_code = forms.CharField(max_length=20, label="Postal code", required=False)
    country = forms.CharField(
        max_length=2, label="Country", required=False, help_text="ISO 3166 code, e.g. DE."
    )
    size = forms.ChoiceField(choices=_blank(CustomerSize.choices), label="Company size", required=False)
    contacts = MembersField(label="Customer contacts")

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def document(self) -> dict[str, Any]:
        data = self.cleaned_data
        address = {
            "addressLine1": data["address_line1"],
            "city": data["city"],
            "state": data["state"],
            "postalCode": data["postal_code"],
            "country": data["country"],
        }
        return {
            "name": data["name"],
            "customerProfile": {
                "name": data["customer_name"],
                "address": {key: value for key, value in address.items() if value},
                "size": data["size"],
                "team": data["contacts"],
            },
        }


class SolutionStep(forms.Form):
    """Step 2: which of the organization's solutions the deal is for, and what the customer needs."""

    PATHS = {
        "target": "solution",
        "details.requirements.industries": "industries",
        "details.requirements.products": "products",
        "details.requirements.services": "services",
        "partnerRole": "partner_role",
        "solutionArea": "solution_area",
    }

    solution = forms.ModelChoiceField(
        queryset=Solution.objects.none(), to_field_name="solution_id", label="Target solution", required=False
    )
    industries = CommaListField(label="Industries", help_text="Comma-separated, e.g. Manufacturing.")
    products = CommaListField(label="Products", help_text="Comma-separated, e.g. Azure, PowerBI.")
    services = CommaListField(label="Services", help_text="Comma-separated, e.g. DeploymentOrMigration.")
    partner_role = forms.ChoiceField(
        choices=_blank(PartnerRole.choices), label="Partner role", required=False
    )
    solution_area = forms.ChoiceField(
        choices=_blank(SolutionArea.choices), label="Solution area", required=False
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["solution"].queryset = Solution.objects.filter(organization=organization).order_by("name")

    def document(self) -> dict[str, Any]:
        data = self.cleaned_data
        solution = data["solution"]
        return {
            "target": [{"type": "SolutionProfile", "id": solution.solution_id}] if solution else [],
            "details": {
                "requirements": {
                    kind: [{"id": tag} for tag in data[kind]]
                    for kind in ("industries", "products", "services")
                }
            },
            "partnerRole": data["partner_role"],
            "solutionArea": data["solution_area"],
        }


class ValueStep(forms.Form):
    """Step 3: what the deal is worth and when it closes."""

    PATHS = {
        "details.dealValue": "deal_value",
        "details.currency": "currency",
        "details.closingDateTime": "closing_date",
    }

    deal_value = forms.DecimalField(
        max_digits=18, decimal_places=2, label="Deal value", required=False, localize=False
    )
    currency = forms.CharField(
        max_length=3, label="Currency", required=False, help_text="ISO 4217, e.g. EUR."
    )
    closing_date = forms.DateField(label="Closing date", required=False, widget=DATE)

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def document(self) -> dict[str, Any]:
        data = self.cleaned_data
        closing = data["closing_date"]
        return {
            "details": {
                "dealValue": str(data["deal_value"]) if data["deal_value"] is not None else None,
                "currency": data["currency"],
                "closingDateTime": f"{closing.isoformat()}T00:00:00Z" if closing else None,
            }
        }


class TeamStep(forms.Form):
    """Step 4: the organization's people on the deal."""

    PATHS = {"team": "team"}

    team = MembersField(label="Your team on this deal")

    def document(self) -> dict[str, Any]:
        return {"team": self.cleaned_data["team"]}


class SharingStep(forms.Form):
    """Step 5: keep it private, share it, or ask the vendor for help; and the customer's consent."""

    PATHS = {
        "dealKind": "deal_kind",
        "type": "deal_kind",
        "consent.consentToToShareInfoWithOthers": "consent_share",
        "consent.consentToContact": "consent_contact",
        "consent": "consent_share",
        "details.notes": "notes",
    }

    deal_kind = forms.ChoiceField(
        choices=DealKind.choices, label="Sharing", widget=forms.RadioSelect, required=False
    )
    consent_share = forms.BooleanField(
        label="The customer agreed that we share their details with the vendor and its partners",
        required=False,
    )
    consent_contact = forms.BooleanField(label="The customer agreed to be contacted", required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def document(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["deal_kind"]
        return {
            "dealKind": kind,
            "type": "Independent" if kind == DealKind.PRIVATE else "Shared",
            "consent": {
                "consentToToShareInfoWithOthers": data["consent_share"],
                "consentToContact": data["consent_contact"],
            },
            "details": {"notes": data["notes"]},
        }


STEPS: dict[int, tuple[str, type[forms.Form]]] = {
    1: ("Customer", CustomerStep),
    2: ("Solution", SolutionStep),
    3: ("Value", ValueStep),
    4: ("Team", TeamStep),
    5: ("Sharing", SharingStep),
}


# --- A referral: edit and actions ----------------------------------------------------------------


class ReferralEditForm(forms.Form):
    """What the partner may change on a referral (Microsoft status and routing are not theirs)."""

    etag = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(max_length=200, label="Name")
    external_reference_id = forms.CharField(
        max_length=100, label="External reference (CRM id)", required=False
    )
    customer_name = forms.CharField(max_length=200, label="Customer name")
    customer_country = forms.CharField(max_length=2, label="Customer country", help_text="ISO 3166 code.")
    customer_size = forms.ChoiceField(
        choices=_blank(CustomerSize.choices), label="Company size", required=False
    )
    deal_value = forms.DecimalField(max_digits=18, decimal_places=2, label="Deal value", localize=False)
    currency = forms.CharField(max_length=3, label="Currency", help_text="ISO 4217 code.")
    closing_date = forms.DateField(label="Closing date", required=False, widget=DATE)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    lead_temperature = forms.ChoiceField(
        choices=_blank(LeadTemperature.choices), label="Lead temperature", required=False
    )
    customer_marketplace_intent = forms.ChoiceField(
        choices=_blank(MarketplaceIntent.choices), label="Marketplace purchase intent", required=False
    )

    #: The service's JSON paths → this form's fields, so its errors land next to the right input.
    PATHS = {
        "name": "name",
        "externalReferenceId": "external_reference_id",
        "customerProfile.name": "customer_name",
        "customerProfile.address.country": "customer_country",
        "customerProfile.size": "customer_size",
        "details.dealValue": "deal_value",
        "details.currency": "currency",
        "details.closingDateTime": "closing_date",
        "details.notes": "notes",
        "leadTemperature": "lead_temperature",
        "customerMarketplaceIntent": "customer_marketplace_intent",
    }

    def clean_customer_country(self) -> str:
        return self.cleaned_data["customer_country"].strip().upper()

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def document(self, referral) -> dict[str, Any]:
        """A partial update in the API's shape: nested objects keep what the form does not show."""
        data = self.cleaned_data
        profile = dict(referral.customer_profile or {})
        profile["name"] = data["customer_name"]
        profile["address"] = {**(profile.get("address") or {}), "country": data["customer_country"]}
        if data["customer_size"]:
            profile["size"] = data["customer_size"]
        closing = data["closing_date"]
        return {
            "name": data["name"],
            "externalReferenceId": data["external_reference_id"],
            "customerProfile": profile,
            "details": {
                "notes": data["notes"],
                "dealValue": str(data["deal_value"]),
                "currency": data["currency"],
                "closingDateTime": f"{closing.isoformat()}T00:00:00Z" if closing else None,
                "requirements": referral.requirements or {},
            },
            "leadTemperature": data["lead_temperature"],
            "customerMarketplaceIntent": data["customer_marketplace_intent"],
        }


class DeclineForm(forms.Form):
    loss_reason = forms.ChoiceField(choices=LossReason.choices, label="Reason")
    reason = forms.CharField(label="Why you decline", max_length=500)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=(("won", "Won"), ("lost", "Lost")), label="Outcome")
    loss_reason = forms.ChoiceField(
        choices=_blank(LossReason.choices), label="Loss reason", required=False, help_text="When lost."
    )
    reason = forms.CharField(label="Comment", required=False, max_length=500)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "lost" and not data.get("loss_reason"):
            self.add_error("loss_reason", "Pick why the deal was lost.")
        return data


# --- Routing rules (spec §5) ---------------------------------------------------------------------


class RoutingRuleForm(forms.ModelForm):
    match_countries = CommaListField(
        upper=True, label="Customer countries", help_text="ISO codes; empty = any."
    )
    match_solution_ids = CommaListField(label="Solutions", help_text="SOL-… ids; empty = any.")
    match_products = CommaListField(label="Products", help_text="Empty = any.")
    assign_to_user = UserEmailField(label="Assign to user", help_text="Their e-mail address.")
    notify_emails = CommaListField(label="Notify (e-mails)")

    class Meta:
        model = RoutingRule
        fields = RULE_FIELDS
        labels = {
            "match_min_deal_value": "Minimum deal value",
            "assign_to_team": "Assign to team",
            "is_default": "Default rule",
            "is_active": "Active",
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        self.fields["assign_to_user"].queryset = User.objects.filter(organization=organization)
        if self.instance.assign_to_user_id:
            self.initial["assign_to_user"] = self.instance.assign_to_user

    def clean_notify_emails(self) -> list[str]:
        emails = self.cleaned_data["notify_emails"]
        for email in emails:
            forms.EmailField().clean(email)
        return emails

    def values(self) -> dict[str, Any]:
        """The rule's fields for cosell.services.routing."""
        return {name: self.cleaned_data[name] for name in RULE_FIELDS}


class RoutingTestForm(forms.Form):
    country = forms.CharField(max_length=2, label="Customer country", help_text="ISO code, e.g. DE.")
    solution_id = forms.CharField(max_length=40, label="Solution", required=False, help_text="SOL-… id.")
    products = CommaListField(label="Products")
    deal_value = forms.DecimalField(max_digits=18, decimal_places=2, required=False, label="Deal value")

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()


# --- Capability profile (spec §6) ----------------------------------------------------------------


class CapabilityProfileForm(forms.ModelForm):
    solution_areas = CommaListField(label="Solution areas")
    industries = CommaListField(label="Industries")
    products = CommaListField(label="Products")
    services = CommaListField(label="Services")
    countries_served = CommaListField(upper=True, label="Countries served", help_text="ISO codes.")
    languages = CommaListField(label="Languages")
    designations = CommaListField(label="Designations", help_text="From your membership.")
    specializations = CommaListField(label="Specializations", help_text="From your membership.")

    class Meta:
        model = CapabilityProfile
        fields = (
            "solution_areas",
            "industries",
            "products",
            "services",
            "countries_served",
            "languages",
            "designations",
            "specializations",
            "deal_size_band",
        )


class CaseStudyForm(forms.ModelForm):
    products = CommaListField(label="Products")
    url = forms.URLField(label="URL", required=False, assume_scheme="https")

    class Meta:
        model = CaseStudy
        fields = ("title", "customer_name", "industry", "products", "outcome_text", "url", "is_public")
        widgets = {"outcome_text": forms.Textarea(attrs={"rows": 2})}


class SolutionForm(forms.ModelForm):
    class Meta:
        model = Solution
        fields = ("solution_id", "name", "solution_area", "co_sell_ready", "azure_ip_co_sell_eligible")
        labels = {"co_sell_ready": "Co-sell ready", "azure_ip_co_sell_eligible": "Azure IP co-sell eligible"}


def model_form_values(form: forms.ModelForm) -> dict[str, Any]:
    """A valid model form's fields, for the service that writes its model."""
    return {name: form.cleaned_data[name] for name in form._meta.fields}


# --- Matching (spec §7) --------------------------------------------------------------------------


class NeedForm(forms.Form):
    country = forms.CharField(max_length=2, label="Customer country", help_text="ISO code.")
    industry = forms.CharField(max_length=60, label="Industry", required=False)
    products = CommaListField(label="Products")
    size = forms.ChoiceField(choices=_blank(CustomerSize.choices), label="Company size", required=False)
    solution_area = forms.ChoiceField(
        choices=_blank(SolutionArea.choices), label="Solution area", required=False
    )

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()


# --- Insights (spec §8) --------------------------------------------------------------------------


class InsightFilterForm(forms.Form):
    solution_area = forms.ChoiceField(
        choices=_blank(SolutionArea.choices), label="Solution area", required=False
    )
    solution_id = forms.ModelChoiceField(
        queryset=Solution.objects.none(), to_field_name="solution_id", label="Solution", required=False
    )
    country = forms.CharField(max_length=2, label="Country", required=False)
    owner = UserEmailField(label="Owner (e-mail)")
    deal_kind = forms.ChoiceField(choices=_blank(DealKind.choices), label="Deal kind", required=False)
    period_from = MonthField(
        label="Created from", required=False, widget=forms.TextInput(attrs={"type": "month"})
    )
    period_to = MonthField(
        label="Created to", required=False, widget=forms.TextInput(attrs={"type": "month"})
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["solution_id"].queryset = Solution.objects.filter(organization=organization).order_by(
            "name"
        )
        self.fields["owner"].queryset = User.objects.filter(organization=organization)

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()
