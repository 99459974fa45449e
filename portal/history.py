"""History events: every status change of a claim, referral, migration or verification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

from portal.models import HistoryEvent


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "email", None) or str(actor)


def tracked_event_actors(events: Sequence[Any]) -> list[str]:
    """Who made each pghistory event (events loaded with `select_related("pgh_context")`).

    The actor a service put in the event's context wins; otherwise the signed-in person the
    request middleware recorded (one query for all of them); otherwise "system" (a job, a data fix).
    """
    metadata = [(event.pgh_context.metadata or {}) if event.pgh_context_id else {} for event in events]
    user_ids = {meta["user"] for meta in metadata if meta.get("user") and not meta.get("actor")}
    people = get_user_model().objects.filter(pk__in=user_ids) if user_ids else []
    emails = {person.pk: person.email for person in people}

    def who(meta: dict[str, Any]) -> str:
        if meta.get("actor"):
            return str(meta["actor"])
        if meta.get("user"):
            return emails.get(meta["user"]) or f"user #{meta['user']}"
        return "system"

    return [who(meta) for meta in metadata]


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
