"""A file layout, declared once: its columns (names, aliases, types, rules) and its cross-row rules.

A `Layout` checks a chunk of text rows at once, column by column, with pandas' vectorised string
and conversion functions (no per-row Python), and returns the rows normalised for PostgreSQL
(ISO dates, canonical choices, plain decimals) with every problem found: line, column, the value
as written and the reason. Rules across rows (a repeated key, a reference to a row that does not
exist) run in SQL on the staged file (`portal.imports.staging`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from portal.uploads import RowError, UploadRejected

TEXT, INTEGER, DECIMAL, DATE, DATETIME, BOOLEAN, UUID, CHOICE = (
    "text",
    "integer",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "uuid",
    "choice",
)
#: The PostgreSQL type a normalised cell is cast to when it is loaded.
SQL_TYPES = {
    TEXT: "text",
    INTEGER: "bigint",
    DECIMAL: "numeric",
    DATE: "date",
    DATETIME: "timestamptz",
    BOOLEAN: "boolean",
    UUID: "uuid",
    CHOICE: "text",
}
#: Dates as people and Microsoft's tools write them: ISO first; the BAM tool writes
#: `MM/dd/yyyy HH:mm:ss`, Excel in the US `M/d/yyyy`. A day-first form is never guessed.
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
DATETIME_FORMATS = ("ISO8601", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_INTEGER = r"[+-]?\d+"
_DECIMAL = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_BARE_UUID = r"^(\w{8})(\w{4})(\w{4})(\w{4})(\w{12})$"
_HYPHENATED = r"\1-\2-\3-\4-\5"
_UUID = r"\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?"


@dataclass(frozen=True)
class Column:
    """One column of a layout.

    `name` is the documented header; `aliases` are other headers that mean the same column (matched
    ignoring case, spaces, `_` and `-`). `required`: the header must have it. `blank`: a cell may be
    empty. `choices`: allowed values (matched ignoring case, stored as declared). `pattern`: a
    regular expression the whole cell must match. `field`: the staged column's name (default: the
    name in snake_case).
    """

    name: str
    kind: str = TEXT
    aliases: tuple[str, ...] = ()
    required: bool = True
    blank: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_help: str = ""
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    formats: tuple[str, ...] = ()
    lower: bool = False
    upper: bool = False
    field: str = ""

    @property
    def staged_name(self) -> str:
        return self.field or snake_case(self.name)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Rule:
    """A rule across the columns of one row: `check(frame)` returns True where a row breaks it.

    `frame` holds the normalised, typed values of valid cells (NaN/NaT/None where a cell is empty or
    already wrong), keyed by staged name. `column` is the column the problem is reported on.
    """

    column: str
    #: The reason, or a function giving each row's reason from the same frame.
    message: str | Callable[[pd.DataFrame], pd.Series]
    check: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Reference:
    """A cell must name a row that exists: `sql` is a query of the allowed values, with
    `%(organization)s` for the importing organization (None for the vendor)."""

    column: str
    sql: str
    message: str


_CASTABLE = {
    UUID: r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    DATE: r"^\d{4}-\d{2}-\d{2}$",
}


def safe_cast(expression: str, kind: str) -> str:
    """SQL casting a staged cell to `kind` when it holds a normalised value, else NULL (a cell
    that failed its check is staged as written and would make a plain cast fail).

    `expression` is a cell of a staged row (`s.<column>`). A row without problems (`errors` NULL)
    holds only normalised cells, so its cells are cast without matching each against the pattern
    first: over a file of 100,000 rows that match costs more than the check reading the cell."""
    row, _, _ = expression.rpartition(".")
    clean = f"{row}.errors IS NULL OR " if row else ""
    return f"(CASE WHEN {clean}{expression} ~ '{_CASTABLE[kind]}' THEN {expression}::{SQL_TYPES[kind]} END)"


@dataclass(frozen=True)
class SqlCheck:
    """A rule in SQL over the staged file: `bad_when` is a condition on the staged row `s` (text
    cells, cast as needed) that holds for a row breaking it. `%(organization)s` is the importing
    organization, `{staging}` the staged table (to compare rows of the file with one another). It
    runs on every row, so that a row gets all its problems at once: a cell that failed its own
    check holds the text as written, so cast it only through `safe_cast` (an invalid one is NULL)."""

    column: str
    bad_when: str
    message: str


@dataclass(frozen=True)
class Layout:
    """A file layout: columns, unique key, rules; whether unknown columns are kept."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    references: tuple[Reference, ...] = ()
    checks: tuple[SqlCheck, ...] = ()
    keep_unknown: bool = False
    title: str = ""
    #: The person's own choice of which file column is which layout column (column name → file
    #: header), for files with headers of their own (`with_headers`); empty: matched by name.
    chosen_headers: tuple[tuple[str, str], ...] = ()
    _by_header: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        for column in self.columns:
            for header in (column.name, *column.aliases):
                self._by_header.setdefault(header_key(header), column)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name or c.staged_name == name)

    def with_headers(self, headers: dict[str, str]) -> Layout:
        """This layout reading the file columns the person chose: `headers` maps a column's name to
        a header of the file; those columns are the required ones, every other header is unknown."""
        known = {column.name for column in self.columns}
        unknown = sorted(set(headers) - known)
        if unknown:
            raise ValueError(f"not columns of {self.name}: {', '.join(unknown)}")
        chosen = tuple((name, header) for name, header in headers.items() if header)
        return replace(self, chosen_headers=chosen)

    def match_header(self, header: Sequence[str]) -> HeaderMatch:
        """Which file column is which layout column; UploadRejected when required ones are missing
        or a column appears twice."""
        repeated = sorted({name for name in header if name and list(header).count(name) > 1})
        if repeated and (self.chosen_headers or self.keep_unknown):
            # The file's columns are read by their names: two of the same name cannot be told apart.
            raise UploadRejected(
                "The header names a column twice: nothing was imported.",
                [RowError(1, name, "appears more than once in the header; rename one") for name in repeated],
            )
        if self.chosen_headers:
            return self._match_chosen(header)
        matched: dict[str, Column] = {}
        unknown: list[str] = []
        errors: list[RowError] = []
        seen: dict[str, str] = {}
        for position, name in enumerate(header, start=1):
            if not name:
                unknown.append(f"column {position}")
                continue
            column = self._by_header.get(header_key(name))
            if column is None:
                unknown.append(name)
                continue
            if column.name in seen:
                errors.append(
                    RowError(1, name, f"is the same column as {seen[column.name]!r}; keep one of them")
                )
                continue
            seen[column.name] = name
            matched[name] = column
        for column in self.columns:
            if column.required and column.name not in seen:
                also = f" (or {', '.join(repr(a) for a in column.aliases)})" if column.aliases else ""
                errors.append(RowError(1, column.name, f"required column is missing{also}"))
        if errors:
            raise UploadRejected("The header does not match the layout: nothing was imported.", errors)
        return HeaderMatch(
            matched=matched, unknown=[name for name in unknown if not name.startswith("column ")]
        )

    def _match_chosen(self, header: Sequence[str]) -> HeaderMatch:
        present = set(header)
        errors = [
            RowError(1, name, f"the chosen column {chosen!r} is not in the file")
            for name, chosen in self.chosen_headers
            if chosen not in present
        ]
        if errors:
            raise UploadRejected(
                "The header does not match the columns chosen: nothing was imported.", errors
            )
        matched = {chosen: self.column(name) for name, chosen in self.chosen_headers}
        return HeaderMatch(matched=matched, unknown=[name for name in header if name and name not in matched])


