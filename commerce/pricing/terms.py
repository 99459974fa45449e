"""Term arithmetic shared by the eligibility rules and the price impact: how long each term is,
adding whole months, and the full term that starts on a day."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

from commerce.choices import TermDuration

__all__ = ("TERM_MONTHS", "add_months", "full_term_end")

TERM_MONTHS = {TermDuration.P1M: 1, TermDuration.P1Y: 12, TermDuration.P3Y: 36}


@lru_cache(maxsize=4096)
def add_months(day: date, months: int) -> date:
    """`day` plus whole months, the day clamped to the month's length (31 Jan + 1 month = 28/29 Feb).

    Kept for the last few thousand days asked (a batch asks about the same few hundred)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=4096)
def full_term_end(start: date, term: str) -> date:
    """The last day of a full `term` starting on `start` (a P1M term from 3 March ends 2 April)."""
    return add_months(start, TERM_MONTHS[term]) - timedelta(days=1)
