"""Pages for the workspaces' tables, none of which counts a whole table.

Keyset ("cursor") pages: newest first, no OFFSET and no COUNT. Numbered pages of the generic lists
(`LookaheadPaginator`, used by `portal.views.TenantListView`): a capped count and one row of lookahead.

The keyset cursor is `<value>.<id>` of the page's last row: a date as `YYYY-MM-DD`, a date-time as
microseconds since 1970 (URL-safe and exact, with no time zone to encode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

PAGE_SIZE = 50
#: Rows per page of the workspaces' lists: a page of a large partner renders in about the time of a
#: small partner's whole list.
LIST_PAGE_SIZE = 25
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


#: Lists count their rows up to this many; past it the page says "1,000+ rows".
COUNT_CAP = 1_000


class LookaheadPaginator(Paginator):
    """Numbered pages that never count a whole table.

    A page reads one row more than it shows to know whether a next page exists, and the total is
    counted only up to `COUNT_CAP` rows, so a list costs the same two queries for 10 rows as for
    5,000,000 and any page number stays reachable.
    """

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def count_is_capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def count_text(self) -> str:
        """ "1 row", "1,234 rows", or "1,000+ rows" past the cap."""
        if self.count_is_capped:
            return f"{COUNT_CAP:,}+ rows"
        return f"{self.count:,} row{'' if self.count == 1 else 's'}"

    def validate_number(self, number: Any) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger("That page number is not an integer.") from exc
        if number < 1:
            raise EmptyPage("That page number is less than 1.")
        return number

    def page(self, number: Any) -> LookaheadPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results.")
        return LookaheadPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


class LookaheadPage(Page):
    def __init__(self, object_list: list[Any], number: int, paginator: Paginator, *, has_more: bool):
        super().__init__(object_list, number, paginator)
        self.has_more = has_more

    def has_next(self) -> bool:
        return self.has_more
