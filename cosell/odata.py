"""The OData query subset Partner Center's Referrals API accepts on its list (spec/cosell.md §2).

`$filter`: comparisons `<property> eq '<value>'` joined by `and` (the documented examples:
`status eq 'New' and qualification eq 'SalesQualified'`, `customerProfile/address/country eq 'US'`,
`engagementId eq '…'`); `$orderby`: `createdDateTime|updatedDateTime|dealValue [asc|desc]`, comma
separated; `$top` (1–100), `$skip`, `$count=true`. Anything else is a `ODataError` naming the
query option, which the API answers with 400: a query we would silently ignore would return rows
the integrator did not ask for.

Plain module: no ORM, only the column names each property maps to.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cosell.choices import ReferralQualification, ReferralStatus, ReferralSubstatus, ReferralType

MAX_TOP = 100
DEFAULT_TOP = 100


class ODataError(ValueError):
    """A query option we cannot honour; `option` is its name (`$filter`, `$top`, …)."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option
        self.message = message


def _choice(values: type) -> Callable[[str], object]:
    allowed = {str(value) for value in values.values}

    def check(text: str) -> object:
        if text not in allowed:
            raise ValueError(f"use one of {', '.join(sorted(allowed))}")
        return text

    return check


def _guid(text: str) -> object:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise ValueError("not a GUID") from exc


def _country(text: str) -> object:
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise ValueError("use an ISO 3166 two-letter code")
    return text.upper()


def _direction(text: str) -> object:
    if text not in ("Incoming", "Outgoing"):
        raise ValueError("use Incoming or Outgoing")
    return text == "Incoming"


def _text(text: str) -> object:
    if len(text) > 200:
        raise ValueError("at most 200 characters")
    return text


@dataclass(frozen=True)
class _Property:
    column: str
    parse: Callable[[str], object]


#: Filterable properties: the JSON path Partner Center uses → the column and its value parser.
FILTERS: Mapping[str, _Property] = {
    "status": _Property("status", _choice(ReferralStatus)),
    "substatus": _Property("substatus", _choice(ReferralSubstatus)),
    "type": _Property("type", _choice(ReferralType)),
    "qualification": _Property("qualification", _choice(ReferralQualification)),
    "engagementId": _Property("engagement_id", _guid),
    "externalReferenceId": _Property("external_reference_id", _text),
    "customerProfile/address/country": _Property("customer_country", _country),
    "direction": _Property("is_inbound", _direction),
}

#: Sortable properties → columns. Each sort ends on `id` in the same direction, so pages are stable.
ORDERINGS: Mapping[str, str] = {
    "createdDateTime": "created_at",
    "updatedDateTime": "updated_at",
    "dealValue": "deal_value",
}
DEFAULT_ORDERING: tuple[str, ...] = ("-created_at", "-id")


@dataclass(frozen=True)
class Query:
    filters: dict[str, object] = field(default_factory=dict)
    ordering: tuple[str, ...] = DEFAULT_ORDERING
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False


_COMPARISON = re.compile(
    r"""\s*(?P<property>[A-Za-z][A-Za-z/]*)\s+eq\s+
        (?:'(?P<quoted>(?:[^']|'')*)'|(?P<bare>[0-9A-Fa-f-]{36}))\s*""",
    re.VERBOSE,
)
_AND = re.compile(r"and(?:\s+|$)", re.IGNORECASE)


def parse_filter(text: str) -> dict[str, object]:
    """`a eq 'x' and b eq 'y'` → {column: value}. A property named twice must agree with itself."""
    filters: dict[str, object] = {}
    position = 0
    while True:
        match = _COMPARISON.match(text, position)
        if match is None:
            raise ODataError("$filter", f"Expected `<property> eq '<value>'` at character {position + 1}.")
        name = match["property"]
        spec = FILTERS.get(name)
        if spec is None:
            raise ODataError("$filter", f"Cannot filter on {name!r}; use one of {', '.join(FILTERS)}.")
        raw = match["quoted"].replace("''", "'") if match["quoted"] is not None else match["bare"]
        try:
            value = spec.parse(raw)
        except ValueError as exc:
            raise ODataError("$filter", f"{name}: {exc}.") from None
        if spec.column in filters and filters[spec.column] != value:
            # `status eq 'New' and status eq 'Active'` matches nothing; say so rather than guess.
            raise ODataError("$filter", f"{name} is compared with two different values.")
        filters[spec.column] = value
        position = match.end()
        if position == len(text):
            return filters
        # The comparison ate its trailing blanks: `and` must follow one and be followed by one.
        joiner = _AND.match(text, position) if text[position - 1].isspace() else None
        if joiner is None:
            raise ODataError("$filter", f"Only `and` may join comparisons (character {position + 1}).")
        position = joiner.end()


def parse_orderby(text: str) -> tuple[str, ...]:
    ordering: list[str] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise ODataError("$orderby", "Use `<property> [asc|desc]`, comma separated.")
        column = ORDERINGS.get(words[0])
        if column is None:
            raise ODataError("$orderby", f"Cannot order by {words[0]!r}; use one of {', '.join(ORDERINGS)}.")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise ODataError("$orderby", f"{words[0]}: the direction is asc or desc.")
        prefix = "-" if direction == "desc" else ""
        if any(existing.lstrip("-") == column for existing in ordering):
            raise ODataError("$orderby", f"{words[0]} is named twice.")
        ordering.append(prefix + column)
    # The tie-breaker follows the first key's direction, so one index scan serves the whole sort.
    ordering.append("-id" if ordering[0].startswith("-") else "id")
    return tuple(ordering)


def _integer(option: str, text: str, low: int, high: int | None) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise ODataError(option, "Give a whole number.")
    value = int(text)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ODataError(option, f"Give a number {bound}.")
    return value


def parse_query(params: Mapping[str, str]) -> Query:
    """The list's query options from the request's query string (unknown `$` options are errors)."""
    known = {"$filter", "$orderby", "$top", "$skip", "$count"}
    unknown = sorted(name for name in params if name.startswith("$") and name not in known)
    if unknown:
        raise ODataError(unknown[0], f"{unknown[0]} is not supported; use {', '.join(sorted(known))}.")
    filters = parse_filter(params["$filter"]) if params.get("$filter") else {}
    ordering = parse_orderby(params["$orderby"]) if params.get("$orderby") else DEFAULT_ORDERING
    top = _integer("$top", params["$top"], 0, MAX_TOP) if "$top" in params else DEFAULT_TOP
    skip = _integer("$skip", params["$skip"], 0, None) if "$skip" in params else 0
    count_text = params.get("$count", "false")
    if count_text not in ("true", "false"):
        raise ODataError("$count", "Use true or false.")
    return Query(filters=filters, ordering=ordering, top=top, skip=skip, count=count_text == "true")
