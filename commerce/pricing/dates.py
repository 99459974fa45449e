"""The price list's dates: ISO 8601 as Microsoft writes them, placeholders 1753 and 9999 included.

The pipeline's date-time columns hold nanosecond timestamps, which stop in 2262, so the file's
open end (`9999-11-30T23:59:59Z`) is read here instead: each distinct text once (a file repeats a
handful of dates), as sortable UTC text. The forms accepted are the ones PostgreSQL reads the same
way, so a checked cell is loaded with a plain `::timestamptz` (no offset: UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd

#: A date, or a date and time with an optional UTC offset (up to ±14:59, as PostgreSQL reads it).
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-](?:0\d|1[0-4]):?[0-5]\d)?)?"
)
ISO_HELP = "is not an ISO 8601 date like 2025-04-01T00:00:00Z"
#: Placeholder years: 1753-01-01 (an open start) and 9999-… (an open end).
OPEN_YEARS = (1753, 9999)


def utc_text(value: str) -> str | None:
    """An ISO 8601 date or date-time as UTC text that sorts like time, or None."""
    if not _ISO.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def utc_texts(cells: pd.Series) -> pd.Series:
    """Each cell as `utc_text` (NA where it is empty or not a date), each distinct text parsed once."""
    codes, distinct = pd.factorize(cells)
    parsed = np.array([utc_text(str(value)) for value in distinct] + [None], dtype=object)
    # Code -1 (an empty cell) takes the None appended last.
    return pd.Series(parsed[codes], index=cells.index, dtype="string[pyarrow]")


def not_a_date(cells: pd.Series) -> pd.Series:
    """True where a filled cell is not an ISO 8601 date."""
    return cells.notna() & utc_texts(cells).isna()
