"""Forms of the Compliance pages: document upload, appeal, legal profile, training.

Forms only parse input; every rule (file type and size, transitions, which checks restart) is the
services' (security/services/compliance.py), whose errors the views show as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import forms
from django.conf import settings

from accounts.models import Organization, User
from security.choices import LEGAL_FIELDS, DocumentType, Program
from security.models import TrainingCourse
from security.selectors.compliance import people_by_email, training_courses


class EnrollForm(forms.Form):
    program = forms.ChoiceField(choices=(), label="Program")

    def __init__(self, *args, enrolled: Iterable[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        taken = set(enrolled)
        self.fields["program"].choices = [(v, label) for v, label in Program.choices if v not in taken]


class DocumentUploadForm(forms.Form):
    doc_type = forms.ChoiceField(choices=DocumentType.choices, label="Document type")
    # Empty files are allowed through the form so the service's own message explains the refusal.
    file = forms.FileField(label="File", allow_empty_file=True)

    def __init__(self, *args, allowed_types: Iterable[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed_types:
            allowed = set(allowed_types)
            self.fields["doc_type"].choices = [
                (v, label) for v, label in DocumentType.choices if v in allowed
            ]
        self.fields["file"].help_text = (
            f"PDF, PNG or JPEG, at most {settings.SECURITY_VERIFICATION_MAX_MB} MB. "
            "It is checked at once: you see how likely it is to pass and what to fix."
        )


class AppealForm(forms.Form):
    note = forms.CharField(
        label="Why the decision should be reviewed again",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class LegalProfileForm(forms.ModelForm):
    """The legal business profile (the organization's legal fields)."""

    website = forms.URLField(required=False, assume_scheme="https", label="Website")

    class Meta:
        model = Organization
        fields = LEGAL_FIELDS
        labels = {
            "doing_business_as": "Doing business as",
            "company_registration_number": "Registration number",
            "tax_id": "Tax ID",
            "address_line1": "Address line 1",
            "address_line2": "Address line 2",
            "country": "Country (ISO code)",
            "primary_contact_first_name": "Primary contact first name",
            "primary_contact_last_name": "Primary contact last name",
            "primary_contact_email": "Primary contact e-mail",
            "primary_contact_phone": "Primary contact phone",
        }

    def changed_legal_fields(self) -> dict[str, object]:
        """The legal fields whose value differs from what is stored, with their new values."""
        return {name: self.cleaned_data[name] for name in LEGAL_FIELDS if name in self.changed_data}


class TrainingAssignForm(forms.Form):
    course = forms.ModelChoiceField(queryset=TrainingCourse.objects.none(), label="Course")
    users = forms.CharField(
        label="People",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Their e-mail addresses, separated by commas, spaces or new lines.",
    )
    due_on = forms.DateField(label="Due on", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["course"].queryset = training_courses(user)

    def clean_users(self) -> list[User]:
        emails = [email for email in re.split(r"[\s,;]+", self.cleaned_data["users"].lower()) if email]
        found = people_by_email(self.user, emails)
        unknown = sorted(set(emails) - set(found))
        if unknown:
            raise forms.ValidationError(
                f"No active person of your organization has the e-mail {', '.join(unknown)}."
            )
        return list(found.values())
