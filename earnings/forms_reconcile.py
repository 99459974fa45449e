"""The two steps of a reconciliation: upload the file, then map its columns and choose the scope
(the import job then reads every row: earnings.imports_reconcile)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings

from earnings.filters import MonthField
from earnings.reconciliation import AMOUNT, CURRENCY, FIELDS, mapping_errors

_HELP = {
    CURRENCY: "When chosen, a row matches only earnings in the same currency.",
    "paymentId": "Kept with each row of the result; to compare one payment, enter its ID below.",
    "earningDate": "Kept with each row of the result. YYYY-MM-DD or MM/DD/YYYY; a day-first date "
    "(14.09.2025) is refused.",
}


class ReconcileUploadForm(forms.Form):
    file = forms.FileField(
        label="Your records",
        help_text=f"CSV, TSV or XLSX (UTF-8 or UTF-16), or a ZIP holding one such file, up to "
        f"{settings.PORTAL_UPLOAD_MAX_BYTES // 1_048_576} MB, with a header row. Next you choose which "
        "columns hold the transaction ID, invoice, customer, product and amount.",
    )


class ReconcileMappingForm(forms.Form):
    """Which of the file's columns holds each field; the portal pre-selects Partner Center names."""

    token = forms.CharField(widget=forms.HiddenInput)
    amount_tolerance = forms.DecimalField(
        label="Amount tolerance",
        initial=Decimal("0.01"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        help_text="Amounts that differ by at most this much count as matched.",
    )
    payment_month = MonthField(
        label="Payment month",
        required=False,
        help_text="YYYY-MM. Only earnings estimated to be paid in this month are compared; blank: all.",
    )
    payment_id = forms.CharField(
        label="Payment ID",
        max_length=20,
        required=False,
        help_text="Only the earnings of this payment (the ID on your bank statement); blank: all.",
    )
    valid_rows_only = forms.BooleanField(
        required=False,
        label="Reconcile the valid rows only",
        help_text="By default a file with any problem is not reconciled at all; tick this to reconcile "
        "the rows without problems and get the others back, with their problems, in the result file.",
    )

    def __init__(self, *args, columns: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not in my file —")] + [(column, column) for column in columns if column]
        for field in FIELDS:
            self.fields[f"map_{field.name}"] = forms.ChoiceField(
                label=f"{field.label} ({field.name})",
                choices=choices,
                required=field.name == AMOUNT,
                help_text=_HELP.get(field.name, ""),
            )

    def mapping_fields(self):
        return [self[f"map_{field.name}"] for field in FIELDS]

    def option_fields(self):
        return [self["amount_tolerance"], self["payment_month"], self["payment_id"], self["valid_rows_only"]]

    @property
    def mapping(self) -> dict[str, str]:
        return {
            field.name: self.cleaned_data[f"map_{field.name}"]
            for field in FIELDS
            if self.cleaned_data.get(f"map_{field.name}")
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            for message in mapping_errors(self.mapping):
                self.add_error(None, message)
        return cleaned

    @classmethod
    def initial_for(cls, token: str, guess: dict[str, str]) -> dict[str, str]:
        return {"token": token, **{f"map_{name}": column for name, column in guess.items()}}
