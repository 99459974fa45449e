"""Forms of the Incentives pages: the claim wizard's three steps and the claim page's actions.

Forms only parse input; every rule (eligibility, file type and size, transitions) is the
services' (incentives/services/), whose ValidationErrors the views show as they are.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from accounts.models import Customer, PartnerLocation
from incentives.choices import CustomerIdType, ProofKind
from incentives.models import ActivityType, Opportunity
from incentives.selectors import open_opportunities_of, partner_locations


class ActivityStepForm(forms.Form):
    """Step 1: which activity, delivered from which of the organization's locations."""

    activity = forms.ModelChoiceField(queryset=ActivityType.objects.none(), label="Activity")
    location = forms.ModelChoiceField(
        queryset=PartnerLocation.objects.none(),
        label="Location",
        help_text="The AI Cloud Partner Program location enrolled in the program that will be paid.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["activity"].queryset = (
            ActivityType.objects.visible_to(user)
            .filter(starts_on__lte=today, ends_on__gte=today)
            .select_related("engagement")
        )
        self.fields["location"].queryset = partner_locations(user=user)


class CustomerStepForm(forms.Form):
    """Step 2: find the customer (a search, never a list of every customer), then, for a variable
    activity, choose one of that customer's open seller opportunities."""

    find = forms.CharField(
        label="Customer", max_length=200, help_text="Name, domain or tenant ID of one of your customers."
    )
    opportunity = forms.ModelChoiceField(
        queryset=Opportunity.objects.none(),
        required=False,
        label="Seller opportunity",
        help_text="Variable-pay activities need an open MSX opportunity of this customer.",
    )

    def __init__(self, *args, user, customer: Customer | None, variable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            del self.fields["find"]
        if customer is None or not variable:
            # A fixed fee doesn't depend on an opportunity, and one is chosen among the customer's own.
            del self.fields["opportunity"]
            return
        self.fields["opportunity"].queryset = open_opportunities_of(user=user, customer=customer)


class DetailsStepForm(forms.Form):
    """Step 3: how the claim is named and whom the consent request goes to."""

    friendly_name = forms.CharField(max_length=120, label="Friendly claim name")
    customer_id_type = forms.ChoiceField(
        choices=CustomerIdType.choices, initial=CustomerIdType.TENANT_ID, label="Customer identified by"
    )
    contact_name = forms.CharField(max_length=150, label="Customer contact name")
    contact_email = forms.EmailField(label="Customer contact e-mail")
    estimated_deal_size_usd = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=0,
        required=False,
        label="Estimated deal size (USD)",
        help_text="Can't be changed once the consent request is sent.",
    )


class ProofForm(forms.Form):
    kind = forms.ChoiceField(choices=ProofKind.choices, label="Document")
    file = forms.FileField(label="File", help_text="PDF, PNG, JPEG, DOCX, XLSX or PPTX, at most 20 MB.")


class SubmitForm(forms.Form):
    delivered_on = forms.DateField(
        label="Delivered on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day the activity was delivered to the customer.",
    )


class RespondForm(forms.Form):
    response = forms.CharField(
        label="Your answer to the reviewer", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class CancelForm(forms.Form):
    note = forms.CharField(label="Why (optional)", required=False, max_length=500)


class ConsentForm(forms.Form):
    note = forms.CharField(
        label="Comment (optional)", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
