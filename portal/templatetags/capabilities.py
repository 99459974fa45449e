"""`{% can Cap.X as allowed %}`: what a template shows follows the same table pages and API check.

A builtin (settings TEMPLATES), so no `{% load %}` is needed:

    {% can Cap.INCENTIVES_CLAIMS as may_claim %}
    {% if may_claim %}<a href="…">New claim</a>{% endif %}

With several capabilities, any of them is enough (as `require_capability`).
"""

from django import template

from portal.capabilities import can_any

register = template.Library()


@register.simple_tag(takes_context=True, name="can")
def can_tag(context, *capabilities: str) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return can_any(user, *capabilities)
