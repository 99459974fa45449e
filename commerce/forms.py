from django import forms

from commerce.choices import BillingCycle, TermDuration

_BILLING = [("", "Keep the current billing")] + [
    (value, label) for value, label in BillingCycle.choices if value != BillingCycle.NONE
]
_TERMS = [("", "Keep the current term")] + list(TermDuration.choices)


class MigrationForm(forms.Form):
    """The choices of a partner-led migration (spec §3.1); blank means "as in legacy"."""

    purchase_full_term = forms.TypedChoiceField(
        label="Term end",
        choices=[("false", "Keep the legacy term end date"), ("true", "Start a new full term today")],
        coerce=lambda value: value == "true",
        initial="false",
        widget=forms.RadioSelect,
    )
    quantity = forms.IntegerField(min_value=1, required=False, help_text="Blank keeps the seat count.")
    term_duration = forms.ChoiceField(choices=_TERMS, required=False, label="Term")
    billing_cycle = forms.ChoiceField(choices=_BILLING, required=False, label="Billing")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "purchase_full_term": data["purchase_full_term"],
            "quantity": data.get("quantity") or None,
            "term_duration": data.get("term_duration") or None,
            "billing_cycle": data.get("billing_cycle") or None,
        }


class BatchUploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV, TSV, Excel or a ZIP holding one of them: the NCE Batch Migration tool's "
        "subscriptions.csv as the tool or this portal exports it (any of its versions; rows with "
        "MigrationEligible False are skipped, add-ons move inside their base's migration), or the "
        "columns customerTenantId, currentSubscriptionId and optionally termDuration, billingCycle, "
        "purchaseFullTerm, quantity, customTermEndDate."
    )
    external_reference_id = forms.CharField(
        max_length=100,
        required=False,
        label="Batch ID (externalReferenceId)",
        help_text="Blank: one is made up.",
    )
    valid_rows_only = forms.BooleanField(
        required=False,
        label="Submit the valid rows only",
        help_text="By default a file with any problem submits nothing; with this, the rows without "
        "problems are migrated and the others are listed.",
    )
