"""`{% history_download obj %}`: the link to an object's history file (with its hash chain),
shown to the people who may read it (the model's `history_capabilities`)."""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from portal.capabilities import can_any

register = template.Library()


@register.inclusion_tag("includes/history_download.html", takes_context=True)
def history_download(context, subject) -> dict:
    request = context.get("request")
    capabilities = getattr(type(subject), "history_capabilities", ())
    user = getattr(request, "user", None)
    if subject is None or not can_any(user, *capabilities):
        return {"url": None}
    content_type = ContentType.objects.get_for_model(type(subject))
    return {"url": reverse("history:download", args=[content_type.pk, subject.pk])}
