"""Forms of the incentives admin: rates (fee or rate, periods that don't overlap), the opportunity
file upload, and the reviewer's decision on claims."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.models import Organization
from incentives.choices import ReviewDecision, ReviewReason
from incentives.models import ActivityRate
from incentives.opportunity_import import COLUMNS, REQUIRED_COLUMNS
from portal.imports.forms import ImportForm


def _period(valid_from: date, valid_to: date | None) -> str:
    return f"{valid_from:%Y-%m-%d} to {f'{valid_to:%Y-%m-%d}' if valid_to else 'open-ended'}"


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Half-open periods [from, to) overlap; a blank end runs for ever."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


class ActivityRateForm(forms.ModelForm):
    class Meta:
        model = ActivityRate
        fields = ["market_tier", "fixed_fee_usd", "rate", "cap_per_claim_usd", "valid_from", "valid_to"]

    def clean(self):
        cleaned = super().clean()
        fee, rate, cap = cleaned.get("fixed_fee_usd"), cleaned.get("rate"), cleaned.get("cap_per_claim_usd")
        if (fee is None) == (rate is None):
            raise ValidationError(
                "Give either a fixed fee (FIXED) or a rate with a cap (VARIABLE), not both."
            )
        if fee is not None and fee <= 0:
            self.add_error("fixed_fee_usd", "The fee must be more than 0.")
        if rate is not None and not 0 < rate <= 1:
            self.add_error("rate", "A rate is a fraction between 0 and 1: 0.05 is 5 %.")
        if cap is not None and cap <= 0:
            self.add_error("cap_per_claim_usd", "The cap must be more than 0.")
        valid_from, valid_to = cleaned.get("valid_from"), cleaned.get("valid_to")
        if valid_from and valid_to and valid_to <= valid_from:
            self.add_error("valid_to", "The end (exclusive) must be after the start.")
            return cleaned
        activity_id = self.instance.activity_type_id
        if activity_id and valid_from and cleaned.get("market_tier"):
            clashing = ActivityRate.objects.filter(
                activity_type_id=activity_id, market_tier=cleaned["market_tier"]
            ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from))
            if valid_to is not None:
                clashing = clashing.filter(valid_from__lt=valid_to)
            other = clashing.exclude(pk=self.instance.pk).order_by("valid_from").first()
            if other is not None:
                raise ValidationError(
                    f"Overlaps the Market {other.market_tier} rate of "
                    f"{_period(other.valid_from, other.valid_to)}. "
                    f"End that rate before {valid_from:%Y-%m-%d} or choose other dates."
                )
        return cleaned


class ActivityRateInlineFormSet(forms.BaseInlineFormSet):
    """Rates entered together must fit the activity's pay pattern and not overlap each other."""

    def clean(self):
        super().clean()
        pattern = getattr(self.instance, "pay_pattern", "")
        periods: list[tuple[str, date, date | None]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("valid_from"):
                continue
            if pattern == "FIXED" and data.get("rate") is not None:
                raise ValidationError("A FIXED activity pays a fixed fee: leave the rate blank.")
            if pattern == "VARIABLE" and data.get("fixed_fee_usd") is not None:
                raise ValidationError(
                    "A VARIABLE activity pays a rate of the opportunity's value, not a fee."
                )
            tier = data.get("market_tier")
            for other_tier, other_from, other_to in periods:
                if other_tier == tier and _overlaps(
                    data["valid_from"], data.get("valid_to"), other_from, other_to
                ):
                    raise ValidationError(
                        f"Two Market {tier} rates overlap: {_period(other_from, other_to)} and "
                        f"{_period(data['valid_from'], data.get('valid_to'))}."
                    )
            periods.append((tier, data["valid_from"], data.get("valid_to")))


class OpportunityImportForm(ImportForm):
    """The organization, the file (portal.imports) and the "valid rows only" choice."""

    field_order = ["organization", "file", "valid_rows_only"]

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("legal_name"),
        help_text="The partner organization the opportunities are shared with.",
    )
    file = forms.FileField(
        help_text=f"CSV, TSV or XLSX (or a ZIP holding one) with the columns {', '.join(REQUIRED_COLUMNS)} "
        f"and optionally {', '.join(c for c in COLUMNS if c not in REQUIRED_COLUMNS)}. customerTenantId is "
        "the tenant ID of one of the organization's customers; a known msxOpportunityId is updated."
    )


class ClaimReviewForm(forms.Form):
    """A reviewer's decision: the reason code (spec §8) and a comment the partner reads."""

    reason_code = forms.ChoiceField(
        label="Reason", choices=[("", "—"), *ReviewReason.choices], required=False
    )
    comment = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the partner on the claim.",
    )

    decision: str = ReviewDecision.APPROVE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.decision != ReviewDecision.APPROVE:
            # Only an approval may go without a reason (CAP_EXHAUSTED explains a reduced payout).
            self.fields["reason_code"].required = True
            self.fields["reason_code"].choices = ReviewReason.choices


#: One form per decision, as portal.admin_base.action_with_form builds the form from the POST alone.
REVIEW_FORMS: dict[str, type[ClaimReviewForm]] = {
    decision: type(f"ClaimReviewForm_{decision}", (ClaimReviewForm,), {"decision": decision})
    for decision in ReviewDecision.values
}
