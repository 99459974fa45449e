"""The upload form every import page uses: the file, and the explicit "valid rows only" choice."""

from __future__ import annotations

from django import forms


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, TSV or XLSX (UTF-8 or UTF-16), or a ZIP holding one such file.")
    valid_rows_only = forms.BooleanField(
        required=False,
        label="Import the valid rows only",
        help_text="By default a file with any problem is not imported at all; tick this to import the "
        "rows without problems and get the others back in the result file.",
    )
