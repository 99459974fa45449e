"""The hash chain of history events: what is hashed, how, and how anyone can check it (design §6).

Each organization's history is one chain. Its events are numbered `seq` = 1, 2, 3, … in the
order they were written; each carries the `hash` of the one before it as `prev_hash` (the first
one carries GENESIS, 64 zeros) and its own

    hash = hex(SHA-256(UTF-8(canonical)))

where `canonical` is this JSON array, written with no whitespace (separators "," and ":"),
object keys sorted, non-ASCII characters as themselves (not \\u escapes):

    [organization_id, seq, prev_hash, content_type, object_id, actor_id, actor_label,
     from_status, to_status, note, at, data]

- organization_id, seq: integers; actor_id: an integer, or null for the system.
- content_type: "<app label>.<model>" of the subject, lower case ("incentives.claim").
- object_id, actor_label, from_status, to_status, note: strings ("" when empty).
- at: UTC, ISO 8601 with microseconds and a Z: "2025-03-01T09:30:00.000000Z".
- data: an object (`{}` when there is none). Its values are JSON strings, integers, booleans,
  null, lists and objects only: a whole number is an integer, any other number, a date or an id
  is written as its text, so the hash never depends on how a database prints a number.

A history download (`/history/<content type id>/<object id>/download/`) has the columns
organization_id, seq, prev_hash, content_type, object_id, actor_id, actor_label, from_status,
to_status, note, at, data, hash, canonical: the twelve values above (data as canonical JSON),
the hash, and the exact canonical text. To check a file:

1. each row: SHA-256 of the UTF-8 bytes of `canonical`, in lower-case hex, equals `hash`;
2. each row: the JSON array in `canonical` holds the row's values (null is an empty cell, and
   the file writer puts a `'` before a text cell that starts with = + - @ TAB or CR and is not
   a plain number; `canonical` starts with "[" and is never altered);
3. over an organization's whole chain (`manage.py history_verify` walks it in the database):
   seq runs 1, 2, 3, … without a gap, the first prev_hash is GENESIS and each other prev_hash
   is the hash of the event one seq lower. One object's file holds some of those events, so
   its prev_hash values point at events of other objects.

In Python:

    import csv, hashlib, json
    with open("history.csv", encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            assert hashlib.sha256(row["canonical"].encode()).hexdigest() == row["hash"]
            values = json.loads(row["canonical"])
            assert values[1:3] == [int(row["seq"]), row["prev_hash"]]

This module is the specification: it changes never, or every event written before the change
stops verifying. It imports no model, so migrations use it too.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

#: The prev_hash of an organization's first event.
GENESIS = "0" * 64

#: Every writer of an organization's chain holds the transaction-scoped advisory lock
#: hashtext("<WRITER_LOCK>.<organization id>") while it reads the head and appends.
WRITER_LOCK = "portal.history"


@dataclass(frozen=True)
class Link:
    """Everything one event's hash covers."""

    organization_id: int
    seq: int
    prev_hash: str
    content_type: str
    object_id: str
    actor_id: int | None
    actor_label: str
    from_status: str
    to_status: str
    note: str
    at: datetime
    data: dict[str, Any]

    def values(self) -> list[Any]:
        """The canonical array, before it is written as text."""
        return [
            self.organization_id,
            self.seq,
            self.prev_hash,
            self.content_type,
            self.object_id,
            self.actor_id,
            self.actor_label,
            self.from_status,
            self.to_status,
            self.note,
            utc_iso(self.at),
            plain(self.data),
        ]

    def canonical(self) -> str:
        """The exact text that is hashed."""
        return canonical_json(self.values())

    def hash(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON as the hash sees it: no whitespace, keys sorted, non-ASCII as itself."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def utc_iso(at: datetime) -> str:
    """`at` in UTC with microseconds, the only form a hash sees (naive times are refused)."""
    if at.tzinfo is None:
        raise ValueError("a history time must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain(value: Any) -> Any:
    """`value` as the JSON a jsonb column gives back unchanged: a whole number is an integer, any
    other number, and anything but a string, boolean, null, list or object, is its text (ISO 8601
    for dates and times)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float | Decimal):
        return int(value) if math.isfinite(value) and value == int(value) else str(value)
    if isinstance(value, datetime):
        return utc_iso(value) if value.tzinfo else value.isoformat()
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat else str(value)


@dataclass(frozen=True)
class Break:
    """The first link of a chain that doesn't hold, and what is wrong with it."""

    seq: int
    row_id: int
    problem: str


@dataclass(frozen=True)
class Verdict:
    """One organization's chain checked: how many links hold from seq 1, the hash of the last of
    them (the head, worth keeping outside the database to notice a later truncation), the break."""

    intact: int
    head: str
    broken: Break | None


def check_chain(rows: Iterable[tuple[int, Link, str]]) -> Verdict:
    """Check one organization's chain from `rows`: (row id, link as stored, stored hash) in seq order."""
    intact, head = 0, GENESIS
    for row_id, link, stored in rows:
        if link.seq != intact + 1:
            return Verdict(intact, head, Break(link.seq, row_id, f"gap in seq: expected {intact + 1}"))
        if link.prev_hash != head:
            problem = f"prev_hash mismatch: {link.prev_hash} is not the hash of seq {intact} ({head})"
            return Verdict(intact, head, Break(link.seq, row_id, problem))
        recomputed = link.hash()
        if recomputed != stored:
            problem = f"hash mismatch: stored {stored}, the row's content hashes to {recomputed}"
            return Verdict(intact, head, Break(link.seq, row_id, problem))
        intact, head = intact + 1, stored
    return Verdict(intact, head, None)
