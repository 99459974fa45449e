"""History events: every status change of a claim, referral, migration or verification."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from portal.models import HistoryEvent


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "email", None) or str(actor)


def history_record(
    *,
    subject: models.Model,
    actor: Any,
    to_status: str,
    from_status: str = "",
    note: str = "",
) -> HistoryEvent:
    """Append one event to `subject`'s history. The subject must have an organization."""
    return HistoryEvent.objects.create(
        organization_id=subject.organization_id,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=str(subject.pk),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def history_for(subject: models.Model) -> models.QuerySet[HistoryEvent]:
    return HistoryEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=str(subject.pk)
    ).select_related("actor")
