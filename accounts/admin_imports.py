"""The admin's uploads of files holding one partner organization's rows: the pipeline's upload form
with the organization chosen (portal.admin_imports does the rest)."""

from __future__ import annotations

from django import forms

from accounts.models import Organization
from portal.admin_imports import ImportJobAdminMixin
from portal.imports.forms import ImportForm


class OrganizationImportForm(ImportForm):
    """The pipeline's upload form with the organization whose rows the file holds."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("legal_name"))
    field_order = ["organization", "file", "valid_rows_only"]


class OrganizationImportAdminMixin(ImportJobAdminMixin):
    import_form_class = OrganizationImportForm
