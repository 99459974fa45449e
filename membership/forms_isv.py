"""Forms of the ISV Success pages: the application (a draft) and its submission.

Forms only parse input; every rule (offer id when published, a release date not in the past when
unpublished, eligibility, the program agreement, the status transitions) is the services'
(membership/services/isv.py), whose ValidationErrors the views put on these forms' fields.
"""

from __future__ import annotations

from django import forms

from membership.choices import SOLUTION_AREAS
from membership.models import IsvSuccessApplication

#: The fields the form hands to `isv_application_save` as its `data`.
APPLICATION_FIELDS = (
    "app_name",
    "app_description",
    "designation",
    "is_published",
    "marketplace_offer_id",
    "expected_release_date",
)


class IsvApplicationForm(forms.Form):
    app_name = forms.CharField(label="App name", max_length=120)
    app_description = forms.CharField(
        label="Description",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the app does and for whom (at most 2,000 characters).",
    )
    designation = forms.ChoiceField(
        label="Target solution area",
        choices=[("", "Choose a solution area"), *((area.value, area.label) for area in SOLUTION_AREAS)],
    )
    is_published = forms.BooleanField(label="Published in the commercial marketplace", required=False)
    marketplace_offer_id = forms.CharField(
        label="Marketplace offer ID",
        max_length=100,
        required=False,
        help_text="Required when the app is published.",
    )
    expected_release_date = forms.DateField(
        label="Expected release date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Required while the app is not published; not in the past.",
    )

    @classmethod
    def for_application(cls, application: IsvSuccessApplication | None, data=None) -> IsvApplicationForm:
        """The form for a new application (`application` None) or prefilled with a draft's values."""
        initial = {}
        if application is not None:
            initial = {name: getattr(application, name) for name in APPLICATION_FIELDS}
        return cls(data, initial=initial)

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in APPLICATION_FIELDS}
        data["marketplace_offer_id"] = data["marketplace_offer_id"].strip()
        return data


class IsvSubmitForm(forms.Form):
    # Not required here: the service decides, so its message is the one people read.
    accept_agreement = forms.BooleanField(
        label="I accept the ISV Success program agreement on behalf of the organization", required=False
    )
