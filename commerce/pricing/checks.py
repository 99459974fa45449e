"""Checking one distinct value of a price list column: each column's check returns the reason a
value is bad, or None. Dates are read as ISO 8601 and kept as sortable UTC text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from commerce.choices import BillingCycle, Segment, TermDuration
from commerce.pricing.columns import END_OF_SALE_COLUMN

_DECIMAL = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
_INTEGER = re.compile(r"\d{1,10}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
# The form the file itself uses, which PostgreSQL reads exactly as the checks do.
_CANONICAL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


def _text(*, max_length: int, required: bool = True) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value:
            return "is empty" if required else None
        if len(value) > max_length:
            return f"is {len(value)} characters long; the limit is {max_length}"
        return None

    return check


def _pattern(regex: str, expected: str) -> Callable[[str], str | None]:
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        if not value:
            return "is empty"
        return None if compiled.fullmatch(value) else f"{value!r} is not {expected}"

    return check


def _choice(values: Iterable[str]) -> Callable[[str], str | None]:
    allowed = list(values)

    def check(value: str) -> str | None:
        if not value:
            return "is empty"
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    return check


def _decimal(*, required: bool) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value:
            return "is empty" if required else None
        if value.startswith("-"):
            return f"{value!r} is negative"
        if not _DECIMAL.fullmatch(value):
            try:
                Decimal(value)
            except InvalidOperation:
                return f"{value!r} is not a decimal number like 64.80"
            return f"{value!r} is not a plain decimal with at most 12 digits and 6 decimals"
        return None

    return check


def _integer(value: str) -> str | None:
    if not value:
        return None
    if not _INTEGER.fullmatch(value) or int(value) > 2_147_483_647:
        return f"{value!r} is not a whole number"
    return None


def _parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when no offset is given), or None."""
    if not _DATE.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _iso(moment: datetime) -> str:
    """A UTC instant as text that sorts like time (four-digit years): 2025-04-01T00:00:00.000000Z."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _datetime(*, required: bool) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value:
            return "is empty" if required else None
        if _parse_datetime(value) is None:
            return f"{value!r} is not an ISO 8601 date like 2025-04-01T00:00:00Z"
        return None

    return check


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "ProductTitle": _text(max_length=200),
    "ProductId": _pattern(r"[A-Z0-9]{12}", "a 12-character ProductId like CFQ7TTC0LH18"),
    "SkuId": _pattern(r"[A-Z0-9]{1,4}", "a SkuId of up to 4 characters like 0001"),
    "SkuTitle": _text(max_length=200),
    "Publisher": _text(max_length=200),
    "SkuDescription": _text(max_length=4000, required=False),
    "UnitOfMeasure": _text(max_length=50, required=False),
    "TermDuration": _choice(TermDuration.values),
    "BillingPlan": _choice(BillingCycle.values),
    "Market": _pattern(r"[A-Z]{2}", "a two-letter market code like US"),
    "Currency": _pattern(r"[A-Z]{3}", "a three-letter currency code like USD"),
    "UnitPrice": _decimal(required=True),
    "PricingTierRangeMin": _integer,
    "PricingTierRangeMax": _integer,
    "EffectiveStartDate": _datetime(required=True),
    "EffectiveEndDate": _datetime(required=True),
    "Tags": _text(max_length=200, required=False),
    "ERP Price": _decimal(required=False),
    "Segment": _choice(Segment.values),
    END_OF_SALE_COLUMN: _datetime(required=False),
}
