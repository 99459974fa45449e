"""Forms of the Membership pages owned by the overview helper: the designation what-if.

The what-if form only parses input; the prediction is `membership.selectors.scores.what_if`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms

from membership.choices import MetricUnit

#: The largest change one what-if field accepts (in the metric's unit).
MAX_CHANGE = Decimal("100000")


class WhatIfForm(forms.Form):
    """One optional change per metric of a designation's score, added to what it achieved.

    Built from a `DesignationScore`: a field per metric named by its code, e.g. `int_cert=2` reads
    "two more people with intermediate certifications". A change can be negative (someone leaves),
    never so negative that the metric would fall below zero.
    """

    def __init__(self, data=None, *, score, **kwargs):
        super().__init__(data, **kwargs)
        self.score = score
        for result in score.metrics:
            whole = result.unit != MetricUnit.PERCENT
            self.fields[result.metric] = forms.DecimalField(
                label=result.label,
                required=False,
                max_digits=12,
                decimal_places=0 if whole else 2,
                min_value=-MAX_CHANGE,
                max_value=MAX_CHANGE,
                help_text=f"Now {_plain(result.achieved)} of {_plain(result.threshold)} {_unit(result.unit)}",
                widget=forms.NumberInput(attrs={"step": "1" if whole else "0.01"}),
            )

    def clean(self):
        cleaned = super().clean()
        achieved = {result.metric: result.achieved for result in self.score.metrics}
        for metric, change in list(cleaned.items()):
            if change is None or metric not in achieved:
                continue
            if achieved[metric] + change < 0:
                self.add_error(
                    metric,
                    f"{self.fields[metric].label} can't fall below 0: it is {_plain(achieved[metric])} now.",
                )
        if not self.errors and not any(cleaned.get(metric) for metric in achieved):
            raise forms.ValidationError("Enter a change for at least one metric.")
        return cleaned

    def changes(self) -> dict[str, Decimal]:
        """The non-zero changes by metric code (only after `is_valid()`)."""
        return {metric: change for metric, change in self.cleaned_data.items() if change}


def _plain(value: Decimal) -> str:
    """12.00 → "12", 12.50 → "12.5"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _unit(unit: str) -> str:
    try:
        return MetricUnit(unit).label
    except ValueError:
        return unit
