"""Moving django-pghistory snapshots into the one history, for the apps' data migrations.

A data migration must not import today's models (portal.history does), so this appends with
the migration's historical models, the same way `portal.history.history_record_many` does:
under each organization's writer lock, after the chain's head, hashed by `portal.chain`, but
with each event's own actor and time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from portal.chain import GENESIS, WRITER_LOCK, Link, plain


@dataclass(frozen=True)
class Snapshot:
    """One pghistory event: the tracked values after a write, who made it and when."""

    subject_pk: Any
    organization_id: int
    at: datetime
    values: dict[str, Any]
    actor_id: int | None
    actor_label: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Imported:
    """One event to append; `subject` is (app label, model name in lower case, primary key)."""

    organization_id: int
    subject: tuple[str, str, Any]
    at: datetime
    to_status: str
    from_status: str = ""
    note: str = ""
    actor_id: int | None = None
    actor_label: str = "system"
    data: dict[str, Any] = field(default_factory=dict)


def pghistory_snapshots(
    apps: Any, event_model: str, subject_model: str, fields: Sequence[str]
) -> Iterator[tuple[Snapshot | None, Snapshot]]:
    """(the subject's previous snapshot or None, this one) for every event, oldest first.

    Who: the actor a service named in the event's context, else the signed-in person the request
    middleware recorded, else "system"; the person's id is kept when the label is theirs. Events
    of a subject that no longer exists have no organization to go to and are left out.
    """
    events = apps.get_model(event_model).objects.select_related("pgh_context").order_by("pgh_id")
    organizations = dict(apps.get_model(subject_model).objects.values_list("pk", "organization_id"))
    user_ids = {
        (event.pgh_context.metadata or {}).get("user") for event in events if event.pgh_context_id
    } - {None}
    emails = dict(
        apps.get_model("accounts", "User").objects.filter(pk__in=user_ids).values_list("pk", "email")
    )
    previous: dict[Any, Snapshot] = {}
    for event in events:
        if event.pgh_obj_id not in organizations:
            continue
        metadata = (event.pgh_context.metadata or {}) if event.pgh_context_id else {}
        user = metadata.get("user")
        label = str(metadata.get("actor") or emails.get(user) or (f"user #{user}" if user else "system"))
        snapshot = Snapshot(
            subject_pk=event.pgh_obj_id,
            organization_id=organizations[event.pgh_obj_id],
            at=event.pgh_created_at,
            values={name: getattr(event, name) for name in fields},
            actor_id=user if user in emails and emails[user] == label else None,
            actor_label=label,
            metadata=metadata,
        )
        yield previous.get(event.pgh_obj_id), snapshot
        previous[event.pgh_obj_id] = snapshot


def history_import(apps: Any, schema_editor: Any, events: Iterable[Imported]) -> int:
    """Append `events` in the order given (time order); returns how many."""
    HistoryEvent = apps.get_model("portal", "HistoryEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    events = list(events)
    heads: dict[int, tuple[int, str]] = {}
    with schema_editor.connection.cursor() as cursor:
        for organization_id in sorted({event.organization_id for event in events}):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{WRITER_LOCK}.{organization_id}"])
            head = (
                HistoryEvent.objects.filter(organization_id=organization_id)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            heads[organization_id] = head or (0, GENESIS)
    content_types: dict[tuple[str, str], Any] = {}
    rows = []
    for event in events:
        app_label, model, pk = event.subject
        if (app_label, model) not in content_types:
            content_types[app_label, model], _ = ContentType.objects.get_or_create(
                app_label=app_label, model=model
            )
        seq, prev_hash = heads[event.organization_id]
        link = Link(
            organization_id=event.organization_id,
            seq=seq + 1,
            prev_hash=prev_hash,
            content_type=f"{app_label}.{model}",
            object_id=str(pk),
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            from_status=event.from_status,
            to_status=event.to_status,
            note=event.note,
            at=event.at,
            data=event.data,
        )
        heads[event.organization_id] = (link.seq, link.hash())
        rows.append(
            HistoryEvent(
                organization_id=link.organization_id,
                content_type=content_types[app_label, model],
                object_id=link.object_id,
                actor_id=link.actor_id,
                actor_label=link.actor_label,
                from_status=link.from_status,
                to_status=link.to_status,
                note=link.note,
                data=plain(link.data),
                at=link.at,
                seq=link.seq,
                prev_hash=link.prev_hash,
                hash=heads[event.organization_id][1],
            )
        )
    HistoryEvent.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
