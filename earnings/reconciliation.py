"""Reconciliation: a partner's own records matched against the earnings the portal shows them.

The partner uploads a table file (CSV, TSV, XLSX or a ZIP of one) and says which of its columns
hold the transaction ID, invoice number, customer, product, amount and so on. The file is read by
the one import pipeline (portal.imports) with the layout below, the chosen columns standing for
its columns (`Layout.with_headers`): every cell checked in one pass, a row without a key or
repeating another row's key refused (`key_problems`, the importer's assessor), the whole file
rejected unless the person asked for the valid rows only. The portal side is the user's visible
earnings netted per transaction (earning, adjustments and reversals summed). Each valid row is
matched by the first key it carries — transaction ID, else invoice number + product, else
customer + product with the amount within the tolerance — in pandas, on one query's worth of
portal rows.

This module declares the layout and matches; `earnings.imports_reconcile` is the importer (its
loader stores the result) and `earnings.services.reconciliation` keeps the uploaded file for the
mapping step and starts the import.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import F, Max, Min, Sum
from django.db.models.functions import Coalesce

from earnings.choices import ReconciliationLineKind as Kind
from earnings.filters import EarningsFilterSet
from earnings.models import Earning
from earnings.periods import format_month
from portal.imports import DATE as DATE_KIND
from portal.imports import DECIMAL, TEXT, Column, Layout, Rule
from portal.iso import CURRENCIES


@dataclass(frozen=True)
class Field:
    name: str  # Partner Center's column name; the key of `Reconciliation.column_mapping`
    label: str
    aliases: tuple[str, ...] = ()
    max_length: int | None = None


FIELDS = (
    Field("transactionId", "Transaction ID", ("transaction", "transaction id"), 64),
    Field("invoiceNumber", "Invoice number", ("invoice", "invoice id", "invoiceId"), 40),
    Field("customerName", "Customer", ("customer", "customer name"), 200),
    Field("productId", "Product ID", ("product", "product id"), 12),
    Field("earningAmount", "Amount", ("amount", "earning", "earned")),
    Field("transactionCurrency", "Currency", ("currency", "currencyCode", "earningCurrency")),
    Field("paymentId", "Payment ID", ("paymentID", "payment", "payment id"), 20),
    Field("earningDate", "Date", ("date", "transactionDate", "invoiceDate")),
)
FIELDS_BY_NAME = {field.name: field for field in FIELDS}
AMOUNT, CURRENCY, DATE = "earningAmount", "transactionCurrency", "earningDate"
KEYS = ("transactionId", "invoiceNumber", "customerName", "productId")
CSV_COLUMNS = [
    "kind",
    "rowNumber",
    "transactionId",
    "invoiceNumber",
    "customerName",
    "productId",
    "partnerAmount",
    "portalAmount",
    "difference",
    "currency",
    "earningId",
]
STAGED_DIR = "earnings/reconcile"
STAGED_MAX_AGE = timedelta(days=1)
# Amounts are compared as whole millionths (the ledger's 6 decimals) in int64: exact and vectorised.
_SCALE = 6
_LIMIT = 10**12
# A partner row is matched by the first of these keys it carries (spec §7.4).
_LEVELS = (("tx",), ("invoice", "product"), ("customer", "product"))
#: What the person is told about a row without any key.
NO_KEY = "no key: fill in the transaction ID, or the product ID with the invoice number or customer"
#: Dates as the pipeline reads them (ISO, a Partner Center timestamp, US month-first); a day-first
#: date such as 14.09.2025 or 14/09/2025 is refused, never guessed.
DATE_FORMATS = ("%Y-%m-%d", "ISO8601", "%m/%d/%Y")


# --- The file's layout (portal.imports) ----------------------------------------------------------


def _staged(name: str) -> str:
    return RECONCILIATION.column(name).staged_name


def _column(field: Field) -> Column:
    """A field as a column of the layout: optional (the person's mapping decides which are read);
    the amount and the currency, when chosen, may not be empty."""
    options: dict[str, Any] = {"required": False, "blank": True, "max_length": field.max_length}
    if field.name == AMOUNT:
        return Column(field.name, kind=DECIMAL, aliases=field.aliases, required=False)
    if field.name == CURRENCY:
        return Column(
            field.name,
            kind=TEXT,
            aliases=field.aliases,
            required=False,
            pattern=r"[A-Za-z]{3}",
            pattern_help="is not a currency code such as EUR",
            upper=True,
        )
    if field.name == DATE:
        return Column(field.name, kind=DATE_KIND, aliases=field.aliases, formats=DATE_FORMATS, **options)
    return Column(field.name, kind=TEXT, aliases=field.aliases, **options)


def _unknown_currency(rows: pd.DataFrame) -> pd.Series:
    codes = rows["transaction_currency"].fillna("").astype(str)
    return codes.str.fullmatch(r"[A-Z]{3}") & ~codes.isin(CURRENCIES)


RECONCILIATION = Layout(
    name="earnings.reconciliation",
    title="Your records to reconcile",
    columns=tuple(_column(field) for field in FIELDS),
    rules=(
        Rule(
            "earning_amount",
            f"is {_LIMIT:,} or more in size",
            lambda rows: pd.to_numeric(rows["earning_amount"], errors="coerce").abs() >= _LIMIT,
        ),
        Rule("transaction_currency", "is not an ISO 4217 currency code", _unknown_currency),
    ),
    # Every column of the file is kept: the result file gives each row back whole, and each
    # reconciliation line keeps the row as the file has it.
    keep_unknown=True,
)


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def mapping_guess(columns: Iterable[str]) -> dict[str, str]:
    """Columns whose names are Partner Center's (any case, spaces or underscores), else a known alias."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(_normal(column), column)
    guess = {}
    for field in FIELDS:
        for name in (field.name, *field.aliases):
            column = by_name.get(_normal(name))
            if column is not None and column not in guess.values():
                guess[field.name] = column
                break
    return guess


def mapping_errors(mapping: dict[str, str]) -> list[str]:
    """What is wrong with a column mapping, in the partner's words (empty: nothing)."""
    errors = []
    unknown = sorted(set(mapping) - set(FIELDS_BY_NAME))
    if unknown:
        errors.append(f"Unknown fields: {', '.join(unknown)}.")
    if not mapping.get(AMOUNT):
        errors.append("Choose the column that holds the amount.")
    has = {name for name in KEYS if mapping.get(name)}
    if "transactionId" not in has and not ({"productId"} <= has and has & {"invoiceNumber", "customerName"}):
        errors.append(
            "Choose a key: the transaction ID column, or the product ID column with the invoice "
            "number or customer column."
        )
    chosen: dict[str, str] = {}
    for name, column in mapping.items():
        if not column:
            continue
        if column in chosen:
            errors.append(f"Column {column!r} is chosen for both {chosen[column]} and {name}.")
        chosen.setdefault(column, name)
    return errors


def header_problems(header: Sequence[str]) -> list[str]:
    """What makes a file's header unusable for a mapping: a column name twice (which of them
    would the mapping mean?)."""
    seen: set[str] = set()
    repeated = []
    for name in header:
        if name and name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    return [f"The file has more than one column named {name!r}; rename one of them." for name in repeated]


# --- The uploaded file between the upload and the mapping step -----------------------------------


@dataclass(frozen=True)
class StagedFile:
    path: str
    file_name: str
    columns: list[str]
    preview: list[list[str]]

    def as_session(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "file_name": self.file_name,
            "columns": self.columns,
            "preview": self.preview,
        }


# --- The partner's side: the staged valid rows -----------------------------------------------------


def key_problems_sql(table: str) -> str:
    """SQL over the staged file `table` giving each row that has no key, or repeats the key of an
    earlier row matched by the same key: line, level (0: no key), first line, the key as written.

    Keys compare ignoring case. Rows matched by customer + product may repeat (a customer billed
    the same every month): their amounts tell them apart.
    """
    return f"""
        WITH keyed AS (
            SELECT line, transaction_id, invoice_number, product_id,
                   CASE WHEN transaction_id IS NOT NULL THEN 1
                        WHEN invoice_number IS NOT NULL AND product_id IS NOT NULL THEN 2
                        WHEN customer_name IS NOT NULL AND product_id IS NOT NULL THEN 3
                        ELSE 0 END AS level
              FROM {table}
        ), ranked AS (
            SELECT line, level,
                   CASE level WHEN 1 THEN transaction_id
                              WHEN 2 THEN invoice_number || ' / ' || product_id END AS written,
                   CASE level
                        WHEN 1 THEN min(line) OVER (PARTITION BY level, upper(transaction_id))
                        WHEN 2 THEN min(line) OVER (
                            PARTITION BY level, upper(invoice_number), upper(product_id))
                   END AS first_line
              FROM keyed
        )
        SELECT line, level, first_line, written FROM ranked
         WHERE level = 0 OR (level IN (1, 2) AND first_line <> line)
         ORDER BY line
    """


def _micros(amount: Decimal) -> int:
    """An amount in whole millionths, rounded half to even as the ledger rounds."""
    return int(amount.scaleb(_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _key(values: pd.Series, field: str) -> pd.Series:
    """Keys compare case-insensitively; customer names also ignore runs of spaces."""
    if field == "customerName":
        return values.str.replace(r"\s+", " ", regex=True).str.casefold()
    return values.str.upper()


def partner_rows(
    rows: Sequence[Mapping[str, Any]],
    mapping: Mapping[str, str],
    extra: Mapping[int, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """The file's valid rows (`Staging.valid_rows()`: checked and typed by the pipeline) ready to
    match: `row` (its line, as a spreadsheet shows it), the display values (`transaction_id`,
    `invoice_number`, `customer_name`, `product_id`), the keys (`tx`, `invoice`, `customer`,
    `product`, `currency_key`), `micros`, `level` (1–3: the key it is matched by) and `raw`, the
    row by the file's own column names (`extra`: the columns the mapping left out, by line).
    """
    extra = extra or {}
    staged = {name: _staged(name) for name in FIELDS_BY_NAME}
    chosen = {name: header for name, header in mapping.items() if header}
    lines = [int(row["line"]) for row in rows]

    def values(name: str) -> pd.Series:
        column = staged[name]
        return pd.Series([_text(row.get(column)) for row in rows], dtype=object).str.strip()

    keys = {
        "tx": _key(values("transactionId"), "transactionId"),
        "invoice": _key(values("invoiceNumber"), "invoiceNumber"),
        "customer": _key(values("customerName"), "customerName"),
        "product": _key(values("productId"), "productId"),
    }
    level = pd.Series(0, index=keys["tx"].index, dtype="int64")
    for number, fields in reversed(list(enumerate(_LEVELS, start=1))):
        level = level.mask(np.logical_and.reduce([keys[f] != "" for f in fields]), number)
    amount = staged[AMOUNT]
    raw = [
        {
            **{header: _text(row.get(staged[name])) for name, header in chosen.items()},
            **extra.get(int(row["line"]), {}),
        }
        for row in rows
    ]
    return pd.DataFrame(
        {
            "row": pd.Series(lines, dtype="int64"),
            "transaction_id": values("transactionId"),
            "invoice_number": values("invoiceNumber"),
            "customer_name": values("customerName"),
            "product_id": values("productId"),
            **keys,
            "currency_key": values(CURRENCY).str.upper(),
            "micros": pd.Series([_micros(row[amount]) for row in rows], dtype="int64"),
            "level": level,
            "raw": pd.Series(raw, dtype=object),
        }
    ).reset_index(drop=True)


# --- The portal's side: the user's earnings netted per transaction --------------------------------


_PORTAL_COLUMNS = [
    "transaction_id",
    "invoice_number",
    "customer_name",
    "product_id",
    "currency",
    "amount",
    "earning",
]


def portal_rows(user: Any, *, payment_month: date | None = None, payment_id: str = "") -> pd.DataFrame:
    """The earnings `user` may see, one row per transaction (earnings without one stand alone).

    Restricted, with the Earnings page's own filters, to an estimated payment month and a
    payment ID when given.
    """
    earnings = Earning.objects.visible_to(user)
    if payment_month or payment_id:
        data = {"estimatedPaymentMonth": format_month(payment_month), "paymentId": payment_id}
        earnings = EarningsFilterSet(data, queryset=earnings).qs
    grouped = (
        earnings.annotate(key=Coalesce(F("transaction__transaction_id"), F("earning_id")))
        .values("key", "currency")
        .annotate(
            transaction_id=Max("transaction__transaction_id"),
            invoice_number=Max("transaction__invoice_number"),
            customer_name=Max(Coalesce(F("transaction__customer_name"), F("customer_name"))),
            product_id=Max(Coalesce(F("transaction__product_id"), F("product_id"))),
            amount=Sum("earning_amount"),
            earning=Min("pk"),
        )
        .order_by()
        .values_list(*_PORTAL_COLUMNS)
    )
    portal = pd.DataFrame.from_records(list(grouped), columns=_PORTAL_COLUMNS)
    for name in ("transaction_id", "invoice_number", "customer_name", "product_id", "currency"):
        portal[name] = portal[name].fillna("").astype(str)
    portal["tx"] = _key(portal["transaction_id"], "transactionId")
    portal["invoice"] = _key(portal["invoice_number"], "invoiceNumber")
    portal["customer"] = _key(portal["customer_name"], "customerName")
    portal["product"] = _key(portal["product_id"], "productId")
    portal["currency_key"] = portal["currency"].str.upper()
    portal["micros"] = portal["amount"].map(lambda amount: int(amount.scaleb(_SCALE))).astype("int64")
    return portal.drop(columns="amount")


# --- Matching -------------------------------------------------------------------------------------


def _pair(partner: pd.DataFrame, portal: pd.DataFrame, on: list[str], tolerance: int | None) -> pd.DataFrame:
    """One-to-one pairs (`p`, `q` positions) of rows that agree on `on`.

    Without a tolerance each partner row takes the portal row with the closest amount (its key
    is unique in the file, so rows never compete). With one, amounts must agree within it.
    """
    left = partner[[*on, "micros"]].assign(p=partner.index)
    right = portal[[*on, "micros"]].assign(q=portal.index)
    # Equal amounts pair in file order first, so a customer billed the same every month does not
    # make every row of one side a candidate for every row of the other.
    left["n"] = left.groupby([*on, "micros"]).cumcount()
    right["n"] = right.groupby([*on, "micros"]).cumcount()
    exact = left.merge(right, on=[*on, "micros", "n"])[["p", "q"]]
    left = left[~left["p"].isin(exact["p"])]
    right = right[~right["q"].isin(exact["q"])]
    if tolerance is not None:
        return pd.concat([exact, _pair_within(left, right, on, tolerance)], ignore_index=True)
    candidates = left.merge(right, on=on, suffixes=("_p", "_q"))
    candidates["gap"] = (candidates["micros_p"] - candidates["micros_q"]).abs()
    closest = candidates.sort_values(["gap", "q"]).drop_duplicates("p").drop_duplicates("q")
    return pd.concat([exact, closest[["p", "q"]]], ignore_index=True)


def _pair_within(left: pd.DataFrame, right: pd.DataFrame, on: list[str], tolerance: int) -> pd.DataFrame:
    """The most pairs whose amounts differ by at most `tolerance`, per key.

    One sweep over both sides in amount order: a row pairs with the oldest waiting row of the
    other side still within reach; waiting rows out of reach are dropped. On a line this greedy
    choice pairs as many rows as any other.
    """
    both = pd.concat(
        [
            left[[*on, "micros"]].assign(side=0, at=left["p"]),
            right[[*on, "micros"]].assign(side=1, at=right["q"]),
        ],
        ignore_index=True,
    )
    both["group"] = both.groupby(on, sort=False).ngroup()
    both = both.sort_values(["group", "micros", "side"], kind="stable")
    pairs: list[tuple[int, int]] = []
    waiting: tuple[deque, deque] = (deque(), deque())
    current = None
    for group, micros, side, at in zip(
        both["group"].tolist(),
        both["micros"].tolist(),
        both["side"].tolist(),
        both["at"].tolist(),
        strict=True,
    ):
        if group != current:
            current, waiting = group, (deque(), deque())
        other = waiting[1 - side]
        while other and other[0][0] < micros - tolerance:
            other.popleft()
        if other:
            _, partner_at = other.popleft()
            pairs.append((at, partner_at) if side == 0 else (partner_at, at))
        else:
            waiting[side].append((micros, at))
    return pd.DataFrame(pairs, columns=["p", "q"], dtype="int64")


def lines_match(
    partner: pd.DataFrame, portal: pd.DataFrame, *, tolerance: Decimal, by_currency: bool
) -> pd.DataFrame:
    """Every partner row and every portal row once: as a pair, or alone on its side.

    Columns: `kind`, `p` (partner position or -1), `q` (portal position or -1), `difference_micros`.
    """
    allowed = int(tolerance.scaleb(_SCALE))
    extra = ["currency_key"] if by_currency else []
    pairs = []
    free_portal = portal
    for number, fields in enumerate(_LEVELS, start=1):
        rows = partner[partner["level"] == number]
        if rows.empty or free_portal.empty:
            continue
        # Customer + product alone is too loose a key; the amount has to agree as well.
        found = _pair(rows, free_portal, [*fields, *extra], allowed if number == 3 else None)
        pairs.append(found)
        free_portal = free_portal.drop(index=found["q"])
    matched = (
        pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame({"p": [], "q": []}, dtype="int64")
    )
    difference = (
        partner["micros"].to_numpy()[matched["p"].to_numpy()]
        - portal["micros"].to_numpy()[matched["q"].to_numpy()]
    )
    matched["difference_micros"] = difference
    matched["kind"] = np.where(
        np.abs(difference) <= allowed, Kind.MATCHED.value, Kind.AMOUNT_DIFFERENCE.value
    )
    partner_only = pd.DataFrame({"p": partner.index.difference(matched["p"])}).assign(
        q=-1, kind=Kind.PARTNER_ONLY.value, difference_micros=0
    )
    # A transaction whose earning was fully reversed nets to zero: nothing to reconcile.
    unmatched = portal.loc[portal.index.difference(matched["q"])]
    portal_only = pd.DataFrame({"q": unmatched.index[unmatched["micros"] != 0]}).assign(
        p=-1, kind=Kind.PORTAL_ONLY.value, difference_micros=0
    )
    return pd.concat([matched, partner_only, portal_only], ignore_index=True)


def _amount(micros: int) -> Decimal:
    return Decimal(int(micros)).scaleb(-_SCALE)


def _side(frame: pd.DataFrame, positions: pd.Series) -> pd.DataFrame:
    """`frame`'s rows at `positions`; -1 gives a blank row (no NaN, so int64 stays exact)."""
    blank = {name: (0 if pd.api.types.is_integer_dtype(frame[name]) else "") for name in frame.columns}
    blank["raw"] = {}
    padded = pd.concat([frame, pd.DataFrame([blank], columns=frame.columns)], ignore_index=True)
    return padded.take(positions.where(positions >= 0, len(frame)).to_numpy()).reset_index(drop=True)


def line_values(
    matches: pd.DataFrame, partner: pd.DataFrame, portal: pd.DataFrame
) -> Iterator[dict[str, Any]]:
    """The model field values of each line (`earnings.imports_reconcile` stores them)."""
    mine, theirs = _side(partner, matches["p"]), _side(portal, matches["q"])
    # The file's own value where it has one; the portal fills in what the file left out.
    shown = [
        mine[name].where(mine[name] != "", theirs[name]).tolist()
        for name in ("transaction_id", "invoice_number", "customer_name", "product_id")
    ]
    # The file's currency; a row of a file without one is in the currency of the earning it matched.
    currency = mine["currency_key"].where(mine["currency_key"] != "", theirs["currency_key"]).tolist()
    columns = zip(
        matches["kind"].tolist(),
        (matches["p"] >= 0).tolist(),
        (matches["q"] >= 0).tolist(),
        mine["row"].tolist(),
        theirs["earning"].tolist(),
        *shown,
        mine["micros"].tolist(),
        theirs["micros"].tolist(),
        matches["difference_micros"].tolist(),
        currency,
        mine["raw"].tolist(),
        strict=True,
    )
    for (
        kind,
        is_mine,
        is_theirs,
        row,
        earning,
        tx,
        invoice,
        customer,
        product,
        ours,
        their,
        gap,
        code,
        raw,
    ) in columns:
        yield {
            "kind": kind,
            "row_number": row if is_mine else None,
            "earning_id": earning if is_theirs else None,
            "transaction_id": tx,
            "invoice_number": invoice,
            "customer_name": customer,
            "product_id": product,
            "partner_amount": _amount(ours) if is_mine else None,
            "portal_amount": _amount(their) if is_theirs else None,
            "difference": _amount(gap) if is_mine and is_theirs else None,
            "currency": code,
            "partner_row": {str(k): str(v) for k, v in raw.items()} if is_mine else {},
        }
