"""Keyset ("cursor") pages for the workspaces' tables: newest first, no OFFSET and no COUNT.

The cursor is `<value>.<id>` of the page's last row: a date as `YYYY-MM-DD`, a date-time as
microseconds since 1970 (URL-safe and exact, with no time zone to encode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_cursor: str | None
    first: bool


def _encode(value: date | datetime) -> str:
    if isinstance(value, datetime):
        delta = value - _EPOCH
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    return value.isoformat()


def parse_cursor(value: str | None) -> tuple[date | datetime, int] | None:
    """The (value, id) of a cursor, or None for a missing or malformed one (the first page)."""
    try:
        key, pk = (value or "").split(".")
        moment = date.fromisoformat(key) if "-" in key else _EPOCH + timedelta(microseconds=int(key))
        return moment, int(pk)
    except (ValueError, OverflowError):
        return None


def _attribute(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def keyset_page(
    queryset: QuerySet, *, field_name: str, after: str | None, size: int = PAGE_SIZE
) -> KeysetPage:
    """Rows newest first by (`field_name`, id), starting after the cursor."""
    cursor = parse_cursor(after)
    if cursor:
        moment, pk = cursor
        queryset = queryset.filter(
            Q(**{f"{field_name}__lt": moment}) | Q(**{field_name: moment, "id__lt": pk})
        )
    rows = list(queryset.order_by(f"-{field_name}", "-id")[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = f"{_encode(_attribute(last, field_name))}.{last.pk}"
    return KeysetPage(rows=rows, next_cursor=next_cursor, first=cursor is None)
