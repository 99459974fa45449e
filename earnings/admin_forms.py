"""Forms of the earnings admin: rate periods that must not overlap, uploads, runs, status moves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from accounts.admin_imports import OrganizationImportForm
from earnings import filters
from earnings.choices import AdjustmentReason, PaymentStatus
from earnings.models import Earning, EarningRate, Enrollment
from earnings.periods import add_months, format_month, month_start


def _period(valid_from: date, valid_to: date | None) -> str:
    return f"{valid_from:%Y-%m-%d} to {f'{valid_to:%Y-%m-%d}' if valid_to else 'open-ended'}"


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Half-open periods [from, to) overlap; a blank end runs for ever."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def rate_overlap_error(
    *,
    lever_id: int | None,
    product_id: str,
    segment: str,
    valid_from: date,
    valid_to: date | None,
    exclude_pk=None,
) -> str | None:
    """Why this period clashes with a stored rate of the lever, product and segment (None: no clash)."""
    if lever_id is None or not product_id or valid_from is None:
        return None
    clashing = EarningRate.objects.filter(lever_id=lever_id, product_id=product_id, segment=segment).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    if valid_to is not None:
        clashing = clashing.filter(valid_from__lt=valid_to)
    other = clashing.exclude(pk=exclude_pk).order_by("valid_from").first()
    if other is None:
        return None
    return (
        f"Overlaps the rate {other.rate:.4%} of {product_id} ({_period(other.valid_from, other.valid_to)}) "
        f"for the same lever and segment. End that rate before {valid_from:%Y-%m-%d} or choose other dates."
    )


class EarningRateForm(forms.ModelForm):
    class Meta:
        model = EarningRate
        fields = ["lever", "product_id", "segment", "rate", "min_quantity", "valid_from", "valid_to"]

    def clean(self):
        cleaned = super().clean()
        valid_from, valid_to = cleaned.get("valid_from"), cleaned.get("valid_to")
        if valid_from and valid_to and valid_to <= valid_from:
            self.add_error("valid_to", "The end (exclusive) must be after the start.")
            return cleaned
        lever = cleaned.get("lever") or getattr(self.instance, "lever", None)
        error = rate_overlap_error(
            lever_id=lever.pk if lever else self.instance.lever_id,
            product_id=cleaned.get("product_id", ""),
            segment=cleaned.get("segment", ""),
            valid_from=valid_from,
            valid_to=valid_to,
            exclude_pk=self.instance.pk,
        )
        if error:
            raise ValidationError(error)
        return cleaned


class EarningRateInlineFormSet(forms.BaseInlineFormSet):
    """Rates entered together on a lever must not overlap each other either."""

    def clean(self):
        super().clean()
        periods = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("valid_from"):
                continue
            key = (data.get("product_id"), data.get("segment", ""))
            for other_key, other_from, other_to in periods:
                if other_key == key and _overlaps(
                    data["valid_from"], data.get("valid_to"), other_from, other_to
                ):
                    raise ValidationError(
                        f"Two rates of {key[0]} overlap: {_period(other_from, other_to)} and "
                        f"{_period(data['valid_from'], data.get('valid_to'))}."
                    )
            periods.append((key, data["valid_from"], data.get("valid_to")))


class EnrollmentForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        # "Hold my payment" changes only through the hold actions (earnings.services.payments.hold_set).
        fields = [
            "organization",
            "location",
            "program",
            "participant_id",
            "participant_id_type",
            "participant_name",
            "enrolled_from",
            "enrolled_to",
            "payment_currency",
            "payment_method",
            "bank_profile_ok",
            "tax_profile_ok",
            "ar_overdue",
            "sales_tax_rate",
        ]

    def clean(self):
        cleaned = super().clean()
        organization, location = cleaned.get("organization"), cleaned.get("location")
        if organization and location and location.organization_id != organization.pk:
            self.add_error("location", f"{location} is a location of another organization.")
        return cleaned


class TransactionUploadForm(OrganizationImportForm):
    """A usage or billing file for one organization (its columns: earnings.imports.TRANSACTIONS)."""


class MonthField(filters.MonthField):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})


class PayoutRunForm(forms.Form):
    period = MonthField(help_text="The calculation period: transactions dated in this month, payments of it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].initial = format_month(add_months(month_start(timezone.localdate()), -1))


class PaymentStatusForm(forms.Form):
    to_status = forms.ChoiceField(
        label="New status",
        choices=[(s, label) for s, label in PaymentStatus.choices if s != PaymentStatus.UNPROCESSED],
    )
    note = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"size": 60}))


class AdjustmentForm(forms.Form):
    enrollment = forms.ModelChoiceField(
        queryset=Enrollment.objects.select_related("program", "organization").order_by("participant_id"),
        help_text="The participant the adjustment is paid to (or recovered from).",
    )
    amount = forms.DecimalField(
        max_digits=18, decimal_places=2, help_text="Negative to reduce earnings, e.g. -120.00."
    )
    currency = forms.CharField(max_length=3, min_length=3, initial="USD")
    reason_code = forms.ChoiceField(label="Reason", choices=AdjustmentReason.choices)
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    corrects = forms.CharField(
        label="Corrects earning", max_length=40, required=False, help_text="Optional earningId this adjusts."
    )

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise ValidationError("An adjustment of 0 changes nothing.")
        return amount

    def clean(self):
        cleaned = super().clean()
        earning_id, enrollment = cleaned.get("corrects"), cleaned.get("enrollment")
        cleaned["earning"] = None
        if earning_id and enrollment:
            earning = Earning.objects.filter(earning_id=earning_id).first()
            if earning is None:
                self.add_error("corrects", f"No earning {earning_id}.")
            elif earning.enrollment_id != enrollment.pk:
                self.add_error("corrects", f"{earning_id} belongs to another enrollment.")
            else:
                cleaned["earning"] = earning
        return cleaned