@dataclass
class HeaderMatch:
    matched: dict[str, Column]  # file header → layout column
    unknown: list[str]


@dataclass
class CheckedChunk:
    """A chunk normalised for staging: one text column per staged name (None for an empty or
    invalid cell), the raw text of unknown columns, and each row's problems."""

    values: pd.DataFrame
    errors: list[RowError]
    error_text: pd.Series  # per line: its problems as one text, or None

    def key_hashes(self, layout: Layout) -> np.ndarray:
        """A 64-bit hash of each row's key (rows with an empty key part left out): repeats across
        the whole file are looked for among these first, and in SQL only if there are any."""
        if not layout.key:
            return np.empty(0, dtype=np.uint64)
        keys = self.values[[layout.column(name).staged_name for name in layout.key]]
        keys = keys[keys.notna().all(axis=1)]
        return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def snake_case(name: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return name.strip("_").lower()


def header_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).casefold()


# --- Checking a chunk ------------------------------------------------------------------------------


def check_chunk(layout: Layout, header: HeaderMatch, frame: pd.DataFrame) -> CheckedChunk:
    """Every cell of every row checked and normalised; nothing per row in Python."""
    problems: list[tuple[pd.Index, str, pd.Series, str | pd.Series]] = []
    values: dict[str, pd.Series] = {}
    typed: dict[str, pd.Series] = {}
    present = {column.name: name for name, column in header.matched.items()}
    for column in layout.columns:
        source = present.get(column.name)
        if source is None:
            values[column.staged_name] = pd.Series(None, index=frame.index, dtype=object)
            typed[column.staged_name] = pd.Series(None, index=frame.index, dtype=object)
            continue
        raw = frame[source].astype(str).str.strip()
        text, value, column_problems = _check_column(column, raw)
        values[column.staged_name] = text
        typed[column.staged_name] = value
        problems.extend((index, source, raw, reason) for index, reason in column_problems)
    typed_frame = pd.DataFrame(typed, index=frame.index)
    for rule in layout.rules:
        broken = rule.check(typed_frame).fillna(False).astype(bool)
        if broken.any():
            column = layout.column(rule.column)
            source = present.get(column.name, column.name)
            raw = frame[source] if source in frame else pd.Series("", index=frame.index)
            reason = rule.message if isinstance(rule.message, str) else rule.message(typed_frame[broken])
            problems.append((broken[broken].index, source, raw, reason))
    if layout.keep_unknown:
        for position, name in enumerate(header.unknown):
            values[f"extra_{position}"] = frame[name].astype(str)
    staged = pd.DataFrame(values, index=frame.index)
    errors = [
        RowError(int(line), column, reason if isinstance(reason, str) else reason[line], value=str(raw[line]))
        for index, column, raw, reason in problems
        for line in index
    ]
    errors.sort(key=lambda error: error.row or 0)
    error_text = pd.Series(None, index=frame.index, dtype=object)
    if errors:
        joined: dict[int, list[str]] = {}
        for error in errors:
            joined.setdefault(error.row, []).append(f"{error.column}: {error.message}")
        error_text.loc[list(joined)] = ["; ".join(messages) for messages in joined.values()]
        # A cell with a problem is staged as written, so the result file shows what the person sent
        # (the row's other cells stay normalised: checks across rows and tables compare them).
        staged_name = {source: layout.column(name).staged_name for name, source in present.items()}
        for index, source, _raw, _reason in problems:
            if source in staged_name and len(index):
                written = frame.loc[index, source].astype(str)
                staged.loc[index, staged_name[source]] = written.where(written.str.strip() != "", None)
    return CheckedChunk(values=staged, errors=errors, error_text=error_text)


