"""`{{ amount|quantity:unit }}`: a benefit quantity with its unit, e.g. "1,050 USD", "1 seat"."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat

from membership.choices import BenefitUnit

register = template.Library()

#: Units read in the singular for a quantity of one; USD never changes.
_SINGULAR = {
    BenefitUnit.SEATS: "seat",
    BenefitUnit.HOURS: "hour",
    BenefitUnit.INCIDENTS: "incident",
    BenefitUnit.ITEMS: "item",
}


@register.filter
def quantity(value, unit: str) -> str:
    number = floatformat(value, "-2g")
    label = _SINGULAR.get(unit) if number == "1" else None
    return f"{number} {label or BenefitUnit(unit).label}"
