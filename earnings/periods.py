"""Calendar months: calculation periods, payment months and earning dates."""

from __future__ import annotations

import calendar
from datetime import date


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after `month`'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def parse_month(value: str) -> date:
    """`YYYY-MM` → its first day; ValueError names the expected form."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{value!r} is not a month; use YYYY-MM, e.g. 2025-05.") from exc


def format_month(month: date | None) -> str:
    return month.strftime("%Y-%m") if month else ""