def _check_column(column: Column, raw: pd.Series) -> tuple[pd.Series, pd.Series, list[tuple[pd.Index, Any]]]:
    """The column's staged text, typed value and problems (index of lines, reason)."""
    problems: list[tuple[pd.Index, Any]] = []
    empty = raw.eq("")
    if not column.blank and empty.any():
        problems.append((raw.index[empty], "is required"))
    filled = ~empty
    text = raw.where(filled, None)
    value: pd.Series
    if column.kind == TEXT:
        if column.lower:
            text = text.str.lower()
        if column.upper:
            text = text.str.upper()
        value = text
    elif column.kind == CHOICE:
        lowered = raw.str.lower()
        known = filled & lowered.isin([choice.lower() for choice in column.choices])
        if any(choice != choice.lower() for choice in column.choices):
            lowered = lowered.map({choice.lower(): choice for choice in column.choices})
        value = text = lowered.where(known, None)
        wrong = filled & ~known
        if wrong.any():
            problems.append((raw.index[wrong], f"is not one of {', '.join(column.choices)}"))
    elif column.kind in (INTEGER, DECIMAL):
        cleaned = _without_thousands_separators(raw)
        if column.kind == DECIMAL:
            cleaned = _accounting_negatives(cleaned)
        shape = cleaned.str.fullmatch(_INTEGER if column.kind == INTEGER else _DECIMAL)
        wrong = filled & ~shape
        if wrong.any():
            problems.append(
                (raw.index[wrong], f"is not {'a whole number' if column.kind == INTEGER else 'a number'}")
            )
        ok = filled & shape
        value = pd.to_numeric(cleaned.where(ok, None), errors="coerce")
        text = cleaned.where(ok, None)
        _range_problems(column, value, problems)
    elif column.kind in (DATE, DATETIME):
        parsed = _parse_dates(raw.where(filled, None), column)
        wrong = filled & parsed.isna()
        if wrong.any():
            shown = " or ".join(_format_help(f) for f in (column.formats or _default_formats(column)))
            problems.append((raw.index[wrong], f"is not a date ({shown})"))
        value = parsed
        text = _iso_text(parsed, column.kind)
    elif column.kind == BOOLEAN:
        lowered = raw.str.lower()
        truth = lowered.isin(_TRUE).to_numpy(dtype=bool)
        falsehood = lowered.isin(_FALSE).to_numpy(dtype=bool)
        wrong = filled & ~(truth | falsehood)
        if wrong.any():
            problems.append((raw.index[wrong], "is not true or false"))
        value = pd.Series(
            np.where(truth, True, np.where(falsehood, False, None)), index=raw.index, dtype=object
        )
        text = pd.Series(
            np.where(truth, "true", np.where(falsehood, "false", None)), index=raw.index, dtype=object
        )
    elif column.kind == UUID:
        shape = raw.str.fullmatch(_UUID)
        wrong = filled & ~shape
        if wrong.any():
            problems.append((raw.index[wrong], "is not a GUID"))
        text = raw.str.strip("{}").str.lower().where(filled & shape, None)
        odd = text.notna() & (text.str.len() != 36)
        if odd.any():  # a GUID written without (some) hyphens: stored, compared and cast canonically
            canonical = (
                text[odd].str.replace("-", "", regex=False).str.replace(_BARE_UUID, _HYPHENATED, regex=True)
            )
            text = text.copy()
            text.loc[odd] = canonical
        value = text
    else:
        raise ValueError(f"unknown column kind {column.kind!r}")
    if column.pattern and column.kind in (TEXT, CHOICE):
        mismatch = filled & ~raw.str.fullmatch(column.pattern)
        if mismatch.any():
            problems.append((raw.index[mismatch], column.pattern_help or f"does not match {column.pattern}"))
    if column.max_length:
        too_long = raw.str.len() > column.max_length
        if too_long.any():
            problems.append((raw.index[too_long], f"is longer than {column.max_length} characters"))
    return text, value, problems


