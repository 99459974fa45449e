"""One history: the status changes of every tracked object, appended to its organization's hash
chain (`portal.chain`) and read back through `history_for` by pages, admin and API alike.

Nothing infers history from row snapshots: the service that changes a status writes the event
(`history_record`, or `history_record_many` for a batch) in the transaction that makes the
change, so the change and its event commit or roll back together. A write that skips the
services leaves no event; the event table itself refuses UPDATE and DELETE, and a row changed
behind that guard no longer matches its hash (`manage.py history_verify`).

Writers of one organization queue on a transaction-scoped advisory lock taken before they read
the chain's head and released when their transaction ends, after their rows are visible, so two
concurrent writers never number two events alike or link both to the same predecessor; a writer
that skipped the lock would meet the unique (organization, seq) constraint, never fork the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from portal.chain import GENESIS, WRITER_LOCK, Link, Verdict, check_chain, plain
from portal.models import HistoryEvent

#: The columns an event is written with, and how many events one INSERT writes at most.
_COLUMNS = (
    "organization",
    "content_type",
    "object_id",
    "actor",
    "actor_label",
    "from_status",
    "to_status",
    "note",
    "data",
    "at",
    "seq",
    "prev_hash",
    "hash",
)
_BATCH = 5000


@dataclass(frozen=True)
class Entry:
    """One event to append, its subject named by type and primary key."""

    organization_id: int
    content_type: ContentType
    object_id: str
    to_status: str
    from_status: str = ""
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, subject: models.Model, **event: Any) -> Entry:
        """An event of `subject`, which must belong to an organization."""
        return cls(
            organization_id=subject.organization_id,
            content_type=ContentType.objects.get_for_model(subject),
            object_id=str(subject.pk),
            **event,
        )


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "email", None) or str(actor)


def content_type_label(content_type: ContentType) -> str:
    """The subject's type as the hash covers it: "<app label>.<model>"."""
    return f"{content_type.app_label}.{content_type.model}"


def history_record(
    *,
    subject: models.Model,
    actor: Any,
    to_status: str,
    from_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> HistoryEvent:
    """Append one event to `subject`'s history.

    `actor` is a person, or None / a label such as "microsoft" for what no person did.
    """
    entry = Entry.of(subject, to_status=to_status, from_status=from_status, note=note, data=data or {})
    return history_record_many([entry], actor=actor, at=at)[0]


def history_record_many(
    entries: Sequence[Entry], *, actor: Any, at: datetime | None = None
) -> list[HistoryEvent]:
    """Append `entries`, in order, as events of one actor at one time (now unless given)."""
    if not entries:
        return []
    at = at or timezone.now()
    person = actor if getattr(actor, "pk", None) else None
    label = actor_label(actor)
    with transaction.atomic():
        heads = _lock_heads({entry.organization_id for entry in entries})
        events = []
        for entry in entries:
            seq, prev_hash = heads[entry.organization_id]
            event = HistoryEvent(
                organization_id=entry.organization_id,
                content_type=entry.content_type,
                object_id=entry.object_id,
                actor=person,
                actor_label=label,
                from_status=entry.from_status,
                to_status=entry.to_status,
                note=entry.note,
                data=plain(entry.data),
                at=at,
                seq=seq + 1,
                prev_hash=prev_hash,
            )
            event.hash = link_of(event, content_type_label(entry.content_type)).hash()
            heads[entry.organization_id] = (event.seq, event.hash)
            events.append(event)
        _insert(events)
    return events


def _insert(events: list[HistoryEvent]) -> None:
    """Write `events` set-based, one INSERT … SELECT FROM unnest(column arrays) per batch:
    `bulk_create` prepares every value in Python, which for a batch job's thousands of events
    costs more than hashing them."""
    fields = [HistoryEvent._meta.get_field(name) for name in _COLUMNS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    sql = f"INSERT INTO {HistoryEvent._meta.db_table} ({columns}) SELECT * FROM unnest({arrays}) RETURNING id"
    with connection.cursor() as cursor:
        for start in range(0, len(events), _BATCH):
            batch = events[start : start + _BATCH]
            cursor.execute(sql, [[_value(event, field) for event in batch] for field in fields])
            for event, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                event.pk = pk
                event._state.adding = False
                event._state.db = connection.alias


def _value(event: HistoryEvent, field: models.Field) -> Any:
    value = getattr(event, field.attname)
    return Jsonb(value) if isinstance(field, models.JSONField) else value


def _lock_heads(organization_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Each organization's chain head (seq, hash), read under its writer lock.

    Locks are taken in id order, so two batches touching the same organizations can't deadlock.
    """
    heads = {}
    with connection.cursor() as cursor:
        for organization_id in sorted(organization_ids):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{WRITER_LOCK}.{organization_id}"])
            head = (
                HistoryEvent.objects.filter(organization_id=organization_id)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            heads[organization_id] = head or (0, GENESIS)
    return heads


def link_of(event: HistoryEvent, content_type: str) -> Link:
    """What `event`'s hash covers, as stored (`content_type` is its `content_type_label`)."""
    return Link(
        organization_id=event.organization_id,
        seq=event.seq,
        prev_hash=event.prev_hash,
        content_type=content_type,
        object_id=event.object_id,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        from_status=event.from_status,
        to_status=event.to_status,
        note=event.note,
        at=event.at,
        data=event.data,
    )


def verify_chains(organization_id: int | None = None) -> Iterator[tuple[int, Verdict]]:
    """Every organization's chain (or one's) recomputed from its rows, in organization id order."""
    events = HistoryEvent.objects.order_by("organization_id", "seq")
    if organization_id is not None:
        events = events.filter(organization_id=organization_id)

    def links(group: Iterable[HistoryEvent]) -> Iterator[tuple[int, Link, str]]:
        for event in group:
            label = content_type_label(ContentType.objects.get_for_id(event.content_type_id))
            yield event.pk, link_of(event, label), event.hash

    for organization, group in groupby(events.iterator(chunk_size=5000), key=attrgetter("organization_id")):
        yield organization, check_chain(links(group))


def history_for(subject: models.Model) -> models.QuerySet[HistoryEvent]:
    """`subject`'s events in the order they were written."""
    return (
        HistoryEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(subject), object_id=str(subject.pk)
        )
        .select_related("actor")
        .order_by("seq")
    )