def _without_thousands_separators(raw: pd.Series) -> pd.Series:
    """`1,200.50` → `1200.50`; only the (few) cells with a comma go through the regular expression."""
    commas = raw.str.contains(",", regex=False)
    if not commas.any():
        return raw
    return raw.where(~commas, raw[commas].str.replace(r"(?<=\d),(?=\d{3}(\D|$))", "", regex=True))


def _accounting_negatives(raw: pd.Series) -> pd.Series:
    """`(12.50)`, as statements and spreadsheets write a negative amount, → `-12.50`."""
    bracketed = raw.str.startswith("(") & raw.str.endswith(")")
    if not bracketed.any():
        return raw
    return raw.where(~bracketed, "-" + raw[bracketed].str.slice(1, -1).str.strip())


def _iso_text(parsed: pd.Series, kind: str) -> pd.Series:
    """Parsed dates as the ISO text PostgreSQL reads (numpy's C formatter, not strftime per value)."""
    if kind == DATE:
        values = parsed.to_numpy(dtype="datetime64[D]")
        text = np.datetime_as_string(values, unit="D")
    else:
        values = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[s]")
        text = np.char.add(np.datetime_as_string(values, unit="s"), "Z")
    return pd.Series(text, index=parsed.index, dtype=object).where(parsed.notna(), None)


def _range_problems(column: Column, value: pd.Series, problems: list) -> None:
    low = value < column.min_value if column.min_value is not None else pd.Series(False, index=value.index)
    high = value > column.max_value if column.max_value is not None else pd.Series(False, index=value.index)
    if low.any():
        problems.append((value.index[low], f"is below {_number(column.min_value)}"))
    if high.any():
        problems.append((value.index[high], f"is above {_number(column.max_value)}"))


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _default_formats(column: Column) -> tuple[str, ...]:
    return DATE_FORMATS if column.kind == DATE else DATETIME_FORMATS


def _parse_dates(text: pd.Series, column: Column) -> pd.Series:
    """Each cell as a timestamp (NaT where it is empty or no format reads it), trying the layout's
    formats in order. Each distinct text is parsed once: a file repeats its dates many times."""
    utc = column.kind == DATETIME
    codes, distinct = pd.factorize(text)  # missing cells get code -1
    distinct = pd.Series(distinct, dtype=object)
    # Microsecond resolution: Microsoft's files use 9999-12-31 as "no end", beyond nanoseconds' 2262.
    parsed = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[us, UTC]" if utc else "datetime64[us]")
    for date_format in column.formats or _default_formats(column):
        remaining = parsed.isna()
        if not remaining.any():
            break
        if column.kind == DATE and date_format == "ISO8601":
            # A date written as a date-time (2025-09-14T00:00:00+02:00) is the date it names.
            attempt = pd.to_datetime(
                distinct[remaining].str.slice(0, 10), format="%Y-%m-%d", errors="coerce"
            ).where(distinct[remaining].str.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?"))
        else:
            attempt = pd.to_datetime(distinct[remaining], format=date_format, errors="coerce", utc=utc)
        parsed[remaining] = attempt
    return pd.Series(parsed.array.take(codes, allow_fill=True), index=text.index)


def _format_help(date_format: str) -> str:
    if date_format == "ISO8601":
        return "YYYY-MM-DDThh:mm:ss"
    return (
        date_format.replace("%Y", "YYYY")
        .replace("%m", "MM")
        .replace("%d", "DD")
        .replace("%H", "hh")
        .replace("%I", "hh")
        .replace("%M", "mm")
        .replace("%S", "ss")
        .replace("%p", "AM/PM")
    )
